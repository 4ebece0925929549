/*
 * libFuzzer target: common/ydoc.h's parser and emitter on arbitrary bytes.
 * Seeds: tests/fuzz/corpus/ydoc (kubeconfigs, kubeadm and kubelet
 * configuration, static pod manifests, inventories, edge cases).
 *
 * Contract checked beyond memory safety:
 *   - a failed parse leaves no document and says where and why;
 *   - what parses emits (unless it exceeds the emitter's limits, which only
 *     aliases can make it do), and the emitted text parses again into the
 *     same tree: the same types, the same scalar bytes, and the same
 *     meaning to ydoc_is_null() and ydoc_bool(), so rewriting a kubeconfig
 *     never turns a string into a null or a boolean;
 *   - emitting the re-parsed tree and parsing that gives the same tree
 *     again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ydoc.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Comparison gives up (as equal) beyond this many nodes: aliases fan out. */
#define COMPARE_BUDGET 100000

static bool same_node(const struct ydoc_node *a, const struct ydoc_node *b,
    unsigned depth, size_t *budget, bool key);

/*
 * Values keep their bytes and their meaning. Keys keep their bytes, which
 * is what ydoc_get() matches: libyaml writes an empty plain key as '', so
 * a null key comes back as an empty string, which no reader can tell.
 */
static bool
same_scalar(const struct ydoc_node *a, const struct ydoc_node *b, bool key)
{
	bool va = false, vb = false;
	bool ba = ydoc_bool(a, &va), bb = ydoc_bool(b, &vb);

	return a->len == b->len && memcmp(a->value, b->value, a->len) == 0 &&
	    b->value[b->len] == '\0' &&
	    (key ||
		(ydoc_is_null(a) == ydoc_is_null(b) && ba == bb && va == vb));
}

static bool
same_children(const struct ydoc_node *a, const struct ydoc_node *b,
    unsigned depth, size_t *budget)
{
	size_t i;

	if (a->type == YDOC_SEQ) {
		if (a->nitems != b->nitems)
			return false;
		for (i = 0; i < a->nitems; i++)
			if (!same_node(a->items[i], b->items[i], depth, budget,
				false))
				return false;
		return true;
	}
	if (a->npairs != b->npairs)
		return false;
	for (i = 0; i < a->npairs; i++)
		if (!same_node(a->pairs[i].key, b->pairs[i].key, depth, budget,
			true) ||
		    !same_node(a->pairs[i].val, b->pairs[i].val, depth, budget,
			false))
			return false;
	return true;
}

static bool
same_node(const struct ydoc_node *a, const struct ydoc_node *b, unsigned depth,
    size_t *budget, bool key)
{
	if (*budget == 0 || depth > YDOC_MAX_DEPTH + 1)
		return true;
	(*budget)--;
	if (a == NULL || b == NULL || a->type != b->type)
		return false;
	if (a->type == YDOC_SCALAR)
		return same_scalar(a, b, key);
	return same_children(a, b, depth + 1, budget);
}

static bool
same_doc(const struct ydoc *a, const struct ydoc *b)
{
	size_t budget = COMPARE_BUDGET, i;

	if (ydoc_count(a) != ydoc_count(b))
		return false;
	for (i = 0; i < ydoc_count(a); i++)
		if (!same_node(ydoc_root(a, i), ydoc_root(b, i), 0, &budget,
			false))
			return false;
	return ydoc_root(a, ydoc_count(a)) == NULL;
}

/*
 * The emitted text parses into the same tree, whose emission parses into
 * the same tree again (libyaml may quote on the second pass what it left
 * plain on the first, so the texts themselves may differ).
 */
static void
check_round_trip(const struct ydoc *doc, const struct buf *text, int passes)
{
	struct ydoc *again = NULL;
	struct ydoc_diag diag;
	struct buf next = BUF_INIT;

	if (ydoc_parse((const char *)text->data, text->len, &again, &diag) !=
	    CR_OK)
		abort();
	if (!same_doc(doc, again))
		abort();
	if (passes > 1) {
		if (ydoc_emit(again, &next) != CR_OK)
			abort();
		check_round_trip(doc, &next, passes - 1);
	}
	buf_clear(&next);
	ydoc_free(again);
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ydoc *doc = NULL;
	struct ydoc_diag diag;
	struct buf text = BUF_INIT;

	memset(&diag, 0, sizeof(diag));
	if (ydoc_parse((const char *)data, size, &doc, &diag) != CR_OK) {
		if (doc != NULL || diag.msg[0] == '\0')
			abort();
		return 0;
	}
	if (ydoc_emit(doc, &text) == CR_OK)
		check_round_trip(doc, &text, 2);
	buf_clear(&text);
	ydoc_free(doc);
	return 0;
}
