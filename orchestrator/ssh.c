/*
 * The SSH transport; see ssh.h. libssh2 runs in non-blocking mode: every
 * call that returns LIBSSH2_ERROR_EAGAIN is repeated after ssh_wait() has
 * polled the socket in the direction libssh2 asks for, until the
 * operation's deadline.
 */
#include "ssh.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/evp.h>

#include "clock.h"
#include "fileio.h"
#include "knownhosts.h"
#include "log.h"
#include "xmalloc.h"

struct ssh_session {
	LIBSSH2_SESSION *ls;
	LIBSSH2_SFTP *sftp;
	int fd;
	char *name;
	int keepalive_s;
	int64_t last_rx_ms; /* monotonic time of the last byte received */
	int64_t op_start;   /* monotonic start of the current operation */
	char doing[160];    /* the current operation, for messages */
	bool broken;
};

struct ssh_channel {
	struct ssh_session *s;
	LIBSSH2_CHANNEL *ch;
	struct buf err;
	char cmd[64];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
global_init(void)
{
	if (libssh2_init(0) != 0)
		fatalx("libssh2_init failed");
}

/* Every byte from the node passes here, so liveness is measured exactly. */
static ssize_t
rx_cb(libssh2_socket_t fd, void *buf, size_t len, int flags, void **abstract)
{
	struct ssh_session *s = *abstract;
	ssize_t n = recv(fd, buf, len, flags);

	if (n > 0)
		s->last_rx_ms = clock_mono_ms();
	return n < 0 ? -errno : n;
}

__attribute__((format(printf, 2, 3))) static void
begin(struct ssh_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->doing, sizeof(s->doing), fmt, ap);
	va_end(ap);
	s->op_start = clock_mono_ms();
}

static bool
is_transport_error(int rc)
{
	return rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
	    rc == LIBSSH2_ERROR_SOCKET_RECV ||
	    rc == LIBSSH2_ERROR_SOCKET_SEND ||
	    rc == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
	    rc == LIBSSH2_ERROR_SOCKET_NONE || rc == LIBSSH2_ERROR_BAD_SOCKET ||
	    rc == LIBSSH2_ERROR_DECRYPT || rc == LIBSSH2_ERROR_INVALID_MAC ||
	    rc == LIBSSH2_ERROR_PROTO;
}

/* Logs libssh2's last error for the current operation; CR_ERR_SSH. */
static enum cr_err
fail(struct ssh_session *s, int rc)
{
	char *msg = NULL;
	int len = 0;

	libssh2_session_last_error(s->ls, &msg, &len, 0);
	if (is_transport_error(rc)) {
		log_warnx("node %s: connection lost while %s (%s)", s->name,
		    s->doing, len > 0 ? msg : "closed by the peer");
		s->broken = true;
	} else {
		log_warnx("node %s: %s failed: %s", s->name, s->doing,
		    len > 0 ? msg : "unknown libssh2 error");
	}
	return CR_ERR_SSH;
}

static enum cr_err
lost(struct ssh_session *s, const char *why)
{
	log_warnx("node %s: connection lost while %s (%s)", s->name, s->doing,
	    why);
	s->broken = true;
	return CR_ERR_SSH;
}

/* Sends a keepalive when due and says whether the node still answers. */
static enum cr_err
keepalive(struct ssh_session *s, int dir, int *waitp)
{
	int64_t silent, since;
	int next = s->keepalive_s;

	if (s->keepalive_s <= 0)
		return CR_OK;
	/* Never interleave with a partly sent packet (libssh2 would mix). */
	if (!(dir & LIBSSH2_SESSION_BLOCK_OUTBOUND) &&
	    libssh2_keepalive_send(s->ls, &next) != 0)
		return lost(s, "keepalive could not be sent");
	since = s->last_rx_ms > s->op_start ? s->last_rx_ms : s->op_start;
	silent = clock_mono_ms() - since;
	if (silent > (int64_t)s->keepalive_s * 1000 * SSH_KEEPALIVE_COUNT) {
		char why[96];

		snprintf(why, sizeof(why), "no answer for %lld s",
		    (long long)(silent / 1000));
		return lost(s, why);
	}
	if (next <= 0 || next > s->keepalive_s)
		next = s->keepalive_s;
	if (*waitp > next * 1000)
		*waitp = next * 1000;
	return CR_OK;
}

/* Waits until libssh2 can make progress, the deadline, or a lost node. */
static enum cr_err
ssh_wait(struct ssh_session *s, int64_t deadline)
{
	struct pollfd pfd = { .fd = s->fd, .events = 0 };
	int dir = libssh2_session_block_directions(s->ls);
	int ms = deadline != 0 ? clock_remaining_ms(deadline) : 60000;
	enum cr_err err;

	if (deadline != 0 && clock_expired(deadline))
		return CR_ERR_TIMEOUT;
	if ((err = keepalive(s, dir, &ms)) != CR_OK)
		return err;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (pfd.events == 0) {
		pfd.events = POLLIN;
		ms = ms > 10 ? 10 : ms;
	}
	if (poll(&pfd, 1, ms) == -1 && errno != EINTR) {
		log_warn("node %s: poll", s->name);
		return CR_ERR_SYS;
	}
	return CR_OK;
}

/* ssh_wait() plus the log line for a timeout. */
static enum cr_err
wait_logged(struct ssh_session *s, int64_t deadline)
{
	enum cr_err err = ssh_wait(s, deadline);

	if (err == CR_ERR_TIMEOUT)
		log_warnx("node %s: timed out after %lld ms while %s", s->name,
		    (long long)(clock_mono_ms() - s->op_start), s->doing);
	return err;
}

static enum cr_err
connect_addr(const struct addrinfo *ai, int64_t deadline, int *fdp)
{
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, soerr = 0, one = 1;

	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1)
		return CR_ERR_SYS;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)
		goto bad;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, clock_remaining_ms(deadline)) != 1) {
		errno = ETIMEDOUT;
		goto bad;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		goto bad;
	if (soerr != 0) {
		errno = soerr;
		goto bad;
	}
	*fdp = fd;
	return CR_OK;
bad:
	soerr = errno;
	close(fd);
	errno = soerr;
	return errno == ETIMEDOUT ? CR_ERR_TIMEOUT : CR_ERR_SYS;
}

static enum cr_err
tcp_connect(struct ssh_session *s, const struct ssh_target *t, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL,
			*ai;
	char port[16];
	enum cr_err err = CR_ERR_SYS;
	int rc;

	snprintf(port, sizeof(port), "%u", t->port != 0 ? t->port : 22);
	if ((rc = getaddrinfo(t->host, port, &hints, &res)) != 0) {
		log_warnx("node %s: cannot resolve '%s': %s", s->name, t->host,
		    gai_strerror(rc));
		return CR_ERR_SYS;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((err = connect_addr(ai, deadline, &s->fd)) == CR_OK)
			break;
	freeaddrinfo(res);
	if (err == CR_ERR_TIMEOUT)
		log_warnx("node %s: cannot connect to %s port %s: no answer "
			  "within the connect timeout",
		    s->name, t->host, port);
	else if (err != CR_OK)
		log_warn("node %s: cannot connect to %s port %s", s->name,
		    t->host, port);
	return err;
}

static enum cr_err
handshake(struct ssh_session *s, const struct ssh_target *t,
    const char *known_hosts, int64_t deadline)
{
	struct knownhosts_list known = { NULL, 0 };
	struct buf file = BUF_INIT;
	char *algs;
	enum cr_err err;
	int rc;

	/* Offer first the key types known_hosts holds for this host. */
	if (file_exists(known_hosts) &&
	    file_read(known_hosts, (size_t)16 * 1024 * 1024, &file) == CR_OK)
		knownhosts_scan((const char *)file.data, file.len, t->host,
		    t->port, &known);
	algs = knownhosts_algorithms(&known);
	(void)libssh2_session_method_pref(s->ls, LIBSSH2_METHOD_HOSTKEY, algs);
	free(algs);
	knownhosts_list_clear(&known);
	buf_clear(&file);
	begin(s, "exchanging keys with %s", t->host);
	while ((rc = libssh2_session_handshake(s->ls, s->fd)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	return rc == 0 ? CR_OK : fail(s, rc);
}

static struct ssh_session *
session_new(const struct ssh_target *t, const struct ssh_opts *o)
{
	union {
		ssize_t (*fn)(libssh2_socket_t, void *, size_t, int, void **);
		void *p;
	} cb = { .fn = rx_cb };
	struct ssh_session *s = xcalloc(1, sizeof(*s));

	s->fd = -1;
	s->name = xstrdup(t->name != NULL ? t->name : t->host);
	s->keepalive_s = o->keepalive_s == 0 ? SSH_KEEPALIVE_S : o->keepalive_s;
	if ((s->ls = libssh2_session_init_ex(NULL, NULL, NULL, s)) == NULL)
		fatalx("libssh2_session_init: out of memory");
	libssh2_session_set_blocking(s->ls, 0);
	(void)libssh2_session_callback_set(s->ls, LIBSSH2_CALLBACK_RECV, cb.p);
	return s;
}

/* What authentication tried, for one clear message when all failed. */
struct auth_try {
	const char *user;
	struct buf tried;
	bool rsa_refused;
	char locked[512];
};

static bool
blob_is_rsa(const unsigned char *blob, size_t len)
{
	return len > 11 && memcmp(blob, "\0\0\0\7ssh-rsa", 11) == 0;
}

/* Reads a big-endian length-prefixed string at *p; false past end. */
static bool
skip_string(const unsigned char **p, const unsigned char *end)
{
	uint32_t n;

	if (end - *p < 4)
		return false;
	n = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 |
	    (uint32_t)(*p)[2] << 8 | (*p)[3];
	if ((size_t)(end - *p) - 4 < n)
		return false;
	*p += 4 + n;
	return true;
}

/*
 * An OpenSSH-format private key keeps its public key unencrypted in the
 * container header: "openssh-key-v1\0", cipher, kdf, kdf options, count,
 * then the public key blob, which starts with the key type.
 */
static bool
openssh_is_rsa(const char *pem)
{
	static const char magic[] = "openssh-key-v1";
	const char *p = strstr(pem, "-----BEGIN OPENSSH PRIVATE KEY-----");
	unsigned char raw[300];
	const unsigned char *q = raw, *end;
	char b64[400];
	size_t n = 0;
	int len, i;

	if (p == NULL)
		return false;
	for (p += 35; *p != '\0' && *p != '-' && n < sizeof(b64) - 1; p++)
		if (*p != '\n' && *p != '\r')
			b64[n++] = *p;
	n -= n % 4;
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (len < (int)sizeof(magic) || memcmp(raw, magic, sizeof(magic)) != 0)
		return false;
	end = raw + len;
	q += sizeof(magic);
	for (i = 0; i < 3; i++) /* cipher, kdf, kdf options */
		if (!skip_string(&q, end))
			return false;
	if (end - q < 8)
		return false;
	q += 8; /* key count, then the blob's own length */
	return blob_is_rsa(q, (size_t)(end - q));
}

/* Whether a private key file holds RSA: its .pub, PEM or container. */
static bool
keyfile_is_rsa(const char *path)
{
	struct buf b = BUF_INIT;
	char *pub = xasprintf("%s.pub", path);
	bool rsa = false;

	if (file_read(pub, (size_t)64 * 1024, &b) == CR_OK)
		rsa = strncmp(buf_cstr(&b), "ssh-rsa ", 8) == 0;
	else if (file_read(path, (size_t)64 * 1024, &b) == CR_OK)
		rsa = strstr(buf_cstr(&b), "BEGIN RSA PRIVATE KEY") != NULL ||
		    openssh_is_rsa(buf_cstr(&b));
	buf_clear_secret(&b);
	free(pub);
	return rsa;
}

static void
tried(struct auth_try *at, const char *what)
{
	buf_printf(&at->tried, "%s%s", at->tried.len > 0 ? ", " : "", what);
}

/* One identity of the agent; CR_ERR_NOTFOUND when it is refused. */
static enum cr_err
auth_agent_key(struct ssh_session *s, LIBSSH2_AGENT *agent,
    struct libssh2_agent_publickey *id, struct auth_try *at, int64_t deadline)
{
	enum cr_err err;
	int rc;

	while ((rc = libssh2_agent_userauth(agent, at->user, id)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (rc == 0)
		return CR_OK;
	if (is_transport_error(rc))
		return fail(s, rc);
	if (blob_is_rsa(id->blob, id->blob_len))
		at->rsa_refused = true;
	return CR_ERR_NOTFOUND;
}

/* CR_ERR_NOTFOUND: no identity of the agent was accepted. */
static enum cr_err
auth_agent(struct ssh_session *s, struct auth_try *at, int64_t deadline)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	LIBSSH2_AGENT *agent;
	enum cr_err err = CR_ERR_NOTFOUND;
	char what[64];
	int n = 0;

	if ((agent = libssh2_agent_init(s->ls)) == NULL)
		fatalx("libssh2_agent_init: out of memory");
	if (libssh2_agent_connect(agent) != 0 ||
	    libssh2_agent_list_identities(agent) != 0) {
		tried(at, "ssh-agent (unreachable)");
		goto out;
	}
	while (err == CR_ERR_NOTFOUND &&
	    libssh2_agent_get_identity(agent, &id, prev) == 0) {
		n++;
		err = auth_agent_key(s, agent, id, at, deadline);
		prev = id;
	}
	if (err == CR_OK || err == CR_ERR_NOTFOUND) {
		snprintf(what, sizeof(what), "ssh-agent (%d key%s)", n,
		    n == 1 ? "" : "s");
		tried(at, what);
	}
out:
	(void)libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return err;
}

/* CR_ERR_NOTFOUND: the key is absent, locked or refused. */
static enum cr_err
auth_keyfile(struct ssh_session *s, const char *user, const char *path,
    struct auth_try *at, int64_t deadline)
{
	char what[600];
	enum cr_err err;
	int rc;

	if (access(path, R_OK) != 0) {
		snprintf(what, sizeof(what), "'%s' (%s)", path,
		    strerror(errno));
		tried(at, what);
		return CR_ERR_NOTFOUND;
	}
	while ((rc = libssh2_userauth_publickey_fromfile(s->ls, user, NULL,
		    path, NULL)) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (rc == 0)
		return CR_OK;
	if (is_transport_error(rc))
		return fail(s, rc);
	if (rc == LIBSSH2_ERROR_FILE) {
		snprintf(at->locked, sizeof(at->locked), "%s", path);
		snprintf(what, sizeof(what),
		    "'%s' (passphrase-protected or "
		    "unreadable)",
		    path);
	} else if (keyfile_is_rsa(path)) {
		at->rsa_refused = true;
		snprintf(what, sizeof(what), "'%s' (RSA, refused)", path);
	} else {
		snprintf(what, sizeof(what), "'%s' (refused)", path);
	}
	tried(at, what);
	return CR_ERR_NOTFOUND;
}

/* CR_ERR_NOTFOUND: go on with public keys; CR_OK: already in. */
static enum cr_err
auth_methods(struct ssh_session *s, const char *user, int64_t deadline)
{
	const char *list;
	enum cr_err err;
	int rc;

	while ((list = libssh2_userauth_list(s->ls, user,
		    (unsigned)strlen(user))) == NULL) {
		if (libssh2_userauth_authenticated(s->ls))
			return CR_OK;
		rc = libssh2_session_last_errno(s->ls);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			return fail(s, rc);
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	}
	if (strstr(list, "publickey") != NULL)
		return CR_ERR_NOTFOUND;
	log_warnx("node %s: the SSH server does not accept public keys for "
		  "'%s' (it offers: %s); certroll authenticates with keys only",
	    s->name, user, list);
	return CR_ERR_SSH;
}

static enum cr_err
auth_failed(const struct ssh_session *s, const struct ssh_target *t,
    const struct auth_try *at)
{
	if (at->rsa_refused)
		log_warnx("node %s: authentication as '%s' failed: the server "
			  "refused an RSA key (tried %s). libssh2 1.10 signs "
			  "RSA keys only with ssh-rsa (SHA-1), which OpenSSH "
			  "8.8 and later reject; use an ed25519 key instead "
			  "(ssh-keygen -t ed25519) and add its public key to "
			  "the node's authorized_keys",
		    s->name, t->user, buf_cstr(&at->tried));
	else if (at->locked[0] != '\0')
		log_warnx("node %s: authentication as '%s' failed: the key "
			  "'%s' is passphrase-protected; load it into "
			  "ssh-agent (ssh-add '%s') with SSH_AUTH_SOCK set "
			  "(tried %s)",
		    s->name, t->user, at->locked, at->locked,
		    buf_cstr(&at->tried));
	else
		log_warnx("node %s: authentication as '%s' failed (tried %s); "
			  "add the public key to the node's authorized_keys "
			  "for '%s', or name the right key "
			  "(ansible_ssh_private_key_file)",
		    s->name, t->user,
		    at->tried.len > 0 ? buf_cstr(&at->tried) : "no keys",
		    t->user);
	return CR_ERR_SSH;
}

static char *
default_key(void)
{
	const char *home = getenv("HOME");
	const struct passwd *pw;

	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	return home != NULL ? xasprintf("%s/.ssh/id_ed25519", home) : NULL;
}

static enum cr_err
authenticate(struct ssh_session *s, const struct ssh_target *t,
    const struct ssh_opts *o, int64_t deadline)
{
	struct auth_try at = { .user = t->user, .tried = BUF_INIT };
	const char *sock = getenv("SSH_AUTH_SOCK");
	char *def = o->no_default_key ? NULL : default_key();
	enum cr_err err;

	if ((err = auth_methods(s, t->user, deadline)) != CR_ERR_NOTFOUND)
		goto out;
	if (!o->no_agent && sock != NULL && *sock != '\0')
		err = auth_agent(s, &at, deadline);
	if (err == CR_ERR_NOTFOUND && t->identity_file != NULL)
		err = auth_keyfile(s, t->user, t->identity_file, &at, deadline);
	if (err == CR_ERR_NOTFOUND && def != NULL &&
	    (t->identity_file == NULL || strcmp(def, t->identity_file) != 0))
		err = auth_keyfile(s, t->user, def, &at, deadline);
	if (err == CR_ERR_NOTFOUND)
		err = auth_failed(s, t, &at);
out:
	free(def);
	buf_clear(&at.tried);
	return err;
}

enum cr_err
ssh_connect(const struct ssh_target *t, const struct ssh_opts *o,
    struct ssh_session **sp)
{
	struct ssh_session *s;
	struct knownhosts_check kc;
	char *known_hosts = knownhosts_path(o->known_hosts);
	int64_t deadline = clock_deadline_ms(o->connect_timeout_ms > 0 ?
		o->connect_timeout_ms :
		SSH_CONNECT_TIMEOUT_MS);
	enum cr_err err;

	*sp = NULL;
	(void)pthread_once(&init_once, global_init);
	s = session_new(t, o);
	begin(s, "connecting to %s", t->host);
	if ((err = tcp_connect(s, t, deadline)) != CR_OK)
		goto out;
	if ((err = handshake(s, t, known_hosts, deadline)) != CR_OK)
		goto out;
	kc = (struct knownhosts_check){ .path = known_hosts,
		.node = s->name,
		.host = t->host,
		.port = t->port != 0 ? t->port : 22,
		.accept_new = o->accept_new_host_keys };
	if ((err = knownhosts_verify(s->ls, &kc)) != CR_OK)
		goto out;
	begin(s, "authenticating as '%s'", t->user);
	if ((err = authenticate(s, t, o, deadline)) != CR_OK)
		goto out;
	if (s->keepalive_s > 0)
		libssh2_keepalive_config(s->ls, 1, (unsigned)s->keepalive_s);
	log_debug("node %s: connected to %s as '%s'", s->name, t->host,
	    t->user);
	*sp = s;
	s = NULL;
out:
	ssh_close(s);
	free(known_hosts);
	return err;
}

void
ssh_close(struct ssh_session *s)
{
	int64_t deadline;

	if (s == NULL)
		return;
	deadline = clock_deadline_ms(s->broken ? 0 : 1000);
	s->keepalive_s = 0;
	while (s->sftp != NULL &&
	    libssh2_sftp_shutdown(s->sftp) == LIBSSH2_ERROR_EAGAIN &&
	    ssh_wait(s, deadline) == CR_OK)
		;
	while (!s->broken && s->fd != -1 &&
	    libssh2_session_disconnect(s->ls, "bye") == LIBSSH2_ERROR_EAGAIN &&
	    ssh_wait(s, deadline) == CR_OK)
		;
	/* A dead peer cannot stall the free: make every send fail. */
	if (s->fd != -1)
		(void)shutdown(s->fd, SHUT_RDWR);
	while (libssh2_session_free(s->ls) == LIBSSH2_ERROR_EAGAIN)
		;
	if (s->fd != -1)
		close(s->fd);
	free(s->name);
	free(s);
}

const char *
ssh_node_name(const struct ssh_session *s)
{
	return s->name;
}

static bool
fixed_arg(const char *a)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789_./:=,+@%-";

	return *a != '\0' && strspn(a, ok) == strlen(a);
}

/* Joins argv into the command line; refuses non-fixed arguments. */
static enum cr_err
command_line(const struct ssh_session *s, const char *const argv[],
    struct buf *cmd)
{
	size_t i;

	if (argv == NULL || argv[0] == NULL)
		return CR_ERR_CONFIG;
	for (i = 0; argv[i] != NULL; i++) {
		if (!fixed_arg(argv[i])) {
			log_warnx("node %s: refusing to run '%s': argument %zu "
				  "has characters a remote shell would "
				  "interpret",
			    s->name, argv[0], i);
			return CR_ERR_CONFIG;
		}
		buf_printf(cmd, "%s%s", i > 0 ? " " : "", argv[i]);
	}
	return CR_OK;
}

static enum cr_err
check_usable(struct ssh_session *s)
{
	if (!s->broken)
		return CR_OK;
	log_warnx("node %s: the connection was lost earlier; reconnect",
	    s->name);
	return CR_ERR_SSH;
}

static enum cr_err
open_channel(struct ssh_channel *c, int64_t deadline)
{
	struct ssh_session *s = c->s;
	enum cr_err err;

	while ((c->ch = libssh2_channel_open_session(s->ls)) == NULL) {
		if (libssh2_session_last_errno(s->ls) != LIBSSH2_ERROR_EAGAIN)
			return fail(s, libssh2_session_last_errno(s->ls));
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	}
	return CR_OK;
}

enum cr_err
ssh_channel_start(struct ssh_session *s, const char *const argv[],
    int64_t deadline, struct ssh_channel **chp)
{
	struct ssh_channel *c = NULL;
	struct buf cmd = BUF_INIT;
	enum cr_err err;
	int rc;

	*chp = NULL;
	if ((err = check_usable(s)) != CR_OK)
		return err;
	if ((err = command_line(s, argv, &cmd)) != CR_OK)
		goto out;
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	snprintf(c->cmd, sizeof(c->cmd), "%s", argv[0]);
	begin(s, "starting '%s'", c->cmd);
	if ((err = open_channel(c, deadline)) != CR_OK)
		goto out;
	while ((rc = libssh2_channel_exec(c->ch, buf_cstr(&cmd))) ==
	    LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			goto out;
	if (rc != 0) {
		err = fail(s, rc);
		goto out;
	}
	*chp = c;
	c = NULL;
out:
	ssh_channel_free(c);
	buf_clear(&cmd);
	return err;
}

/* Moves whatever stderr the node sent into the channel's buffer. */
static enum cr_err
drain_stderr(struct ssh_channel *c)
{
	char tmp[4096];
	ssize_t n;
	size_t room;

	while ((n = libssh2_channel_read_stderr(c->ch, tmp, sizeof(tmp))) > 0) {
		room = SSH_STDERR_MAX - c->err.len;
		buf_put(&c->err, tmp, (size_t)n < room ? (size_t)n : room);
	}
	if (n == 0 || n == LIBSSH2_ERROR_EAGAIN)
		return CR_OK;
	return fail(c->s, (int)n);
}

enum cr_err
ssh_channel_read(struct ssh_channel *c, void *buf, size_t len, size_t *gotp,
    int64_t deadline)
{
	struct ssh_session *s = c->s;
	enum cr_err err;
	ssize_t n;

	*gotp = 0;
	if ((err = check_usable(s)) != CR_OK)
		return err;
	begin(s, "reading from '%s'", c->cmd);
	for (;;) {
		if ((err = drain_stderr(c)) != CR_OK)
			return err;
		n = libssh2_channel_read(c->ch, buf, len);
		if (n >= 0) {
			*gotp = (size_t)n;
			/* At the end, whatever it said last on stderr. */
			return n == 0 ? drain_stderr(c) : CR_OK;
		}
		if (n != LIBSSH2_ERROR_EAGAIN)
			return fail(s, (int)n);
		if ((err = ssh_wait(s, deadline)) != CR_OK)
			return err;
	}
}

enum cr_err
ssh_channel_write(struct ssh_channel *c, const void *buf, size_t len,
    int64_t deadline)
{
	struct ssh_session *s = c->s;
	const char *p = buf;
	enum cr_err err;
	ssize_t n;

	if ((err = check_usable(s)) != CR_OK)
		return err;
	begin(s, "writing to '%s'", c->cmd);
	while (len > 0) {
		if ((err = drain_stderr(c)) != CR_OK)
			return err;
		n = libssh2_channel_write(c->ch, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n != LIBSSH2_ERROR_EAGAIN)
			return fail(s, (int)n);
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	}
	return CR_OK;
}

const char *
ssh_channel_stderr(const struct ssh_channel *c)
{
	return buf_cstr(&c->err);
}

/* Reads standard output to its end, into out (capped) or nowhere. */
static enum cr_err
read_to_eof(struct ssh_channel *c, struct buf *out, int64_t deadline)
{
	char tmp[16384];
	size_t got, room;
	enum cr_err err;

	do {
		if ((err = ssh_channel_read(c, tmp, sizeof(tmp), &got,
			 deadline)) != CR_OK) {
			if (err == CR_ERR_TIMEOUT)
				log_warnx("node %s: timed out while waiting "
					  "for '%s' to finish",
				    c->s->name, c->cmd);
			return err;
		}
		room = out != NULL ? SSH_OUTPUT_MAX - out->len : 0;
		if (room > 0)
			buf_put(out, tmp, got < room ? got : room);
	} while (got > 0);
	return drain_stderr(c);
}

static void
exit_signal(struct ssh_channel *c, struct ssh_result *r)
{
	char *sig = NULL;
	size_t len = 0;

	r->signal[0] = '\0';
	if (libssh2_channel_get_exit_signal(c->ch, &sig, &len, NULL, NULL, NULL,
		NULL) == 0 &&
	    sig != NULL) {
		snprintf(r->signal, sizeof(r->signal), "%.*s", (int)len, sig);
		libssh2_free(c->s->ls, sig);
	}
	r->exit_status = libssh2_channel_get_exit_status(c->ch);
}

/* The end of a channel: EOF, remaining output, close, exit status. */
static enum cr_err
finish(struct ssh_channel *c, struct ssh_result *r, bool collect,
    int64_t deadline)
{
	struct ssh_session *s = c->s;
	enum cr_err err;
	int rc;

	/* A failure to send EOF or CLOSE shows in the read or wait after. */
	while (libssh2_channel_send_eof(c->ch) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if ((err = read_to_eof(c, collect ? &r->out : NULL, deadline)) != CR_OK)
		return err;
	begin(s, "closing '%s'", c->cmd);
	while (libssh2_channel_close(c->ch) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	while (
	    (rc = libssh2_channel_wait_closed(c->ch)) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (rc != 0)
		return fail(s, rc);
	exit_signal(c, r);
	buf_put(&r->err, c->err.data != NULL ? c->err.data : (uint8_t *)"",
	    c->err.len);
	return r->exit_status == 0 && r->signal[0] == '\0' ? CR_OK :
							     CR_ERR_SUBPROC;
}

enum cr_err
ssh_channel_finish(struct ssh_channel *c, struct ssh_result *r,
    int64_t deadline)
{
	enum cr_err err;

	if ((err = check_usable(c->s)) != CR_OK)
		return err;
	return finish(c, r, false, deadline);
}

void
ssh_channel_free(struct ssh_channel *c)
{
	int64_t deadline;

	if (c == NULL)
		return;
	if (c->ch != NULL) {
		deadline = clock_deadline_ms(c->s->broken ? 0 : 1000);
		while (libssh2_channel_free(c->ch) == LIBSSH2_ERROR_EAGAIN)
			if (c->s->broken || ssh_wait(c->s, deadline) != CR_OK) {
				/* Half-closed channel: the session is unsafe.
				 */
				c->s->broken = true;
				break;
			}
	}
	buf_clear(&c->err);
	free(c);
}

enum cr_err
ssh_exec(struct ssh_session *s, const char *const argv[], struct ssh_result *r,
    int64_t deadline)
{
	struct ssh_channel *c = NULL;
	enum cr_err err;

	if ((err = ssh_channel_start(s, argv, deadline, &c)) != CR_OK)
		return err;
	err = finish(c, r, true, deadline);
	if (err == CR_OK || err == CR_ERR_SUBPROC)
		log_debug("node %s: '%s' exited with status %d%s%s", s->name,
		    argv[0], r->exit_status, r->signal[0] ? ", signal " : "",
		    r->signal);
	ssh_channel_free(c);
	return err;
}

void
ssh_result_clear(struct ssh_result *r)
{
	buf_clear(&r->out);
	buf_clear(&r->err);
	r->exit_status = -1;
	r->signal[0] = '\0';
}

static const char *
sftp_strerror(unsigned long code)
{
	static const char *const names[] = {
		[LIBSSH2_FX_EOF] = "end of file",
		[LIBSSH2_FX_NO_SUCH_FILE] = "no such file",
		[LIBSSH2_FX_PERMISSION_DENIED] = "permission denied",
		[LIBSSH2_FX_FAILURE] = "failure",
		[LIBSSH2_FX_BAD_MESSAGE] = "bad message",
		[LIBSSH2_FX_OP_UNSUPPORTED] = "operation unsupported",
		[LIBSSH2_FX_FILE_ALREADY_EXISTS] = "file already exists",
		[LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM] = "no space left",
		[LIBSSH2_FX_QUOTA_EXCEEDED] = "quota exceeded",
		[LIBSSH2_FX_NO_SUCH_PATH] = "no such path",
	};

	if (code < sizeof(names) / sizeof(names[0]) && names[code] != NULL)
		return names[code];
	return "SFTP error";
}

static enum cr_err
sftp_fail(struct ssh_session *s, int rc)
{
	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return fail(s, rc);
	log_warnx("node %s: %s failed: %s", s->name, s->doing,
	    sftp_strerror(libssh2_sftp_last_error(s->sftp)));
	return CR_ERR_SSH;
}

static enum cr_err
sftp_open(struct ssh_session *s, int64_t deadline)
{
	enum cr_err err;
	int rc;

	if ((err = check_usable(s)) != CR_OK || s->sftp != NULL)
		return err;
	begin(s, "starting SFTP");
	while ((s->sftp = libssh2_sftp_init(s->ls)) == NULL) {
		if ((rc = libssh2_session_last_errno(s->ls)) !=
		    LIBSSH2_ERROR_EAGAIN)
			return fail(s, rc);
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	}
	return CR_OK;
}

/* rc of an SFTP call failed with this SFTP status code. */
static bool
sftp_status(const struct ssh_session *s, int rc, unsigned long code)
{
	return rc == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(s->sftp) == code;
}

static enum cr_err
sftp_attrs(struct ssh_session *s, const char *path, int op,
    LIBSSH2_SFTP_ATTRIBUTES *a, int64_t deadline)
{
	enum cr_err err;
	int rc;

	while ((rc = libssh2_sftp_stat_ex(s->sftp, path, (unsigned)strlen(path),
		    op, a)) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (op == LIBSSH2_SFTP_STAT &&
	    (sftp_status(s, rc, LIBSSH2_FX_NO_SUCH_FILE) ||
		sftp_status(s, rc, LIBSSH2_FX_NO_SUCH_PATH)))
		return CR_ERR_NOTFOUND;
	return rc == 0 ? CR_OK : sftp_fail(s, rc);
}

enum cr_err
ssh_stat(struct ssh_session *s, const char *path, struct ssh_stat *st,
    int64_t deadline)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	enum cr_err err;

	if ((err = sftp_open(s, deadline)) != CR_OK)
		return err;
	begin(s, "reading the attributes of '%s'", path);
	memset(&a, 0, sizeof(a));
	if ((err = sftp_attrs(s, path, LIBSSH2_SFTP_STAT, &a, deadline)) !=
	    CR_OK)
		return err;
	st->size = a.filesize;
	st->mode = (unsigned)a.permissions;
	st->mtime = (int64_t)a.mtime;
	return CR_OK;
}

enum cr_err
ssh_mkdir(struct ssh_session *s, const char *path, unsigned mode,
    int64_t deadline)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	enum cr_err err;
	int rc;

	if ((err = sftp_open(s, deadline)) != CR_OK)
		return err;
	begin(s, "creating directory '%s'", path);
	while (
	    (rc = libssh2_sftp_mkdir_ex(s->sftp, path, (unsigned)strlen(path),
		 (long)mode)) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (rc != 0 && !sftp_status(s, rc, LIBSSH2_FX_FAILURE) &&
	    !sftp_status(s, rc, LIBSSH2_FX_FILE_ALREADY_EXISTS))
		return sftp_fail(s, rc);
	begin(s, "setting the mode of '%s'", path);
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.permissions = mode;
	return sftp_attrs(s, path, LIBSSH2_SFTP_SETSTAT, &a, deadline);
}

static enum cr_err
sftp_create(struct ssh_session *s, const char *path, unsigned mode,
    LIBSSH2_SFTP_HANDLE **hp, int64_t deadline)
{
	enum cr_err err;
	int rc;

	while (
	    (*hp = libssh2_sftp_open_ex(s->sftp, path, (unsigned)strlen(path),
		 LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
		 (long)(mode & 0700), LIBSSH2_SFTP_OPENFILE)) == NULL) {
		if ((rc = libssh2_session_last_errno(s->ls)) !=
		    LIBSSH2_ERROR_EAGAIN)
			return sftp_fail(s, rc);
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	}
	return CR_OK;
}

static enum cr_err
sftp_write_all(struct ssh_session *s, LIBSSH2_SFTP_HANDLE *h, const char *p,
    size_t len, int64_t deadline)
{
	enum cr_err err;
	ssize_t n;

	while (len > 0) {
		n = libssh2_sftp_write(h, p, len);
		if (n == LIBSSH2_ERROR_EAGAIN) {
			if ((err = wait_logged(s, deadline)) != CR_OK)
				return err;
			continue;
		}
		if (n < 0)
			return sftp_fail(s, (int)n);
		p += n;
		len -= (size_t)n;
	}
	return CR_OK;
}

/* Sets the mode, makes the data durable and closes the handle. */
static enum cr_err
sftp_seal(struct ssh_session *s, LIBSSH2_SFTP_HANDLE *h, unsigned mode,
    int64_t deadline)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	enum cr_err err;
	int rc;

	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.permissions = mode;
	while ((rc = libssh2_sftp_fsetstat(h, &a)) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (rc != 0)
		return sftp_fail(s, rc);
	while ((rc = libssh2_sftp_fsync(h)) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	return rc == 0 ? CR_OK : sftp_fail(s, rc);
}

static void
sftp_close(struct ssh_session *s, LIBSSH2_SFTP_HANDLE *h, int64_t deadline)
{
	while (h != NULL &&
	    libssh2_sftp_close_handle(h) == LIBSSH2_ERROR_EAGAIN &&
	    ssh_wait(s, deadline) == CR_OK)
		;
}

static enum cr_err
copy_file(struct ssh_session *s, int fd, LIBSSH2_SFTP_HANDLE *h,
    const char *local, int64_t deadline)
{
	char buf[32768];
	enum cr_err err;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("read '%s'", local);
			return CR_ERR_SYS;
		}
		if ((err = sftp_write_all(s, h, buf, (size_t)n, deadline)) !=
		    CR_OK)
			return err;
	}
	return CR_OK;
}

enum cr_err
ssh_upload(struct ssh_session *s, const char *local, const char *remote,
    unsigned mode, int64_t deadline)
{
	LIBSSH2_SFTP_HANDLE *h = NULL;
	enum cr_err err;
	int fd;

	if ((err = sftp_open(s, deadline)) != CR_OK)
		return err;
	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("cannot read '%s'", local);
		return CR_ERR_SYS;
	}
	begin(s, "creating '%s'", remote);
	if ((err = sftp_create(s, remote, mode, &h, deadline)) != CR_OK)
		goto out;
	begin(s, "uploading to '%s'", remote);
	if ((err = copy_file(s, fd, h, local, deadline)) == CR_OK)
		err = sftp_seal(s, h, mode, deadline);
	sftp_close(s, h, deadline);
	if (err != CR_OK && !s->broken &&
	    ssh_unlink(s, remote, deadline) != CR_OK)
		log_warnx("node %s: could not remove '%s' after the failed "
			  "upload",
		    s->name, remote);
out:
	close(fd);
	return err;
}

enum cr_err
ssh_unlink(struct ssh_session *s, const char *path, int64_t deadline)
{
	enum cr_err err;
	int rc;

	if ((err = sftp_open(s, deadline)) != CR_OK)
		return err;
	begin(s, "removing '%s'", path);
	while ((rc = libssh2_sftp_unlink_ex(s->sftp, path,
		    (unsigned)strlen(path))) == LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	if (rc == 0 || sftp_status(s, rc, LIBSSH2_FX_NO_SUCH_FILE))
		return CR_OK;
	return sftp_fail(s, rc);
}

/* --- Downloading a tree (apply --fetch-backups) ---------------------- */

#define FETCH_MAX_DEPTH 8

static enum cr_err
sftp_open_as(struct ssh_session *s, const char *path, int type,
    LIBSSH2_SFTP_HANDLE **hp, int64_t deadline)
{
	enum cr_err err;
	int rc;

	while (
	    (*hp = libssh2_sftp_open_ex(s->sftp, path, (unsigned)strlen(path),
		 LIBSSH2_FXF_READ, 0, type)) == NULL) {
		if ((rc = libssh2_session_last_errno(s->ls)) !=
		    LIBSSH2_ERROR_EAGAIN)
			return sftp_fail(s, rc);
		if ((err = wait_logged(s, deadline)) != CR_OK)
			return err;
	}
	return CR_OK;
}

static enum cr_err
write_fd(int fd, const char *p, size_t len, const char *local)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("write '%s'", local);
			return CR_ERR_SYS;
		}
		p += n;
		len -= (size_t)n;
	}
	return CR_OK;
}

static enum cr_err
read_into(struct ssh_session *s, LIBSSH2_SFTP_HANDLE *h, int fd,
    const char *local, int64_t deadline)
{
	char buf[32768];
	enum cr_err err;
	ssize_t n;

	while ((n = libssh2_sftp_read(h, buf, sizeof(buf))) != 0) {
		if (n == LIBSSH2_ERROR_EAGAIN) {
			if ((err = wait_logged(s, deadline)) != CR_OK)
				return err;
			continue;
		}
		if (n < 0)
			return sftp_fail(s, (int)n);
		if ((err = write_fd(fd, buf, (size_t)n, local)) != CR_OK)
			return err;
	}
	return fsync(fd) == 0 ? CR_OK : CR_ERR_SYS;
}

/* Copies one remote file to local (0600), through a temporary name. */
static enum cr_err
fetch_file(struct ssh_session *s, const char *remote, const char *local,
    int64_t deadline)
{
	LIBSSH2_SFTP_HANDLE *h = NULL;
	char *tmp = xasprintf("%s.certroll-part", local);
	enum cr_err err;
	int fd;

	begin(s, "downloading '%s'", remote);
	if ((err = sftp_open_as(s, remote, LIBSSH2_SFTP_OPENFILE, &h,
		 deadline)) != CR_OK) {
		free(tmp);
		return err;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1) {
		log_warn("cannot create '%s'", tmp);
		err = CR_ERR_SYS;
	} else {
		err = read_into(s, h, fd, tmp, deadline);
		if (close(fd) == -1 && err == CR_OK)
			err = CR_ERR_SYS;
		if (err == CR_OK && rename(tmp, local) == -1) {
			log_warn("cannot rename '%s'", tmp);
			err = CR_ERR_SYS;
		}
		if (err != CR_OK)
			unlink(tmp);
	}
	sftp_close(s, h, deadline);
	free(tmp);
	return err;
}

/* A download in progress: the session and the deadline of the whole. */
struct fetch {
	struct ssh_session *s;
	int64_t deadline;
};

/*
 * fetch_entry and fetch_dir recurse into subdirectories, bounded by
 * FETCH_MAX_DEPTH.
 * NOLINTBEGIN(misc-no-recursion)
 */
static enum cr_err fetch_dir(const struct fetch *f, const char *remote,
    const char *local, unsigned depth);

/* One directory entry: a file is copied, a directory entered, the rest
 * (symbolic links, devices) left alone. */
static enum cr_err
fetch_entry(const struct fetch *f, const char *remote, const char *local,
    const LIBSSH2_SFTP_ATTRIBUTES *a, unsigned depth)
{
	if (LIBSSH2_SFTP_S_ISDIR(a->permissions))
		return fetch_dir(f, remote, local, depth + 1);
	if (LIBSSH2_SFTP_S_ISREG(a->permissions))
		return fetch_file(f->s, remote, local, f->deadline);
	return CR_OK;
}

static enum cr_err
read_dir_entry(const struct fetch *f, LIBSSH2_SFTP_HANDLE *h, char *name,
    size_t len, LIBSSH2_SFTP_ATTRIBUTES *a)
{
	enum cr_err err;
	int rc;

	while ((rc = libssh2_sftp_readdir_ex(h, name, len, NULL, 0, a)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if ((err = wait_logged(f->s, f->deadline)) != CR_OK)
			return err;
	if (rc < 0)
		return sftp_fail(f->s, rc);
	return rc == 0 ? CR_ERR_NOTFOUND : CR_OK; /* 0: no more entries */
}

static enum cr_err
fetch_dir(const struct fetch *f, const char *remote, const char *local,
    unsigned depth)
{
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char name[512], *rpath, *lpath;
	enum cr_err err;

	if (depth > FETCH_MAX_DEPTH || file_mkdirs(local, 0700) != CR_OK ||
	    chmod(local, 0700) == -1) {
		log_warn("cannot make '%s'", local);
		return CR_ERR_SYS;
	}
	begin(f->s, "listing '%s'", remote);
	if ((err = sftp_open_as(f->s, remote, LIBSSH2_SFTP_OPENDIR, &h,
		 f->deadline)) != CR_OK)
		return err;
	while ((err = read_dir_entry(f, h, name, sizeof(name), &a)) == CR_OK) {
		/* The node names the entries: no way out of local. */
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strchr(name, '/') != NULL)
			continue;
		rpath = file_path_join(remote, name);
		lpath = file_path_join(local, name);
		err = fetch_entry(f, rpath, lpath, &a, depth);
		free(rpath);
		free(lpath);
		if (err != CR_OK)
			break;
	}
	sftp_close(f->s, h, f->deadline);
	return err == CR_ERR_NOTFOUND ? CR_OK : err;
}
/* NOLINTEND(misc-no-recursion) */

enum cr_err
ssh_download_tree(struct ssh_session *s, const char *remote, const char *local,
    int64_t deadline)
{
	const struct fetch f = { .s = s, .deadline = deadline };
	enum cr_err err;

	if ((err = sftp_open(s, deadline)) != CR_OK)
		return err;
	return fetch_dir(&f, remote, local, 0);
}

struct par {
	pthread_mutex_t lock;
	size_t next;
	size_t n;
	enum cr_err (*fn)(void *arg, size_t i);
	void *arg;
	enum cr_err *results;
};

static void *
par_worker(void *p)
{
	struct par *par = p;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&par->lock);
		i = par->next++;
		pthread_mutex_unlock(&par->lock);
		if (i >= par->n)
			return NULL;
		par->results[i] = par->fn(par->arg, i);
	}
}

enum cr_err
ssh_parallel(size_t n, unsigned max_threads,
    enum cr_err (*fn)(void *arg, size_t i), void *arg, enum cr_err *results)
{
	struct par par = { .next = 0,
		.n = n,
		.fn = fn,
		.arg = arg,
		.results = results };
	pthread_t *tids;
	size_t i, want, started = 0;

	if (n == 0)
		return CR_OK;
	(void)pthread_once(&init_once, global_init);
	pthread_mutex_init(&par.lock, NULL);
	want = max_threads == 0 || max_threads > n ? n : max_threads;
	tids = xcalloc(want, sizeof(*tids));
	for (i = 0; i < want; i++)
		if (pthread_create(&tids[started], NULL, par_worker, &par) == 0)
			started++;
	if (started == 0)
		par_worker(&par);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&par.lock);
	for (i = 0; i < n; i++)
		if (results[i] != CR_OK)
			return results[i];
	return CR_OK;
}
