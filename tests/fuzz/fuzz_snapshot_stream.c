/*
 * libFuzzer target: the etcd snapshot stream parser of agent/agent_snapshot.c
 * through its door in agent_int.h (agent_snapshot_parse()): the body of
 * etcd's answer to POST /v3/maintenance/snapshot, newline-delimited JSON
 * messages with base64 blobs, the last blob the SHA-256 of the others.
 * Seeds: tests/fuzz/corpus/snapshot_stream (streams recorded from etcd
 * 3.4's gateway, and broken ones).
 *
 * The first input byte chooses how the body is cut into pieces (as TLS
 * records would deliver it) and whether the line cap is the default or a
 * small one; the rest is the body.
 *
 * Contract checked beyond memory safety: a failure says why; a success
 * wrote exactly total bytes whose last 32 are the SHA-256 of the rest,
 * reported as sha256, so no hashing shortcut can accept a damaged
 * snapshot.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent_int.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int out_fd = -1;
static uint8_t *back;
static size_t back_cap;

/* The file the database is written to: unlinked at once, reused. */
static void
out_open(void)
{
	const char *base = getenv("TMPDIR");
	char path[256];

	snprintf(path, sizeof(path), "%s/certroll-fuzz-snapshot.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if ((out_fd = mkstemp(path)) == -1 || unlink(path) == -1)
		abort();
}

static void
out_reset(void)
{
	if (ftruncate(out_fd, 0) == -1 || lseek(out_fd, 0, SEEK_SET) == -1)
		abort();
}

/* Reads the written file back and checks its trailer independently. */
static void
check_written(const struct agent_snapshot_stream *st)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * 32 + 1];
	unsigned mdlen = 0, i;
	size_t n = (size_t)st->total;

	if (st->total <= 32 || st->messages == 0)
		abort();
	if (n > back_cap) {
		free(back);
		if ((back = malloc(n)) == NULL)
			abort();
		back_cap = n;
	}
	if (pread(out_fd, back, n, 0) != (ssize_t)n ||
	    pread(out_fd, hex, 1, (off_t)n) != 0)
		abort();
	if (EVP_Digest(back, n - 32, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32 || memcmp(md, back + n - 32, 32) != 0)
		abort();
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strcmp(hex, st->sha256) != 0)
		abort();
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[] = { 0, 1, 2, 3, 7, 16, 100, 4096 };
	struct agent_snapshot_stream st;
	enum cr_err err;

	if (size < 1)
		return 0;
	if (out_fd == -1)
		out_open();
	out_reset();
	memset(&st, 0, sizeof(st));
	st.data = data + 1;
	st.len = size - 1;
	st.piece = pieces[data[0] & 7];
	st.max_line = (data[0] & 8) != 0 ? 64 + (size_t)(data[0] >> 4) * 8 : 0;
	st.fd = out_fd;
	err = agent_snapshot_parse(&st);
	if (err == CR_OK)
		check_written(&st);
	else if (st.why[0] == '\0' ||
	    (err != CR_ERR_PROTO && err != CR_ERR_VERIFY))
		abort();
	return 0;
}
