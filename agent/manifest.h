/*
 * kubeadm's static pod manifests (the YAML files in <kubernetes-dir>/manifests)
 * as the agent needs them: which component a manifest runs, the flags on its
 * command line, and from those the endpoints to probe and the certificate
 * each endpoint serves. Also the kubelet's fileCheckFrequency, which sets
 * how quickly a moved manifest takes effect.
 *
 * A manifest is a Pod: the first container's command and args form the
 * command line. Flags are "--name=value" (kubeadm's form) or "--name"
 * followed by a separate value; the last occurrence wins, as with Go's
 * flag package. Parsing does not log; errors carry the line and column.
 */
#ifndef CR_MANIFEST_H
#define CR_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The four control-plane static pods, in the order they are restarted. */
enum manifest_comp {
	MANIFEST_ETCD = 0,
	MANIFEST_APISERVER,
	MANIFEST_CONTROLLER_MANAGER,
	MANIFEST_SCHEDULER,
	MANIFEST__MAX
};

/* Bit of c in a set of components. */
#define MANIFEST_BIT(c) (1u << (unsigned)(c))
#define MANIFEST_ALL    ((1u << MANIFEST__MAX) - 1)

/* Largest manifest read; kubeadm's are a few KiB. */
#define MANIFEST_MAX_SIZE ((size_t)1024 * 1024)

/* The kubelet's default fileCheckFrequency (20s). */
#define MANIFEST_DEFAULT_FCF_MS 20000

struct manifest_diag {
	unsigned line; /* 0 when the problem has no position */
	unsigned col;
	char msg[160];
};

/* "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler". */
const char *manifest_comp_name(enum manifest_comp c);

/* The manifest's file name: "etcd.yaml", "kube-apiserver.yaml", ... */
const char *manifest_comp_file(enum manifest_comp c);

/* Parses a component name as manifest_comp_name() spells it. */
bool manifest_comp_parse(const char *name, enum manifest_comp *cp);

/*
 * Parses a comma-separated list of component names ("etcd,kube-apiserver")
 * into a set of MANIFEST_BIT()s. Returns CR_ERR_CONFIG and names the
 * offending entry in diag for an unknown or empty name.
 */
enum cr_err manifest_comp_set_parse(const char *list, unsigned *setp,
    struct manifest_diag *diag) CR_MUST_CHECK;

struct manifest;

/*
 * Parses len bytes of a static pod manifest. Returns CR_ERR_CONFIG with
 * the position and reason in diag for YAML that is not a Pod with a
 * container command. On success *mp must be released with manifest_free().
 */
enum cr_err manifest_parse(const char *data, size_t len, struct manifest **mp,
    struct manifest_diag *diag) CR_MUST_CHECK;

/*
 * Reads and parses the manifest at path. Returns CR_ERR_SYS (errno set)
 * when it cannot be read, otherwise as manifest_parse().
 */
enum cr_err manifest_load(const char *path, struct manifest **mp,
    struct manifest_diag *diag) CR_MUST_CHECK;

/* Passing NULL is a no-op. */
void manifest_free(struct manifest *m);

/*
 * The component the manifest runs: metadata.labels.component, else
 * metadata.name, else the container's name. Borrowed from m.
 */
const char *manifest_name(const struct manifest *m);

/*
 * The value of flag ("--secure-port") on the command line: the text after
 * '=', the next item for the two-item form, "" for a bare flag, NULL when
 * absent. Borrowed from m.
 */
const char *manifest_flag(const struct manifest *m, const char *flag);

/* Number of command-line items and item i (command first). Borrowed. */
size_t manifest_argc(const struct manifest *m);
const char *manifest_arg(const struct manifest *m, size_t i);

/* Where a component listens and which certificate it serves there. */
struct manifest_endpoint {
	const char *role; /* "client", "peer" (etcd) or "secure" */
	char host[256];   /* numeric address or name, no brackets */
	char port[8];
	/*
	 * The serving certificate's file from the flag that names it, or
	 * NULL when the manifest does not name one (kcm and the scheduler
	 * make a self-signed one in memory). Borrowed from the manifest.
	 */
	const char *served_cert;
};

#define MANIFEST_MAX_ENDPOINTS 2

struct manifest_endpoints {
	struct manifest_endpoint v[MANIFEST_MAX_ENDPOINTS];
	size_t n;
};

/*
 * The endpoints to probe for component c, from m's flags with kubeadm's
 * defaults (m may be NULL: defaults only):
 *   etcd          client: a loopback URL of --listen-client-urls, else the
 *                 first, else --advertise-client-urls, else
 *                 127.0.0.1:2379; peer: --listen-peer-urls, else
 *                 --initial-advertise-peer-urls, else 127.0.0.1:2380;
 *                 served certificates --cert-file and --peer-cert-file
 *   apiserver     --advertise-address, else --bind-address, else
 *                 127.0.0.1; --secure-port, else 6443; --tls-cert-file
 *   kcm/scheduler --bind-address, else 127.0.0.1; --secure-port, else
 *                 10257 / 10259; --tls-cert-file when present
 * A wildcard address (0.0.0.0, ::) is probed on loopback. Returns
 * CR_ERR_CONFIG with the flag named in diag for a malformed URL, address
 * or port, or a URL list without https.
 */
enum cr_err manifest_endpoints(const struct manifest *m, enum manifest_comp c,
    struct manifest_endpoints *out, struct manifest_diag *diag) CR_MUST_CHECK;

/*
 * Parses one https URL ("https://127.0.0.1:2379", "https://[::1]:2379")
 * into ep->host and ep->port, def_port when the URL has none; a wildcard
 * host becomes loopback. Other members of ep are left alone. Returns
 * CR_ERR_CONFIG with the reason in diag for anything else.
 */
enum cr_err manifest_url_endpoint(const char *url, const char *def_port,
    struct manifest_endpoint *ep, struct manifest_diag *diag) CR_MUST_CHECK;

/*
 * Reads fileCheckFrequency from the kubelet's configuration file (e.g.
 * /var/lib/kubelet/config.yaml) into *msp. Returns CR_ERR_SYS (errno set,
 * ENOENT when there is no such file) if it cannot be read, CR_ERR_CONFIG
 * with diag for YAML or a duration that does not parse. A file without the
 * field gives MANIFEST_DEFAULT_FCF_MS, as the kubelet does.
 */
enum cr_err manifest_file_check_frequency(const char *path, int64_t *msp,
    struct manifest_diag *diag) CR_MUST_CHECK;

#endif /* CR_MANIFEST_H */
