/*
 * The SSH transport against a real sshd on 127.0.0.N (sshd_fixture.h):
 * authentication (key file, ssh-agent with a passphrase-protected key,
 * refused and RSA keys), exec, fixed-string arguments, deadlines,
 * streaming channels, SFTP upload, a node that dies or stops answering
 * mid-command, and the bounded parallel helper.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "cu_run.h"
#include "fileio.h"
#include "log.h"
#include "run.h"
#include "ssh.h"
#include "sshd_fixture.h"

static struct sshd_fixture fx;

/* Connects with key (NULL: none) and opts; returns the log text. */
static char *
connect_as(const char *key, const struct ssh_opts *o, struct ssh_session **sp,
    enum cr_err *errp)
{
	struct ssh_target t = { .name = "n1",
		.host = fx.addr,
		.port = fx.port,
		.user = fx.user,
		.identity_file = key };
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);

	log_set_output(fp);
	*errp = ssh_connect(&t, o, sp);
	log_set_output(NULL);
	fclose(fp);
	return data;
}

static struct ssh_session *
session(int keepalive_s)
{
	struct ssh_opts o = { .known_hosts = fx.known_hosts,
		.no_agent = true,
		.no_default_key = true,
		.keepalive_s = keepalive_s };
	struct ssh_session *s = NULL;
	enum cr_err err;
	char *log = connect_as(fx.client_key, &o, &s, &err);

	if (err != CR_OK)
		fprintf(stderr, "connect failed: %s", log);
	free(log);
	return s;
}

static void
test_exec_rows(void)
{
	static const struct {
		const char *name;
		const char *argv[6];
		const char *out;
		enum cr_err want;
		int status;
	} rows[] = {
		{ "echo", { "echo", "a", "b=c", "/x:y,z+@%-", NULL },
		    "a b=c /x:y,z+@%-\n", CR_OK, 0 },
		{ "false", { "false", NULL }, "", CR_ERR_SUBPROC, 1 },
		{ "sh_exit", { "sh", "-c", "exit", NULL }, "", CR_OK, 0 },
		{ "semicolon", { "echo", "a;id", NULL }, "", CR_ERR_CONFIG,
		    -1 },
		{ "dollar", { "echo", "$(id)", NULL }, "", CR_ERR_CONFIG, -1 },
		{ "space", { "echo", "a b", NULL }, "", CR_ERR_CONFIG, -1 },
		{ "quote", { "echo", "'", NULL }, "", CR_ERR_CONFIG, -1 },
		{ "empty", { "echo", "", NULL }, "", CR_ERR_CONFIG, -1 },
		{ "glob", { "ls", "*", NULL }, "", CR_ERR_CONFIG, -1 },
		{ "newline", { "echo", "a\nid", NULL }, "", CR_ERR_CONFIG, -1 },
	};
	struct ssh_session *s = session(0);
	struct ssh_result r = SSH_RESULT_INIT;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum cr_err err = ssh_exec(s, rows[i].argv, &r,
		    clock_deadline_ms(10000));

		CU_ASSERT_CASE(err == rows[i].want, rows[i].name);
		CU_ASSERT_CASE(strcmp(buf_cstr(&r.out), rows[i].out) == 0,
		    rows[i].name);
		CU_ASSERT_CASE(r.exit_status == rows[i].status, rows[i].name);
		ssh_result_clear(&r);
	}
	ssh_close(s);
}

/*
 * Sessions must not run the invoking user's shell startup files
 * (sshd_fixture.c): a ~/.bashrc that blocks made every exec time out.
 */
static void
test_exec_hermetic_home(void)
{
	const char *argv[] = { "printenv", "HOME", NULL };
	struct ssh_session *s = session(0);
	struct ssh_result r = SSH_RESULT_INIT;
	char want[300];

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(want, sizeof(want), "%s\n", fx.dir);
	CU_ASSERT_EQUAL(ssh_exec(s, argv, &r, clock_deadline_ms(10000)), CR_OK);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&r.out), want);
	ssh_result_clear(&r);
	ssh_close(s);
}

static void
test_exec_stderr_and_signal(void)
{
	char script[300];
	const char *argv[] = { script, NULL };
	struct ssh_session *s = session(0);
	struct ssh_result r = SSH_RESULT_INIT;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(script, sizeof(script), "%s/die.sh", fx.dir);
	sshd_fixture_write(script,
	    "#!/bin/sh\necho out; echo oops >&2; kill -KILL $$\n", 0755);
	CU_ASSERT_EQUAL(ssh_exec(s, argv, &r, clock_deadline_ms(10000)),
	    CR_ERR_SUBPROC);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&r.out), "out\n");
	CU_ASSERT_STRING_EQUAL(buf_cstr(&r.err), "oops\n");
	CU_ASSERT_STRING_EQUAL(r.signal, "KILL");
	ssh_result_clear(&r);
	ssh_close(s);
}

static void
test_exec_deadline(void)
{
	const char *argv[] = { "sleep", "5", NULL };
	const char *echo[] = { "true", NULL };
	struct ssh_session *s = session(0);
	struct ssh_result r = SSH_RESULT_INIT;
	int64_t t0 = clock_mono_ms();

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(ssh_exec(s, argv, &r, clock_deadline_ms(300)),
	    CR_ERR_TIMEOUT);
	CU_ASSERT(clock_mono_ms() - t0 < 2500);
	ssh_result_clear(&r);
	ssh_close(s);
	s = session(0);
	CU_ASSERT_EQUAL(ssh_exec(s, echo, &r, clock_deadline_ms(5000)), CR_OK);
	ssh_result_clear(&r);
	ssh_close(s);
}

/* Silence shorter than the keepalive budget is not a lost node. */
static void
test_keepalive_no_false_alarm(void)
{
	const char *argv[] = { "sleep", "4", NULL };
	struct ssh_session *s = session(1);
	struct ssh_result r = SSH_RESULT_INIT;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(ssh_exec(s, argv, &r, clock_deadline_ms(20000)), CR_OK);
	ssh_result_clear(&r);
	ssh_close(s);
}

struct dropper {
	int sig;
	int delay_ms;
};

static void *
drop_later(void *arg)
{
	const struct dropper *d = arg;

	clock_sleep_ms(d->delay_ms);
	sshd_fixture_signal_sessions(&fx, d->sig);
	return NULL;
}

/* The node's sshd killed, or frozen, while a command runs. */
static void
test_node_drops_mid_command(void)
{
	static const struct {
		int sig;
		const char *name;
		const char *msg;
		int max_ms;
	} rows[] = {
		{ SIGKILL, "sshd killed", "connection lost while", 3000 },
		{ SIGSTOP, "sshd frozen", "no answer for", 8000 },
	};
	const char *argv[] = { "sleep", "30", NULL };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct dropper d = { rows[i].sig, 500 };
		struct ssh_session *s = session(1);
		struct ssh_result r = SSH_RESULT_INIT;
		char *data = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&data, &len);
		pthread_t tid;
		int64_t t0 = clock_mono_ms();

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		pthread_create(&tid, NULL, drop_later, &d);
		log_set_output(fp);
		CU_ASSERT_CASE(ssh_exec(s, argv, &r,
				   clock_deadline_ms(25000)) == CR_ERR_SSH,
		    rows[i].name);
		log_set_output(NULL);
		fclose(fp);
		CU_ASSERT_CASE(clock_mono_ms() - t0 < rows[i].max_ms,
		    rows[i].name);
		CU_ASSERT_CASE(strstr(data, rows[i].msg) != NULL, rows[i].name);
		CU_ASSERT_CASE(strstr(data, "node n1:") != NULL, rows[i].name);
		pthread_join(tid, NULL);
		sshd_fixture_signal_sessions(&fx, SIGKILL);
		sshd_fixture_signal_sessions(&fx, SIGCONT);
		CU_ASSERT_EQUAL(ssh_exec(s, argv, &r, 0), CR_ERR_SSH);
		ssh_result_clear(&r);
		ssh_close(s);
		free(data);
	}
}

static void
test_channel_stream(void)
{
	char script[300], buf[64];
	const char *argv[] = { script, NULL };
	struct ssh_session *s = session(0);
	struct ssh_channel *ch = NULL;
	struct ssh_result r = SSH_RESULT_INIT;
	struct buf got = BUF_INIT;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(script, sizeof(script), "%s/echo.sh", fx.dir);
	sshd_fixture_write(script,
	    "#!/bin/sh\necho starting >&2\nhead -c 10\necho done >&2\nexit 4\n",
	    0755);
	CU_ASSERT_EQUAL_FATAL(
	    ssh_channel_start(s, argv, clock_deadline_ms(5000), &ch), CR_OK);
	CU_ASSERT_EQUAL(
	    ssh_channel_read(ch, buf, sizeof(buf), &n, clock_deadline_ms(200)),
	    CR_ERR_TIMEOUT);
	CU_ASSERT_EQUAL(
	    ssh_channel_write(ch, "0123456789abc", 13, clock_deadline_ms(5000)),
	    CR_OK);
	do {
		CU_ASSERT_EQUAL_FATAL(ssh_channel_read(ch, buf, sizeof(buf), &n,
					  clock_deadline_ms(5000)),
		    CR_OK);
		buf_put(&got, buf, n);
	} while (n > 0);
	CU_ASSERT_STRING_EQUAL(buf_cstr(&got), "0123456789");
	CU_ASSERT_STRING_EQUAL(ssh_channel_stderr(ch), "starting\ndone\n");
	CU_ASSERT_EQUAL(ssh_channel_finish(ch, &r, clock_deadline_ms(5000)),
	    CR_ERR_SUBPROC);
	CU_ASSERT_EQUAL(r.exit_status, 4);
	ssh_channel_free(ch);
	ssh_result_clear(&r);
	buf_clear(&got);
	ssh_close(s);
}

static void
test_sftp_upload(void)
{
	char local[300], dir[300], remote[340];
	const char *cmp[] = { "cmp", local, remote, NULL };
	struct ssh_session *s = session(0);
	struct ssh_result r = SSH_RESULT_INIT;
	struct ssh_stat st;
	struct stat lst;
	struct buf big = BUF_INIT;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(local, sizeof(local), "%s/payload", fx.dir);
	snprintf(dir, sizeof(dir), "%s/agentdir", fx.dir);
	snprintf(remote, sizeof(remote), "%s/agent", dir);
	for (i = 0; i < 300000; i++)
		buf_putc(&big, (char)('a' + i % 26));
	CU_ASSERT_EQUAL_FATAL(file_write_atomic(local, big.data, big.len, 0644),
	    CR_OK);
	CU_ASSERT_EQUAL(mkdir(dir, 0755), 0);
	CU_ASSERT_EQUAL(ssh_mkdir(s, dir, 0700, 0), CR_OK);
	CU_ASSERT(stat(dir, &lst) == 0 && (lst.st_mode & 07777) == 0700);
	CU_ASSERT_EQUAL(ssh_stat(s, remote, &st, 0), CR_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(ssh_upload(s, local, remote, 0700, 0), CR_OK);
	CU_ASSERT_EQUAL(ssh_stat(s, remote, &st, 0), CR_OK);
	CU_ASSERT_EQUAL(st.size, 300000);
	CU_ASSERT_EQUAL(st.mode & 07777, 0700);
	CU_ASSERT_EQUAL(ssh_exec(s, cmp, &r, clock_deadline_ms(5000)), CR_OK);
	ssh_result_clear(&r);
	/* Exclusive create: an existing file is never overwritten. */
	CU_ASSERT_EQUAL(ssh_upload(s, "/dev/null", remote, 0700, 0),
	    CR_ERR_SSH);
	CU_ASSERT(stat(remote, &lst) == 0 && lst.st_size == 300000);
	CU_ASSERT_EQUAL(ssh_upload(s, "/nonexistent", remote, 0700, 0),
	    CR_ERR_SYS);
	CU_ASSERT_EQUAL(ssh_unlink(s, remote, 0), CR_OK);
	CU_ASSERT_EQUAL(ssh_unlink(s, remote, 0), CR_OK);
	CU_ASSERT_FALSE(file_exists(remote));
	buf_clear(&big);
	ssh_close(s);
}

static void
test_sftp_download_tree(void)
{
	char tree[300], got[300], path[400];
	const char *diff[] = { "diff", "-r", NULL, NULL, NULL };
	struct ssh_session *s = session(0);
	struct stat lst;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(tree, sizeof(tree), "%s/backup", fx.dir);
	snprintf(got, sizeof(got), "%s/fetched/cp1/backup", fx.dir);
	snprintf(path, sizeof(path), "%s/pki/etcd", tree);
	CU_ASSERT_EQUAL_FATAL(file_mkdirs(path, 0755), CR_OK);
	snprintf(path, sizeof(path), "%s/pki/etcd/server.key", tree);
	sshd_fixture_write(path, "key material\n", 0600);
	snprintf(path, sizeof(path), "%s/admin.conf", tree);
	sshd_fixture_write(path, "apiVersion: v1\n", 0644);
	snprintf(path, sizeof(path), "%s/MANIFEST.sha256", tree);
	sshd_fixture_write(path, "", 0644);
	snprintf(path, sizeof(path), "%s/link", tree);
	CU_ASSERT_EQUAL(symlink("/etc/passwd", path), 0);
	CU_ASSERT_EQUAL(ssh_download_tree(s, tree, got, 0), CR_OK);
	/* Symbolic links stay behind; everything else is copied. */
	snprintf(path, sizeof(path), "%s/link", got);
	CU_ASSERT_EQUAL(lstat(path, &lst), -1);
	snprintf(path, sizeof(path), "%s/link", tree);
	CU_ASSERT_EQUAL(unlink(path), 0);
	diff[2] = tree;
	diff[3] = got;
	CU_ASSERT_EQUAL(sshd_fixture_run(diff), 0);
	/* Private on the workstation whatever the mode on the node. */
	snprintf(path, sizeof(path), "%s/admin.conf", got);
	CU_ASSERT(stat(path, &lst) == 0 && (lst.st_mode & 07777) == 0600);
	snprintf(path, sizeof(path), "%s/pki/etcd", got);
	CU_ASSERT(stat(path, &lst) == 0 && (lst.st_mode & 07777) == 0700);
	snprintf(path, sizeof(path), "%s/pki/etcd/server.key.certroll-part",
	    got);
	CU_ASSERT_FALSE(file_exists(path));
	CU_ASSERT_EQUAL(ssh_download_tree(s, "/nonexistent-dir", got, 0),
	    CR_ERR_SSH);
	ssh_close(s);
}

static void
make_key(const char *path, const char *type, const char *pass)
{
	const char *argv[] = { "ssh-keygen", "-q", "-t", type, "-N", pass, "-f",
		path, NULL };

	CU_ASSERT_EQUAL_FATAL(sshd_fixture_run(argv), 0);
}

/* authorized_keys = the fixture's key plus path.pub. */
static void
authorize(const char *path)
{
	char pub[600], a[1024], b[2048], text[4096];

	snprintf(pub, sizeof(pub), "%s.pub", path);
	sshd_fixture_read_line(pub, b, sizeof(b));
	snprintf(pub, sizeof(pub), "%s.pub", fx.client_key);
	sshd_fixture_read_line(pub, a, sizeof(a));
	snprintf(text, sizeof(text), "%s\n%s\n", a, b);
	sshd_fixture_write(fx.authorized, text, 0600);
}

static void
test_auth_rows(void)
{
	char rsa[300], other[300], locked[300];
	const struct {
		const char *name;
		const char *key;
		const char *msg;
	} rows[] = {
		{ "rsa", rsa, "libssh2 1.10 signs RSA keys only with ssh-rsa" },
		{ "unauthorized", other, "(refused)" },
		{ "locked", locked, "is passphrase-protected" },
		{ "missing", "/nonexistent/key", "No such file" },
	};
	struct ssh_opts o = { .known_hosts = fx.known_hosts,
		.no_agent = true,
		.no_default_key = true };
	struct ssh_session *s = NULL;
	enum cr_err err;
	size_t i;
	char *log;

	snprintf(rsa, sizeof(rsa), "%s/id_rsa", fx.dir);
	snprintf(other, sizeof(other), "%s/id_other", fx.dir);
	snprintf(locked, sizeof(locked), "%s/id_locked", fx.dir);
	make_key(rsa, "rsa", "");
	make_key(other, "ed25519", "");
	make_key(locked, "ed25519", "secret-pass");
	authorize(rsa);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].key == locked)
			authorize(locked);
		log = connect_as(rows[i].key, &o, &s, &err);
		CU_ASSERT_CASE(err == CR_ERR_SSH && s == NULL, rows[i].name);
		CU_ASSERT_CASE(strstr(log, rows[i].msg) != NULL, rows[i].name);
		CU_ASSERT_CASE(strstr(log, "authentication as") != NULL,
		    rows[i].name);
		free(log);
	}
}

/* A passphrase-protected key works through a real ssh-agent. */
static void
test_auth_agent(void)
{
	char sock[300], askpass[300], locked[300];
	char env_sock[330], env_askpass[330];
	const char *env[] = { env_sock, env_askpass,
		"SSH_ASKPASS_REQUIRE=force", NULL };
	const char *add_argv[] = { "ssh-add", "-q", locked, NULL };
	struct run_cmd add = RUN_CMD_INIT;
	struct ssh_opts o = { .known_hosts = fx.known_hosts,
		.no_default_key = true };
	struct ssh_session *s = NULL;
	enum cr_err err, add_err;
	pid_t agent;
	char *log;
	int i;

	snprintf(sock, sizeof(sock), "%s/agent.sock", fx.dir);
	snprintf(askpass, sizeof(askpass), "%s/askpass", fx.dir);
	snprintf(locked, sizeof(locked), "%s/id_agent_locked", fx.dir);
	make_key(locked, "ed25519", "secret-pass");
	authorize(locked);
	sshd_fixture_write(askpass, "#!/bin/sh\necho secret-pass\n", 0700);
	if ((agent = fork()) == 0) {
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock,
		    (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && !file_exists(sock); i++)
		clock_sleep_ms(10);
	snprintf(env_sock, sizeof(env_sock), "SSH_AUTH_SOCK=%s", sock);
	snprintf(env_askpass, sizeof(env_askpass), "SSH_ASKPASS=%s", askpass);
	add.argv = add_argv;
	add.env = env;
	add.timeout_ms = 20000;
	add_err = run_cmd(&add);
	CU_ASSERT_EQUAL(add_err, CR_OK);
	if (add_err == CR_OK) {
		setenv("SSH_AUTH_SOCK", sock, 1);
		log = connect_as(NULL, &o, &s, &err);
		CU_ASSERT_EQUAL(err, CR_OK);
		if (err != CR_OK)
			fprintf(stderr, "%s", log);
		free(log);
		ssh_close(s);
		unsetenv("SSH_AUTH_SOCK");
	} else {
		fprintf(stderr, "ssh-add: %s", buf_cstr(&add.err));
	}
	run_cmd_clear(&add);
	kill(agent, SIGTERM);
	waitpid(agent, NULL, 0);
}

static pthread_mutex_t par_lock = PTHREAD_MUTEX_INITIALIZER;
static int par_now, par_max;

static enum cr_err
par_fn(void *arg, size_t i)
{
	int *seen = arg;

	pthread_mutex_lock(&par_lock);
	if (++par_now > par_max)
		par_max = par_now;
	pthread_mutex_unlock(&par_lock);
	clock_sleep_ms(50);
	seen[i]++;
	pthread_mutex_lock(&par_lock);
	par_now--;
	pthread_mutex_unlock(&par_lock);
	return i == 3 ? CR_ERR_HEALTH : (i == 5 ? CR_ERR_SSH : CR_OK);
}

static void
test_parallel_bounded(void)
{
	int seen[7] = { 0 };
	enum cr_err res[7];
	size_t i;

	CU_ASSERT_EQUAL(ssh_parallel(7, 2, par_fn, seen, res), CR_ERR_HEALTH);
	CU_ASSERT_EQUAL(par_max, 2);
	for (i = 0; i < 7; i++)
		CU_ASSERT_CASE(seen[i] == 1, "each index once");
	CU_ASSERT_EQUAL(res[5], CR_ERR_SSH);
	CU_ASSERT_EQUAL(res[0], CR_OK);
	par_max = 0;
	CU_ASSERT_EQUAL(ssh_parallel(3, 0, par_fn, seen, res), CR_OK);
	CU_ASSERT_EQUAL(par_max, 3);
	CU_ASSERT_EQUAL(ssh_parallel(0, 4, par_fn, seen, res), CR_OK);
}

static CU_TestInfo tests[] = {
	{ "exec_rows", test_exec_rows },
	{ "exec_hermetic_home", test_exec_hermetic_home },
	{ "exec_stderr_and_signal", test_exec_stderr_and_signal },
	{ "exec_deadline", test_exec_deadline },
	{ "channel_stream", test_channel_stream },
	{ "sftp_upload", test_sftp_upload },
	{ "sftp_download_tree", test_sftp_download_tree },
	{ "auth_rows", test_auth_rows },
	{ "auth_agent", test_auth_agent },
	{ "parallel_bounded", test_parallel_bounded },
	CU_TEST_INFO_NULL,
};

/*
 * Slow by nature: they wait out keepalive intervals (seconds each). CTest
 * runs them as slow.ssh_slow (CR_TEST_FILTER=ssh_slow), apart from the
 * fast unit.ssh (CR_TEST_FILTER=ssh).
 */
static CU_TestInfo slow_tests[] = {
	{ "keepalive_no_false_alarm", test_keepalive_no_false_alarm },
	{ "node_drops_mid_command", test_node_drops_mid_command },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "ssh", .pTests = tests },
	{ .pName = "ssh_slow", .pTests = slow_tests },
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
