/*
 * libFuzzer target: every message decoder on arbitrary JSON. Seeds:
 * tests/fuzz/corpus/proto_msg (the golden body of every message).
 *
 * For each type: a failed decode explains itself and leaves nothing behind
 * (LeakSanitizer checks the clear paths); a successful decode re-encodes,
 * and the encoding decodes again to an identical encoding, so nothing a
 * decoder accepts is lost or changed by the other side of the wire.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jv.h"
#include "proto.h"
#include "proto_int.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes m, decodes that into a fresh struct, and compares encodings. */
static void
check_stable(const struct proto_codec *c, const void *m)
{
	json_object *first = c->encode(m), *second;
	char *text = strdup(jv_to_string(first));
	void *again = calloc(1, c->size > 0 ? c->size : 1);
	char why[PROTO_WHY_MAX];

	if (text == NULL || again == NULL)
		abort();
	if (c->decode(first, again, why, sizeof(why)) != CR_OK)
		abort();
	second = c->encode(again);
	if (strcmp(text, jv_to_string(second)) != 0)
		abort();
	c->clear(again);
	free(again);
	free(text);
	json_object_put(first);
	json_object_put(second);
}

static void
check_type(uint16_t type, json_object *body)
{
	const struct proto_codec *c = proto_codec_find(type);
	char why[PROTO_WHY_MAX] = "";
	void *m;

	if (c == NULL)
		return;
	if ((m = calloc(1, c->size > 0 ? c->size : 1)) == NULL)
		abort();
	if (c->decode(body, m, why, sizeof(why)) != CR_OK) {
		if (why[0] == '\0')
			abort();
	} else if (c->encode != NULL) {
		check_stable(c, m);
		c->clear(m);
	}
	free(m);
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body = NULL;
	unsigned t;

	if (jv_parse((const char *)data, size, &body, NULL, 0) != CR_OK)
		return 0;
	for (t = 0; t < PROTO__MAX; t++)
		check_type((uint16_t)t, body);
	json_object_put(body);
	return 0;
}
