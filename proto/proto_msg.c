/*
 * Message bodies: one encode/decode pair per message, side by side, and a
 * clear function for each decoded struct. Conventions are in proto.h
 * ("Messages"); the field kit is in proto_field.c. No I/O, no logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jv.h"
#include "proto.h"
#include "proto_int.h"
#include "xmalloc.h"

/* Runs fn on the body of message type under a fresh decoding context. */
static bool
decode_body(struct proto_dec *d, json_object *body,
    void (*fn)(struct proto_dec *d, json_object *o, void *p), void *m)
{
	if (proto_dec_root(d, body))
		fn(d, body, m);
	return !d->failed;
}

/* An optional string: absent and null give NULL. */
static void
opt_str(struct proto_dec *d, json_object *o, const char *key, char **out)
{
	if (json_object_object_get_ex(o, key, NULL))
		proto_dec_str_or_null(d, o, key, out);
}

/* ------------------------------------------------------------------ */
/* HELLO                                                               */
/* ------------------------------------------------------------------ */

/* See proto_hello_decode() for the other side of the wire. */
json_object *
proto_hello_encode(const struct proto_hello *m)
{
	json_object *o = json_object_new_object();

	jv_add_int(o, "protocol", m->protocol);
	jv_add_str(o, "program", m->program);
	jv_add_str(o, "version", m->version);
	jv_add_str(o, "agent_sha256", m->agent_sha256);
	proto_enc_strv(o, "capabilities", &m->capabilities);
	jv_add_str(o, "node", m->node);
	return o;
}

static void
dec_hello(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_hello *m = p;

	proto_dec_int(d, o, "protocol", PROTO_RANGE_PROTOCOL, &m->protocol);
	proto_dec_str(d, o, "program", &m->program);
	proto_dec_str(d, o, "version", &m->version);
	proto_dec_strv(d, o, "capabilities", &m->capabilities);
	if (d->failed)
		return;
	if (strcmp(m->program, PROTO_PROGRAM_AGENT) == 0) {
		proto_dec_sha256(d, o, "agent_sha256", &m->agent_sha256);
		proto_dec_str(d, o, "node", &m->node);
	} else {
		opt_str(d, o, "agent_sha256", &m->agent_sha256);
		opt_str(d, o, "node", &m->node);
	}
}

/* See proto_hello_encode() for the other side of the wire. */
enum cr_err
proto_hello_decode(json_object *body, struct proto_hello *m, char *why,
    size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "HELLO", why, whylen);
	if (decode_body(&d, body, dec_hello, m))
		return CR_OK;
	proto_hello_clear(m);
	return CR_ERR_PROTO;
}

void
proto_hello_clear(struct proto_hello *m)
{
	free(m->program);
	free(m->version);
	free(m->agent_sha256);
	strv_clear(&m->capabilities);
	free(m->node);
	memset(m, 0, sizeof(*m));
}

static enum cr_err
mismatch(char *why, size_t whylen, const struct proto_hello *peer,
    bool peer_is_agent)
{
	const char *advice;

	if (!peer_is_agent)
		snprintf(why, whylen,
		    "certroll speaks protocol %lld, certroll-agent speaks %d: "
		    "use the certroll-agent built with that certroll (certroll "
		    "re-uploads it when the checksums differ)",
		    (long long)peer->protocol, PROTO_VERSION);
	else {
		advice = peer->protocol > PROTO_VERSION ?
		    "upgrade certroll or let it re-upload the agent" :
		    "let certroll re-upload the agent (it replaces an agent "
		    "whose checksum differs)";
		snprintf(why, whylen,
		    "agent speaks protocol %lld, certroll speaks %d: %s",
		    (long long)peer->protocol, PROTO_VERSION, advice);
	}
	return CR_ERR_PROTO;
}

enum cr_err
proto_hello_check(const struct proto_hello *peer, char *why, size_t whylen)
{
	bool peer_is_agent;
	char scratch[PROTO_WHY_MAX];

	if (why == NULL || whylen == 0) {
		why = scratch;
		whylen = sizeof(scratch);
	}
	why[0] = '\0';
	if (peer->program == NULL ||
	    (strcmp(peer->program, PROTO_PROGRAM_AGENT) != 0 &&
		strcmp(peer->program, PROTO_PROGRAM_ORCH) != 0)) {
		snprintf(why, whylen,
		    "peer program is '%s', not certroll or certroll-agent: "
		    "check what the agent path runs",
		    peer->program != NULL ? peer->program : "");
		return CR_ERR_PROTO;
	}
	peer_is_agent = strcmp(peer->program, PROTO_PROGRAM_AGENT) == 0;
	if (peer->protocol != PROTO_VERSION)
		return mismatch(why, whylen, peer, peer_is_agent);
	return CR_OK;
}

/* ------------------------------------------------------------------ */
/* PROGRESS                                                            */
/* ------------------------------------------------------------------ */

/* See proto_progress_decode() for the other side of the wire. */
json_object *
proto_progress_encode(const struct proto_progress *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "phase", m->phase);
	jv_add_str(o, "message", m->message);
	if (m->percent >= 0)
		jv_add_int(o, "percent", m->percent);
	return o;
}

static void
dec_progress(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_progress *m = p;
	json_object *v = NULL;
	int64_t pct = -1;

	proto_dec_str(d, o, "phase", &m->phase);
	proto_dec_str(d, o, "message", &m->message);
	/* percent is optional: absent or null means "unknown". */
	if (json_object_object_get_ex(o, "percent", &v) && v != NULL)
		proto_dec_int(d, o, "percent", PROTO_RANGE_PERCENT, &pct);
	m->percent = (int)pct;
}

/* See proto_progress_encode() for the other side of the wire. */
enum cr_err
proto_progress_decode(json_object *body, struct proto_progress *m, char *why,
    size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "PROGRESS", why, whylen);
	if (decode_body(&d, body, dec_progress, m))
		return CR_OK;
	proto_progress_clear(m);
	return CR_ERR_PROTO;
}

void
proto_progress_clear(struct proto_progress *m)
{
	free(m->phase);
	free(m->message);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* ERROR                                                               */
/* ------------------------------------------------------------------ */

/* See proto_error_decode() for the other side of the wire. */
json_object *
proto_error_encode(const struct proto_error *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "code", cr_errname(m->code));
	jv_add_str(o, "message", m->message);
	jv_add_str(o, "request", m->request);
	return o;
}

static void
dec_error(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_error *m = p;
	char *code = NULL;

	proto_dec_str(d, o, "code", &code);
	proto_dec_str(d, o, "message", &m->message);
	proto_dec_str(d, o, "request", &m->request);
	if (code != NULL && strcmp(code, cr_errname(CR_OK)) == 0)
		proto_dec_fail(d, "code", "'%s' is not an error", code);
	else if (code != NULL)
		m->code = cr_err_from_name(code);
	free(code);
}

/* See proto_error_encode() for the other side of the wire. */
enum cr_err
proto_error_decode(json_object *body, struct proto_error *m, char *why,
    size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "ERROR", why, whylen);
	if (decode_body(&d, body, dec_error, m))
		return CR_OK;
	proto_error_clear(m);
	return CR_ERR_PROTO;
}

void
proto_error_clear(struct proto_error *m)
{
	free(m->message);
	free(m->request);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* INSPECT_REQ / INSPECT_REP                                           */
/* ------------------------------------------------------------------ */

/* See proto_inspect_req_decode() for the other side of the wire. */
json_object *
proto_inspect_req_encode(const struct proto_inspect_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	return o;
}

static void
dec_inspect_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_inspect_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
}

/* See proto_inspect_req_encode() for the other side of the wire. */
enum cr_err
proto_inspect_req_decode(json_object *body, struct proto_inspect_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "INSPECT_REQ", why, whylen);
	if (decode_body(&d, body, dec_inspect_req, m))
		return CR_OK;
	proto_inspect_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_inspect_req_clear(struct proto_inspect_req *m)
{
	free(m->kubernetes_dir);
	memset(m, 0, sizeof(*m));
}

static json_object *
facts_encode(const struct proto_facts *f)
{
	json_object *o = json_object_new_object();

	jv_add_int(o, "clock_ms", f->clock_ms);
	jv_add_str(o, "kubeadm_version", f->kubeadm_version);
	jv_add_str(o, "backup_dir", f->backup_dir);
	jv_add_int(o, "backup_free_bytes", f->backup_free_bytes);
	jv_add_int(o, "file_check_frequency_ms", f->file_check_frequency_ms);
	proto_enc_strv(o, "manifests", &f->manifests);
	jv_add_str(o, "etcd", f->etcd_external ? "external" : "local");
	jv_add_bool(o, "sa_key", f->sa_key);
	jv_add_bool(o, "sa_pub", f->sa_pub);
	proto_enc_strv(o, "leftovers", &f->leftovers);
	jv_add_bool(o, "super_admin_expected", f->super_admin_expected);
	return o;
}

/* See proto_inspect_rep_decode() for the other side of the wire. */
json_object *
proto_inspect_rep_encode(const struct proto_inspect_rep *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "node", m->node);
	proto_enc_time(o, "time", m->time);
	json_object_object_add(o, "certificates",
	    cert_list_to_json(&m->certificates, m->time));
	json_object_object_add(o, "certificate_authorities",
	    cert_list_to_json(&m->certificate_authorities, m->time));
	json_object_object_add(o, "kubelet_client",
	    m->kubelet_client != NULL ?
		certinfo_to_json(m->kubelet_client, m->time) :
		NULL);
	json_object_object_add(o, "facts", facts_encode(&m->facts));
	return o;
}

static void
dec_etcd(struct proto_dec *d, json_object *o, bool *external)
{
	char *mode = NULL;

	proto_dec_str(d, o, "etcd", &mode);
	if (mode != NULL && strcmp(mode, "external") == 0)
		*external = true;
	else if (mode != NULL && strcmp(mode, "local") != 0)
		proto_dec_fail(d, "etcd",
		    "'%s' is neither 'local' nor "
		    "'external'",
		    mode);
	free(mode);
}

static void
dec_facts(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_facts *f = p;

	proto_dec_int(d, o, "clock_ms", PROTO_RANGE_COUNT, &f->clock_ms);
	proto_dec_str_or_null(d, o, "kubeadm_version", &f->kubeadm_version);
	proto_dec_str(d, o, "backup_dir", &f->backup_dir);
	proto_dec_int(d, o, "backup_free_bytes", PROTO_RANGE_COUNT,
	    &f->backup_free_bytes);
	proto_dec_int(d, o, "file_check_frequency_ms", PROTO_RANGE_COUNT,
	    &f->file_check_frequency_ms);
	proto_dec_strv(d, o, "manifests", &f->manifests);
	dec_etcd(d, o, &f->etcd_external);
	proto_dec_bool(d, o, "sa_key", &f->sa_key);
	proto_dec_bool(d, o, "sa_pub", &f->sa_pub);
	proto_dec_strv(d, o, "leftovers", &f->leftovers);
	proto_dec_bool(d, o, "super_admin_expected", &f->super_admin_expected);
}

/*
 * Certificate times the encoder writes back as they came: a certificate
 * that is not missing expires after the epoch (certinfo_to_json() writes
 * a zero not_after as null), and both times stay within proto_time_ok().
 */
static void
check_cert_times(struct proto_dec *d, const char *key,
    const struct cert_info *ci)
{
	if (!proto_time_ok(ci->not_before) || !proto_time_ok(ci->not_after) ||
	    (!ci->missing && ci->not_after == 0))
		proto_dec_fail(d, key,
		    "certificate '%s' has times outside 1970..9999", ci->name);
}

static void
dec_certs(struct proto_dec *d, json_object *o, const char *key,
    struct cert_list *list)
{
	json_object *v = NULL;
	size_t i;

	if (d->failed)
		return;
	if (!json_object_object_get_ex(o, key, &v))
		proto_dec_fail(d, key, "missing (array of certificates)");
	else if (cert_list_from_json(v, list) != CR_OK)
		proto_dec_fail(d, key,
		    "not an array of certificates (each needs 'name' and, "
		    "unless missing, 'not_after')");
	for (i = 0; i < list->n; i++)
		check_cert_times(d, key, &list->v[i]);
}

static void
dec_kubelet_client(struct proto_dec *d, json_object *o, struct cert_info **out)
{
	json_object *v = NULL;
	struct cert_info *ci;

	if (d->failed)
		return;
	if (!json_object_object_get_ex(o, "kubelet_client", &v)) {
		proto_dec_fail(d, "kubelet_client",
		    "missing (certificate or null)");
		return;
	}
	if (v == NULL)
		return;
	ci = xcalloc(1, sizeof(*ci));
	if (certinfo_from_json(v, ci) != CR_OK) {
		free(ci);
		proto_dec_fail(d, "kubelet_client",
		    "neither a certificate nor null");
		return;
	}
	*out = ci;
	check_cert_times(d, "kubelet_client", ci);
}

static void
dec_inspect_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_inspect_rep *m = p;

	proto_dec_str(d, o, "node", &m->node);
	proto_dec_time(d, o, "time", &m->time);
	dec_certs(d, o, "certificates", &m->certificates);
	dec_certs(d, o, "certificate_authorities", &m->certificate_authorities);
	dec_kubelet_client(d, o, &m->kubelet_client);
	proto_dec_sub(d, o, "facts", dec_facts, &m->facts);
}

/* See proto_inspect_rep_encode() for the other side of the wire. */
enum cr_err
proto_inspect_rep_decode(json_object *body, struct proto_inspect_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "INSPECT_REP", why, whylen);
	if (decode_body(&d, body, dec_inspect_rep, m))
		return CR_OK;
	proto_inspect_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_inspect_rep_clear(struct proto_inspect_rep *m)
{
	free(m->node);
	cert_list_clear(&m->certificates);
	cert_list_clear(&m->certificate_authorities);
	if (m->kubelet_client != NULL)
		certinfo_clear(m->kubelet_client);
	free(m->kubelet_client);
	free(m->facts.kubeadm_version);
	free(m->facts.backup_dir);
	strv_clear(&m->facts.manifests);
	strv_clear(&m->facts.leftovers);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* BACKUP_REQ / BACKUP_REP                                             */
/* ------------------------------------------------------------------ */

/* See proto_backup_req_decode() for the other side of the wire. */
json_object *
proto_backup_req_encode(const struct proto_backup_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	jv_add_str(o, "backup_dir", m->backup_dir);
	jv_add_int(o, "keep", m->keep);
	return o;
}

static void
dec_backup_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_backup_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_str(d, o, "backup_dir", &m->backup_dir);
	proto_dec_int(d, o, "keep", PROTO_RANGE_KEEP, &m->keep);
}

/* See proto_backup_req_encode() for the other side of the wire. */
enum cr_err
proto_backup_req_decode(json_object *body, struct proto_backup_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "BACKUP_REQ", why, whylen);
	if (decode_body(&d, body, dec_backup_req, m))
		return CR_OK;
	proto_backup_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_backup_req_clear(struct proto_backup_req *m)
{
	free(m->kubernetes_dir);
	free(m->backup_dir);
	memset(m, 0, sizeof(*m));
}

/* See proto_backup_rep_decode() for the other side of the wire. */
json_object *
proto_backup_rep_encode(const struct proto_backup_rep *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "path", m->path);
	jv_add_int(o, "files", m->files);
	jv_add_int(o, "bytes", m->bytes);
	return o;
}

static void
dec_backup_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_backup_rep *m = p;

	proto_dec_str(d, o, "path", &m->path);
	proto_dec_int(d, o, "files", PROTO_RANGE_COUNT, &m->files);
	proto_dec_int(d, o, "bytes", PROTO_RANGE_COUNT, &m->bytes);
}

/* See proto_backup_rep_encode() for the other side of the wire. */
enum cr_err
proto_backup_rep_decode(json_object *body, struct proto_backup_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "BACKUP_REP", why, whylen);
	if (decode_body(&d, body, dec_backup_rep, m))
		return CR_OK;
	proto_backup_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_backup_rep_clear(struct proto_backup_rep *m)
{
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* SNAPSHOT_REQ / SNAPSHOT_REP                                         */
/* ------------------------------------------------------------------ */

/* See proto_snapshot_req_decode() for the other side of the wire. */
json_object *
proto_snapshot_req_encode(const struct proto_snapshot_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	jv_add_str(o, "dest_dir", m->dest_dir);
	return o;
}

static void
dec_snapshot_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_snapshot_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_str(d, o, "dest_dir", &m->dest_dir);
}

/* See proto_snapshot_req_encode() for the other side of the wire. */
enum cr_err
proto_snapshot_req_decode(json_object *body, struct proto_snapshot_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "SNAPSHOT_REQ", why, whylen);
	if (decode_body(&d, body, dec_snapshot_req, m))
		return CR_OK;
	proto_snapshot_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_snapshot_req_clear(struct proto_snapshot_req *m)
{
	free(m->kubernetes_dir);
	free(m->dest_dir);
	memset(m, 0, sizeof(*m));
}

/* See proto_snapshot_rep_decode() for the other side of the wire. */
json_object *
proto_snapshot_rep_encode(const struct proto_snapshot_rep *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "path", m->path);
	jv_add_int(o, "bytes", m->bytes);
	jv_add_str(o, "sha256", m->sha256);
	jv_add_int(o, "revision", m->revision);
	return o;
}

static void
dec_snapshot_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_snapshot_rep *m = p;

	proto_dec_str(d, o, "path", &m->path);
	proto_dec_int(d, o, "bytes", PROTO_RANGE_COUNT, &m->bytes);
	proto_dec_sha256(d, o, "sha256", &m->sha256);
	proto_dec_int(d, o, "revision", PROTO_RANGE_COUNT, &m->revision);
}

/* See proto_snapshot_rep_encode() for the other side of the wire. */
enum cr_err
proto_snapshot_rep_decode(json_object *body, struct proto_snapshot_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "SNAPSHOT_REP", why, whylen);
	if (decode_body(&d, body, dec_snapshot_rep, m))
		return CR_OK;
	proto_snapshot_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_snapshot_rep_clear(struct proto_snapshot_rep *m)
{
	free(m->path);
	free(m->sha256);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* RENEW_REQ / RENEW_REP                                               */
/* ------------------------------------------------------------------ */

static const char *const backend_names[PROTO_BACKEND__MAX] = {
	[PROTO_BACKEND_AUTO] = "auto",
	[PROTO_BACKEND_KUBEADM] = "kubeadm",
	[PROTO_BACKEND_NATIVE] = "native",
};

const char *
proto_backend_name(enum proto_backend b)
{
	if ((unsigned)b >= PROTO_BACKEND__MAX)
		return "?";
	return backend_names[b];
}

/* See proto_renew_req_decode() for the other side of the wire. */
json_object *
proto_renew_req_encode(const struct proto_renew_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "run_id", m->run_id);
	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	jv_add_str(o, "backup_dir", m->backup_dir);
	jv_add_int(o, "keep", m->keep);
	proto_enc_strv(o, "targets", &m->targets);
	jv_add_int(o, "renew_before_s", m->renew_before_s);
	jv_add_str(o, "backend", proto_backend_name(m->backend));
	jv_add_int(o, "validity_s", m->validity_s);
	jv_add_str(o, "key_algorithm", m->key_algorithm);
	jv_add_str(o, "cluster_config", m->cluster_config);
	return o;
}

static void
dec_backend(struct proto_dec *d, json_object *o, enum proto_backend *out)
{
	char *name = NULL;
	unsigned i;

	proto_dec_str(d, o, "backend", &name);
	if (name == NULL)
		return;
	for (i = 0; i < PROTO_BACKEND__MAX; i++)
		if (strcmp(name, backend_names[i]) == 0)
			*out = (enum proto_backend)i;
	if (strcmp(name, proto_backend_name(*out)) != 0)
		proto_dec_fail(d, "backend",
		    "'%s' is not one of auto, kubeadm, native", name);
	free(name);
}

static void
dec_renew_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_renew_req *m = p;

	proto_dec_str(d, o, "run_id", &m->run_id);
	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_str(d, o, "backup_dir", &m->backup_dir);
	proto_dec_int(d, o, "keep", PROTO_RANGE_KEEP, &m->keep);
	proto_dec_strv(d, o, "targets", &m->targets);
	proto_dec_int(d, o, "renew_before_s", PROTO_RANGE_COUNT,
	    &m->renew_before_s);
	dec_backend(d, o, &m->backend);
	proto_dec_int(d, o, "validity_s", PROTO_RANGE_VALIDITY, &m->validity_s);
	proto_dec_str(d, o, "key_algorithm", &m->key_algorithm);
	proto_dec_str_or_null(d, o, "cluster_config", &m->cluster_config);
}

/* See proto_renew_req_encode() for the other side of the wire. */
enum cr_err
proto_renew_req_decode(json_object *body, struct proto_renew_req *m, char *why,
    size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "RENEW_REQ", why, whylen);
	if (decode_body(&d, body, dec_renew_req, m))
		return CR_OK;
	proto_renew_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_renew_req_clear(struct proto_renew_req *m)
{
	free(m->run_id);
	free(m->kubernetes_dir);
	free(m->backup_dir);
	strv_clear(&m->targets);
	free(m->key_algorithm);
	free(m->cluster_config);
	memset(m, 0, sizeof(*m));
}

static json_object *
renewed_encode(const struct proto_renewed *r)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "name", r->name);
	jv_add_str(o, "old_serial", r->old_serial);
	jv_add_str(o, "new_serial", r->new_serial);
	proto_enc_time(o, "old_not_after", r->old_not_after);
	proto_enc_time(o, "new_not_after", r->new_not_after);
	return o;
}

static json_object *
skipped_encode(const struct proto_skipped *s)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "name", s->name);
	jv_add_str(o, "reason", s->reason);
	return o;
}

/* See proto_renew_rep_decode() for the other side of the wire. */
json_object *
proto_renew_rep_encode(const struct proto_renew_rep *m)
{
	json_object *o = json_object_new_object();
	json_object *renewed = json_object_new_array();
	json_object *skipped = json_object_new_array();
	size_t i;

	for (i = 0; i < m->nrenewed; i++)
		json_object_array_add(renewed, renewed_encode(&m->renewed[i]));
	for (i = 0; i < m->nskipped; i++)
		json_object_array_add(skipped, skipped_encode(&m->skipped[i]));
	jv_add_str(o, "backup", m->backup);
	json_object_object_add(o, "renewed", renewed);
	json_object_object_add(o, "skipped", skipped);
	return o;
}

static void
dec_renewed(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_renewed *r = p;

	proto_dec_str(d, o, "name", &r->name);
	proto_dec_str(d, o, "old_serial", &r->old_serial);
	proto_dec_str(d, o, "new_serial", &r->new_serial);
	proto_dec_time(d, o, "old_not_after", &r->old_not_after);
	proto_dec_time(d, o, "new_not_after", &r->new_not_after);
}

static void
dec_skipped(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_skipped *s = p;

	proto_dec_str(d, o, "name", &s->name);
	proto_dec_str(d, o, "reason", &s->reason);
}

static const struct proto_elem renewed_elem = {
	.size = sizeof(struct proto_renewed),
	.decode = dec_renewed,
};

static const struct proto_elem skipped_elem = {
	.size = sizeof(struct proto_skipped),
	.decode = dec_skipped,
};

static void
dec_renew_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_renew_rep *m = p;

	proto_dec_str(d, o, "backup", &m->backup);
	m->renewed = proto_dec_list(d, o, "renewed", &renewed_elem,
	    &m->nrenewed);
	m->skipped = proto_dec_list(d, o, "skipped", &skipped_elem,
	    &m->nskipped);
}

/* See proto_renew_rep_encode() for the other side of the wire. */
enum cr_err
proto_renew_rep_decode(json_object *body, struct proto_renew_rep *m, char *why,
    size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "RENEW_REP", why, whylen);
	if (decode_body(&d, body, dec_renew_rep, m))
		return CR_OK;
	proto_renew_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_renew_rep_clear(struct proto_renew_rep *m)
{
	size_t i;

	for (i = 0; i < m->nrenewed; i++) {
		free(m->renewed[i].name);
		free(m->renewed[i].old_serial);
		free(m->renewed[i].new_serial);
	}
	for (i = 0; i < m->nskipped; i++) {
		free(m->skipped[i].name);
		free(m->skipped[i].reason);
	}
	free(m->backup);
	free(m->renewed);
	free(m->skipped);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* VERIFY_REQ / VERIFY_REP                                             */
/* ------------------------------------------------------------------ */

/* See proto_verify_req_decode() for the other side of the wire. */
json_object *
proto_verify_req_encode(const struct proto_verify_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	jv_add_str(o, "backup", m->backup);
	proto_enc_strv(o, "names", &m->names);
	return o;
}

static void
dec_verify_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_verify_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_str(d, o, "backup", &m->backup);
	proto_dec_strv(d, o, "names", &m->names);
}

/* See proto_verify_req_encode() for the other side of the wire. */
enum cr_err
proto_verify_req_decode(json_object *body, struct proto_verify_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "VERIFY_REQ", why, whylen);
	if (decode_body(&d, body, dec_verify_req, m))
		return CR_OK;
	proto_verify_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_verify_req_clear(struct proto_verify_req *m)
{
	free(m->kubernetes_dir);
	free(m->backup);
	strv_clear(&m->names);
	memset(m, 0, sizeof(*m));
}

/* See proto_verify_rep_decode() for the other side of the wire. */
json_object *
proto_verify_rep_encode(const struct proto_verify_rep *m)
{
	json_object *o = json_object_new_object();
	json_object *results = json_object_new_array();
	json_object *r;
	size_t i;

	for (i = 0; i < m->nresults; i++) {
		r = json_object_new_object();
		jv_add_str(r, "name", m->results[i].name);
		jv_add_bool(r, "ok", m->results[i].ok);
		proto_enc_strv(r, "problems", &m->results[i].problems);
		json_object_array_add(results, r);
	}
	jv_add_bool(o, "ok", m->ok);
	json_object_object_add(o, "results", results);
	return o;
}

static void
dec_verify_result(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_verify_result *r = p;

	proto_dec_str(d, o, "name", &r->name);
	proto_dec_bool(d, o, "ok", &r->ok);
	proto_dec_strv(d, o, "problems", &r->problems);
}

static const struct proto_elem verify_result_elem = {
	.size = sizeof(struct proto_verify_result),
	.decode = dec_verify_result,
};

static void
dec_verify_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_verify_rep *m = p;

	proto_dec_bool(d, o, "ok", &m->ok);
	m->results = proto_dec_list(d, o, "results", &verify_result_elem,
	    &m->nresults);
}

/* See proto_verify_rep_encode() for the other side of the wire. */
enum cr_err
proto_verify_rep_decode(json_object *body, struct proto_verify_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "VERIFY_REP", why, whylen);
	if (decode_body(&d, body, dec_verify_rep, m))
		return CR_OK;
	proto_verify_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_verify_rep_clear(struct proto_verify_rep *m)
{
	size_t i;

	for (i = 0; i < m->nresults; i++) {
		free(m->results[i].name);
		strv_clear(&m->results[i].problems);
	}
	free(m->results);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* RESTART_REQ / RESTART_REP                                           */
/* ------------------------------------------------------------------ */

/* See proto_restart_req_decode() for the other side of the wire. */
json_object *
proto_restart_req_encode(const struct proto_restart_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	proto_enc_strv(o, "components", &m->components);
	jv_add_int(o, "timeout_s", m->timeout_s);
	return o;
}

static void
dec_restart_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_restart_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_strv(d, o, "components", &m->components);
	proto_dec_int(d, o, "timeout_s", PROTO_RANGE_TIMEOUT, &m->timeout_s);
}

/* See proto_restart_req_encode() for the other side of the wire. */
enum cr_err
proto_restart_req_decode(json_object *body, struct proto_restart_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "RESTART_REQ", why, whylen);
	if (decode_body(&d, body, dec_restart_req, m))
		return CR_OK;
	proto_restart_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_restart_req_clear(struct proto_restart_req *m)
{
	free(m->kubernetes_dir);
	strv_clear(&m->components);
	memset(m, 0, sizeof(*m));
}

/* See proto_restart_rep_decode() for the other side of the wire. */
json_object *
proto_restart_rep_encode(const struct proto_restart_rep *m)
{
	json_object *o = json_object_new_object();
	json_object *list = json_object_new_array();
	const struct proto_restart_result *r;
	json_object *e;
	size_t i;

	for (i = 0; i < m->ncomponents; i++) {
		r = &m->components[i];
		e = json_object_new_object();
		jv_add_str(e, "name", r->name);
		jv_add_bool(e, "ok", r->ok);
		jv_add_int(e, "down_ms", r->down_ms);
		jv_add_int(e, "up_ms", r->up_ms);
		jv_add_str(e, "message", r->message);
		json_object_array_add(list, e);
	}
	json_object_object_add(o, "components", list);
	return o;
}

static void
dec_restart_result(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_restart_result *r = p;

	proto_dec_str(d, o, "name", &r->name);
	proto_dec_bool(d, o, "ok", &r->ok);
	proto_dec_int(d, o, "down_ms", PROTO_RANGE_COUNT, &r->down_ms);
	proto_dec_int(d, o, "up_ms", PROTO_RANGE_COUNT, &r->up_ms);
	proto_dec_str(d, o, "message", &r->message);
}

static const struct proto_elem restart_result_elem = {
	.size = sizeof(struct proto_restart_result),
	.decode = dec_restart_result,
};

static void
dec_restart_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_restart_rep *m = p;

	m->components = proto_dec_list(d, o, "components", &restart_result_elem,
	    &m->ncomponents);
}

/* See proto_restart_rep_encode() for the other side of the wire. */
enum cr_err
proto_restart_rep_decode(json_object *body, struct proto_restart_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "RESTART_REP", why, whylen);
	if (decode_body(&d, body, dec_restart_rep, m))
		return CR_OK;
	proto_restart_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_restart_rep_clear(struct proto_restart_rep *m)
{
	size_t i;

	for (i = 0; i < m->ncomponents; i++) {
		free(m->components[i].name);
		free(m->components[i].message);
	}
	free(m->components);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* HEALTH_REQ / HEALTH_REP                                             */
/* ------------------------------------------------------------------ */

/* See proto_health_req_decode() for the other side of the wire. */
json_object *
proto_health_req_encode(const struct proto_health_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	proto_enc_strv(o, "components", &m->components);
	return o;
}

static void
dec_health_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_health_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_strv(d, o, "components", &m->components);
}

/* See proto_health_req_encode() for the other side of the wire. */
enum cr_err
proto_health_req_decode(json_object *body, struct proto_health_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "HEALTH_REQ", why, whylen);
	if (decode_body(&d, body, dec_health_req, m))
		return CR_OK;
	proto_health_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_health_req_clear(struct proto_health_req *m)
{
	free(m->kubernetes_dir);
	strv_clear(&m->components);
	memset(m, 0, sizeof(*m));
}

static json_object *
health_check_encode(const struct proto_health_check *c)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "component", c->component);
	jv_add_str(o, "check", c->check);
	jv_add_bool(o, "ok", c->ok);
	jv_add_str(o, "message", c->message);
	jv_add_str(o, "served_serial", c->served_serial);
	jv_add_str(o, "disk_serial", c->disk_serial);
	return o;
}

/* See proto_health_rep_decode() for the other side of the wire. */
json_object *
proto_health_rep_encode(const struct proto_health_rep *m)
{
	json_object *o = json_object_new_object();
	json_object *checks = json_object_new_array();
	size_t i;

	for (i = 0; i < m->nchecks; i++)
		json_object_array_add(checks,
		    health_check_encode(&m->checks[i]));
	jv_add_bool(o, "ok", m->ok);
	json_object_object_add(o, "checks", checks);
	return o;
}

static void
dec_health_check(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_health_check *c = p;

	proto_dec_str(d, o, "component", &c->component);
	proto_dec_str(d, o, "check", &c->check);
	proto_dec_bool(d, o, "ok", &c->ok);
	proto_dec_str(d, o, "message", &c->message);
	proto_dec_str_or_null(d, o, "served_serial", &c->served_serial);
	proto_dec_str_or_null(d, o, "disk_serial", &c->disk_serial);
}

static const struct proto_elem health_check_elem = {
	.size = sizeof(struct proto_health_check),
	.decode = dec_health_check,
};

static void
dec_health_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_health_rep *m = p;

	proto_dec_bool(d, o, "ok", &m->ok);
	m->checks = proto_dec_list(d, o, "checks", &health_check_elem,
	    &m->nchecks);
}

/* See proto_health_rep_encode() for the other side of the wire. */
enum cr_err
proto_health_rep_decode(json_object *body, struct proto_health_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "HEALTH_REP", why, whylen);
	if (decode_body(&d, body, dec_health_rep, m))
		return CR_OK;
	proto_health_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_health_rep_clear(struct proto_health_rep *m)
{
	size_t i;

	for (i = 0; i < m->nchecks; i++) {
		free(m->checks[i].component);
		free(m->checks[i].check);
		free(m->checks[i].message);
		free(m->checks[i].served_serial);
		free(m->checks[i].disk_serial);
	}
	free(m->checks);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* ROLLBACK_REQ / ROLLBACK_REP                                         */
/* ------------------------------------------------------------------ */

/* See proto_rollback_req_decode() for the other side of the wire. */
json_object *
proto_rollback_req_encode(const struct proto_rollback_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "kubernetes_dir", m->kubernetes_dir);
	jv_add_str(o, "backup", m->backup);
	return o;
}

static void
dec_rollback_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_rollback_req *m = p;

	proto_dec_str(d, o, "kubernetes_dir", &m->kubernetes_dir);
	proto_dec_str(d, o, "backup", &m->backup);
}

/* See proto_rollback_req_encode() for the other side of the wire. */
enum cr_err
proto_rollback_req_decode(json_object *body, struct proto_rollback_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "ROLLBACK_REQ", why, whylen);
	if (decode_body(&d, body, dec_rollback_req, m))
		return CR_OK;
	proto_rollback_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_rollback_req_clear(struct proto_rollback_req *m)
{
	free(m->kubernetes_dir);
	free(m->backup);
	memset(m, 0, sizeof(*m));
}

/* See proto_rollback_rep_decode() for the other side of the wire. */
json_object *
proto_rollback_rep_encode(const struct proto_rollback_rep *m)
{
	json_object *o = json_object_new_object();

	proto_enc_strv(o, "restored", &m->restored);
	json_object_object_add(o, "restart",
	    proto_restart_rep_encode(&m->restart));
	json_object_object_add(o, "health",
	    proto_health_rep_encode(&m->health));
	return o;
}

static void
dec_rollback_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_rollback_rep *m = p;

	proto_dec_strv(d, o, "restored", &m->restored);
	proto_dec_sub(d, o, "restart", dec_restart_rep, &m->restart);
	proto_dec_sub(d, o, "health", dec_health_rep, &m->health);
}

/* See proto_rollback_rep_encode() for the other side of the wire. */
enum cr_err
proto_rollback_rep_decode(json_object *body, struct proto_rollback_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "ROLLBACK_REP", why, whylen);
	if (decode_body(&d, body, dec_rollback_rep, m))
		return CR_OK;
	proto_rollback_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_rollback_rep_clear(struct proto_rollback_rep *m)
{
	strv_clear(&m->restored);
	proto_restart_rep_clear(&m->restart);
	proto_health_rep_clear(&m->health);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* READ_FILE_REQ / READ_FILE_REP                                       */
/* ------------------------------------------------------------------ */

/* See proto_read_file_req_decode() for the other side of the wire. */
json_object *
proto_read_file_req_encode(const struct proto_read_file_req *m)
{
	json_object *o = json_object_new_object();

	jv_add_str(o, "path", m->path);
	return o;
}

static void
dec_read_file_req(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_read_file_req *m = p;

	proto_dec_str(d, o, "path", &m->path);
}

/* See proto_read_file_req_encode() for the other side of the wire. */
enum cr_err
proto_read_file_req_decode(json_object *body, struct proto_read_file_req *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "READ_FILE_REQ", why, whylen);
	if (decode_body(&d, body, dec_read_file_req, m))
		return CR_OK;
	proto_read_file_req_clear(m);
	return CR_ERR_PROTO;
}

void
proto_read_file_req_clear(struct proto_read_file_req *m)
{
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/*
 * See proto_read_file_rep_decode() for the other side of the wire. The
 * body holds the file in base64: when it is key material, wipe the body
 * with proto_body_wipe() once it is sent.
 */
json_object *
proto_read_file_rep_encode(const struct proto_read_file_rep *m)
{
	json_object *o = json_object_new_object();
	char *data = proto_b64_encode(m->data, m->len);

	jv_add_str(o, "path", m->path);
	jv_add_int(o, "mode", m->mode);
	jv_add_str(o, "data", data);
	freezero_str(data);
	return o;
}

static void
dec_read_file_rep(struct proto_dec *d, json_object *o, void *p)
{
	struct proto_read_file_rep *m = p;
	int64_t mode = 0;
	char *data = NULL;

	proto_dec_str(d, o, "path", &m->path);
	proto_dec_int(d, o, "mode", PROTO_RANGE_MODE, &mode);
	m->mode = (unsigned)mode;
	proto_dec_str(d, o, "data", &data);
	if (data != NULL &&
	    proto_b64_decode(data, PROTO_READ_FILE_MAX, &m->data, &m->len) !=
		CR_OK)
		proto_dec_fail(d, "data",
		    "not canonical base64 of at most %d bytes",
		    PROTO_READ_FILE_MAX);
	freezero_str(data);
}

/* See proto_read_file_rep_encode() for the other side of the wire. */
enum cr_err
proto_read_file_rep_decode(json_object *body, struct proto_read_file_rep *m,
    char *why, size_t whylen)
{
	struct proto_dec d;

	memset(m, 0, sizeof(*m));
	proto_dec_init(&d, "READ_FILE_REP", why, whylen);
	if (decode_body(&d, body, dec_read_file_rep, m))
		return CR_OK;
	proto_read_file_rep_clear(m);
	return CR_ERR_PROTO;
}

void
proto_read_file_rep_clear(struct proto_read_file_rep *m)
{
	free(m->path);
	freezero(m->data, m->len);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* BYE_REQ / BYE_REP and the table of codecs                           */
/* ------------------------------------------------------------------ */

/* BYE carries {}: any object decodes (unknown fields are ignored). */
static enum cr_err
bye_decode(json_object *body, void *m, char *why, size_t whylen)
{
	struct proto_dec d;

	(void)m;
	proto_dec_init(&d, "BYE", why, whylen);
	return proto_dec_root(&d, body) ? CR_OK : CR_ERR_PROTO;
}

/* Adapters from the typed functions to the void * of struct proto_codec. */
#define CODEC_ADAPT(msg)                                                       \
	static json_object *msg##_enc_any(const void *m)                       \
	{                                                                      \
		return proto_##msg##_encode(m);                                \
	}                                                                      \
	static enum cr_err msg##_dec_any(json_object *b, void *m, char *w,     \
	    size_t wl)                                                         \
	{                                                                      \
		return proto_##msg##_decode(b, m, w, wl);                      \
	}                                                                      \
	static void msg##_clear_any(void *m)                                   \
	{                                                                      \
		proto_##msg##_clear(m);                                        \
	}

#define CODEC_ROW(type, msg)                                                   \
	{                                                                      \
		type, sizeof(struct proto_##msg), msg##_enc_any,               \
		    msg##_dec_any, msg##_clear_any                             \
	}

CODEC_ADAPT(hello)
CODEC_ADAPT(progress)
CODEC_ADAPT(error)
CODEC_ADAPT(inspect_req)
CODEC_ADAPT(inspect_rep)
CODEC_ADAPT(backup_req)
CODEC_ADAPT(backup_rep)
CODEC_ADAPT(snapshot_req)
CODEC_ADAPT(snapshot_rep)
CODEC_ADAPT(renew_req)
CODEC_ADAPT(renew_rep)
CODEC_ADAPT(verify_req)
CODEC_ADAPT(verify_rep)
CODEC_ADAPT(restart_req)
CODEC_ADAPT(restart_rep)
CODEC_ADAPT(health_req)
CODEC_ADAPT(health_rep)
CODEC_ADAPT(rollback_req)
CODEC_ADAPT(rollback_rep)
CODEC_ADAPT(read_file_req)
CODEC_ADAPT(read_file_rep)

static const struct proto_codec codecs[] = {
	CODEC_ROW(PROTO_HELLO, hello),
	CODEC_ROW(PROTO_PROGRESS, progress),
	CODEC_ROW(PROTO_ERROR, error),
	CODEC_ROW(PROTO_INSPECT_REQ, inspect_req),
	CODEC_ROW(PROTO_INSPECT_REP, inspect_rep),
	CODEC_ROW(PROTO_BACKUP_REQ, backup_req),
	CODEC_ROW(PROTO_BACKUP_REP, backup_rep),
	CODEC_ROW(PROTO_SNAPSHOT_REQ, snapshot_req),
	CODEC_ROW(PROTO_SNAPSHOT_REP, snapshot_rep),
	CODEC_ROW(PROTO_RENEW_REQ, renew_req),
	CODEC_ROW(PROTO_RENEW_REP, renew_rep),
	CODEC_ROW(PROTO_VERIFY_REQ, verify_req),
	CODEC_ROW(PROTO_VERIFY_REP, verify_rep),
	CODEC_ROW(PROTO_RESTART_REQ, restart_req),
	CODEC_ROW(PROTO_RESTART_REP, restart_rep),
	CODEC_ROW(PROTO_HEALTH_REQ, health_req),
	CODEC_ROW(PROTO_HEALTH_REP, health_rep),
	CODEC_ROW(PROTO_ROLLBACK_REQ, rollback_req),
	CODEC_ROW(PROTO_ROLLBACK_REP, rollback_rep),
	CODEC_ROW(PROTO_READ_FILE_REQ, read_file_req),
	CODEC_ROW(PROTO_READ_FILE_REP, read_file_rep),
	{ PROTO_BYE_REQ, 0, NULL, bye_decode, NULL },
	{ PROTO_BYE_REP, 0, NULL, bye_decode, NULL },
};

const struct proto_codec *
proto_codec_find(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i].type == type)
			return &codecs[i];
	return NULL;
}

enum cr_err
proto_body_check(uint16_t type, json_object *body, char *why, size_t whylen)
{
	const struct proto_codec *c = proto_codec_find(type);
	void *m;
	enum cr_err err;

	if (c == NULL) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "no decoder for message type %u",
			    type);
		return CR_ERR_PROTO;
	}
	m = xcalloc(1, c->size > 0 ? c->size : 1);
	err = c->decode(body, m, why, whylen);
	if (err == CR_OK && c->clear != NULL)
		c->clear(m);
	free(m);
	return err;
}
