/*
 * The kubeadm renewer: `kubeadm certs renew NAME --config FILE --cert-dir
 * DIR` per target. kubeadm exits 0 after "MISSING! ..." and after
 * "Detected external ..." (kubeadm.md §1.3, certs.go renewCert), so its
 * exit status proves nothing: the output must say "<long name> renewed"
 * and the certificate on disk must carry a new serial.
 *
 * Also the reader of the saved ClusterConfiguration the backend needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_int.h"
#include "duration.h"
#include "fileio.h"
#include "log.h"
#include "run.h"
#include "xmalloc.h"

#define KUBEADM_RENEW_TIMEOUT_MS 120000
#define CLUSTERCFG_MAX           ((size_t)1024 * 1024)

static void
diag_at(struct ydoc_diag *diag, const struct ydoc_node *at, const char *msg)
{
	if (diag == NULL)
		return;
	diag->line = at != NULL ? at->line : 0;
	diag->col = at != NULL ? at->col : 0;
	snprintf(diag->msg, sizeof(diag->msg), "%s", msg);
}

static const struct ydoc_node *
find_cluster_doc(const struct ydoc *doc)
{
	const struct ydoc_node *root;
	const char *kind;
	size_t i;

	for (i = 0; i < ydoc_count(doc); i++) {
		root = ydoc_root(doc, i);
		kind = ydoc_scalar(ydoc_get(root, "kind"));
		if (kind != NULL && strcmp(kind, "ClusterConfiguration") == 0)
			return root;
	}
	return NULL;
}

static enum cr_err
read_fields(const struct ydoc_node *cc, struct agent_clustercfg *cfg,
    struct ydoc_diag *diag)
{
	const struct ydoc_node *v = ydoc_get(cc, "certificateValidityPeriod");
	const struct ydoc_node *etcd = ydoc_get(cc, "etcd");
	const char *s;

	cfg->validity_s = AGENT_VALIDITY_S;
	if (v != NULL && !ydoc_is_null(v) &&
	    ((s = ydoc_scalar(v)) == NULL ||
		duration_parse(s, &cfg->validity_s) != CR_OK ||
		cfg->validity_s <= 0)) {
		diag_at(diag, v,
		    "certificateValidityPeriod is not a duration (e.g. "
		    "8760h0m0s)");
		return CR_ERR_CONFIG;
	}
	cfg->etcd_external = ydoc_get(etcd, "external") != NULL &&
	    !ydoc_is_null(ydoc_get(etcd, "external"));
	if ((s = ydoc_scalar(ydoc_get(cc, "certificatesDir"))) != NULL)
		cfg->cert_dir = xstrdup(s);
	if ((s = ydoc_scalar(ydoc_get(cc, "encryptionAlgorithm"))) != NULL)
		cfg->key_algorithm = xstrdup(s);
	return CR_OK;
}

enum cr_err
agent_clustercfg_load(const char *path, struct agent_clustercfg *cfg,
    struct ydoc_diag *diag)
{
	struct buf b = BUF_INIT;
	struct ydoc *doc = NULL;
	const struct ydoc_node *cc;
	enum cr_err err;

	memset(cfg, 0, sizeof(*cfg));
	if ((err = file_read(path, CLUSTERCFG_MAX, &b)) != CR_OK) {
		diag_at(diag, NULL, "cannot be read");
		return err;
	}
	if ((err = ydoc_parse((const char *)b.data, b.len, &doc, diag)) !=
	    CR_OK)
		goto out;
	err = CR_ERR_CONFIG;
	if ((cc = find_cluster_doc(doc)) == NULL) {
		diag_at(diag, NULL,
		    "no document of kind ClusterConfiguration (the "
		    "ClusterConfiguration key of the kubeadm-config "
		    "ConfigMap)");
		goto out;
	}
	if ((err = read_fields(cc, cfg, diag)) != CR_OK)
		agent_clustercfg_clear(cfg);
out:
	ydoc_free(doc);
	buf_clear(&b);
	return err;
}

void
agent_clustercfg_clear(struct agent_clustercfg *cfg)
{
	free(cfg->cert_dir);
	free(cfg->key_algorithm);
	memset(cfg, 0, sizeof(*cfg));
}

/* The line without trailing blanks and carriage returns, in buf. */
static const char *
trimmed(const char *line, size_t len, char *buf, size_t buflen)
{
	while (len > 0 &&
	    (line[len - 1] == ' ' || line[len - 1] == '\r' ||
		line[len - 1] == '\t'))
		len--;
	if (len >= buflen)
		len = buflen - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return buf;
}

static enum agent_kubeadm_said
parse_line(const char *line, const struct pki_entry *e)
{
	size_t n = strlen(e->long_name);
	const char *p;

	if (strncmp(line, e->long_name, n) == 0 &&
	    strcmp(line + n, " renewed") == 0)
		return AGENT_KUBEADM_RENEWED;
	if (strncmp(line, "MISSING! ", 9) == 0 &&
	    strcmp(line + 9, e->long_name) == 0)
		return AGENT_KUBEADM_MISSING;
	/* "Detected external <ca>, <long name> can't be renewed" */
	if (strncmp(line, "Detected external ", 18) == 0 &&
	    (p = strstr(line, ", ")) != NULL &&
	    strncmp(p + 2, e->long_name, n) == 0 &&
	    strcmp(p + 2 + n, " can't be renewed") == 0)
		return AGENT_KUBEADM_EXTERNAL;
	return AGENT_KUBEADM_UNKNOWN;
}

enum agent_kubeadm_said
agent_kubeadm_parse(const char *output, const struct pki_entry *e)
{
	enum agent_kubeadm_said said = AGENT_KUBEADM_UNKNOWN, s;
	const char *line, *end;
	char buf[512];

	for (line = output; *line != '\0';
	     line = *end != '\0' ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		s = parse_line(
		    trimmed(line, (size_t)(end - line), buf, sizeof(buf)), e);
		/* A warning about this certificate outranks a success. */
		if (s > said)
			said = s;
	}
	return said;
}

static char *
current_serial(const struct agent_renew_ctx *c, const struct pki_entry *e)
{
	struct agent_load l = { c->kdir, NULL, false };
	struct agent_material m;
	char why[256], *serial = NULL;

	if (agent_material_load(&l, e, &m, why, sizeof(why)) == CR_OK)
		serial = cert_serial_hex(m.cert);
	agent_material_clear(&m);
	return serial;
}

/* Judges kubeadm's output and the file on disk; logs when not renewed. */
static enum cr_err
judge(const struct agent_renew_ctx *c, const struct pki_entry *e,
    const struct cert_info *before, const char *out)
{
	enum agent_kubeadm_said said = agent_kubeadm_parse(out, e);
	char *serial;
	bool changed;

	if (said == AGENT_KUBEADM_MISSING || said == AGENT_KUBEADM_EXTERNAL) {
		log_warnx("renew '%s': kubeadm exited 0 but printed '%s': it "
			  "did not renew it (does --config's certificatesDir "
			  "match '%s/pki', and is the CA key there?)",
		    e->name,
		    said == AGENT_KUBEADM_MISSING ? "MISSING! ..." :
						    "Detected external ...",
		    c->kdir);
		return CR_ERR_SUBPROC;
	}
	if (said != AGENT_KUBEADM_RENEWED) {
		log_warnx("renew '%s': kubeadm exited 0 without printing '%s "
			  "renewed'",
		    e->name, e->long_name);
		return CR_ERR_SUBPROC;
	}
	serial = current_serial(c, e);
	changed = serial != NULL && strcmp(serial, before->serial) != 0;
	if (!changed)
		log_warnx("renew '%s': kubeadm said it renewed it, but the "
			  "certificate on disk still has serial %s",
		    e->name, before->serial);
	free(serial);
	return changed ? CR_OK : CR_ERR_VERIFY;
}

static enum cr_err
kubeadm_renew(const struct agent_renew_ctx *c, const struct pki_entry *e,
    const struct cert_info *before)
{
	char *cert_dir = file_path_join(c->kdir, "pki"), desc[96];
	const char *argv[] = { c->o->kubeadm != NULL ? c->o->kubeadm :
						       "kubeadm",
		"certs", "renew", e->name, "--config", c->o->cluster_config,
		"--cert-dir", cert_dir, NULL };
	struct run_cmd cmd = RUN_CMD_INIT;
	enum cr_err err;

	cmd.argv = argv;
	cmd.timeout_ms = KUBEADM_RENEW_TIMEOUT_MS;
	if ((err = run_cmd(&cmd)) != CR_OK) {
		run_cmd_describe(&cmd, desc, sizeof(desc));
		log_warnx("renew '%s': '%s certs renew %s' %s: %.300s", e->name,
		    argv[0], e->name, desc, buf_cstr(&cmd.err));
	} else {
		err = judge(c, e, before, buf_cstr(&cmd.out));
	}
	run_cmd_clear(&cmd);
	free(cert_dir);
	return err;
}

static const struct agent_renewer kubeadm = { "kubeadm", kubeadm_renew };

const struct agent_renewer *
agent_renewer_kubeadm(void)
{
	return &kubeadm;
}
