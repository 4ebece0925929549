/*
 * A small blocking TLS client for local probes and the etcd gateway: one
 * HTTP/1.1 request per connection, over OpenSSL, with a deadline on every
 * step. The agent uses it instead of libcurl (which it must not link).
 *
 *	struct tlsc_opts o = TLSC_OPTS_INIT;
 *	struct tlsc_req rq = TLSC_REQ_INIT;
 *	struct tlsc_resp rs = TLSC_RESP_INIT;
 *	struct tlsc_diag d;
 *
 *	o.host = "127.0.0.1";
 *	o.port = "2379";
 *	o.ca_file = "/etc/kubernetes/pki/etcd/ca.crt";
 *	o.cert_file = ".../healthcheck-client.crt";
 *	o.key_file = ".../healthcheck-client.key";
 *	o.deadline = clock_deadline_ms(5000);
 *	rq.path = "/health";
 *	if (tlsc_fetch(&o, &rq, &rs, &d) != CR_OK)
 *		log_warnx("etcd: %s", d.msg);
 *	... rs.status, buf_cstr(&rs.body), rs.peer.serial ...
 *	tlsc_resp_clear(&rs);
 *
 * Verification is on unless opts.insecure says otherwise: the peer must
 * chain to ca_file and name host (a DNS name, or an IP address SAN for a
 * numeric host). SNI is sent for names, never for IP literals (RFC 6066).
 * The peer certificate's serial and validity are returned from the
 * handshake whether or not it was verified.
 *
 * The module does not log; failures come back as a code plus a one-line
 * description in struct tlsc_diag for the caller to log with its subject.
 * The process must ignore SIGPIPE (both programs do), since a peer may
 * close the connection while a request is being written.
 */
#ifndef CR_TLSC_H
#define CR_TLSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"

/* Largest serial we report: 20 octets (RFC 5280) in hex, a sign, a NUL. */
#define TLSC_SERIAL_MAX 48
/* Response headers larger than this are refused. */
#define TLSC_MAX_HEADER ((size_t)32 * 1024)
/* Default cap on a collected body (when no on_body callback is given). */
#define TLSC_DEFAULT_MAX_BODY ((size_t)1024 * 1024)

struct tlsc_diag {
	char msg[256];
};

/* What the handshake told us about the server's certificate. */
struct tlsc_peer {
	char serial[TLSC_SERIAL_MAX]; /* upper-case hex as openssl prints it */
	char subject[256];            /* "CN=kube-apiserver" (RFC 2253) */
	time_t not_before;
	time_t not_after;
	bool verified; /* chain and name were checked and passed */
};

struct tlsc_opts {
	const char *host; /* numeric IPv4/IPv6 or a name */
	const char *port; /* decimal */
	/* Name checked in the certificate and sent as SNI; NULL: host. */
	const char *server_name;
	const char *ca_file; /* PEM bundle to verify against */
	bool insecure;       /* skip verification (explicit; ca_file unused) */
	const char *cert_file; /* optional client certificate (PEM chain) */
	const char *key_file;  /* its private key (PEM) */
	int64_t deadline;      /* absolute clock_mono_ms(); 0: none */
};

#define TLSC_OPTS_INIT                                                         \
	{                                                                      \
		.host = NULL, .port = NULL, .deadline = 0,                     \
	}

struct tlsc_req {
	const char *method;       /* NULL: "GET" */
	const char *path;         /* "/readyz" */
	const char *content_type; /* sent with a body; NULL: application/json */
	const void *body;
	size_t body_len;
	/*
	 * Streams the body: called with each piece as it arrives (chunk
	 * framing removed). Returning anything but CR_OK stops the transfer
	 * and becomes tlsc_request()'s result. NULL: collect the body into
	 * resp->body, at most max_body bytes.
	 */
	enum cr_err (*on_body)(void *arg, const void *data, size_t len);
	void *on_body_arg;
	size_t max_body; /* 0: TLSC_DEFAULT_MAX_BODY */
};

#define TLSC_REQ_INIT                                                          \
	{                                                                      \
		.method = NULL, .path = "/", .on_body = NULL,                  \
	}

struct tlsc_resp {
	int status;       /* 200 */
	bool chunked;     /* the body came with chunked transfer coding */
	int64_t body_len; /* bytes of body received */
	char content_type[128];
	struct buf body; /* only when req->on_body is NULL */
	struct tlsc_peer peer;
};

#define TLSC_RESP_INIT                                                         \
	{                                                                      \
		.status = 0, .body = BUF_INIT,                                 \
	}

struct tlsc;

/*
 * Resolves o->host, connects to the first address that accepts and
 * completes the TLS handshake, all before o->deadline. Returns
 * CR_ERR_CONFIG for unusable options or unreadable certificate/key files,
 * CR_ERR_SYS when no address accepted (errno set, e.g. ECONNREFUSED),
 * CR_ERR_TIMEOUT when the deadline passed, CR_ERR_TLS for a failed
 * handshake or verification; diag says which. On success *cp must be
 * released with tlsc_free().
 */
enum cr_err tlsc_connect(const struct tlsc_opts *o, struct tlsc **cp,
    struct tlsc_diag *diag) CR_MUST_CHECK;

/* The peer certificate of c's handshake. Borrowed from c. */
const struct tlsc_peer *tlsc_peer(const struct tlsc *c);

/*
 * Sends one HTTP/1.1 request on c (with "Connection: close") and reads the
 * response: headers, then the body by Content-Length, chunked transfer
 * coding or until the server closes. Any status is a success here; check
 * resp->status. Returns CR_ERR_PROTO for a malformed or truncated response
 * or a body over max_body, CR_ERR_TIMEOUT when the connection's deadline
 * passed, CR_ERR_TLS or CR_ERR_SYS when the connection failed (a server
 * that demands a client certificate says so here under TLS 1.3), or what
 * on_body returned. A connection serves one request; a second call gives
 * CR_ERR_STATE. resp must be initialised with TLSC_RESP_INIT; release it
 * with tlsc_resp_clear() whatever the result.
 */
enum cr_err tlsc_request(struct tlsc *c, const struct tlsc_req *req,
    struct tlsc_resp *resp, struct tlsc_diag *diag) CR_MUST_CHECK;

/* Moves c's deadline (absolute clock_mono_ms(); 0: none). */
void tlsc_set_deadline(struct tlsc *c, int64_t deadline);

/* Closes the connection (sending close_notify). Passing NULL is a no-op. */
void tlsc_free(struct tlsc *c);

/*
 * tlsc_connect(), tlsc_request() and tlsc_free() in one call; the peer
 * certificate is in resp->peer once the handshake succeeded, even if the
 * request then failed. Same returns as the two.
 */
enum cr_err tlsc_fetch(const struct tlsc_opts *o, const struct tlsc_req *req,
    struct tlsc_resp *resp, struct tlsc_diag *diag) CR_MUST_CHECK;

/* Releases resp's body and resets it to TLSC_RESP_INIT. */
void tlsc_resp_clear(struct tlsc_resp *resp);

/*
 * Checks whether anything accepts TCP connections on host:port before the
 * deadline (no TLS). Returns CR_OK if one does, CR_ERR_SYS with errno set
 * (ECONNREFUSED for a closed port) or CR_ERR_TIMEOUT otherwise.
 */
enum cr_err tlsc_tcp_probe(const char *host, const char *port, int64_t deadline,
    struct tlsc_diag *diag) CR_MUST_CHECK;

/*
 * True if two hex serials name the same number: case and leading zeros
 * do not matter, so a handshake's serial compares with cert_serial_hex().
 */
bool tlsc_serial_equal(const char *a, const char *b);

#endif /* CR_TLSC_H */
