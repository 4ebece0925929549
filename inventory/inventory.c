/*
 * The inventory's public face: reading the file, telling INI from YAML,
 * and the accessors over the resolved nodes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fileio.h"
#include "inv_int.h"
#include "xmalloc.h"

static const struct {
	const char *name;
	enum inv_format fmt;
} formats[] = {
	{ "auto", INV_FORMAT_AUTO },
	{ "ini", INV_FORMAT_INI },
	{ "yaml", INV_FORMAT_YAML },
};

static const struct {
	unsigned role;
	const char *name;
} roles[] = {
	{ INV_ROLE_CONTROL_PLANE, "control-plane" },
	{ INV_ROLE_ETCD, "etcd" },
	{ INV_ROLE_WORKER, "worker" },
};

static enum cr_err (*const parsers[])(struct inv_model *, const char *,
    size_t) = {
	[INV_FORMAT_INI] = inv_ini_parse,
	[INV_FORMAT_YAML] = inv_yaml_parse,
};

bool
inv_format_parse(const char *s, enum inv_format *fmtp)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(s, formats[i].name) == 0) {
			*fmtp = formats[i].fmt;
			return true;
		}
	}
	return false;
}

const char *
inv_role_name(unsigned role)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roles[i].role == role)
			return roles[i].name;
	return NULL;
}

/* The first line that is not blank or a '#' or ';' comment, or end. */
static const char *
first_significant(const char *p, const char *end)
{
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p < end && *p != '\n' && *p != '#' && *p != ';')
			return p;
		while (p < end && *p != '\n')
			p++;
		p += p < end;
	}
	return end;
}

/* True if the line at p starts with a YAML key: "name:" then a blank. */
static bool
starts_with_key(const char *p, const char *end)
{
	size_t i;

	for (i = 0; p + i < end && !isspace((unsigned char)p[i]) && p[i] != '=';
	     i++)
		if (p[i] == ':' &&
		    (p + i + 1 == end || isspace((unsigned char)p[i + 1])))
			return true;
	return false;
}

/*
 * The first significant line decides: "---", "%YAML", "- item" or
 * "name:" (a key ending in ':' and then nothing or a blank) is YAML;
 * "[section]", a bare host or "host:port" is INI.
 */
static enum inv_format
detect(const char *data, size_t len)
{
	const char *end = data + len, *p = first_significant(data, end);
	size_t left = (size_t)(end - p);

	if (left == 0 || *p == '[')
		return INV_FORMAT_INI;
	if (left >= 3 &&
	    (strncmp(p, "---", 3) == 0 || strncmp(p, "%YA", 3) == 0))
		return INV_FORMAT_YAML;
	/* A "- item" list is YAML, if not an inventory; say so in YAML terms.
	 */
	if (*p == '-' && (left == 1 || isspace((unsigned char)p[1])))
		return INV_FORMAT_YAML;
	return starts_with_key(p, end) ? INV_FORMAT_YAML : INV_FORMAT_INI;
}

/* Text only: a NUL byte means a binary or UTF-16 file. */
static enum cr_err
check_text(struct inv_model *m, const char *data, size_t len)
{
	const char *nul = memchr(data, '\0', len);
	struct inv_pos pos = { 1, 1 };
	const char *p;

	if (nul == NULL)
		return CR_OK;
	for (p = data; p < nul; p++) {
		pos.column++;
		if (*p == '\n') {
			pos.line++;
			pos.column = 1;
		}
	}
	inv_fail(m, pos, "NUL byte in the inventory");
	return inv_hint(m,
	    "an inventory is a UTF-8 text file; is this the "
	    "right file?");
}

/* Six parameters: the signature the inventory's callers asked for. */
enum cr_err
/* NOLINTNEXTLINE(readability-function-size) */
inv_parse(const char *name, const char *data, size_t len, enum inv_format fmt,
    struct inv **invp, struct inv_diag *diag)
{
	struct inv_model m;
	enum cr_err err;
	size_t skip;

	*invp = NULL;
	memset(diag, 0, sizeof(*diag));
	inv_model_init(&m, name, diag);
	/* A UTF-8 byte order mark is not part of the first line. */
	skip = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	data += skip;
	len -= skip;
	if (fmt == INV_FORMAT_AUTO)
		fmt = detect(data, len);
	if ((err = check_text(&m, data, len)) == CR_OK &&
	    (err = parsers[fmt](&m, data, len)) == CR_OK)
		err = inv_model_resolve(&m, invp);
	inv_model_clear(&m);
	return err;
}

enum cr_err
inv_load(const char *path, enum inv_format fmt, struct inv **invp,
    struct inv_diag *diag)
{
	struct buf b = BUF_INIT;
	enum cr_err err;
	int saved;

	*invp = NULL;
	if (file_read(path, INV_MAX_FILE, &b) != CR_OK) {
		saved = errno;
		memset(diag, 0, sizeof(*diag));
		snprintf(diag->file, sizeof(diag->file), "%s", path);
		snprintf(diag->msg, sizeof(diag->msg), "cannot read: %s",
		    saved == EFBIG ? "larger than 16 MiB" : strerror(saved));
		snprintf(diag->hint, sizeof(diag->hint), "%s",
		    saved == ENOENT ?
			"check the path given with -i" :
			"give -i a readable Ansible inventory file");
		errno = saved;
		return CR_ERR_SYS;
	}
	err = inv_parse(path, (const char *)b.data, b.len, fmt, invp, diag);
	buf_clear(&b);
	return err;
}

size_t
inv_count(const struct inv *inv)
{
	return inv->n;
}

const struct inv_node *
inv_node_at(const struct inv *inv, size_t i)
{
	return i < inv->n ? &inv->nodes[i] : NULL;
}

const struct inv_node *
inv_node_find(const struct inv *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inv->n; i++)
		if (strcmp(inv->nodes[i].name, name) == 0)
			return &inv->nodes[i];
	for (i = 0; i < inv->n; i++)
		if (strcmp(inv->nodes[i].node_name, name) == 0)
			return &inv->nodes[i];
	return NULL;
}

const char *
inv_source(const struct inv *inv)
{
	return inv->source;
}

static void
select_fail(const struct inv *inv, struct inv_diag *diag, const char *name)
{
	struct buf names = BUF_INIT;
	size_t i;

	for (i = 0; i < inv->n; i++)
		buf_printf(&names, "%s%s", i > 0 ? ", " : "",
		    inv->nodes[i].name);
	memset(diag, 0, sizeof(*diag));
	snprintf(diag->file, sizeof(diag->file), "%s", inv->source);
	if (name[0] == '\0')
		snprintf(diag->msg, sizeof(diag->msg),
		    "empty node name in the list");
	else
		snprintf(diag->msg, sizeof(diag->msg),
		    "no control-plane node '%s' in the inventory", name);
	snprintf(diag->hint, sizeof(diag->hint),
	    "the control-plane nodes are: %s", buf_cstr(&names));
	buf_clear(&names);
}

enum cr_err
inv_mark(const struct inv *inv, const char *csv, bool *keep,
    struct inv_diag *diag)
{
	const char *p = csv, *end;
	const struct inv_node *n;
	char *name;
	size_t len;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		end = p + strcspn(p, ",");
		for (len = (size_t)(end - p);
		     len > 0 && isspace((unsigned char)p[len - 1]); len--)
			;
		name = xstrndup(p, len);
		n = len > 0 ? inv_node_find(inv, name) : NULL;
		if (n == NULL) {
			select_fail(inv, diag, name);
			free(name);
			return CR_ERR_INVENTORY;
		}
		keep[n - inv->nodes] = true;
		free(name);
		if (*end == '\0')
			return CR_OK;
		p = end + 1;
	}
}

enum cr_err
inv_select(struct inv *inv, const char *csv_names, struct inv_diag *diag)
{
	bool *keep = xcalloc(inv->n + 1, sizeof(*keep));
	size_t i, j;
	enum cr_err err;

	if ((err = inv_mark(inv, csv_names, keep, diag)) != CR_OK) {
		free(keep);
		return err;
	}
	for (i = j = 0; i < inv->n; i++) {
		if (keep[i])
			inv->nodes[j++] = inv->nodes[i];
		else
			inv_node_clear(&inv->nodes[i]);
	}
	inv->n = j;
	free(keep);
	return CR_OK;
}

void
inv_diag_print(const struct inv_diag *d, FILE *fp)
{
	if (d->line > 0)
		fprintf(fp, "%s:%u:%u: %s\n", d->file, d->line, d->column,
		    d->msg);
	else
		fprintf(fp, "%s: %s\n", d->file, d->msg);
	if (d->hint[0] != '\0')
		fprintf(fp, "  hint: %s\n", d->hint);
}
