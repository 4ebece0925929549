/*
 * Shared plumbing of the agentops tests (tlsc, snapshot, restart, health):
 * the test PKI (tests/support/agentops-pki.sh), the scripted TLS server
 * (tests/support/tlsfixture.py) and a few file helpers. Every function
 * returns 0 on success and -1 (after printing why on stderr) otherwise,
 * so a suite's init can chain them.
 */
#ifndef CR_OPSFIX_H
#define CR_OPSFIX_H

#include <stddef.h>

#include "bgproc.h"
#include "buf.h"

#define OPSFIX_PKI_SH  CR_SOURCE_DIR "/tests/support/agentops-pki.sh"
#define OPSFIX_TLS_FIX CR_SOURCE_DIR "/tests/support/tlsfixture.py"
#define OPSFIX_FAKEPOD CR_SOURCE_DIR "/tests/support/fakepod.py"

/*
 * The Python interpreter for the stand-ins: Debian's /usr/bin/python3 when
 * present (a version manager's shim costs half a second per start), else
 * "python3" from PATH.
 */
const char *opsfix_python(void);

/*
 * Makes the test PKI under dir: a kubeadm tree for node "node1" at
 * 127.0.0.1 in dir/pki (certroll-pkigen when built, else the openssl CLI),
 * self-signed kcm/scheduler certificates in dir/selfsigned and an
 * unrelated CA with a client in dir/other.
 */
int opsfix_pki(const char *dir);

/* Re-signs dir/pki/<name>.crt ("apiserver", "etcd/server") anew. */
int opsfix_reissue(const char *dir, const char *name);

/*
 * Starts tlsfixture.py with args (its options, NULL-terminated, e.g.
 * "--cert", crt, "--key", key, NULL) and stores its port.
 */
int opsfix_tls_fixture(struct bgproc *p, const char *const *args, char *port,
    size_t len);

/*
 * Starts a single-member etcd 3.4 with TLS client and peer authentication
 * on 127.0.0.1:client_port / peer_port, certificates from dir/pki/etcd,
 * data in dir/etcd-data, log in dir/etcd.log, and waits (up to 30 s)
 * until its /health says true.
 */
int opsfix_etcd_start(struct bgproc *p, const char *dir, int client_port,
    int peer_port);

/*
 * Writes dir/manifests/etcd.yaml as kubeadm would for that member, its
 * certificate flags pointing into dir/pki/etcd.
 */
int opsfix_etcd_manifest(const char *dir, int client_port, int peer_port);

/*
 * One POST to etcd's gateway at 127.0.0.1:port with the healthcheck client
 * of dir; the answer's body goes to out when not NULL. Returns the HTTP
 * status, or -1 when the request failed.
 */
int opsfix_etcd_post(const char *dir, int port, const char *path,
    const char *body, struct buf *out);

/* The loopback ports of a stand-in control plane. */
struct opsfix_ports {
	int etcd_client;
	int etcd_peer;
	int apiserver;
	int kcm;
	int scheduler;
};

/*
 * Picks free ports and writes kubeadm-like manifests of the four
 * components into dir/manifests (certificate flags into dir/pki) and
 * dir/kubelet/config.yaml with fileCheckFrequency fcf ("200ms").
 */
int opsfix_control_plane(const char *dir, struct opsfix_ports *ports,
    const char *fcf);

/*
 * Starts fakepod.py as the kubelet of dir (events in dir/events.jsonl,
 * container state in dir/state, which FAKEPOD_STATE names for
 * fakecrictl.sh) with the extra arguments, and waits for its READY.
 */
int opsfix_fakepod_start(struct bgproc *p, const char *dir,
    const char *const *extra);

/*
 * The stand-in's events from the first-th on, as "start etcd,stop
 * kube-apiserver,..." in out (reset first).
 */
int opsfix_events(const char *dir, size_t first, struct buf *out);

/* Writes text to path, creating missing parent directories. */
int opsfix_write(const char *path, const char *text);

/* Entries of dir other than "." and "..", or -1 if it cannot be read. */
int opsfix_dir_entries(const char *dir);

/* Removes dir and everything under it. */
void opsfix_rmtree(const char *dir);

/* A path under dir in one of a few rotating static buffers. */
const char *opsfix_path(const char *dir, const char *rel);

#endif /* CR_OPSFIX_H */
