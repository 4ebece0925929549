#include "opsfix.h"

#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fileio.h"
#include "jv.h"
#include "run.h"
#include "tlsc.h"
#include "xmalloc.h"

static int
run(const char *const *argv)
{
	struct run_cmd c = RUN_CMD_INIT;
	int rc = 0;

	c.argv = argv;
	c.timeout_ms = 60000;
	if (run_cmd(&c) != CR_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], buf_cstr(&c.err));
		rc = -1;
	}
	run_cmd_clear(&c);
	return rc;
}

const char *
opsfix_python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
						       "python3";
}

/*
 * certroll-pkigen's kubeadm tree when it is built (ECDSA keys: fast), plus
 * what it does not make; else the whole tree from the openssl CLI.
 */
static const char pki_sh[] = OPSFIX_PKI_SH;
static const char tls_fix[] = OPSFIX_TLS_FIX;
static const char fakepod[] = OPSFIX_FAKEPOD;
static const char pkigen[] = CR_BIN_DIR "/certroll-pkigen";

int
opsfix_pki(const char *dir)
{
	const char *full[] = { "sh", pki_sh, dir, NULL };
	const char *extras[] = { "sh", pki_sh, "extras", dir, NULL };
	const char *ca[] = { pkigen, "ca", "--dir", opsfix_path(dir, "cas"),
		"--key-algorithm", "ecdsa-p256", NULL };
	const char *node[] = { pkigen, "node", "--ca", opsfix_path(dir, "cas"),
		"--dir", dir, "--node", "node1", "--ip", "127.0.0.1", NULL };

	if (access(pkigen, X_OK) != 0)
		return run(full);
	return run(ca) == 0 && run(node) == 0 && run(extras) == 0 ? 0 : -1;
}

int
opsfix_reissue(const char *dir, const char *name)
{
	const char *argv[] = { "sh", pki_sh, "reissue", dir, name, NULL };

	return run(argv);
}

int
opsfix_tls_fixture(struct bgproc *p, const char *const *args, char *port,
    size_t len)
{
	const char *argv[24] = { opsfix_python(), tls_fix };
	size_t n = 2;
	char line[64];

	for (; *args != NULL && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (bgproc_start(p, argv, NULL) != CR_OK ||
	    bgproc_read_line(p, line, sizeof(line), 15000) != CR_OK ||
	    strncmp(line, "PORT ", 5) != 0) {
		fprintf(stderr, "tlsfixture did not start\n");
		return -1;
	}
	snprintf(port, len, "%s", line + 5);
	return 0;
}

int
opsfix_write(const char *path, const char *text)
{
	char *copy = xstrdup(path);
	int rc = 0;

	if (file_mkdirs(dirname(copy), 0755) != CR_OK ||
	    file_write_atomic(path, text, strlen(text), 0644) != CR_OK) {
		perror(path);
		rc = -1;
	}
	free(copy);
	return rc;
}

int
opsfix_dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

void
opsfix_rmtree(const char *dir)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };

	if (dir != NULL && *dir != '\0')
		run(argv);
}

const char *
opsfix_path(const char *dir, const char *rel)
{
	static char p[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, rel);
	return p[i];
}

int
opsfix_etcd_post(const char *dir, int port, const char *path, const char *body,
    struct buf *out)
{
	struct tlsc_opts o = TLSC_OPTS_INIT;
	struct tlsc_req rq = TLSC_REQ_INIT;
	struct tlsc_resp rs = TLSC_RESP_INIT;
	struct tlsc_diag d;
	char p[16];
	int status = -1;

	snprintf(p, sizeof(p), "%d", port);
	o.host = "127.0.0.1";
	o.port = p;
	o.ca_file = opsfix_path(dir, "pki/etcd/ca.crt");
	o.cert_file = opsfix_path(dir, "pki/etcd/healthcheck-client.crt");
	o.key_file = opsfix_path(dir, "pki/etcd/healthcheck-client.key");
	o.deadline = clock_deadline_ms(5000);
	rq.method = "POST";
	rq.path = path;
	rq.body = body;
	rq.body_len = strlen(body);
	if (tlsc_fetch(&o, &rq, &rs, &d) == CR_OK)
		status = rs.status;
	if (out != NULL)
		buf_put(out, rs.body.data, rs.body.len);
	tlsc_resp_clear(&rs);
	return status;
}

/* The etcd flags of both the process and its manifest. */
static void
etcd_flags(struct buf *b, const char *sep, const char *dir, int cport,
    int pport)
{
	const char *e = opsfix_path(dir, "pki/etcd");

	buf_printf(b,
	    "--name=node1%s--data-dir=%s/etcd-data%s"
	    "--listen-client-urls=https://127.0.0.1:%d%s"
	    "--advertise-client-urls=https://127.0.0.1:%d%s"
	    "--listen-peer-urls=https://127.0.0.1:%d%s"
	    "--initial-advertise-peer-urls=https://127.0.0.1:%d%s"
	    "--initial-cluster=node1=https://127.0.0.1:%d%s"
	    "--cert-file=%s/server.crt%s--key-file=%s/server.key%s"
	    "--client-cert-auth=true%s--trusted-ca-file=%s/ca.crt%s"
	    "--peer-cert-file=%s/peer.crt%s--peer-key-file=%s/peer.key%s"
	    "--peer-client-cert-auth=true%s--peer-trusted-ca-file=%s/ca.crt",
	    sep, dir, sep, cport, sep, cport, sep, pport, sep, pport, sep,
	    pport, sep, e, sep, e, sep, sep, e, sep, e, sep, e, sep, sep, e);
}

int
opsfix_etcd_start(struct bgproc *p, const char *dir, int client_port,
    int peer_port)
{
	struct buf b = BUF_INIT;
	const char *argv[32] = { "etcd" };
	char *flags, *tok, *save = NULL;
	size_t n = 1;
	int i;

	etcd_flags(&b, "\n", dir, client_port, peer_port);
	buf_printf(&b,
	    "\n--logger=zap\n--log-level=warn\n--log-outputs=stderr");
	flags = buf_detach(&b, NULL);
	for (tok = strtok_r(flags, "\n", &save); tok != NULL && n < 31;
	     tok = strtok_r(NULL, "\n", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	i = bgproc_start(p, argv, opsfix_path(dir, "etcd.log")) == CR_OK ? 0 :
									   300;
	for (; i < 300; i++) {
		if (opsfix_etcd_post(dir, client_port, "/v3/maintenance/status",
			"{}", NULL) == 200)
			break;
		clock_sleep_ms(100);
	}
	free(flags);
	if (i == 300)
		fprintf(stderr, "etcd did not start; see %s/etcd.log\n", dir);
	return i == 300 ? -1 : 0;
}

int
opsfix_etcd_manifest(const char *dir, int client_port, int peer_port)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_puts(&b,
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n"
	    "    component: etcd\n    tier: control-plane\n  name: etcd\n"
	    "  namespace: kube-system\nspec:\n  containers:\n"
	    "  - command:\n    - etcd\n    - ");
	etcd_flags(&b, "\n    - ", dir, client_port, peer_port);
	buf_puts(&b,
	    "\n    image: registry.k8s.io/etcd:3.5.12-0\n"
	    "    name: etcd\n  hostNetwork: true\n");
	rc = opsfix_write(opsfix_path(dir, "manifests/etcd.yaml"),
	    buf_cstr(&b));
	buf_clear(&b);
	return rc;
}

static int
write_pod(const char *dir, const char *name, const struct buf *flags)
{
	struct buf b = BUF_INIT;
	char rel[64];
	int rc;

	buf_printf(&b,
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n"
	    "    component: %s\n    tier: control-plane\n  name: %s\n"
	    "  namespace: kube-system\nspec:\n  containers:\n  - command:\n"
	    "    - %s\n%s    image: registry.k8s.io/%s:v1.30.0\n"
	    "    name: %s\n  hostNetwork: true\n",
	    name, name, name, buf_cstr(flags), name, name);
	snprintf(rel, sizeof(rel), "manifests/%s.yaml", name);
	rc = opsfix_write(opsfix_path(dir, rel), buf_cstr(&b));
	buf_clear(&b);
	return rc;
}

static int
apiserver_pod(const char *dir, const struct opsfix_ports *pt)
{
	struct buf f = BUF_INIT;
	const char *pki = opsfix_path(dir, "pki");
	int rc;

	buf_printf(&f,
	    "    - --advertise-address=127.0.0.1\n"
	    "    - --client-ca-file=%s/ca.crt\n"
	    "    - --etcd-cafile=%s/etcd/ca.crt\n"
	    "    - --etcd-certfile=%s/apiserver-etcd-client.crt\n"
	    "    - --etcd-keyfile=%s/apiserver-etcd-client.key\n"
	    "    - --etcd-servers=https://127.0.0.1:%d\n"
	    "    - "
	    "--kubelet-client-certificate=%s/apiserver-kubelet-client.crt\n"
	    "    - --kubelet-client-key=%s/apiserver-kubelet-client.key\n"
	    "    - --secure-port=%d\n"
	    "    - --tls-cert-file=%s/apiserver.crt\n"
	    "    - --tls-private-key-file=%s/apiserver.key\n",
	    pki, pki, pki, pki, pt->etcd_client, pki, pki, pt->apiserver, pki,
	    pki);
	rc = write_pod(dir, "kube-apiserver", &f);
	buf_clear(&f);
	return rc;
}

static int
local_pod(const char *dir, const char *name, const char *conf, int port)
{
	struct buf f = BUF_INIT;
	int rc;

	buf_printf(&f,
	    "    - --bind-address=127.0.0.1\n    - --kubeconfig=%s/%s\n"
	    "    - --leader-elect=true\n    - --secure-port=%d\n",
	    dir, conf, port);
	rc = write_pod(dir, name, &f);
	buf_clear(&f);
	return rc;
}

int
opsfix_control_plane(const char *dir, struct opsfix_ports *ports,
    const char *fcf)
{
	char conf[64];
	int p[5];

	if (bgproc_free_ports(p, 5) != 0)
		return -1;
	ports->etcd_client = p[0];
	ports->etcd_peer = p[1];
	ports->apiserver = p[2];
	ports->kcm = p[3];
	ports->scheduler = p[4];
	snprintf(conf, sizeof(conf),
	    "kind: KubeletConfiguration\nfileCheckFrequency: %s\n", fcf);
	if (opsfix_etcd_manifest(dir, ports->etcd_client, ports->etcd_peer) !=
		0 ||
	    apiserver_pod(dir, ports) != 0 ||
	    local_pod(dir, "kube-controller-manager", "controller-manager.conf",
		ports->kcm) != 0 ||
	    local_pod(dir, "kube-scheduler", "scheduler.conf",
		ports->scheduler) != 0 ||
	    opsfix_write(opsfix_path(dir, "kubelet/config.yaml"), conf) != 0)
		return -1;
	return 0;
}

int
opsfix_fakepod_start(struct bgproc *p, const char *dir,
    const char *const *extra)
{
	const char *argv[32] = { opsfix_python(), fakepod, "--manifests",
		opsfix_path(dir, "manifests"), "--kubelet-config",
		opsfix_path(dir, "kubelet/config.yaml"), "--events",
		opsfix_path(dir, "events.jsonl"), "--state",
		opsfix_path(dir, "state"), "--selfsigned-dir",
		opsfix_path(dir, "selfsigned") };
	size_t n = 12;
	char line[64];

	for (; extra != NULL && *extra != NULL && n < 31; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	setenv("FAKEPOD_STATE", opsfix_path(dir, "state"), 1);
	if (bgproc_start(p, argv, opsfix_path(dir, "fakepod.log")) != CR_OK ||
	    bgproc_read_line(p, line, sizeof(line), 15000) != CR_OK ||
	    strcmp(line, "READY") != 0) {
		fprintf(stderr, "fakepod did not start; see %s/fakepod.log\n",
		    dir);
		return -1;
	}
	return 0;
}

int
opsfix_events(const char *dir, size_t first, struct buf *out)
{
	struct buf b = BUF_INIT;
	json_object *ev;
	char *line, *save = NULL;
	size_t i = 0;

	buf_reset(out);
	if (file_read(opsfix_path(dir, "events.jsonl"), 1 << 20, &b) != CR_OK)
		return -1;
	if (b.len == 0)
		return 0;
	for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), i++) {
		if (i < first ||
		    jv_parse(line, strlen(line), &ev, NULL, 0) != CR_OK)
			continue;
		buf_printf(out, "%s%s %s", out->len > 0 ? "," : "",
		    jv_str(ev, "event"), jv_str(ev, "component"));
		json_object_put(ev);
	}
	buf_clear(&b);
	return 0;
}
