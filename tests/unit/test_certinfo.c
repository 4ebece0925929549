#include <string.h>

#include "certinfo.h"
#include "cu_run.h"
#include "jv.h"

static void
fill(struct cert_info *ci)
{
	ci->name = strdup("etcd-server");
	ci->file = strdup("/etc/kubernetes/pki/etcd/server.crt");
	ci->ca = strdup("etcd-ca");
	ci->subject = strdup("CN=cp1");
	ci->issuer = strdup("CN=etcd-ca");
	ci->serial = strdup("3526DAD74CF298CF");
	ci->not_before = 1764334800;
	ci->not_after = 1795870800;
	ci->key_algorithm = strdup("RSA-2048");
	strv_push(&ci->dns_names, "cp1");
	strv_push(&ci->dns_names, "localhost");
	strv_push(&ci->ip_addresses, "10.200.0.11");
	strv_push(&ci->ext_key_usages, "serverAuth");
	strv_push(&ci->ext_key_usages, "clientAuth");
}

static void
test_certinfo_roundtrip(void)
{
	struct cert_info in, out;
	json_object *o, *back = NULL;
	const char *text;
	int64_t residual = 0;

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	fill(&in);
	o = certinfo_to_json(&in, 1795870800 - 100);
	CU_ASSERT_TRUE(jv_int(o, "residual_seconds", &residual));
	CU_ASSERT_EQUAL(residual, 100);
	CU_ASSERT_STRING_EQUAL(jv_str(o, "not_after"), "2026-11-28T13:00:00Z");
	text = jv_to_string(o);
	CU_ASSERT_EQUAL_FATAL(jv_parse(text, strlen(text), &back, NULL, 0),
	    CR_OK);
	CU_ASSERT_EQUAL_FATAL(certinfo_from_json(back, &out), CR_OK);
	CU_ASSERT_STRING_EQUAL(out.name, in.name);
	CU_ASSERT_STRING_EQUAL(out.serial, in.serial);
	CU_ASSERT_EQUAL(out.not_after, in.not_after);
	CU_ASSERT_EQUAL(out.not_before, in.not_before);
	CU_ASSERT_TRUE(strv_equal_set(&out.dns_names, &in.dns_names));
	CU_ASSERT_TRUE(strv_equal_set(&out.ext_key_usages, &in.ext_key_usages));
	CU_ASSERT_PTR_NULL(out.note);
	json_object_put(o);
	json_object_put(back);
	certinfo_clear(&in);
	certinfo_clear(&out);
}

static const struct {
	const char *doc;
	enum cr_err err;
} decode_rows[] = {
	{ "{\"name\":\"x\",\"missing\":true}", CR_OK },
	{ "{\"name\":\"x\",\"not_after\":\"2027-01-01T00:00:00Z\"}", CR_OK },
	{ "{\"missing\":true}", CR_ERR_PROTO },
	{ "{\"name\":\"x\"}", CR_ERR_PROTO },
	{ "{\"name\":7,\"missing\":true}", CR_ERR_PROTO },
	{ "{\"name\":\"x\",\"not_after\":\"tomorrow\"}", CR_ERR_PROTO },
	{ "{\"name\":\"x\",\"missing\":\"yes\"}", CR_ERR_PROTO },
	{ "{\"name\":\"x\",\"missing\":true,\"dns_names\":\"a\"}",
	    CR_ERR_PROTO },
	{ "{\"name\":\"x\",\"missing\":true,\"dns_names\":[1]}", CR_ERR_PROTO },
	{ "[]", CR_ERR_PROTO },
};

static void
test_certinfo_decode_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(decode_rows) / sizeof(decode_rows[0]); i++) {
		struct cert_info ci;
		json_object *o = NULL;

		memset(&ci, 0, sizeof(ci));
		CU_ASSERT_FATAL(
		    jv_parse(decode_rows[i].doc, strlen(decode_rows[i].doc), &o,
			NULL, 0) == CR_OK);
		CU_ASSERT_CASE(certinfo_from_json(o, &ci) == decode_rows[i].err,
		    decode_rows[i].doc);
		if (decode_rows[i].err != CR_OK)
			CU_ASSERT_CASE(ci.name == NULL, decode_rows[i].doc);
		certinfo_clear(&ci);
		json_object_put(o);
	}
}

static void
test_certinfo_list(void)
{
	struct cert_list l = { NULL, 0 }, back = { NULL, 0 };
	json_object *a;

	fill(cert_list_add(&l));
	cert_list_add(&l)->name = strdup("super-admin.conf");
	l.v[1].missing = true;
	a = cert_list_to_json(&l, 0);
	CU_ASSERT_EQUAL(cert_list_from_json(a, &back), CR_OK);
	CU_ASSERT_EQUAL(back.n, 2);
	CU_ASSERT_PTR_NOT_NULL(cert_list_find(&back, "super-admin.conf"));
	CU_ASSERT_TRUE(cert_list_find(&back, "super-admin.conf")->missing);
	CU_ASSERT_PTR_NULL(cert_list_find(&back, "nope"));
	json_object_put(a);
	cert_list_clear(&l);
	cert_list_clear(&back);
	CU_ASSERT_EQUAL(l.n, 0);
}

static void
test_strv_sets(void)
{
	struct strv a = { NULL, 0 }, b = { NULL, 0 };

	strv_push(&a, "x");
	strv_push(&a, "y");
	strv_push(&b, "y");
	strv_push(&b, "x");
	CU_ASSERT_TRUE(strv_equal_set(&a, &b));
	strv_push(&a, "x");
	strv_push(&b, "y");
	CU_ASSERT_FALSE(strv_equal_set(&a, &b));
	CU_ASSERT_TRUE(strv_has(&a, "y"));
	CU_ASSERT_FALSE(strv_has(&a, "z"));
	strv_clear(&a);
	strv_clear(&b);
}

static CU_TestInfo certinfo_tests[] = {
	{ "roundtrip", test_certinfo_roundtrip },
	{ "decode_table", test_certinfo_decode_table },
	{ "list", test_certinfo_list },
	{ "strv_sets", test_strv_sets },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "certinfo", .pTests = certinfo_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
