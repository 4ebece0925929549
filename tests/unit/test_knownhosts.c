/*
 * known_hosts handling: the pure helpers, and host key verification
 * against a real sshd on 127.0.0.N (sshd_fixture.h) with known_hosts files
 * written as OpenSSH writes them (ssh-keygen -H for hashed entries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cu_run.h"
#include "fileio.h"
#include "knownhosts.h"
#include "log.h"
#include "run.h"
#include "ssh.h"
#include "sshd_fixture.h"

static struct sshd_fixture fx;

static void
test_hostspec_rows(void)
{
	static const struct {
		const char *host;
		unsigned port;
		const char *want;
	} rows[] = {
		{ "10.0.0.1", 22, "10.0.0.1" },
		{ "10.0.0.1", 0, "10.0.0.1" },
		{ "cp1", 2222, "[cp1]:2222" },
		{ "::1", 1, "[::1]:1" },
		{ "h", 65535, "[h]:65535" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		knownhosts_hostspec(rows[i].host, rows[i].port, buf,
		    sizeof(buf));
		CU_ASSERT_CASE(strcmp(buf, rows[i].want) == 0, rows[i].want);
	}
}

static void
test_path_precedence(void)
{
	char *p;

	setenv("HOME", "/home/x", 1);
	unsetenv(KNOWNHOSTS_ENV);
	p = knownhosts_path(NULL);
	CU_ASSERT_STRING_EQUAL(p, "/home/x/.ssh/known_hosts");
	free(p);
	setenv(KNOWNHOSTS_ENV, "/env/kh", 1);
	p = knownhosts_path(NULL);
	CU_ASSERT_STRING_EQUAL(p, "/env/kh");
	free(p);
	p = knownhosts_path("/flag/kh");
	CU_ASSERT_STRING_EQUAL(p, "/flag/kh");
	free(p);
	p = knownhosts_path("");
	CU_ASSERT_STRING_EQUAL(p, "/env/kh");
	free(p);
	unsetenv(KNOWNHOSTS_ENV);
}

/* The fingerprint must read exactly as ssh-keygen -l prints it. */
static void
test_fingerprint_matches_ssh_keygen(void)
{
	const char *argv[] = { "ssh-keygen", "-l", "-E", "sha256", "-f",
		fx.host_pub, NULL };
	struct run_cmd c = RUN_CMD_INIT;
	char line[1024], *b64, fp[64], want[128];
	unsigned char blob[512], digest[32];
	int n;

	sshd_fixture_read_line(fx.host_pub, line, sizeof(line));
	b64 = strchr(line, ' ') + 1;
	*strchr(b64, ' ') = '\0';
	n = EVP_DecodeBlock(blob, (unsigned char *)b64, (int)strlen(b64));
	while (b64[strlen(b64) - 1] == '=') {
		b64[strlen(b64) - 1] = '\0';
		n--;
	}
	EVP_Digest(blob, (size_t)n, digest, NULL, EVP_sha256(), NULL);
	knownhosts_fingerprint(digest, fp, sizeof(fp));
	c.argv = argv;
	CU_ASSERT_EQUAL_FATAL(run_cmd(&c), CR_OK);
	sscanf(buf_cstr(&c.out), "%*d %127s", want);
	CU_ASSERT_STRING_EQUAL(fp, want);
	CU_ASSERT_EQUAL(strchr(fp, '='), NULL);
	run_cmd_clear(&c);
}

static void
test_scan_rows(void)
{
	/* |1| hash of "cp9" with a known salt, made by ssh-keygen -H. */
	static const char text[] =
	    "# comment cp1 ssh-ed25519 AAAA\n"
	    "cp1 ssh-ed25519 AAAAkey1\n"
	    "other,CP1,10.0.0.1 ecdsa-sha2-nistp256 AAAAkey2 comment\n"
	    "[cp1]:2222 ssh-ed25519 AAAAkey3\n"
	    "@cert-authority cp1 ssh-ed25519 AAAAca\n"
	    "cp1\n"
	    "\n"
	    "cp10 ssh-rsa AAAAkey4\n"
	    "   cp1   ssh-rsa   AAAAkey5";
	static const struct {
		const char *host;
		const char *first_type;
		size_t n;
		unsigned port;
		unsigned first_line;
	} rows[] = {
		{ "cp1", "ssh-ed25519", 3, 22, 2 },
		{ "cp1", "ssh-ed25519", 1, 2222, 4 },
		{ "10.0.0.1", "ecdsa-sha2-nistp256", 1, 22, 3 },
		{ "cp10", "ssh-rsa", 1, 22, 8 },
		{ "cp", NULL, 0, 22, 0 },
		{ "cp1", NULL, 0, 2223, 0 },
	};
	struct knownhosts_list l = { NULL, 0 };
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		knownhosts_scan(text, sizeof(text) - 1, rows[i].host,
		    rows[i].port, &l);
		CU_ASSERT_CASE(l.n == rows[i].n, rows[i].host);
		if (l.n > 0 && rows[i].n > 0) {
			CU_ASSERT_CASE(l.v[0].line == rows[i].first_line,
			    rows[i].host);
			CU_ASSERT_CASE(
			    strcmp(l.v[0].keytype, rows[i].first_type) == 0,
			    rows[i].host);
		}
		knownhosts_list_clear(&l);
	}
	knownhosts_scan(text, sizeof(text) - 1, "cp1", 22, &l);
	CU_ASSERT_EQUAL(l.n == 3 ? l.v[2].line : 0, 9);
	knownhosts_list_clear(&l);
}

/* ssh-keygen -H hashes the names; the scanner must still find them. */
static void
test_scan_hashed(void)
{
	char path[400], text[256];
	const char *argv[] = { "ssh-keygen", "-q", "-H", "-f", path, NULL };
	struct knownhosts_list l = { NULL, 0 };
	struct buf b = BUF_INIT;

	snprintf(path, sizeof(path), "%s/hashed", fx.dir);
	snprintf(text, sizeof(text),
	    "x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmJx1\n"
	    "[cp2]:2200 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmJx2\n");
	sshd_fixture_write(path, text, 0600);
	CU_ASSERT_EQUAL_FATAL(sshd_fixture_run(argv), 0);
	CU_ASSERT_EQUAL_FATAL(file_read(path, 65536, &b), CR_OK);
	CU_ASSERT_PTR_NULL(strstr(buf_cstr(&b), "cp2"));
	knownhosts_scan((const char *)b.data, b.len, "cp2", 2200, &l);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT(l.n == 1 && l.v[0].hashed && l.v[0].line == 2);
	knownhosts_list_clear(&l);
	knownhosts_scan((const char *)b.data, b.len, "cp2", 22, &l);
	CU_ASSERT_EQUAL(l.n, 0);
	knownhosts_list_clear(&l);
	buf_clear(&b);
}

static void
test_algorithms_prefer_known(void)
{
	struct knownhosts_entry e[] = { { 3, "ecdsa-sha2-nistp384", false },
		{ 4, "sk-ssh-ed25519@openssh.com", false },
		{ 5, "ecdsa-sha2-nistp384", false } };
	struct knownhosts_list l = { e, 3 };
	struct knownhosts_list none = { NULL, 0 };
	char *a = knownhosts_algorithms(&l);

	CU_ASSERT_STRING_EQUAL(a,
	    "ecdsa-sha2-nistp384,ssh-ed25519,ecdsa-sha2-nistp256,"
	    "ecdsa-sha2-nistp521,ssh-rsa,ssh-dss");
	free(a);
	a = knownhosts_algorithms(&none);
	CU_ASSERT_EQUAL(strncmp(a, "ssh-ed25519,", 12), 0);
	free(a);
}

/* Connects to the fixture with known_hosts kh; returns the log text. */
static char *
try_connect(const char *kh, bool accept_new, enum cr_err *errp)
{
	struct ssh_target t = { .name = "n1",
		.host = fx.addr,
		.port = fx.port,
		.user = fx.user,
		.identity_file = fx.client_key };
	struct ssh_opts o = { .known_hosts = kh,
		.accept_new_host_keys = accept_new,
		.no_agent = true,
		.no_default_key = true };
	struct ssh_session *s = NULL;
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);

	log_set_output(fp);
	*errp = ssh_connect(&t, &o, &s);
	log_set_output(NULL);
	fclose(fp);
	CU_ASSERT((*errp == CR_OK) == (s != NULL));
	ssh_close(s);
	return data;
}

static void
host_fingerprint(char *fp, size_t len)
{
	const char *argv[] = { "ssh-keygen", "-l", "-E", "sha256", "-f",
		fx.host_pub, NULL };
	struct run_cmd c = RUN_CMD_INIT;

	c.argv = argv;
	if (run_cmd(&c) != CR_OK)
		exit(2);
	sscanf(buf_cstr(&c.out), "%*d %63s", fp);
	(void)len;
	run_cmd_clear(&c);
}

static void
test_known_key_accepted(void)
{
	enum cr_err err;
	char *log = try_connect(fx.known_hosts, false, &err);

	CU_ASSERT_EQUAL(err, CR_OK);
	free(log);
}

static void
test_unknown_refused_then_recorded(void)
{
	char kh[400], fp[80], spec[64];
	struct buf b = BUF_INIT;
	enum cr_err err;
	char *log;

	snprintf(kh, sizeof(kh), "%s/sub/dir/known_hosts", fx.dir);
	host_fingerprint(fp, sizeof(fp));
	log = try_connect(kh, false, &err);
	CU_ASSERT_EQUAL(err, CR_ERR_SSH);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "unknown host key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, fp));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "--accept-new-host-keys"));
	CU_ASSERT_FALSE(file_exists(kh));
	free(log);
	log = try_connect(kh, true, &err);
	CU_ASSERT_EQUAL(err, CR_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "recorded new host key"));
	free(log);
	snprintf(spec, sizeof(spec), "[%s]:%u ssh-ed25519 AAAA", fx.addr,
	    fx.port);
	CU_ASSERT_EQUAL_FATAL(file_read(kh, 65536, &b), CR_OK);
	CU_ASSERT_EQUAL(strncmp(buf_cstr(&b), spec, strlen(spec)), 0);
	buf_clear(&b);
	log = try_connect(kh, false, &err);
	CU_ASSERT_EQUAL(err, CR_OK);
	free(log);
}

/* Writes kh: a comment, then the fixture's host with another key. */
static void
write_changed(const char *kh, bool hashed)
{
	char text[512];
	const char *argv[] = { "ssh-keygen", "-q", "-H", "-f", kh, NULL };

	snprintf(text, sizeof(text),
	    "# first line\n[%s]:%u ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIHdSgVbgSwPJ1JtaF7ZlSXXVDSHFpRwwJ8NNydIvKq"
	    "4g"
	    "\n",
	    fx.addr, fx.port);
	sshd_fixture_write(kh, text, 0600);
	if (hashed && sshd_fixture_run(argv) != 0)
		exit(2);
}

static void
test_changed_key_refused(void)
{
	static const bool hashed[] = { false, true };
	char kh[400], fp[80], where[480];
	enum cr_err err;
	size_t i, accept;
	char *log;

	host_fingerprint(fp, sizeof(fp));
	snprintf(kh, sizeof(kh), "%s/changed", fx.dir);
	snprintf(where, sizeof(where), "%s:2", kh);
	for (i = 0; i < 2; i++)
		for (accept = 0; accept < 2; accept++) {
			write_changed(kh, hashed[i]);
			log = try_connect(kh, accept != 0, &err);
			CU_ASSERT_CASE(err == CR_ERR_SSH, "changed refused");
			CU_ASSERT_PTR_NOT_NULL(strstr(log, "HOST KEY CHANGED"));
			CU_ASSERT_PTR_NOT_NULL(strstr(log, fp));
			CU_ASSERT_PTR_NOT_NULL(strstr(log, where));
			CU_ASSERT_CASE((strstr(log, "hashed entry") != NULL) ==
				hashed[i],
			    "hashed noted");
			CU_ASSERT_PTR_NOT_NULL(strstr(log, "ssh-keygen -R"));
			free(log);
		}
}

static void
test_hashed_entry_accepted(void)
{
	char kh[400];
	const char *argv[] = { "cp", fx.known_hosts, kh, NULL };
	const char *hash[] = { "ssh-keygen", "-q", "-H", "-f", kh, NULL };
	enum cr_err err;
	char *log;

	snprintf(kh, sizeof(kh), "%s/hashed_ok", fx.dir);
	CU_ASSERT_EQUAL_FATAL(sshd_fixture_run(argv), 0);
	CU_ASSERT_EQUAL_FATAL(sshd_fixture_run(hash), 0);
	log = try_connect(kh, false, &err);
	CU_ASSERT_EQUAL(err, CR_OK);
	free(log);
}

/* The same key filed for port 22 (or another port) is not this host. */
static void
test_port_matters(void)
{
	char kh[400], line[1024], text[1200];
	static const char *const forms[] = { "", ":2" };
	enum cr_err err;
	size_t i;
	char *log;

	sshd_fixture_read_line(fx.host_pub, line, sizeof(line));
	snprintf(kh, sizeof(kh), "%s/port", fx.dir);
	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(text, sizeof(text), "%s %s\n", fx.addr, line);
		else
			snprintf(text, sizeof(text), "[%s]%s %s\n", fx.addr,
			    forms[i], line);
		sshd_fixture_write(kh, text, 0600);
		log = try_connect(kh, false, &err);
		CU_ASSERT_CASE(err == CR_ERR_SSH, forms[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, "unknown host key"));
		free(log);
	}
}

static void
test_env_variable_used(void)
{
	enum cr_err err;
	char *log;

	setenv(KNOWNHOSTS_ENV, fx.known_hosts, 1);
	log = try_connect(NULL, false, &err);
	CU_ASSERT_EQUAL(err, CR_OK);
	free(log);
	setenv(KNOWNHOSTS_ENV, "/nonexistent/known_hosts", 1);
	log = try_connect(NULL, false, &err);
	CU_ASSERT_EQUAL(err, CR_ERR_SSH);
	free(log);
	unsetenv(KNOWNHOSTS_ENV);
}

static CU_TestInfo pure_tests[] = {
	{ "hostspec_rows", test_hostspec_rows },
	{ "path_precedence", test_path_precedence },
	{ "scan_rows", test_scan_rows },
	{ "algorithms_prefer_known", test_algorithms_prefer_known },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo sshd_tests[] = {
	{ "fingerprint_matches_ssh_keygen",
	    test_fingerprint_matches_ssh_keygen },
	{ "scan_hashed", test_scan_hashed },
	{ "known_key_accepted", test_known_key_accepted },
	{ "unknown_refused_then_recorded", test_unknown_refused_then_recorded },
	{ "changed_key_refused", test_changed_key_refused },
	{ "hashed_entry_accepted", test_hashed_entry_accepted },
	{ "port_matters", test_port_matters },
	{ "env_variable_used", test_env_variable_used },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "knownhosts", .pTests = pure_tests },
	{ .pName = "knownhosts_sshd", .pTests = sshd_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int rc;

	if ((rc = sshd_fixture_start(&fx)) != 0)
		return rc;
	log_init("test", LOG_LEVEL_INFO);
	rc = cu_run(suites);
	sshd_fixture_stop(&fx);
	return rc;
}
