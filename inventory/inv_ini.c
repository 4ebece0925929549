/*
 * Ansible's INI inventory (ansible/plugins/inventory/ini.py): [group],
 * [group:vars] and [group:children] sections, host lines with ranges,
 * host:port and key=value variables split as shlex does, comments with '#'
 * or ';' at the start of a line. Hosts before the first section belong to
 * "ungrouped".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "inv_int.h"
#include "xmalloc.h"

enum section {
	SECTION_HOSTS = 0,
	SECTION_VARS,
	SECTION_CHILDREN,
	SECTION__MAX
};

struct ini {
	struct inv_model *m;
	size_t group; /* the current section's group */
	enum section section;
	unsigned lineno;
};

/* One line, stripped of surrounding blanks; col is s[0]'s column. */
struct line {
	char *s;
	unsigned col;
};

struct tok {
	char *text;
	unsigned col;
};

struct toks {
	struct tok *v;
	size_t n;
};

static struct inv_pos
pos_at(const struct ini *p, unsigned col)
{
	struct inv_pos pos = { p->lineno, col };

	return pos;
}

static void
toks_clear(struct toks *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static void
toks_push(struct toks *t, struct buf *b, unsigned col)
{
	size_t len;

	t->v = inv_grow(t->v, t->n, sizeof(*t->v));
	t->v[t->n].text = buf_detach(b, &len);
	t->v[t->n++].col = col;
}

/*
 * Reads one quoted part starting at s[*ip] (the quote) into b, as POSIX
 * shlex does: nothing is special between single quotes; between double
 * quotes a backslash escapes only '"' and '\'. Returns false if unclosed.
 */
static bool
read_quoted(const char *s, size_t *ip, struct buf *b)
{
	char q = s[*ip];
	size_t i = *ip + 1;

	for (; s[i] != '\0' && s[i] != q; i++) {
		if (q == '"' && s[i] == '\\' &&
		    (s[i + 1] == '"' || s[i + 1] == '\\'))
			i++;
		buf_putc(b, s[i]);
	}
	if (s[i] == '\0')
		return false;
	*ip = i + 1;
	return true;
}

static enum cr_err
tokenize_fail(struct ini *p, const struct line *ln, size_t at, bool quote)
{
	inv_fail(p->m, pos_at(p, ln->col + (unsigned)at),
	    quote ? "quote opened here is never closed" :
		    "backslash at the end of the line");
	return inv_hint(p->m,
	    quote ? "close the quote on the same line, e.g. "
		    "ansible_user=\"deploy\"" :
		    "remove the backslash; host lines do not continue "
		    "on the next line");
}

/*
 * Appends the character or quoted part at s[*ip] to b and moves past it.
 * Returns 0, or 1 for an unclosed quote, 2 for a backslash at the end.
 */
static int
tok_part(const char *s, size_t *ip, struct buf *b)
{
	char c = s[*ip];

	if (c == '\'' || c == '"')
		return read_quoted(s, ip, b) ? 0 : 1;
	if (c == '\\' && s[*ip + 1] == '\0')
		return 2;
	if (c == '\\')
		(*ip)++;
	buf_putc(b, s[(*ip)++]);
	return 0;
}

/* Splits a host line as Python's shlex.split(line, comments=True). */
static enum cr_err
tokenize(struct ini *p, const struct line *ln, struct toks *t)
{
	const char *s = ln->s;
	struct buf b = BUF_INIT;
	size_t i = 0, start = 0;
	bool in_tok = false;
	int rc;

	for (;;) {
		char c = s[i];

		if (c == '\0' || c == '#' || isspace((unsigned char)c)) {
			if (in_tok)
				toks_push(t, &b, ln->col + (unsigned)start);
			in_tok = false;
			if (c == '\0' || c == '#')
				break;
			i++;
			continue;
		}
		if (!in_tok) {
			in_tok = true;
			start = i;
		}
		if ((rc = tok_part(s, &i, &b)) != 0) {
			buf_clear(&b);
			return tokenize_fail(p, ln, i, rc == 1);
		}
	}
	buf_clear(&b);
	return CR_OK;
}

/*
 * Splits "host:port" as Ansible's parse_address(): the port follows the
 * last ':' outside range brackets when no other such ':' exists (an IPv6
 * address has several). Returns the port's offset or 0 for none; -1 when
 * the pattern ends in ':' without a port.
 */
static long
port_offset(const char *pat)
{
	size_t i, colon = 0, ncolons = 0, len = strlen(pat);
	int depth = 0;

	for (i = 0; i < len; i++) {
		if (pat[i] == '[')
			depth++;
		else if (pat[i] == ']' && depth > 0)
			depth--;
		else if (pat[i] == ':' && depth == 0) {
			colon = i;
			ncolons++;
		}
	}
	if (ncolons != 1)
		return 0;
	if (colon + 1 == len)
		return -1;
	for (i = colon + 1; i < len; i++)
		if (!isdigit((unsigned char)pat[i]))
			return 0;
	return (long)colon + 1;
}

static enum cr_err
host_var(struct ini *p, const size_t *hosts, size_t n, const struct tok *t)
{
	char *eq = strchr(t->text, '='), *key;
	struct inv_val val;
	enum cr_err err = CR_OK;
	size_t i;

	if (eq == NULL || eq == t->text) {
		inv_fail(p->m, pos_at(p, t->col),
		    eq == NULL ? "expected key=value after the host name, "
				 "got '%s'" :
				 "variable name missing in '%s'",
		    t->text);
		return inv_hint(p->m,
		    "host variables are written name=value, "
		    "e.g. cp1 ansible_host=10.0.0.11");
	}
	key = xstrndup(t->text, (size_t)(eq - t->text));
	memset(&val, 0, sizeof(val));
	val.str = eq + 1;
	val.pos = pos_at(p, t->col);
	for (i = 0; i < n && err == CR_OK; i++)
		err = inv_model_host_var(p->m, hosts[i], key, &val);
	free(key);
	return err;
}

static enum cr_err
check_pattern(struct ini *p, const struct tok *t, long port)
{
	if (strcmp(t->text, "---") == 0) {
		inv_fail(p->m, pos_at(p, t->col),
		    "'---' is not a host name: this looks like YAML");
		return inv_hint(p->m,
		    "read the file as YAML (--format yaml), "
		    "or leave the format to certroll");
	}
	if (port == -1) {
		inv_fail(p->m, pos_at(p, t->col),
		    "host '%s' ends with ':' but has no port", t->text);
		return inv_hint(p->m,
		    "write host:port, e.g. cp1:2222, or "
		    "drop the ':'");
	}
	return CR_OK;
}

/* Adds the hosts of pattern t (with its port, if any) to the section. */
static enum cr_err
add_hosts(struct ini *p, const struct tok *t, size_t **hostsp, size_t *np)
{
	long port = port_offset(t->text);
	char *pat = NULL, **names = NULL;
	struct inv_val val;
	size_t n = 0, i;
	enum cr_err err;

	if ((err = check_pattern(p, t, port)) != CR_OK)
		return err;
	pat = xstrndup(t->text, port > 0 ? (size_t)port - 1 : strlen(t->text));
	err = inv_range_expand(p->m, pat, pos_at(p, t->col), &names, &n);
	*hostsp = xcalloc(n + 1, sizeof(**hostsp));
	for (i = 0; i < n && err == CR_OK; i++)
		err = inv_model_host(p->m, names[i], p->group,
		    pos_at(p, t->col), &(*hostsp)[i]);
	*np = n;
	memset(&val, 0, sizeof(val));
	val.str = t->text + (port > 0 ? port : 0);
	val.pos = pos_at(p, t->col + (unsigned)(port > 0 ? port : 0));
	/* Ansible stores host:port as the host variable ansible_port. */
	for (i = 0; port > 0 && i < n && err == CR_OK; i++)
		err = inv_model_host_var(p->m, (*hostsp)[i], "ansible_port",
		    &val);
	inv_names_free(names, n);
	free(pat);
	return err;
}

static enum cr_err
hosts_line(struct ini *p, const struct line *ln)
{
	struct toks t = { NULL, 0 };
	size_t *hosts = NULL, n = 0, i;
	enum cr_err err;

	if ((err = tokenize(p, ln, &t)) != CR_OK)
		goto out;
	if (t.n == 0)
		goto out;
	if (t.v[0].text[0] == '\0') {
		inv_fail(p->m, pos_at(p, t.v[0].col), "empty host name");
		err = inv_hint(p->m, "a host line starts with the host's name");
		goto out;
	}
	if ((err = add_hosts(p, &t.v[0], &hosts, &n)) != CR_OK)
		goto out;
	for (i = 1; i < t.n && err == CR_OK; i++)
		err = host_var(p, hosts, n, &t.v[i]);
out:
	free(hosts);
	toks_clear(&t);
	return err;
}

/* Cuts a comment that starts with '#' after a blank, then trailing blanks. */
static void
cut_comment(char *s)
{
	size_t i, len;

	for (i = 1; s[0] != '\0' && s[i] != '\0'; i++) {
		if (s[i] == '#' && isspace((unsigned char)s[i - 1])) {
			s[i] = '\0';
			break;
		}
	}
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
}

/*
 * A [group:vars] value: a quoted string is unquoted when nothing but a
 * comment follows it (as Python's literal_eval in Ansible does); anything
 * else is the text up to a " #" comment.
 */
static char *
vars_value(const char *s)
{
	struct buf b = BUF_INIT;
	size_t i = 0, len;
	char *v;

	if ((s[0] == '"' || s[0] == '\'') && read_quoted(s, &i, &b)) {
		while (isspace((unsigned char)s[i]))
			i++;
		if (s[i] == '\0' || s[i] == '#')
			return buf_detach(&b, &len);
	}
	buf_clear(&b);
	v = xstrdup(s);
	cut_comment(v);
	return v;
}

static enum cr_err
vars_line(struct ini *p, const struct line *ln)
{
	char *eq = strchr(ln->s, '='), *key, *value;
	struct inv_val val;
	size_t klen;
	enum cr_err err;

	if (eq == NULL) {
		inv_fail(p->m, pos_at(p, ln->col),
		    "expected key=value in [%s:vars], got '%s'",
		    p->m->groups[p->group].name, ln->s);
		return inv_hint(p->m,
		    "write one variable per line, e.g. "
		    "ansible_user=deploy");
	}
	for (klen = (size_t)(eq - ln->s);
	     klen > 0 && isspace((unsigned char)ln->s[klen - 1]); klen--)
		;
	if (klen == 0) {
		inv_fail(p->m, pos_at(p, ln->col),
		    "variable name missing in '%s'", ln->s);
		return inv_hint(p->m,
		    "write one variable per line, e.g. "
		    "ansible_user=deploy");
	}
	for (eq++; isspace((unsigned char)*eq); eq++)
		;
	key = xstrndup(ln->s, klen);
	value = vars_value(eq);
	memset(&val, 0, sizeof(val));
	val.str = value;
	val.pos = pos_at(p, ln->col);
	err = inv_model_group_var(p->m, p->group, key, &val);
	free(key);
	free(value);
	return err;
}

/* Group names: no blanks, ':' or ']' (Ansible's groupname pattern). */
static size_t
group_name_len(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && s[i] != ':' && s[i] != ']' &&
	     !isspace((unsigned char)s[i]);
	     i++)
		;
	return i;
}

/* True if only blanks and an optional '#' comment start at s. */
static bool
only_comment(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0' || *s == '#';
}

static enum cr_err
children_line(struct ini *p, const struct line *ln)
{
	size_t len = group_name_len(ln->s), child;
	char *name;
	enum cr_err err;

	if (len == 0 || !only_comment(ln->s + len)) {
		inv_fail(p->m, pos_at(p, ln->col),
		    "expected a group name in [%s:children], got '%s'",
		    p->m->groups[p->group].name, ln->s);
		return inv_hint(p->m,
		    "list one group per line; hosts go in "
		    "a [%s] section",
		    p->m->groups[p->group].name);
	}
	name = xstrndup(ln->s, len);
	err = inv_model_group(p->m, name, pos_at(p, ln->col), &child);
	free(name);
	if (err == CR_OK)
		err = inv_model_child(p->m, p->group, child,
		    pos_at(p, ln->col));
	return err;
}

static const struct {
	const char *tag;
	enum section section;
} tags[] = {
	{ "hosts", SECTION_HOSTS },
	{ "vars", SECTION_VARS },
	{ "children", SECTION_CHILDREN },
};

static enum cr_err
header_fail(struct ini *p, const struct line *ln)
{
	if (strchr(ln->s, ']') == NULL) {
		inv_fail(p->m, pos_at(p, ln->col),
		    "unterminated section header '%s'", ln->s);
		return inv_hint(p->m,
		    "close the header with ']': [NAME], "
		    "[NAME:vars] or [NAME:children]");
	}
	inv_fail(p->m, pos_at(p, ln->col), "invalid section header '%s'",
	    ln->s);
	return inv_hint(p->m,
	    "a section header is [NAME], [NAME:vars] or "
	    "[NAME:children] on a line of its own; NAME has "
	    "no blanks, ':' or ']'");
}

static enum cr_err
tag_section(struct ini *p, const struct line *ln, const char *tag, size_t len,
    enum section *sectionp)
{
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (strlen(tags[i].tag) == len &&
		    strncmp(tags[i].tag, tag, len) == 0) {
			*sectionp = tags[i].section;
			return CR_OK;
		}
	}
	inv_fail(p->m, pos_at(p, ln->col),
	    "unknown section type '%.*s' in '%s'", (int)len, tag, ln->s);
	return inv_hint(p->m,
	    "a section is [NAME] for hosts, [NAME:vars] or "
	    "[NAME:children]");
}

/* "[name]", "[name:tag]", then blanks and an optional comment. */
static enum cr_err
header_line(struct ini *p, const struct line *ln)
{
	const char *s = ln->s + 1, *tag = NULL;
	size_t len = group_name_len(s), tlen = 0;
	enum section section = SECTION_HOSTS;
	char *name;
	enum cr_err err;

	if (s[len] == ':') {
		tag = s + len + 1;
		while (isalnum((unsigned char)tag[tlen]) || tag[tlen] == '_')
			tlen++;
	}
	if (len == 0 || (tag != NULL && tlen == 0) ||
	    (tag != NULL ? tag[tlen] : s[len]) != ']' ||
	    !only_comment((tag != NULL ? tag + tlen : s + len) + 1))
		return header_fail(p, ln);
	if (tag != NULL &&
	    (err = tag_section(p, ln, tag, tlen, &section)) != CR_OK)
		return err;
	name = xstrndup(s, len);
	err = inv_model_group(p->m, name, pos_at(p, ln->col), &p->group);
	free(name);
	if (err != CR_OK)
		return err;
	p->section = section;
	if (section != SECTION_VARS)
		p->m->groups[p->group].declared = true;
	return CR_OK;
}

static enum cr_err (*const handlers[SECTION__MAX])(struct ini *,
    const struct line *) = {
	[SECTION_HOSTS] = hosts_line,
	[SECTION_VARS] = vars_line,
	[SECTION_CHILDREN] = children_line,
};

static enum cr_err
parse_line(struct ini *p, char *s)
{
	struct line ln;
	size_t len;

	ln.col = 1;
	while (isspace((unsigned char)*s)) {
		s++;
		ln.col++;
	}
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	ln.s = s;
	if (*s == '\0' || *s == '#' || *s == ';')
		return CR_OK;
	if (*s == '[')
		return header_line(p, &ln);
	return handlers[p->section](p, &ln);
}

/* Groups named in [x:vars] or [x:children] need a section of their own. */
static enum cr_err
check_declared(struct ini *p)
{
	size_t i;

	for (i = 0; i < p->m->ngroups; i++) {
		const struct inv_group *g = &p->m->groups[i];

		if (g->declared || strcmp(g->name, "all") == 0 ||
		    strcmp(g->name, "ungrouped") == 0)
			continue;
		inv_fail(p->m, g->pos,
		    "group '%s' is used here but never "
		    "defined",
		    g->name);
		return inv_hint(p->m,
		    "add a [%s] section (it may be empty), "
		    "or remove the reference",
		    g->name);
	}
	return CR_OK;
}

enum cr_err
inv_ini_parse(struct inv_model *m, const char *data, size_t len)
{
	struct ini p;
	const char *end = data + len, *nl;
	char *line;
	size_t n;
	enum cr_err err = CR_OK;

	memset(&p, 0, sizeof(p));
	p.m = m;
	err = inv_model_group(m, "ungrouped", pos_at(&p, 0), &p.group);
	p.section = SECTION_HOSTS;
	while (data < end && err == CR_OK) {
		nl = memchr(data, '\n', (size_t)(end - data));
		n = nl != NULL ? (size_t)(nl - data) : (size_t)(end - data);
		p.lineno++;
		line = xstrndup(data, n);
		err = parse_line(&p, line);
		free(line);
		data += n + (nl != NULL);
	}
	if (err == CR_OK)
		err = check_declared(&p);
	return err;
}
