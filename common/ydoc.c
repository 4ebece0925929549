#include "ydoc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "xmalloc.h"

struct anchor {
	char *name;
	struct ydoc_node *node;
};

struct ydoc {
	struct ydoc_node **all; /* every node, for ydoc_free() */
	size_t nall;
	struct ydoc_node **roots;
	size_t nroots;
	struct anchor *anchors; /* of the document being parsed */
	size_t nanchors;
};

struct frame {
	struct ydoc_node *node;
	struct ydoc_node *key; /* mappings: key waiting for its value */
};

struct parser {
	struct ydoc *doc;
	struct frame stack[YDOC_MAX_DEPTH];
	size_t depth;
	struct ydoc_diag *diag;
};

static void
set_diag(struct ydoc_diag *diag, const yaml_mark_t *mark, const char *msg)
{
	if (diag == NULL)
		return;
	diag->line = mark != NULL ? (unsigned)mark->line + 1 : 0;
	diag->col = mark != NULL ? (unsigned)mark->column + 1 : 0;
	snprintf(diag->msg, sizeof(diag->msg), "%s", msg);
}

static void
push_ptr(void *arrayp, size_t *np, const void *elem, size_t size)
{
	char **array = arrayp;

	*array = xreallocarray(*array, *np + 1, size);
	memcpy(*array + *np * size, elem, size);
	(*np)++;
}

static struct ydoc_node *
node_new(struct ydoc *doc, enum ydoc_type type, const yaml_mark_t *mark)
{
	struct ydoc_node *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = (unsigned)mark->line + 1;
	n->col = (unsigned)mark->column + 1;
	push_ptr(&doc->all, &doc->nall, &n, sizeof(struct ydoc_node *));
	return n;
}

static void
anchors_clear(struct ydoc *doc)
{
	size_t i;

	for (i = 0; i < doc->nanchors; i++)
		free(doc->anchors[i].name);
	free(doc->anchors);
	doc->anchors = NULL;
	doc->nanchors = 0;
}

static void
anchor_add(struct ydoc *doc, const yaml_char_t *name, struct ydoc_node *n)
{
	struct anchor a;

	if (name == NULL)
		return;
	a.name = xstrdup((const char *)name);
	a.node = n;
	push_ptr(&doc->anchors, &doc->nanchors, &a, sizeof(a));
}

static struct ydoc_node *
anchor_find(const struct ydoc *doc, const yaml_char_t *name)
{
	size_t i = doc->nanchors;

	/* The latest definition of a repeated anchor name wins. */
	while (i-- > 0)
		if (strcmp(doc->anchors[i].name, (const char *)name) == 0)
			return doc->anchors[i].node;
	return NULL;
}

static void
attach(struct parser *p, struct ydoc_node *n)
{
	struct frame *top;
	struct ydoc_pair pair;

	if (p->depth == 0) {
		push_ptr(&p->doc->roots, &p->doc->nroots, &n,
		    sizeof(struct ydoc_node *));
		return;
	}
	top = &p->stack[p->depth - 1];
	if (top->node == NULL)
		return; /* cannot happen: open_container() sets it */
	if (top->node->type == YDOC_SEQ) {
		push_ptr(&top->node->items, &top->node->nitems, &n,
		    sizeof(struct ydoc_node *));
	} else if (top->key == NULL) {
		top->key = n;
	} else {
		pair.key = top->key;
		pair.val = n;
		push_ptr(&top->node->pairs, &top->node->npairs, &pair,
		    sizeof(pair));
		top->key = NULL;
	}
}

static struct ydoc_node *
scalar_new(struct parser *p, const yaml_event_t *ev)
{
	struct ydoc_node *n = node_new(p->doc, YDOC_SCALAR, &ev->start_mark);
	yaml_scalar_style_t style = ev->data.scalar.style;

	n->len = ev->data.scalar.length;
	n->value = xmalloc(n->len + 1);
	memcpy(n->value, ev->data.scalar.value, n->len);
	n->value[n->len] = '\0';
	n->quoted = style != YAML_PLAIN_SCALAR_STYLE &&
	    style != YAML_ANY_SCALAR_STYLE;
	anchor_add(p->doc, ev->data.scalar.anchor, n);
	return n;
}

static int
open_container(struct parser *p, const yaml_event_t *ev, enum ydoc_type t)
{
	const yaml_char_t *anchor = t == YDOC_SEQ ?
	    ev->data.sequence_start.anchor :
	    ev->data.mapping_start.anchor;
	struct ydoc_node *n;

	if (p->depth >= YDOC_MAX_DEPTH) {
		set_diag(p->diag, &ev->start_mark, "nesting too deep");
		return -1;
	}
	n = node_new(p->doc, t, &ev->start_mark);
	anchor_add(p->doc, anchor, n);
	attach(p, n);
	p->stack[p->depth].node = n;
	p->stack[p->depth].key = NULL;
	p->depth++;
	return 0;
}

static int
handle_alias(struct parser *p, const yaml_event_t *ev)
{
	struct ydoc_node *n = anchor_find(p->doc, ev->data.alias.anchor);

	if (n == NULL) {
		set_diag(p->diag, &ev->start_mark, "unknown alias");
		return -1;
	}
	attach(p, n);
	return 0;
}

/* Returns 1 at the end of the stream, 0 to go on, -1 on error. */
static int
handle_event(struct parser *p, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		anchors_clear(p->doc);
		return 0;
	case YAML_SCALAR_EVENT:
		attach(p, scalar_new(p, ev));
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		return open_container(p, ev, YDOC_SEQ);
	case YAML_MAPPING_START_EVENT:
		return open_container(p, ev, YDOC_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		p->depth--;
		return 0;
	case YAML_ALIAS_EVENT:
		return handle_alias(p, ev);
	default:
		return 0;
	}
}

static void
parser_error(const yaml_parser_t *yp, struct ydoc_diag *diag)
{
	char msg[160];

	if (yp->context != NULL)
		snprintf(msg, sizeof(msg), "%s %s", yp->problem, yp->context);
	else
		snprintf(msg, sizeof(msg), "%s",
		    yp->problem != NULL ? yp->problem : "invalid YAML");
	set_diag(diag, &yp->problem_mark, msg);
}

static int
parse_events(yaml_parser_t *yp, struct parser *p)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		if (!yaml_parser_parse(yp, &ev)) {
			parser_error(yp, p->diag);
			return -1;
		}
		rc = handle_event(p, &ev);
		yaml_event_delete(&ev);
		if (rc == 0 && p->doc->nall > YDOC_MAX_NODES) {
			set_diag(p->diag, NULL, "document has too many nodes");
			rc = -1;
		}
		if (rc != 0)
			return rc > 0 ? 0 : -1;
	}
}

enum cr_err
ydoc_parse(const char *data, size_t len, struct ydoc **docp,
    struct ydoc_diag *diag)
{
	yaml_parser_t yp;
	struct parser p;
	struct ydoc *doc = xcalloc(1, sizeof(*doc));
	int rc;

	*docp = NULL;
	memset(&p, 0, sizeof(p));
	p.doc = doc;
	p.diag = diag;
	if (!yaml_parser_initialize(&yp)) {
		set_diag(diag, NULL, "cannot initialise the YAML parser");
		ydoc_free(doc);
		return CR_ERR_CONFIG;
	}
	/* libyaml asserts on a NULL input, which an empty struct buf holds. */
	yaml_parser_set_input_string(&yp,
	    (const unsigned char *)(data != NULL ? data : ""), len);
	rc = parse_events(&yp, &p);
	yaml_parser_delete(&yp);
	anchors_clear(doc);
	if (rc != 0) {
		ydoc_free(doc);
		return CR_ERR_CONFIG;
	}
	*docp = doc;
	return CR_OK;
}

void
ydoc_free(struct ydoc *doc)
{
	size_t i;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->nall; i++) {
		struct ydoc_node *n = doc->all[i];

		if (n->value != NULL)
			freezero(n->value, n->len);
		free(n->items);
		free(n->pairs);
		free(n);
	}
	free(doc->all);
	free(doc->roots);
	anchors_clear(doc);
	free(doc);
}

size_t
ydoc_count(const struct ydoc *doc)
{
	return doc->nroots;
}

struct ydoc_node *
ydoc_root(const struct ydoc *doc, size_t i)
{
	return i < doc->nroots ? doc->roots[i] : NULL;
}

const struct ydoc_pair *
ydoc_get_pair(const struct ydoc_node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != YDOC_MAP)
		return NULL;
	for (i = map->npairs; i-- > 0;) {
		const struct ydoc_node *k = map->pairs[i].key;

		if (k->type == YDOC_SCALAR && strcmp(k->value, key) == 0)
			return &map->pairs[i];
	}
	return NULL;
}

struct ydoc_node *
ydoc_get(const struct ydoc_node *map, const char *key)
{
	const struct ydoc_pair *pair = ydoc_get_pair(map, key);

	return pair != NULL ? pair->val : NULL;
}

const char *
ydoc_scalar(const struct ydoc_node *node)
{
	return node != NULL && node->type == YDOC_SCALAR ? node->value : NULL;
}

bool
ydoc_is_null(const struct ydoc_node *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (node == NULL || node->type != YDOC_SCALAR || node->quoted)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(node->value, nulls[i]) == 0)
			return true;
	return false;
}

bool
ydoc_bool(const struct ydoc_node *node, bool *outp)
{
	static const char *const yes[] = { "true", "yes", "on", "y", "1", "t" };
	static const char *const no[] = { "false", "no", "off", "n", "0", "f" };
	const char *s = ydoc_scalar(node);
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*outp = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*outp = false;
			return true;
		}
	}
	return false;
}

const char *
ydoc_type_name(enum ydoc_type type)
{
	switch (type) {
	case YDOC_SCALAR:
		return "scalar";
	case YDOC_SEQ:
		return "sequence";
	case YDOC_MAP:
		return "mapping";
	}
	return "node";
}

static struct ydoc_node *
scalar_make(struct ydoc *doc, const char *value, bool quoted)
{
	static const yaml_mark_t nowhere;
	struct ydoc_node *n = node_new(doc, YDOC_SCALAR, &nowhere);

	n->value = xstrdup(value);
	n->len = strlen(value);
	n->quoted = quoted;
	return n;
}

void
ydoc_set_scalar(struct ydoc *doc, struct ydoc_node *map, const char *key,
    const char *value, bool quoted)
{
	struct ydoc_pair pair;
	size_t i;

	for (i = map->npairs; i-- > 0;) {
		const struct ydoc_node *k = map->pairs[i].key;

		if (k->type == YDOC_SCALAR && strcmp(k->value, key) == 0) {
			map->pairs[i].val = scalar_make(doc, value, quoted);
			return;
		}
	}
	pair.key = scalar_make(doc, key, false);
	pair.val = scalar_make(doc, value, quoted);
	push_ptr(&map->pairs, &map->npairs, &pair, sizeof(pair));
}

bool
ydoc_remove(struct ydoc_node *map, const char *key)
{
	bool found = false;
	size_t i, j;

	if (map == NULL || map->type != YDOC_MAP)
		return false;
	for (i = j = 0; i < map->npairs; i++) {
		const struct ydoc_node *k = map->pairs[i].key;

		if (k->type == YDOC_SCALAR && strcmp(k->value, key) == 0) {
			found = true;
			continue;
		}
		map->pairs[j++] = map->pairs[i];
	}
	map->npairs = j;
	return found;
}

struct emitter {
	yaml_emitter_t e;
	size_t budget; /* nodes left; aliases could otherwise explode */
};

static int
write_handler(void *data, unsigned char *buffer, size_t size)
{
	buf_put(data, buffer, size);
	return 1;
}

static int emit_node(struct emitter *em, const struct ydoc_node *n,
    unsigned depth);

static int
emit_event(struct emitter *em, yaml_event_t *ev, int ok)
{
	return ok && yaml_emitter_emit(&em->e, ev) ? 0 : -1;
}

static int
emit_scalar(struct emitter *em, const struct ydoc_node *n)
{
	yaml_event_t ev;
	int ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)n->value, (int)n->len, 1, 1,
	    n->quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE :
			YAML_ANY_SCALAR_STYLE);

	return emit_event(em, &ev, ok);
}

/* Recursion is bounded: emit_node() refuses depth > YDOC_MAX_DEPTH. */
static int
/* NOLINTNEXTLINE(misc-no-recursion) */
emit_children(struct emitter *em, const struct ydoc_node *n, unsigned depth)
{
	size_t i;

	if (n->type == YDOC_SEQ) {
		for (i = 0; i < n->nitems; i++)
			if (emit_node(em, n->items[i], depth + 1) == -1)
				return -1;
		return 0;
	}
	for (i = 0; i < n->npairs; i++)
		if (emit_node(em, n->pairs[i].key, depth + 1) == -1 ||
		    emit_node(em, n->pairs[i].val, depth + 1) == -1)
			return -1;
	return 0;
}

static int
/* NOLINTNEXTLINE(misc-no-recursion) */
emit_node(struct emitter *em, const struct ydoc_node *n, unsigned depth)
{
	yaml_event_t ev;
	int ok;

	if (depth > YDOC_MAX_DEPTH || em->budget-- == 0)
		return -1;
	if (n->type == YDOC_SCALAR)
		return emit_scalar(em, n);
	if (n->type == YDOC_SEQ)
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_SEQUENCE_STYLE);
	else
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE);
	if (emit_event(em, &ev, ok) == -1 || emit_children(em, n, depth) == -1)
		return -1;
	if (n->type == YDOC_SEQ)
		ok = yaml_sequence_end_event_initialize(&ev);
	else
		ok = yaml_mapping_end_event_initialize(&ev);
	return emit_event(em, &ev, ok);
}

/* Without "---", libyaml writes nothing for it and the document is lost. */
static bool
empty_root(const struct ydoc_node *n)
{
	return n->type == YDOC_SCALAR && n->len == 0 && !n->quoted;
}

static int
emit_all(struct emitter *em, const struct ydoc *doc)
{
	yaml_event_t ev;
	size_t i;

	if (emit_event(em, &ev,
		yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING)) ==
	    -1)
		return -1;
	for (i = 0; i < doc->nroots; i++) {
		if (emit_event(em, &ev,
			yaml_document_start_event_initialize(&ev, NULL, NULL,
			    NULL, i == 0 && !empty_root(doc->roots[i]))) ==
			-1 ||
		    emit_node(em, doc->roots[i], 0) == -1 ||
		    emit_event(em, &ev,
			yaml_document_end_event_initialize(&ev, 1)) == -1)
			return -1;
	}
	return emit_event(em, &ev, yaml_stream_end_event_initialize(&ev));
}

enum cr_err
ydoc_emit(const struct ydoc *doc, struct buf *out)
{
	struct emitter em;
	int rc;

	memset(&em, 0, sizeof(em));
	em.budget = (size_t)YDOC_MAX_NODES * 4;
	if (!yaml_emitter_initialize(&em.e))
		return CR_ERR_CONFIG;
	yaml_emitter_set_output(&em.e, write_handler, out);
	yaml_emitter_set_width(&em.e, -1);
	yaml_emitter_set_unicode(&em.e, 1);
	rc = emit_all(&em, doc);
	yaml_emitter_delete(&em.e);
	return rc == 0 ? CR_OK : CR_ERR_CONFIG;
}
