/*
 * libFuzzer target: the inventory's INI parser and resolver on arbitrary
 * bytes. Seeds: tests/fuzz/corpus/inventory_ini (the data files). Checks the
 * contract as well as memory: success gives at least one complete node,
 * failure gives no inventory and a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

/* NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_node(const struct inv *inv, const struct inv_node *n)
{
	if (n->name == NULL || n->address == NULL || n->user == NULL ||
	    n->become_user == NULL || n->node_name == NULL ||
	    n->kubernetes_dir == NULL || n->port < 1 || n->port > 65535 ||
	    (n->roles & INV_ROLE_CONTROL_PLANE) == 0 || n->line == 0 ||
	    inv_node_find(inv, n->name) == NULL)
		abort();
}

/* The name libFuzzer calls. NOLINTNEXTLINE(readability-identifier-naming) */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv *inv = NULL;
	struct inv_diag diag;
	size_t i;

	if (inv_parse("fuzz", (const char *)data, size, INV_FORMAT_INI, &inv,
		&diag) != CR_OK) {
		if (inv != NULL || diag.msg[0] == '\0')
			abort();
		return 0;
	}
	if (inv_count(inv) == 0)
		abort();
	for (i = 0; i < inv_count(inv); i++)
		check_node(inv, inv_node_at(inv, i));
	/* A name with a comma or blanks cannot be given in a list. */
	if (strpbrk(inv_node_at(inv, 0)->name, ", \t\n\r\f\v") == NULL &&
	    (inv_select(inv, inv_node_at(inv, 0)->name, &diag) != CR_OK ||
		inv_count(inv) == 0))
		abort();
	inv_free(inv);
	return 0;
}
