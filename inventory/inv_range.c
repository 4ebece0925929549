/*
 * Ansible host ranges: "cp[1:3]", "cp[01:03]" (the padding is kept),
 * "cp-[a:c]", "cp[1:10:2]" (a stride), and several ranges in one name
 * (expanded left to right, as Ansible's expand_hostname_range() does).
 * Unlike Ansible, a range that ends before it begins is an error rather
 * than no hosts at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "inv_int.h"
#include "xmalloc.h"

#define RANGE_MAX_DIGITS 18

static const char letters[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

struct range {
	size_t open, close; /* offsets of '[' and ']' in the pattern */
	bool alpha;
	unsigned long long beg, end, step;
	int width; /* zero padding; 0 for none */
};

struct expand {
	struct inv_model *m;
	const char *pat;
	struct inv_pos pos;
	struct buf name;
	char **names;
	size_t n;
};

static enum cr_err
range_fail(struct expand *ex, const struct range *r, const char *what)
{
	struct inv_pos at = ex->pos;

	at.column += (unsigned)r->open;
	inv_fail(ex->m, at, "bad range '%.*s' in '%s': %s",
	    (int)(r->close - r->open + 1), ex->pat + r->open, ex->pat, what);
	return inv_hint(ex->m,
	    "ranges are [BEGIN:END] or [BEGIN:END:STEP], "
	    "e.g. cp[1:3], cp[01:10:2], cp-[a:c]");
}

/* Parses len bytes of digits; false if empty, not digits or too long. */
static bool
parse_number(const char *s, size_t len, unsigned long long *vp)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > RANGE_MAX_DIGITS)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*vp = v;
	return true;
}

static bool
parse_letter(const char *s, size_t len, unsigned long long *vp)
{
	const char *p;

	if (len != 1 || s[0] == '\0' || (p = strchr(letters, s[0])) == NULL)
		return false;
	*vp = (unsigned long long)(p - letters);
	return true;
}

/* Splits "BEGIN:END[:STEP]" at its colons; returns the number of parts. */
static size_t
split_bounds(const char *s, size_t len, const char *part[3], size_t plen[3])
{
	size_t n = 0, i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ':')
			continue;
		if (n == 3)
			return 4;
		part[n] = s + start;
		plen[n++] = i - start;
		start = i + 1;
	}
	return n;
}

static enum cr_err
parse_bounds(struct expand *ex, struct range *r)
{
	const char *s = ex->pat + r->open + 1, *part[3];
	size_t plen[3], n = split_bounds(s, r->close - r->open - 1, part, plen);
	bool num;

	if (n != 2 && n != 3)
		return range_fail(ex, r,
		    "expected BEGIN:END or BEGIN:END:STEP");
	if (plen[1] == 0)
		return range_fail(ex, r, "END is missing");
	r->step = 1;
	if (n == 3 &&
	    (!parse_number(part[2], plen[2], &r->step) || r->step == 0))
		return range_fail(ex, r, "STEP must be a number of at least 1");
	/* An empty BEGIN means 0, as in Ansible. */
	num = plen[0] == 0 || parse_number(part[0], plen[0], &r->beg);
	if (num && parse_number(part[1], plen[1], &r->end)) {
		if (plen[0] > 1 && part[0][0] == '0') {
			if (plen[0] != plen[1])
				return range_fail(ex, r,
				    "a zero-padded BEGIN needs an END of the "
				    "same width");
			r->width = (int)plen[0];
		}
	} else if (parse_letter(part[0], plen[0], &r->beg) &&
	    parse_letter(part[1], plen[1], &r->end)) {
		r->alpha = true;
	} else {
		return range_fail(ex, r,
		    "BEGIN and END must both be numbers or both letters");
	}
	if (r->beg > r->end)
		return range_fail(ex, r, "it ends before it begins");
	return CR_OK;
}

static enum cr_err
emit(struct expand *ex, size_t from)
{
	struct inv_pos at = ex->pos;
	enum cr_err err;

	if ((err = inv_model_work(ex->m, 1, at)) != CR_OK)
		return err;
	if (ex->n >= INV_MAX_HOSTS) {
		inv_fail(ex->m, at,
		    "host pattern '%s' expands to more than "
		    "%u hosts",
		    ex->pat, INV_MAX_HOSTS);
		return inv_hint(ex->m,
		    "certroll needs only the control-plane "
		    "hosts; narrow the range");
	}
	ex->names = inv_grow(ex->names, ex->n, sizeof(*ex->names));
	ex->names[ex->n++] = xasprintf("%s%s", buf_cstr(&ex->name),
	    ex->pat + from);
	return CR_OK;
}

static void
name_truncate(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/* Expands the pattern from offset from, after the prefix in ex->name. */
static enum cr_err
expand_from(struct expand *ex, size_t from)
{
	const char *open = strchr(ex->pat + from, '['), *close;
	struct range r;
	unsigned long long v;
	size_t keep = ex->name.len;
	enum cr_err err = CR_OK;

	if (open == NULL)
		return emit(ex, from);
	memset(&r, 0, sizeof(r));
	r.open = (size_t)(open - ex->pat);
	if ((close = strchr(open, ']')) == NULL) {
		r.close = strlen(ex->pat) - 1;
		return range_fail(ex, &r, "no closing ']'");
	}
	r.close = (size_t)(close - ex->pat);
	if ((err = parse_bounds(ex, &r)) != CR_OK)
		return err;
	for (v = r.beg; v <= r.end && err == CR_OK; v += r.step) {
		buf_put(&ex->name, ex->pat + from, r.open - from);
		if (r.alpha)
			buf_putc(&ex->name, letters[v]);
		else
			buf_printf(&ex->name, "%0*llu", r.width, v);
		err = expand_from(ex, r.close + 1);
		name_truncate(&ex->name, keep);
	}
	return err;
}

enum cr_err
inv_range_expand(struct inv_model *m, const char *pattern, struct inv_pos pos,
    char ***namesp, size_t *np)
{
	struct expand ex;
	enum cr_err err;

	*namesp = NULL;
	*np = 0;
	memset(&ex, 0, sizeof(ex));
	ex.m = m;
	ex.pat = pattern;
	ex.pos = pos;
	if ((err = expand_from(&ex, 0)) != CR_OK) {
		inv_names_free(ex.names, ex.n);
		buf_clear(&ex.name);
		return err;
	}
	buf_clear(&ex.name);
	*namesp = ex.names;
	*np = ex.n;
	return CR_OK;
}

void
inv_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
