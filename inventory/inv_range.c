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
	int width;                /* zero padding; 0 for none */
	unsigned long long count; /* values in the range */
};

struct expand {
	struct inv_model *m;
	const char *pat;
	struct inv_pos pos;
	struct range *r;
	size_t nr;
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

/*
 * BEGIN and END as numbers (an empty BEGIN means 0, as in Ansible; a
 * zero-padded BEGIN sets the width) or as letters. Returns the problem or
 * NULL.
 */
static const char *
parse_ends(struct range *r, const char *const part[3], const size_t plen[3])
{
	bool num = plen[0] == 0 || parse_number(part[0], plen[0], &r->beg);

	if (num && parse_number(part[1], plen[1], &r->end)) {
		if (plen[0] > 1 && part[0][0] == '0') {
			if (plen[0] != plen[1])
				return "a zero-padded BEGIN needs an END of "
				       "the same width";
			r->width = (int)plen[0];
		}
		return NULL;
	}
	if (parse_letter(part[0], plen[0], &r->beg) &&
	    parse_letter(part[1], plen[1], &r->end)) {
		r->alpha = true;
		return NULL;
	}
	return "BEGIN and END must both be numbers or both letters";
}

static enum cr_err
parse_bounds(struct expand *ex, struct range *r)
{
	const char *s = ex->pat + r->open + 1, *part[3], *problem;
	size_t plen[3], n = split_bounds(s, r->close - r->open - 1, part, plen);

	if (n != 2 && n != 3)
		return range_fail(ex, r,
		    "expected BEGIN:END or BEGIN:END:STEP");
	if (plen[1] == 0)
		return range_fail(ex, r, "END is missing");
	r->step = 1;
	if (n == 3 &&
	    (!parse_number(part[2], plen[2], &r->step) || r->step == 0))
		return range_fail(ex, r, "STEP must be a number of at least 1");
	if ((problem = parse_ends(r, part, plen)) != NULL)
		return range_fail(ex, r, problem);
	if (r->beg > r->end)
		return range_fail(ex, r, "it ends before it begins");
	r->count = (r->end - r->beg) / r->step + 1;
	return CR_OK;
}

/* Finds and checks every range, left to right. */
static enum cr_err
parse_ranges(struct expand *ex)
{
	const char *open, *close;
	struct range *r;
	size_t from = 0;
	enum cr_err err;

	while ((open = strchr(ex->pat + from, '[')) != NULL) {
		ex->r = inv_grow(ex->r, ex->nr, sizeof(*ex->r));
		r = &ex->r[ex->nr++];
		memset(r, 0, sizeof(*r));
		r->open = (size_t)(open - ex->pat);
		if ((close = strchr(open, ']')) == NULL) {
			r->close = strlen(ex->pat) - 1;
			return range_fail(ex, r, "no closing ']'");
		}
		r->close = (size_t)(close - ex->pat);
		if ((err = parse_bounds(ex, r)) != CR_OK)
			return err;
		from = r->close + 1;
	}
	return CR_OK;
}

/* The number of names, refused above INV_MAX_HOSTS before any is made. */
static enum cr_err
count_names(struct expand *ex, size_t *np)
{
	unsigned long long n = 1;
	size_t i;

	for (i = 0; i < ex->nr; i++) {
		if (ex->r[i].count > INV_MAX_HOSTS ||
		    n * ex->r[i].count > INV_MAX_HOSTS) {
			inv_fail(ex->m, ex->pos,
			    "host pattern '%s' expands to more than %u hosts",
			    ex->pat, INV_MAX_HOSTS);
			return inv_hint(ex->m,
			    "certroll needs only the "
			    "control-plane hosts; narrow "
			    "the range");
		}
		n *= ex->r[i].count;
	}
	*np = (size_t)n;
	return inv_model_work(ex->m, (size_t)n, ex->pos);
}

/* Name number k: the rightmost range varies fastest, as in Ansible. */
static char *
make_name(const struct expand *ex, size_t k)
{
	struct buf b = BUF_INIT;
	unsigned long long *idx = xcalloc(ex->nr + 1, sizeof(*idx));
	size_t i = ex->nr, from = 0, len;
	char *name;

	while (i-- > 0) {
		idx[i] = k % ex->r[i].count;
		k /= ex->r[i].count;
	}
	for (i = 0; i < ex->nr; i++) {
		const struct range *r = &ex->r[i];
		unsigned long long v = r->beg + idx[i] * r->step;

		buf_put(&b, ex->pat + from, r->open - from);
		if (r->alpha)
			buf_putc(&b, letters[v]);
		else
			buf_printf(&b, "%0*llu", r->width, v);
		from = r->close + 1;
	}
	buf_puts(&b, ex->pat + from);
	free(idx);
	name = buf_detach(&b, &len);
	return name;
}

enum cr_err
inv_range_expand(struct inv_model *m, const char *pattern, struct inv_pos pos,
    char ***namesp, size_t *np)
{
	struct expand ex;
	enum cr_err err;
	size_t n = 0, k;

	*namesp = NULL;
	*np = 0;
	memset(&ex, 0, sizeof(ex));
	ex.m = m;
	ex.pat = pattern;
	ex.pos = pos;
	if ((err = parse_ranges(&ex)) == CR_OK &&
	    (err = count_names(&ex, &n)) == CR_OK) {
		*namesp = xcalloc(n, sizeof(**namesp));
		for (k = 0; k < n; k++)
			(*namesp)[k] = make_name(&ex, k);
		*np = n;
	}
	free(ex.r);
	return err;
}

void
inv_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
