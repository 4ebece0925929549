/*
 * Message codecs: for every message a golden encoding and a round trip;
 * for every field of every message a missing, a wrongly typed and a null
 * row; semantic rows for ranges, enums, hex, base64, times and unknown
 * fields; the HELLO judgement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cu_run.h"
#include "jv.h"
#include "proto.h"
#include "proto_int.h"
#include "xmalloc.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define T0    1795870800 /* 2026-11-28T13:00:00Z */
#define T_OLD 1797754500 /* 2026-12-20T08:15:00Z */
#define T_NEW 1827406800 /* 2027-11-28T13:00:00Z */
#define T_CA  2111302800 /* 2036-11-26T09:00:00Z */

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ------------------------------------------------------------------ */
/* Samples                                                             */
/* ------------------------------------------------------------------ */

static void
strv_of(struct strv *sv, const char *a, const char *b)
{
	if (a != NULL)
		strv_push(sv, a);
	if (b != NULL)
		strv_push(sv, b);
}

static void
fill_hello(void *p)
{
	struct proto_hello *m = p;

	m->protocol = PROTO_VERSION;
	m->program = xstrdup(PROTO_PROGRAM_AGENT);
	m->version = xstrdup("0.1.0");
	m->agent_sha256 = xstrdup(SHA);
	strv_of(&m->capabilities, PROTO_CAP_RENEW, PROTO_CAP_KUBEADM);
	m->node = xstrdup("cp1");
}

static void
fill_progress(void *p)
{
	struct proto_progress *m = p;

	m->phase = xstrdup("renew");
	m->message = xstrdup("renewing apiserver");
	m->percent = 40;
}

static void
fill_error(void *p)
{
	struct proto_error *m = p;

	m->code = CR_ERR_STATE;
	m->message = xstrdup("RESTART_REQ needs a successful RENEW_REQ");
	m->request = xstrdup("RESTART_REQ");
}

static void
fill_inspect_req(void *p)
{
	struct proto_inspect_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
}

static void
fill_cert(struct cert_info *ci, const char *name, const char *ca)
{
	ci->name = xstrdup(name);
	ci->file = xasprintf("/etc/kubernetes/pki/%s.crt", name);
	ci->ca = ca != NULL ? xstrdup(ca) : NULL;
	ci->subject = xasprintf("CN=%s", name);
	ci->issuer = xstrdup("CN=kubernetes");
	ci->serial = xstrdup("5A1B");
	ci->not_before = T0 - 30;
	ci->not_after = ca != NULL ? T_OLD : T_CA;
	ci->key_algorithm = xstrdup("RSA-2048");
	ci->is_ca = ca == NULL;
	if (ca != NULL) {
		strv_push(&ci->dns_names, "kubernetes");
		strv_push(&ci->ip_addresses, "10.96.0.1");
		strv_push(&ci->key_usages, "digitalSignature");
		strv_push(&ci->ext_key_usages, "serverAuth");
	}
}

static void
fill_inspect_rep(void *p)
{
	struct proto_inspect_rep *m = p;
	struct proto_facts *f = &m->facts;

	m->node = xstrdup("cp1");
	m->time = T0;
	fill_cert(cert_list_add(&m->certificates), "apiserver", "ca");
	fill_cert(cert_list_add(&m->certificate_authorities), "ca", NULL);
	m->kubelet_client = xcalloc(1, sizeof(*m->kubelet_client));
	fill_cert(m->kubelet_client, "kubelet.conf", "ca");
	f->clock_ms = (int64_t)T0 * 1000 + 123;
	f->kubeadm_version = xstrdup("v1.31.2");
	f->backup_dir = xstrdup("/var/lib/certroll/backups");
	f->backup_free_bytes = 5368709120LL;
	f->file_check_frequency_ms = 20000;
	strv_of(&f->manifests, "etcd.yaml", "kube-apiserver.yaml");
	f->etcd_external = true;
	f->sa_key = true;
	strv_of(&f->leftovers, "certroll-held/etcd.yaml", NULL);
	f->super_admin_expected = true;
}

static void
fill_backup_req(void *p)
{
	struct proto_backup_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	m->backup_dir = xstrdup("/var/lib/certroll/backups");
	m->keep = 5;
}

static void
fill_backup_rep(void *p)
{
	struct proto_backup_rep *m = p;

	m->path = xstrdup("/var/lib/certroll/backups/20261128T130000Z-x1");
	m->files = 42;
	m->bytes = 123456;
}

static void
fill_snapshot_req(void *p)
{
	struct proto_snapshot_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	m->dest_dir = xstrdup("/var/lib/certroll/snapshots");
}

static void
fill_snapshot_rep(void *p)
{
	struct proto_snapshot_rep *m = p;

	m->path = xstrdup("/var/lib/certroll/snapshots/etcd.db");
	m->bytes = 2097152;
	m->sha256 = xstrdup(SHA);
	m->revision = 9876;
}

static void
fill_renew_req(void *p)
{
	struct proto_renew_req *m = p;

	m->run_id = xstrdup("20261128T130000Z-ab12");
	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	m->backup_dir = xstrdup("/var/lib/certroll/backups");
	m->keep = 5;
	strv_of(&m->targets, "apiserver", "etcd-server");
	m->renew_before_s = 2592000;
	m->backend = PROTO_BACKEND_NATIVE;
	m->validity_s = 31536000;
	m->key_algorithm = xstrdup("ecdsa-p256");
	m->cluster_config = xstrdup("kind: ClusterConfiguration\n");
}

static void
fill_renew_rep(void *p)
{
	struct proto_renew_rep *m = p;

	m->backup = xstrdup("/var/lib/certroll/backups/20261128T130000Z-x1");
	m->nrenewed = 2;
	m->renewed = xcalloc(2, sizeof(*m->renewed));
	m->renewed[0].name = xstrdup("apiserver");
	m->renewed[0].old_serial = xstrdup("5A1B");
	m->renewed[0].new_serial = xstrdup("7C2D");
	m->renewed[0].old_not_after = T_OLD;
	m->renewed[0].new_not_after = T_NEW;
	m->renewed[1].name = xstrdup("etcd-server");
	m->renewed[1].old_serial = xstrdup("01");
	m->renewed[1].new_serial = xstrdup("02");
	m->renewed[1].old_not_after = T_OLD;
	m->renewed[1].new_not_after = T_NEW + 60;
	m->nskipped = 1;
	m->skipped = xcalloc(1, sizeof(*m->skipped));
	m->skipped[0].name = xstrdup("front-proxy-client");
	m->skipped[0].reason = xstrdup("expires in more than 30d");
}

static void
fill_verify_req(void *p)
{
	struct proto_verify_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	m->backup = xstrdup("/var/lib/certroll/backups/20261128T130000Z-x1");
	strv_of(&m->names, "apiserver", NULL);
}

static void
fill_verify_rep(void *p)
{
	struct proto_verify_rep *m = p;

	m->ok = false;
	m->nresults = 2;
	m->results = xcalloc(2, sizeof(*m->results));
	m->results[0].name = xstrdup("apiserver");
	m->results[0].ok = true;
	m->results[1].name = xstrdup("etcd-peer");
	strv_of(&m->results[1].problems, "SANs changed", "key does not match");
}

static void
fill_restart_req(void *p)
{
	struct proto_restart_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	m->timeout_s = 120;
}

static void
fill_restart_result(struct proto_restart_result *r, const char *name, bool ok)
{
	r->name = xstrdup(name);
	r->ok = ok;
	r->down_ms = 1500;
	r->up_ms = ok ? 4200 : 0;
	r->message = xstrdup(ok ? "" : "did not come back within 120s");
}

static void
fill_restart_rep(void *p)
{
	struct proto_restart_rep *m = p;

	m->ncomponents = 2;
	m->components = xcalloc(2, sizeof(*m->components));
	fill_restart_result(&m->components[0], "etcd", true);
	fill_restart_result(&m->components[1], "kube-apiserver", false);
}

static void
fill_health_req(void *p)
{
	struct proto_health_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	strv_of(&m->components, "etcd", NULL);
}

static void
fill_health_rep(void *p)
{
	struct proto_health_rep *m = p;

	m->ok = true;
	m->nchecks = 2;
	m->checks = xcalloc(2, sizeof(*m->checks));
	m->checks[0].component = xstrdup("kube-apiserver");
	m->checks[0].check = xstrdup("serves-new-cert");
	m->checks[0].ok = true;
	m->checks[0].message = xstrdup("serial 7C2D");
	m->checks[0].served_serial = xstrdup("7C2D");
	m->checks[0].disk_serial = xstrdup("7C2D");
	m->checks[1].component = xstrdup("etcd");
	m->checks[1].check = xstrdup("etcd-range");
	m->checks[1].ok = true;
	m->checks[1].message = xstrdup("revision 9876");
}

static void
fill_rollback_req(void *p)
{
	struct proto_rollback_req *m = p;

	m->kubernetes_dir = xstrdup("/etc/kubernetes");
	m->backup = xstrdup("/var/lib/certroll/backups/20261128T130000Z-x1");
}

static void
fill_rollback_rep(void *p)
{
	struct proto_rollback_rep *m = p;

	strv_of(&m->restored, "pki/apiserver.crt", "pki/apiserver.key");
	fill_restart_rep(&m->restart);
	fill_health_rep(&m->health);
}

static void
fill_read_file_req(void *p)
{
	struct proto_read_file_req *m = p;

	m->path = xstrdup("/var/lib/kubelet/config.yaml");
}

static const uint8_t file_bytes[] = { 'k', 'i', 'n', 'd', ':', '\n', 0x00, 0xff,
	0x80 };

static void
fill_read_file_rep(void *p)
{
	struct proto_read_file_rep *m = p;

	m->path = xstrdup("/var/lib/kubelet/config.yaml");
	m->mode = 0600;
	m->len = sizeof(file_bytes);
	m->data = xmalloc(m->len);
	memcpy(m->data, file_bytes, m->len);
}

static const struct sample {
	uint16_t type;
	void (*fill)(void *m);
	const char *golden;
} samples[] = {
	{ PROTO_HELLO, fill_hello,
	    "{\"protocol\":1,\"program\":\"certroll-agent\",\"version\":"
	    "\"0.1.0\",\"agent_sha256\":\"" SHA "\",\"capabilities\":["
	    "\"renew\",\"kubeadm\"],\"node\":\"cp1\"}" },
	{ PROTO_PROGRESS, fill_progress,
	    "{\"phase\":\"renew\",\"message\":\"renewing apiserver\","
	    "\"percent\":40}" },
	{ PROTO_ERROR, fill_error,
	    "{\"code\":\"state\",\"message\":\"RESTART_REQ needs a "
	    "successful RENEW_REQ\",\"request\":\"RESTART_REQ\"}" },
	{ PROTO_INSPECT_REQ, fill_inspect_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\"}" },
	{ PROTO_INSPECT_REP, fill_inspect_rep,
	    "{\"node\":\"cp1\",\"time\":\"2026-11-28T13:00:00Z\","
	    "\"certificates\":[{\"name\":\"apiserver\",\"file\":"
	    "\"/etc/kubernetes/pki/apiserver.crt\",\"ca\":\"ca\",\"subject\":"
	    "\"CN=apiserver\",\"issuer\":\"CN=kubernetes\",\"serial\":\"5A1B\","
	    "\"not_before\":\"2026-11-28T12:59:30Z\",\"not_after\":"
	    "\"2026-12-20T08:15:00Z\",\"residual_seconds\":1883700,"
	    "\"key_algorithm\":\"RSA-2048\",\"dns_names\":[\"kubernetes\"],"
	    "\"ip_addresses\":[\"10.96.0.1\"],\"key_usages\":["
	    "\"digitalSignature\"],\"ext_key_usages\":[\"serverAuth\"],"
	    "\"is_ca\":false,\"externally_managed\":false,\"missing\":false,"
	    "\"note\":null}],\"certificate_authorities\":[{\"name\":\"ca\","
	    "\"file\":\"/etc/kubernetes/pki/ca.crt\",\"ca\":null,\"subject\":"
	    "\"CN=ca\",\"issuer\":\"CN=kubernetes\",\"serial\":\"5A1B\","
	    "\"not_before\":\"2026-11-28T12:59:30Z\",\"not_after\":"
	    "\"2036-11-26T09:00:00Z\",\"residual_seconds\":315432000,"
	    "\"key_algorithm\":\"RSA-2048\",\"dns_names\":[],\"ip_addresses\":"
	    "[],\"key_usages\":[],\"ext_key_usages\":[],\"is_ca\":true,"
	    "\"externally_managed\":false,\"missing\":false,\"note\":null}],"
	    "\"kubelet_client\":{\"name\":\"kubelet.conf\",\"file\":"
	    "\"/etc/kubernetes/pki/kubelet.conf.crt\",\"ca\":\"ca\","
	    "\"subject\":\"CN=kubelet.conf\",\"issuer\":\"CN=kubernetes\","
	    "\"serial\":\"5A1B\",\"not_before\":\"2026-11-28T12:59:30Z\","
	    "\"not_after\":\"2026-12-20T08:15:00Z\",\"residual_seconds\":"
	    "1883700,\"key_algorithm\":\"RSA-2048\",\"dns_names\":["
	    "\"kubernetes\"],\"ip_addresses\":[\"10.96.0.1\"],\"key_usages\":"
	    "[\"digitalSignature\"],\"ext_key_usages\":[\"serverAuth\"],"
	    "\"is_ca\":false,\"externally_managed\":false,\"missing\":false,"
	    "\"note\":null},\"facts\":{\"clock_ms\":1795870800123,"
	    "\"kubeadm_version\":\"v1.31.2\",\"backup_dir\":"
	    "\"/var/lib/certroll/backups\",\"backup_free_bytes\":5368709120,"
	    "\"file_check_frequency_ms\":20000,\"manifests\":[\"etcd.yaml\","
	    "\"kube-apiserver.yaml\"],\"etcd\":\"external\",\"sa_key\":true,"
	    "\"sa_pub\":false,\"leftovers\":[\"certroll-held/etcd.yaml\"],"
	    "\"super_admin_expected\":true}}" },
	{ PROTO_BACKUP_REQ, fill_backup_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\",\"backup_dir\":"
	    "\"/var/lib/certroll/backups\",\"keep\":5}" },
	{ PROTO_BACKUP_REP, fill_backup_rep,
	    "{\"path\":\"/var/lib/certroll/backups/20261128T130000Z-x1\","
	    "\"files\":42,\"bytes\":123456}" },
	{ PROTO_SNAPSHOT_REQ, fill_snapshot_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\",\"dest_dir\":"
	    "\"/var/lib/certroll/snapshots\"}" },
	{ PROTO_SNAPSHOT_REP, fill_snapshot_rep,
	    "{\"path\":\"/var/lib/certroll/snapshots/etcd.db\",\"bytes\":"
	    "2097152,\"sha256\":\"" SHA "\",\"revision\":9876}" },
	{ PROTO_RENEW_REQ, fill_renew_req,
	    "{\"run_id\":\"20261128T130000Z-ab12\",\"kubernetes_dir\":"
	    "\"/etc/kubernetes\",\"backup_dir\":\"/var/lib/certroll/backups\","
	    "\"keep\":5,\"targets\":[\"apiserver\",\"etcd-server\"],"
	    "\"renew_before_s\":2592000,\"backend\":\"native\",\"validity_s\":"
	    "31536000,\"key_algorithm\":\"ecdsa-p256\",\"cluster_config\":"
	    "\"kind: ClusterConfiguration\\n\"}" },
	{ PROTO_RENEW_REP, fill_renew_rep,
	    "{\"backup\":\"/var/lib/certroll/backups/20261128T130000Z-x1\","
	    "\"renewed\":[{\"name\":\"apiserver\",\"old_serial\":\"5A1B\","
	    "\"new_serial\":\"7C2D\",\"old_not_after\":"
	    "\"2026-12-20T08:15:00Z\",\"new_not_after\":"
	    "\"2027-11-28T13:00:00Z\"},{\"name\":\"etcd-server\","
	    "\"old_serial\":\"01\",\"new_serial\":\"02\",\"old_not_after\":"
	    "\"2026-12-20T08:15:00Z\",\"new_not_after\":"
	    "\"2027-11-28T13:01:00Z\"}],\"skipped\":[{\"name\":"
	    "\"front-proxy-client\",\"reason\":\"expires in more than "
	    "30d\"}]}" },
	{ PROTO_VERIFY_REQ, fill_verify_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\",\"backup\":"
	    "\"/var/lib/certroll/backups/20261128T130000Z-x1\",\"names\":["
	    "\"apiserver\"]}" },
	{ PROTO_VERIFY_REP, fill_verify_rep,
	    "{\"ok\":false,\"results\":[{\"name\":\"apiserver\",\"ok\":true,"
	    "\"problems\":[]},{\"name\":\"etcd-peer\",\"ok\":false,"
	    "\"problems\":[\"SANs changed\",\"key does not match\"]}]}" },
	{ PROTO_RESTART_REQ, fill_restart_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\",\"components\":[],"
	    "\"timeout_s\":120}" },
	{ PROTO_RESTART_REP, fill_restart_rep,
	    "{\"components\":[{\"name\":\"etcd\",\"ok\":true,\"down_ms\":1500,"
	    "\"up_ms\":4200,\"message\":\"\"},{\"name\":\"kube-apiserver\","
	    "\"ok\":false,\"down_ms\":1500,\"up_ms\":0,\"message\":"
	    "\"did not come back within 120s\"}]}" },
	{ PROTO_HEALTH_REQ, fill_health_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\",\"components\":["
	    "\"etcd\"]}" },
	{ PROTO_HEALTH_REP, fill_health_rep,
	    "{\"ok\":true,\"checks\":[{\"component\":\"kube-apiserver\","
	    "\"check\":\"serves-new-cert\",\"ok\":true,\"message\":"
	    "\"serial 7C2D\",\"served_serial\":\"7C2D\",\"disk_serial\":"
	    "\"7C2D\"},{\"component\":\"etcd\",\"check\":\"etcd-range\","
	    "\"ok\":true,\"message\":\"revision 9876\",\"served_serial\":null,"
	    "\"disk_serial\":null}]}" },
	{ PROTO_ROLLBACK_REQ, fill_rollback_req,
	    "{\"kubernetes_dir\":\"/etc/kubernetes\",\"backup\":"
	    "\"/var/lib/certroll/backups/20261128T130000Z-x1\"}" },
	{ PROTO_ROLLBACK_REP, fill_rollback_rep,
	    "{\"restored\":[\"pki/apiserver.crt\",\"pki/apiserver.key\"],"
	    "\"restart\":{\"components\":[{\"name\":\"etcd\",\"ok\":true,"
	    "\"down_ms\":1500,\"up_ms\":4200,\"message\":\"\"},{\"name\":"
	    "\"kube-apiserver\",\"ok\":false,\"down_ms\":1500,\"up_ms\":0,"
	    "\"message\":\"did not come back within 120s\"}]},\"health\":{"
	    "\"ok\":true,\"checks\":[{\"component\":\"kube-apiserver\","
	    "\"check\":\"serves-new-cert\",\"ok\":true,\"message\":"
	    "\"serial 7C2D\",\"served_serial\":\"7C2D\",\"disk_serial\":"
	    "\"7C2D\"},{\"component\":\"etcd\",\"check\":\"etcd-range\","
	    "\"ok\":true,\"message\":\"revision 9876\",\"served_serial\":null,"
	    "\"disk_serial\":null}]}}" },
	{ PROTO_READ_FILE_REQ, fill_read_file_req,
	    "{\"path\":\"/var/lib/kubelet/config.yaml\"}" },
	{ PROTO_READ_FILE_REP, fill_read_file_rep,
	    "{\"path\":\"/var/lib/kubelet/config.yaml\",\"mode\":384,"
	    "\"data\":\"a2luZDoKAP+A\"}" },
};

static const struct sample *
sample_of(uint16_t type)
{
	size_t i;

	for (i = 0; i < NROWS(samples); i++)
		if (samples[i].type == type)
			return &samples[i];
	/* A type without a sample is a bug in this table, not a result. */
	fprintf(stderr, "no sample for type %u\n", (unsigned)type);
	abort();
}

/* Decodes text as the body type would arrive on the wire. */
static json_object *
wire(uint16_t type, const char *text)
{
	struct proto_hdr h = {
		.body_len = (uint32_t)strlen(text),
		.type = type,
		.version = PROTO_VERSION,
	};
	json_object *o = NULL;

	if (proto_body_decode(&h, (const uint8_t *)text, &o, NULL, 0) != CR_OK)
		return NULL;
	return o;
}

/* The encoding of sample type as a new string to free(). */
static char *
sample_text(uint16_t type)
{
	const struct proto_codec *c = proto_codec_find(type);
	void *m;

	if (c == NULL)
		abort(); /* every sample type has a codec */
	m = xcalloc(1, c->size);
	json_object *o;
	char *text;

	sample_of(type)->fill(m);
	o = c->encode(m);
	text = xstrdup(jv_to_string(o));
	json_object_put(o);
	c->clear(m);
	free(m);
	return text;
}

/* ------------------------------------------------------------------ */
/* Golden encodings and round trips                                    */
/* ------------------------------------------------------------------ */

static void
test_msg_golden(void)
{
	size_t i;
	char *text;

	/* Every type with a body struct has a sample. */
	for (i = 0; i < 256; i++) {
		const struct proto_codec *c = proto_codec_find((uint16_t)i);

		CU_ASSERT_CASE((c != NULL) == proto_type_valid((uint16_t)i),
		    proto_type_name((uint16_t)i));
		if (c != NULL && c->encode != NULL)
			CU_ASSERT_CASE(sample_of((uint16_t)i) != NULL,
			    proto_type_name((uint16_t)i));
	}
	for (i = 0; i < NROWS(samples); i++) {
		text = sample_text(samples[i].type);
		CU_ASSERT_CASE(strcmp(text, samples[i].golden) == 0,
		    proto_type_name(samples[i].type));
		if (strcmp(text, samples[i].golden) != 0)
			fprintf(stderr, "\n%s: got\n%s\n",
			    proto_type_name(samples[i].type), text);
		free(text);
	}
}

static void
test_msg_roundtrip(void)
{
	size_t i;

	for (i = 0; i < NROWS(samples); i++) {
		uint16_t type = samples[i].type;
		const struct proto_codec *c = proto_codec_find(type);
		const char *name = proto_type_name(type);
		char why[PROTO_WHY_MAX] = "";
		void *m = xcalloc(1, c->size);
		json_object *in = wire(type, samples[i].golden), *out = NULL;

		CU_ASSERT_CASE(in != NULL, name);
		CU_ASSERT_CASE(c->decode(in, m, why, sizeof(why)) == CR_OK,
		    name);
		CU_ASSERT_CASE(why[0] == '\0', name);
		out = c->encode(m);
		CU_ASSERT_CASE(
		    strcmp(jv_to_string(out), samples[i].golden) == 0, name);
		json_object_put(in);
		json_object_put(out);
		c->clear(m);
		free(m);
	}
}

/* Decodes the golden encoding of sample type into m. */
static void
decode_sample(uint16_t type, void *m)
{
	json_object *o = wire(type, sample_of(type)->golden);

	CU_ASSERT_FATAL(o != NULL);
	CU_ASSERT_EQUAL_FATAL(proto_codec_find(type)->decode(o, m, NULL, 0),
	    CR_OK);
	json_object_put(o);
}

/* Spot checks of decoded values a symmetric bug would hide. */
static void
test_msg_decoded_values(void)
{
	struct proto_inspect_rep ir = { 0 };
	struct proto_renew_rep rr = { 0 };
	struct proto_renew_req rq = { 0 };
	struct proto_read_file_rep fr = { 0 };
	struct proto_health_rep hr = { 0 };

	decode_sample(PROTO_INSPECT_REP, &ir);
	CU_ASSERT_EQUAL(ir.time, T0);
	CU_ASSERT_EQUAL(ir.certificates.n, 1);
	CU_ASSERT_EQUAL(ir.certificates.v[0].not_after, T_OLD);
	CU_ASSERT_STRING_EQUAL(ir.certificate_authorities.v[0].name, "ca");
	CU_ASSERT_STRING_EQUAL(ir.kubelet_client->name, "kubelet.conf");
	CU_ASSERT_EQUAL(ir.facts.clock_ms, 1795870800123LL);
	CU_ASSERT_TRUE(ir.facts.etcd_external);
	CU_ASSERT_TRUE(ir.facts.sa_key && !ir.facts.sa_pub);
	CU_ASSERT_TRUE(strv_has(&ir.facts.manifests, "kube-apiserver.yaml"));
	proto_inspect_rep_clear(&ir);
	CU_ASSERT_PTR_NULL(ir.kubelet_client);

	decode_sample(PROTO_RENEW_REP, &rr);
	CU_ASSERT_EQUAL(rr.nrenewed, 2);
	CU_ASSERT_EQUAL(rr.renewed[1].new_not_after, T_NEW + 60);
	CU_ASSERT_STRING_EQUAL(rr.skipped[0].name, "front-proxy-client");
	proto_renew_rep_clear(&rr);

	decode_sample(PROTO_RENEW_REQ, &rq);
	CU_ASSERT_EQUAL(rq.backend, PROTO_BACKEND_NATIVE);
	CU_ASSERT_EQUAL(rq.validity_s, 31536000);
	CU_ASSERT_STRING_EQUAL(rq.cluster_config,
	    "kind: ClusterConfiguration\n");
	proto_renew_req_clear(&rq);

	decode_sample(PROTO_READ_FILE_REP, &fr);
	CU_ASSERT_EQUAL(fr.mode, 0600);
	CU_ASSERT_EQUAL_FATAL(fr.len, sizeof(file_bytes));
	CU_ASSERT_EQUAL(memcmp(fr.data, file_bytes, fr.len), 0);
	proto_read_file_rep_clear(&fr);

	decode_sample(PROTO_HEALTH_REP, &hr);
	CU_ASSERT_STRING_EQUAL(hr.checks[0].served_serial, "7C2D");
	CU_ASSERT_PTR_NULL(hr.checks[1].served_serial);
	proto_health_rep_clear(&hr);
}

/* ------------------------------------------------------------------ */
/* Every field: missing, wrong type, null                              */
/* ------------------------------------------------------------------ */

#define REQ 0u /* required, never null */
#define NUL 1u /* null is a valid value */
#define OPT 2u /* may be absent */

static const struct field_row {
	const char *path;
	unsigned flags;
	uint16_t type;
} fields[] = {
	{ "protocol", REQ, PROTO_HELLO },
	{ "program", REQ, PROTO_HELLO },
	{ "version", REQ, PROTO_HELLO },
	{ "agent_sha256", REQ, PROTO_HELLO },
	{ "capabilities", REQ, PROTO_HELLO },
	{ "node", REQ, PROTO_HELLO },
	{ "phase", REQ, PROTO_PROGRESS },
	{ "message", REQ, PROTO_PROGRESS },
	{ "percent", NUL | OPT, PROTO_PROGRESS },
	{ "code", REQ, PROTO_ERROR },
	{ "message", REQ, PROTO_ERROR },
	{ "request", REQ, PROTO_ERROR },
	{ "kubernetes_dir", REQ, PROTO_INSPECT_REQ },
	{ "node", REQ, PROTO_INSPECT_REP },
	{ "time", REQ, PROTO_INSPECT_REP },
	{ "certificates", REQ, PROTO_INSPECT_REP },
	{ "certificate_authorities", REQ, PROTO_INSPECT_REP },
	{ "kubelet_client", NUL, PROTO_INSPECT_REP },
	{ "facts", REQ, PROTO_INSPECT_REP },
	{ "facts.clock_ms", REQ, PROTO_INSPECT_REP },
	{ "facts.kubeadm_version", NUL, PROTO_INSPECT_REP },
	{ "facts.backup_dir", REQ, PROTO_INSPECT_REP },
	{ "facts.backup_free_bytes", REQ, PROTO_INSPECT_REP },
	{ "facts.file_check_frequency_ms", REQ, PROTO_INSPECT_REP },
	{ "facts.manifests", REQ, PROTO_INSPECT_REP },
	{ "facts.etcd", REQ, PROTO_INSPECT_REP },
	{ "facts.sa_key", REQ, PROTO_INSPECT_REP },
	{ "facts.sa_pub", REQ, PROTO_INSPECT_REP },
	{ "facts.leftovers", REQ, PROTO_INSPECT_REP },
	{ "facts.super_admin_expected", REQ, PROTO_INSPECT_REP },
	{ "kubernetes_dir", REQ, PROTO_BACKUP_REQ },
	{ "backup_dir", REQ, PROTO_BACKUP_REQ },
	{ "keep", REQ, PROTO_BACKUP_REQ },
	{ "path", REQ, PROTO_BACKUP_REP },
	{ "files", REQ, PROTO_BACKUP_REP },
	{ "bytes", REQ, PROTO_BACKUP_REP },
	{ "kubernetes_dir", REQ, PROTO_SNAPSHOT_REQ },
	{ "dest_dir", REQ, PROTO_SNAPSHOT_REQ },
	{ "path", REQ, PROTO_SNAPSHOT_REP },
	{ "bytes", REQ, PROTO_SNAPSHOT_REP },
	{ "sha256", REQ, PROTO_SNAPSHOT_REP },
	{ "revision", REQ, PROTO_SNAPSHOT_REP },
	{ "run_id", REQ, PROTO_RENEW_REQ },
	{ "kubernetes_dir", REQ, PROTO_RENEW_REQ },
	{ "backup_dir", REQ, PROTO_RENEW_REQ },
	{ "keep", REQ, PROTO_RENEW_REQ },
	{ "targets", REQ, PROTO_RENEW_REQ },
	{ "renew_before_s", REQ, PROTO_RENEW_REQ },
	{ "backend", REQ, PROTO_RENEW_REQ },
	{ "validity_s", REQ, PROTO_RENEW_REQ },
	{ "key_algorithm", REQ, PROTO_RENEW_REQ },
	{ "cluster_config", NUL, PROTO_RENEW_REQ },
	{ "backup", REQ, PROTO_RENEW_REP },
	{ "renewed", REQ, PROTO_RENEW_REP },
	{ "renewed[0].name", REQ, PROTO_RENEW_REP },
	{ "renewed[0].old_serial", REQ, PROTO_RENEW_REP },
	{ "renewed[0].new_serial", REQ, PROTO_RENEW_REP },
	{ "renewed[0].old_not_after", REQ, PROTO_RENEW_REP },
	{ "renewed[0].new_not_after", REQ, PROTO_RENEW_REP },
	{ "skipped", REQ, PROTO_RENEW_REP },
	{ "skipped[0].name", REQ, PROTO_RENEW_REP },
	{ "skipped[0].reason", REQ, PROTO_RENEW_REP },
	{ "kubernetes_dir", REQ, PROTO_VERIFY_REQ },
	{ "backup", REQ, PROTO_VERIFY_REQ },
	{ "names", REQ, PROTO_VERIFY_REQ },
	{ "ok", REQ, PROTO_VERIFY_REP },
	{ "results", REQ, PROTO_VERIFY_REP },
	{ "results[0].name", REQ, PROTO_VERIFY_REP },
	{ "results[0].ok", REQ, PROTO_VERIFY_REP },
	{ "results[0].problems", REQ, PROTO_VERIFY_REP },
	{ "kubernetes_dir", REQ, PROTO_RESTART_REQ },
	{ "components", REQ, PROTO_RESTART_REQ },
	{ "timeout_s", REQ, PROTO_RESTART_REQ },
	{ "components", REQ, PROTO_RESTART_REP },
	{ "components[0].name", REQ, PROTO_RESTART_REP },
	{ "components[0].ok", REQ, PROTO_RESTART_REP },
	{ "components[0].down_ms", REQ, PROTO_RESTART_REP },
	{ "components[0].up_ms", REQ, PROTO_RESTART_REP },
	{ "components[0].message", REQ, PROTO_RESTART_REP },
	{ "kubernetes_dir", REQ, PROTO_HEALTH_REQ },
	{ "components", REQ, PROTO_HEALTH_REQ },
	{ "ok", REQ, PROTO_HEALTH_REP },
	{ "checks", REQ, PROTO_HEALTH_REP },
	{ "checks[0].component", REQ, PROTO_HEALTH_REP },
	{ "checks[0].check", REQ, PROTO_HEALTH_REP },
	{ "checks[0].ok", REQ, PROTO_HEALTH_REP },
	{ "checks[0].message", REQ, PROTO_HEALTH_REP },
	{ "checks[0].served_serial", NUL, PROTO_HEALTH_REP },
	{ "checks[0].disk_serial", NUL, PROTO_HEALTH_REP },
	{ "kubernetes_dir", REQ, PROTO_ROLLBACK_REQ },
	{ "backup", REQ, PROTO_ROLLBACK_REQ },
	{ "restored", REQ, PROTO_ROLLBACK_REP },
	{ "restart", REQ, PROTO_ROLLBACK_REP },
	{ "restart.components", REQ, PROTO_ROLLBACK_REP },
	{ "restart.components[0].name", REQ, PROTO_ROLLBACK_REP },
	{ "restart.components[0].ok", REQ, PROTO_ROLLBACK_REP },
	{ "restart.components[0].down_ms", REQ, PROTO_ROLLBACK_REP },
	{ "restart.components[0].up_ms", REQ, PROTO_ROLLBACK_REP },
	{ "restart.components[0].message", REQ, PROTO_ROLLBACK_REP },
	{ "health", REQ, PROTO_ROLLBACK_REP },
	{ "health.ok", REQ, PROTO_ROLLBACK_REP },
	{ "health.checks", REQ, PROTO_ROLLBACK_REP },
	{ "health.checks[0].component", REQ, PROTO_ROLLBACK_REP },
	{ "health.checks[0].check", REQ, PROTO_ROLLBACK_REP },
	{ "health.checks[0].ok", REQ, PROTO_ROLLBACK_REP },
	{ "health.checks[0].message", REQ, PROTO_ROLLBACK_REP },
	{ "health.checks[0].served_serial", NUL, PROTO_ROLLBACK_REP },
	{ "health.checks[0].disk_serial", NUL, PROTO_ROLLBACK_REP },
	{ "path", REQ, PROTO_READ_FILE_REQ },
	{ "path", REQ, PROTO_READ_FILE_REP },
	{ "mode", REQ, PROTO_READ_FILE_REP },
	{ "data", REQ, PROTO_READ_FILE_REP },
};

/*
 * Finds the container of the last step of path ("a.b[0].c") in root:
 * *parentp is the object or array holding it, *keyp the last key (into
 * buf), *idxp its index or -1. False when a step is missing.
 */
static bool
locate(json_object *root, const char *path, json_object **parentp, char *buf,
    long *idxp)
{
	json_object *cur = root;
	const char *p = path;
	char *br;
	size_t n;

	for (;;) {
		n = strcspn(p, ".");
		snprintf(buf, 64, "%.*s", (int)n, p);
		*idxp = -1;
		if ((br = strchr(buf, '[')) != NULL) {
			*idxp = strtol(br + 1, NULL, 10);
			*br = '\0';
		}
		if (p[n] == '\0')
			break;
		if (!json_object_object_get_ex(cur, buf, &cur))
			return false;
		if (*idxp >= 0)
			cur = json_object_array_get_idx(cur, (size_t)*idxp);
		p += n + 1;
	}
	if (*idxp >= 0 && !json_object_object_get_ex(cur, buf, &cur))
		return false;
	*parentp = cur;
	return true;
}

/*
 * Sets the value at path in root to value (JSON text; NULL deletes the
 * field). Returns false when path does not exist.
 */
static bool
patch(json_object *root, const char *path, const char *value)
{
	char key[64];
	json_object *parent = NULL;
	long idx;

	if (!locate(root, path, &parent, key, &idx))
		return false;
	if (idx >= 0 && value == NULL)
		return json_object_array_del_idx(parent, (size_t)idx, 1) == 0;
	if (idx >= 0)
		return json_object_array_put_idx(parent, (size_t)idx,
			   json_tokener_parse(value)) == 0;
	if (value == NULL) {
		json_object_object_del(parent, key);
		return true;
	}
	json_object_object_add(parent, key,
	    strcmp(value, "null") == 0 ? NULL : json_tokener_parse(value));
	return true;
}

/* A value of another JSON type than v's. */
static const char *
other_type(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return "42";
	case json_type_int:
		return "\"42\"";
	case json_type_boolean:
		return "1";
	case json_type_array:
		return "{}";
	case json_type_object:
		return "[]";
	default:
		return "42";
	}
}

/*
 * Applies one change to the sample of type and decodes it into m: value
 * NULL deletes, "?" puts a value of another JSON type. On CR_OK m must be
 * cleared; CR_ERR__MAX means path does not exist.
 */
static enum cr_err
decode_patched(uint16_t type, const char *path, const char *value, void *m,
    char *why)
{
	json_object *o = wire(type, sample_of(type)->golden), *parent;
	char key[64];
	long idx;
	enum cr_err err = CR_ERR__MAX;

	if (value != NULL && strcmp(value, "?") == 0 &&
	    locate(o, path, &parent, key, &idx))
		value = other_type(json_object_object_get(parent, key));
	why[0] = '\0';
	if (patch(o, path, value))
		err = proto_codec_find(type)->decode(o, m, why, PROTO_WHY_MAX);
	json_object_put(o);
	return err;
}

/* decode_patched() into a scratch struct; why has PROTO_WHY_MAX bytes. */
static enum cr_err
mutate(uint16_t type, const char *path, const char *value, char *why)
{
	const struct proto_codec *c = proto_codec_find(type);
	void *m;

	if (c == NULL)
		abort(); /* every sample type has a codec */
	m = xcalloc(1, c->size);
	enum cr_err err;

	if ((err = decode_patched(type, path, value, m, why)) == CR_OK)
		c->clear(m);
	free(m);
	return err;
}

static void
check_field(const struct field_row *r)
{
	char name[160], want[96], why[PROTO_WHY_MAX];
	enum cr_err err;

	snprintf(want, sizeof(want), "'%s'", r->path);
	snprintf(name, sizeof(name), "%s %s missing", proto_type_name(r->type),
	    r->path);
	err = mutate(r->type, r->path, NULL, why);
	CU_ASSERT_CASE(err == ((r->flags & OPT) ? CR_OK : CR_ERR_PROTO), name);
	CU_ASSERT_CASE(err != CR_ERR_PROTO || strstr(why, want) != NULL, name);
	snprintf(name, sizeof(name), "%s %s wrong type",
	    proto_type_name(r->type), r->path);
	err = mutate(r->type, r->path, "?", why);
	CU_ASSERT_CASE(err == CR_ERR_PROTO, name);
	CU_ASSERT_CASE(strstr(why, want) != NULL, name);
	CU_ASSERT_CASE(strstr(why, proto_type_name(r->type)) == why, name);
	snprintf(name, sizeof(name), "%s %s null", proto_type_name(r->type),
	    r->path);
	err = mutate(r->type, r->path, "null", why);
	CU_ASSERT_CASE(err == ((r->flags & NUL) ? CR_OK : CR_ERR_PROTO), name);
}

static void
test_msg_every_field(void)
{
	size_t i;

	for (i = 0; i < NROWS(fields); i++)
		check_field(&fields[i]);
}

/* Keys whose values are certinfo.h objects, tested in test_certinfo.c. */
static bool
opaque(const char *key)
{
	return strcmp(key, "certificates") == 0 ||
	    strcmp(key, "certificate_authorities") == 0 ||
	    strcmp(key, "kubelet_client") == 0;
}

/* One object still to visit in collect_paths(). */
struct visit {
	json_object *o;
	char prefix[128];
};

/* Pushes val (or its first element) when it is an object to visit. */
static void
push_child(struct visit *stack, size_t *np, const char *path, json_object *val)
{
	json_object *first = val;

	if (json_object_is_type(val, json_type_array))
		first = json_object_array_get_idx(val, 0);
	if (!json_object_is_type(first, json_type_object) || *np == 16)
		return;
	stack[*np].o = first;
	snprintf(stack[*np].prefix, sizeof(stack[*np].prefix), "%.120s%s.",
	    path, first == val ? "" : "[0]");
	(*np)++;
}

/* The field paths of body, descending into objects and first elements. */
static void
collect_paths(json_object *body, struct strv *out)
{
	struct visit stack[16], cur;
	char path[128];
	size_t n = 0;

	stack[n].o = body;
	stack[n++].prefix[0] = '\0';
	while (n > 0) {
		cur = stack[--n];
		json_object_object_foreach(cur.o, key, val)
		{
			snprintf(path, sizeof(path), "%.60s%.60s", cur.prefix,
			    key);
			strv_push(out, path);
			if (!opaque(key))
				push_child(stack, &n, path, val);
		}
	}
}

/* The field table covers exactly the fields each sample encodes. */
static void
test_msg_field_table_complete(void)
{
	size_t i, k;

	for (i = 0; i < NROWS(samples); i++) {
		struct strv seen = { NULL, 0 }, listed = { NULL, 0 };
		json_object *o = wire(samples[i].type, samples[i].golden);

		collect_paths(o, &seen);
		for (k = 0; k < NROWS(fields); k++)
			if (fields[k].type == samples[i].type)
				strv_push(&listed, fields[k].path);
		CU_ASSERT_CASE(strv_equal_set(&seen, &listed),
		    proto_type_name(samples[i].type));
		strv_clear(&seen);
		strv_clear(&listed);
		json_object_put(o);
	}
}

/* ------------------------------------------------------------------ */
/* Semantic rows: one change to a sample, the expected outcome         */
/* ------------------------------------------------------------------ */

static const struct sem_row {
	const char *name;
	const char *path;
	const char *value; /* JSON text; NULL deletes */
	const char *why;
	enum cr_err err;
	uint16_t type;
} sem_rows[] = {
	{ "percent 0", "percent", "0", "", CR_OK, PROTO_PROGRESS },
	{ "percent 100", "percent", "100", "", CR_OK, PROTO_PROGRESS },
	{ "percent 101", "percent", "101",
	    "PROGRESS: 'percent': 101 is out of range 0..100", CR_ERR_PROTO,
	    PROTO_PROGRESS },
	{ "percent -1 on the wire", "percent", "-1", "out of range",
	    CR_ERR_PROTO, PROTO_PROGRESS },
	{ "percent 4.5", "percent", "4.5", "'percent': not an integer",
	    CR_ERR_PROTO, PROTO_PROGRESS },
	{ "keep 0", "keep", "0", "'keep': 0 is out of range 1..1000",
	    CR_ERR_PROTO, PROTO_BACKUP_REQ },
	{ "keep 1", "keep", "1", "", CR_OK, PROTO_BACKUP_REQ },
	{ "keep 1000", "keep", "1000", "", CR_OK, PROTO_BACKUP_REQ },
	{ "keep 1001", "keep", "1001", "out of range 1..1000", CR_ERR_PROTO,
	    PROTO_BACKUP_REQ },
	{ "timeout 0", "timeout_s", "0",
	    "'timeout_s': 0 is out of range 1..86400", CR_ERR_PROTO,
	    PROTO_RESTART_REQ },
	{ "timeout 86400", "timeout_s", "86400", "", CR_OK, PROTO_RESTART_REQ },
	{ "timeout 86401", "timeout_s", "86401", "out of range", CR_ERR_PROTO,
	    PROTO_RESTART_REQ },
	{ "validity 0 (default)", "validity_s", "0", "", CR_OK,
	    PROTO_RENEW_REQ },
	{ "validity 101 years", "validity_s", "3185136000",
	    "'validity_s': 3185136000 is out of range", CR_ERR_PROTO,
	    PROTO_RENEW_REQ },
	{ "renew_before negative", "renew_before_s", "-1",
	    "'renew_before_s': -1 is out of range", CR_ERR_PROTO,
	    PROTO_RENEW_REQ },
	{ "mode 07777", "mode", "4095", "", CR_OK, PROTO_READ_FILE_REP },
	{ "mode 010000", "mode", "4096", "'mode': 4096 is out of range 0..4095",
	    CR_ERR_PROTO, PROTO_READ_FILE_REP },
	{ "bytes 2^63-1", "bytes", "9223372036854775807", "", CR_OK,
	    PROTO_BACKUP_REP },
	{ "bytes 2^63", "bytes", "9223372036854775808",
	    "'bytes': 9223372036854775808 is out of range", CR_ERR_PROTO,
	    PROTO_BACKUP_REP },
	{ "bytes -1", "bytes", "-1", "out of range", CR_ERR_PROTO,
	    PROTO_BACKUP_REP },
	{ "bytes 1e3", "bytes", "1e3", "'bytes': not an integer", CR_ERR_PROTO,
	    PROTO_BACKUP_REP },
	{ "protocol 0", "protocol", "0",
	    "'protocol': 0 is out of range 1..65535", CR_ERR_PROTO,
	    PROTO_HELLO },
	{ "protocol 65535", "protocol", "65535", "", CR_OK, PROTO_HELLO },
	{ "protocol 65536", "protocol", "65536", "out of range", CR_ERR_PROTO,
	    PROTO_HELLO },
	{ "sha256 63 digits", "agent_sha256",
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
	    "\"",
	    "'agent_sha256': not 64 lower-case hex digits", CR_ERR_PROTO,
	    PROTO_HELLO },
	{ "sha256 upper case", "agent_sha256",
	    "\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
	    "\"",
	    "not 64 lower-case hex digits", CR_ERR_PROTO, PROTO_HELLO },
	{ "sha256 65 digits", "sha256",
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0\"",
	    "'sha256': not 64", CR_ERR_PROTO, PROTO_SNAPSHOT_REP },
	{ "orchestrator HELLO without agent fields", "program", "\"certroll\"",
	    "", CR_OK, PROTO_HELLO },
	{ "unknown program decodes (check judges)", "program", "\"sshd\"", "",
	    CR_OK, PROTO_HELLO },
	{ "code ok", "code", "\"ok\"", "ERROR: 'code': 'ok' is not an error",
	    CR_ERR_PROTO, PROTO_ERROR },
	{ "code unknown", "code", "\"martian\"", "", CR_OK, PROTO_ERROR },
	{ "backend fast", "backend", "\"fast\"",
	    "RENEW_REQ: 'backend': 'fast' is not one of auto, kubeadm, "
	    "native",
	    CR_ERR_PROTO, PROTO_RENEW_REQ },
	{ "backend auto", "backend", "\"auto\"", "", CR_OK, PROTO_RENEW_REQ },
	{ "backend upper case", "backend", "\"Native\"", "'backend'",
	    CR_ERR_PROTO, PROTO_RENEW_REQ },
	{ "etcd remote", "facts.etcd", "\"remote\"",
	    "INSPECT_REP: 'facts.etcd': 'remote' is neither 'local' nor "
	    "'external'",
	    CR_ERR_PROTO, PROTO_INSPECT_REP },
	{ "etcd local", "facts.etcd", "\"local\"", "", CR_OK,
	    PROTO_INSPECT_REP },
	{ "time not RFC 3339", "time", "\"yesterday\"",
	    "'time': not an RFC 3339 time", CR_ERR_PROTO, PROTO_INSPECT_REP },
	{ "time with offset", "time", "\"2026-11-28T15:00:00+02:00\"", "",
	    CR_OK, PROTO_INSPECT_REP },
	{ "time 1970-01-01", "time", "\"1970-01-01T00:00:00Z\"", "", CR_OK,
	    PROTO_INSPECT_REP },
	{ "time before 1970", "time", "\"1969-12-31T23:59:59Z\"",
	    "'time': '1969-12-31T23:59:59Z' is outside 1970..9999",
	    CR_ERR_PROTO, PROTO_INSPECT_REP },
	{ "time 9999-12-31", "renewed[0].new_not_after",
	    "\"9999-12-31T23:59:59Z\"", "", CR_OK, PROTO_RENEW_REP },
	/* Regressions found by fuzz_proto_msg: years the encoder writes back
	 * unparsable (timefmt_rfc3339() does not pad years below 1000). */
	{ "time year 611", "renewed[0].old_not_after",
	    "\"0611-12-20T08:15:00Z\"",
	    "'renewed[0].old_not_after': '0611-12-20T08:15:00Z' is outside",
	    CR_ERR_PROTO, PROTO_RENEW_REP },
	{ "certificate year 611", "certificates[0].not_after",
	    "\"0611-12-20T08:15:00Z\"",
	    "'certificates': certificate 'apiserver' has times outside "
	    "1970..9999",
	    CR_ERR_PROTO, PROTO_INSPECT_REP },
	{ "certificate not_before year 611", "certificates[0].not_before",
	    "\"0611-12-20T08:15:00Z\"", "has times outside", CR_ERR_PROTO,
	    PROTO_INSPECT_REP },
	{ "certificate expiring at the epoch",
	    "certificate_authorities[0].not_after", "\"1970-01-01T00:00:00Z\"",
	    "certificate 'ca' has times outside", CR_ERR_PROTO,
	    PROTO_INSPECT_REP },
	{ "missing certificate without times", "certificates[0].missing",
	    "true", "", CR_OK, PROTO_INSPECT_REP },
	{ "kubelet_client year 611", "kubelet_client.not_after",
	    "\"0611-12-20T08:15:00Z\"",
	    "'kubelet_client': certificate 'kubelet.conf' has times outside",
	    CR_ERR_PROTO, PROTO_INSPECT_REP },
	{ "time in a list", "renewed[1].new_not_after",
	    "\"2027-13-01T00:00:00Z\"",
	    "'renewed[1].new_not_after': not an RFC 3339 time", CR_ERR_PROTO,
	    PROTO_RENEW_REP },
	{ "string with NUL", "kubernetes_dir", "\"/etc\\u0000/x\"",
	    "'kubernetes_dir': not a string", CR_ERR_PROTO, PROTO_INSPECT_REQ },
	{ "target not a string", "targets[1]", "7",
	    "'targets': item 1 is not a string", CR_ERR_PROTO,
	    PROTO_RENEW_REQ },
	{ "empty targets", "targets", "[]", "", CR_OK, PROTO_RENEW_REQ },
	{ "list item not an object", "renewed[1]", "\"x\"",
	    "'renewed': item 1 is not an object", CR_ERR_PROTO,
	    PROTO_RENEW_REP },
	{ "empty list", "renewed", "[]", "", CR_OK, PROTO_RENEW_REP },
	{ "nested list item", "health.checks[1].ok", "\"yes\"",
	    "'health.checks[1].ok': not a boolean", CR_ERR_PROTO,
	    PROTO_ROLLBACK_REP },
	{ "certificate without name", "certificates[0].name", NULL,
	    "'certificates': not an array of certificates", CR_ERR_PROTO,
	    PROTO_INSPECT_REP },
	{ "kubelet_client not a certificate", "kubelet_client", "{}",
	    "'kubelet_client': neither a certificate nor null", CR_ERR_PROTO,
	    PROTO_INSPECT_REP },
	{ "base64 bad character", "data", "\"a2lu!A==\"",
	    "'data': not canonical base64", CR_ERR_PROTO, PROTO_READ_FILE_REP },
	{ "base64 bad length", "data", "\"QQ=\"", "'data'", CR_ERR_PROTO,
	    PROTO_READ_FILE_REP },
	{ "base64 pad bits", "data", "\"QR==\"", "'data'", CR_ERR_PROTO,
	    PROTO_READ_FILE_REP },
	{ "base64 whitespace", "data", "\"QUJD\\n\"", "'data'", CR_ERR_PROTO,
	    PROTO_READ_FILE_REP },
	{ "base64 empty", "data", "\"\"", "", CR_OK, PROTO_READ_FILE_REP },
	{ "unknown top-level field", "zzz", "{\"future\":[1,2]}", "", CR_OK,
	    PROTO_INSPECT_REQ },
	{ "unknown nested field", "renewed[0].zzz", "true", "", CR_OK,
	    PROTO_RENEW_REP },
	{ "unknown field in facts", "facts.zzz", "null", "", CR_OK,
	    PROTO_INSPECT_REP },
};

static void
test_msg_semantic_rows(void)
{
	char why[PROTO_WHY_MAX];
	size_t i;
	enum cr_err err;

	for (i = 0; i < NROWS(sem_rows); i++) {
		const struct sem_row *r = &sem_rows[i];

		err = mutate(r->type, r->path, r->value, why);
		CU_ASSERT_CASE(err == r->err, r->name);
		CU_ASSERT_CASE(strstr(why, r->why) != NULL, r->name);
		if (err != r->err || strstr(why, r->why) == NULL)
			fprintf(stderr, "\n%s: %d '%s'\n", r->name, err, why);
	}
}

/* Decodes text (a whole body) as type into m. */
static enum cr_err
decode_text(uint16_t type, const char *text, void *m)
{
	json_object *o = wire(type, text);
	enum cr_err err;

	err = proto_codec_find(type)->decode(o, m, NULL, 0);
	json_object_put(o);
	return err;
}

static void
test_msg_special_values(void)
{
	struct proto_progress pg = { 0 };
	struct proto_error er = { 0 };
	struct proto_hello he = { 0 };

	CU_ASSERT_EQUAL(decode_text(PROTO_PROGRESS,
			    "{\"phase\":\"p\",\"message\":\"m\"}", &pg),
	    CR_OK);
	CU_ASSERT_EQUAL(pg.percent, -1);
	proto_progress_clear(&pg);
	CU_ASSERT_EQUAL(decode_text(PROTO_ERROR,
			    "{\"code\":\"martian\",\"message\":\"m\","
			    "\"request\":\"RENEW_REQ\"}",
			    &er),
	    CR_OK);
	CU_ASSERT_EQUAL(er.code, CR_ERR_PROTO);
	proto_error_clear(&er);
	CU_ASSERT_EQUAL(decode_text(PROTO_ERROR,
			    "{\"code\":\"verify\",\"message\":\"m\","
			    "\"request\":\"VERIFY_REQ\"}",
			    &er),
	    CR_OK);
	CU_ASSERT_EQUAL(er.code, CR_ERR_VERIFY);
	proto_error_clear(&er);
	CU_ASSERT_EQUAL(decode_text(PROTO_HELLO,
			    "{\"protocol\":1,\"program\":\"certroll\","
			    "\"version\":\"0.1.0\",\"capabilities\":[]}",
			    &he),
	    CR_OK);
	CU_ASSERT_PTR_NULL(he.agent_sha256);
	CU_ASSERT_PTR_NULL(he.node);
	proto_hello_clear(&he);
	CU_ASSERT_EQUAL(decode_text(PROTO_HELLO,
			    "{\"protocol\":1,\"program\":\"certroll\","
			    "\"version\":\"0.1.0\",\"capabilities\":[],"
			    "\"node\":7}",
			    &he),
	    CR_ERR_PROTO);
	CU_ASSERT_PTR_NULL(he.program);
}

static void
test_msg_patched_values(void)
{
	char why[PROTO_WHY_MAX];
	struct proto_inspect_rep ir = { 0 };
	struct proto_renew_req rq = { 0 };
	struct proto_read_file_rep fr = { 0 };

	/* A time with an offset is converted to UTC. */
	CU_ASSERT_EQUAL_FATAL(decode_patched(PROTO_INSPECT_REP, "time",
				  "\"2026-11-28T15:00:00+02:00\"", &ir, why),
	    CR_OK);
	CU_ASSERT_EQUAL(ir.time, T0);
	proto_inspect_rep_clear(&ir);
	CU_ASSERT_EQUAL_FATAL(decode_patched(PROTO_INSPECT_REP,
				  "kubelet_client", "null", &ir, why),
	    CR_OK);
	CU_ASSERT_PTR_NULL(ir.kubelet_client);
	proto_inspect_rep_clear(&ir);
	CU_ASSERT_EQUAL_FATAL(
	    decode_patched(PROTO_RENEW_REQ, "cluster_config", "null", &rq, why),
	    CR_OK);
	CU_ASSERT_PTR_NULL(rq.cluster_config);
	proto_renew_req_clear(&rq);
	CU_ASSERT_EQUAL_FATAL(
	    decode_patched(PROTO_READ_FILE_REP, "data", "\"\"", &fr, why),
	    CR_OK);
	CU_ASSERT_PTR_NULL(fr.data);
	CU_ASSERT_EQUAL(fr.len, 0);
	proto_read_file_rep_clear(&fr);
}

/* RFC 4648 section 10, plus every byte value. */
static const struct {
	const char *raw;
	const char *b64;
} b64_rows[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static const char *const b64_bad[] = {
	"Zg",        /* no padding */
	"Zg=",       /* short padding */
	"Zg===",     /* long */
	"Z===",      /* three pads */
	"Zh==",      /* pad bits set */
	"Zm9=",      /* pad bits set */
	"Zm=v",      /* pad in the middle */
	"====",      /* only pads */
	"Zm9v Zm9v", /* space */
	"Zm9v-_==",  /* URL alphabet */
	"Zm9\x80",   /* not ASCII */
};

static void
test_b64(void)
{
	uint8_t all[256], *out = NULL;
	size_t i, len = 0;
	char *enc;

	for (i = 0; i < NROWS(b64_rows); i++) {
		enc = proto_b64_encode((const uint8_t *)b64_rows[i].raw,
		    strlen(b64_rows[i].raw));
		CU_ASSERT_CASE(strcmp(enc, b64_rows[i].b64) == 0,
		    b64_rows[i].b64);
		free(enc);
		CU_ASSERT_CASE(
		    proto_b64_decode(b64_rows[i].b64, 16, &out, &len) == CR_OK,
		    b64_rows[i].b64);
		CU_ASSERT_CASE(len == strlen(b64_rows[i].raw) &&
			(len == 0 || memcmp(out, b64_rows[i].raw, len) == 0),
		    b64_rows[i].b64);
		freezero(out, len);
	}
	for (i = 0; i < NROWS(b64_bad); i++) {
		CU_ASSERT_CASE(proto_b64_decode(b64_bad[i], 64, &out, &len) ==
			CR_ERR_PROTO,
		    b64_bad[i]);
		CU_ASSERT_CASE(out == NULL && len == 0, b64_bad[i]);
	}
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	enc = proto_b64_encode(all, sizeof(all));
	CU_ASSERT_EQUAL(proto_b64_decode(enc, sizeof(all), &out, &len), CR_OK);
	CU_ASSERT_EQUAL(len, sizeof(all));
	CU_ASSERT_EQUAL(memcmp(out, all, sizeof(all)), 0);
	freezero(out, len);
	/* The limit is checked before decoding: 256 > 255. */
	CU_ASSERT_EQUAL(proto_b64_decode(enc, sizeof(all) - 1, &out, &len),
	    CR_ERR_PROTO);
	free(enc);
}

/* A READ_FILE_REP of n zero bytes, encoded and decoded. */
static enum cr_err
read_file_of(size_t n, size_t *lenp)
{
	struct proto_read_file_rep in = { 0 }, out;
	json_object *o;
	enum cr_err err;

	in.path = xstrdup("/f");
	in.len = n;
	in.data = xcalloc(1, n);
	o = proto_read_file_rep_encode(&in);
	err = proto_read_file_rep_decode(o, &out, NULL, 0);
	*lenp = out.len;
	if (err == CR_OK)
		proto_read_file_rep_clear(&out);
	json_object_put(o);
	proto_read_file_rep_clear(&in);
	return err;
}

static void
test_msg_read_file_limit(void)
{
	struct buf b = BUF_INIT;
	struct proto_read_file_rep in = { 0 };
	json_object *o;
	size_t len = 1;

	CU_ASSERT_EQUAL(read_file_of(PROTO_READ_FILE_MAX, &len), CR_OK);
	CU_ASSERT_EQUAL(len, PROTO_READ_FILE_MAX);
	CU_ASSERT_EQUAL(read_file_of(PROTO_READ_FILE_MAX + 1, &len),
	    CR_ERR_PROTO);
	CU_ASSERT_EQUAL(len, 0);
	/* The largest file still fits in one frame. */
	in.path = xstrdup("/var/lib/kubelet/config.yaml");
	in.len = PROTO_READ_FILE_MAX;
	in.data = xcalloc(1, in.len);
	o = proto_read_file_rep_encode(&in);
	CU_ASSERT_EQUAL(proto_frame_encode(PROTO_READ_FILE_REP, 1, o, &b),
	    CR_OK);
	buf_clear(&b);
	json_object_put(o);
	proto_read_file_rep_clear(&in);
}

static void
test_msg_not_objects(void)
{
	static const char *const bodies[] = { "[]", "1 ", "\"x\"", "true" };
	char why[PROTO_WHY_MAX];
	unsigned t;
	size_t i;

	for (t = 0; t < 256; t++) {
		json_object *empty = json_object_new_object();

		if (!proto_type_valid((uint16_t)t)) {
			CU_ASSERT_CASE(proto_body_check((uint16_t)t, empty, why,
					   sizeof(why)) == CR_ERR_PROTO,
			    "no decoder");
			json_object_put(empty);
			continue;
		}
		for (i = 0; i < NROWS(bodies); i++) {
			json_object *o = json_tokener_parse(bodies[i]);

			CU_ASSERT_CASE(proto_body_check((uint16_t)t, o, why,
					   sizeof(why)) == CR_ERR_PROTO,
			    proto_type_name((uint16_t)t));
			CU_ASSERT_CASE(strstr(why,
					   "body is not a JSON "
					   "object") != NULL,
			    proto_type_name((uint16_t)t));
			json_object_put(o);
		}
		CU_ASSERT_CASE(proto_body_check((uint16_t)t, NULL, why,
				   sizeof(why)) == CR_ERR_PROTO,
		    proto_type_name((uint16_t)t));
		/* BYE carries {}; nothing else decodes from it. */
		CU_ASSERT_CASE(
		    (proto_body_check((uint16_t)t, empty, why, sizeof(why)) ==
			CR_OK) == (t == PROTO_BYE_REQ || t == PROTO_BYE_REP),
		    proto_type_name((uint16_t)t));
		json_object_put(empty);
	}
}

/* ------------------------------------------------------------------ */
/* HELLO judgement                                                     */
/* ------------------------------------------------------------------ */

static const struct hello_row {
	const char *name;
	const char *program;
	int64_t protocol;
	enum cr_err err;
	const char *why; /* exact */
} hello_rows[] = {
	{ "agent, same protocol", PROTO_PROGRAM_AGENT, PROTO_VERSION, CR_OK,
	    "" },
	{ "certroll, same protocol", PROTO_PROGRAM_ORCH, PROTO_VERSION, CR_OK,
	    "" },
	{ "agent newer", PROTO_PROGRAM_AGENT, PROTO_VERSION + 1, CR_ERR_PROTO,
	    "agent speaks protocol 2, certroll speaks 1: upgrade certroll or "
	    "let it re-upload the agent" },
	{ "agent older", PROTO_PROGRAM_AGENT, 0, CR_ERR_PROTO,
	    "agent speaks protocol 0, certroll speaks 1: let certroll "
	    "re-upload the agent (it replaces an agent whose checksum "
	    "differs)" },
	{ "certroll newer", PROTO_PROGRAM_ORCH, PROTO_VERSION + 1, CR_ERR_PROTO,
	    "certroll speaks protocol 2, certroll-agent speaks 1: use the "
	    "certroll-agent built with that certroll (certroll re-uploads it "
	    "when the checksums differ)" },
	{ "another program", "sshd", PROTO_VERSION, CR_ERR_PROTO,
	    "peer program is 'sshd', not certroll or certroll-agent: check "
	    "what the agent path runs" },
};

static void
test_hello_check(void)
{
	char why[PROTO_WHY_MAX];
	size_t i;

	for (i = 0; i < NROWS(hello_rows); i++) {
		struct proto_hello h = { 0 };

		h.program = xstrdup(hello_rows[i].program);
		h.protocol = hello_rows[i].protocol;
		strcpy(why, "stale");
		CU_ASSERT_CASE(proto_hello_check(&h, why, sizeof(why)) ==
			hello_rows[i].err,
		    hello_rows[i].name);
		CU_ASSERT_CASE(strcmp(why, hello_rows[i].why) == 0,
		    hello_rows[i].name);
		/* No buffer: still judged. */
		CU_ASSERT_CASE(proto_hello_check(&h, NULL, 0) ==
			hello_rows[i].err,
		    hello_rows[i].name);
		proto_hello_clear(&h);
	}
}

static CU_TestInfo msg_tests[] = {
	{ "golden", test_msg_golden },
	{ "roundtrip", test_msg_roundtrip },
	{ "decoded_values", test_msg_decoded_values },
	{ "field_table_complete", test_msg_field_table_complete },
	{ "every_field_missing_wrong_null", test_msg_every_field },
	{ "semantic_rows", test_msg_semantic_rows },
	{ "special_values", test_msg_special_values },
	{ "patched_values", test_msg_patched_values },
	{ "read_file_limit", test_msg_read_file_limit },
	{ "not_objects", test_msg_not_objects },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo misc_tests[] = {
	{ "base64", test_b64 },
	{ "hello_check", test_hello_check },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "proto_msg", .pTests = msg_tests },
	{ .pName = "proto_misc", .pTests = misc_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
