/*
 * certroll recover: renewing a control plane whose certificates already
 * expired, over SSH only (see recover.c for the order and why).
 */
#ifndef CR_RECOVER_H
#define CR_RECOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "proto.h"

struct recover_opts {
	enum proto_backend backend;
	const char *key_algorithm; /* "" keeps each certificate's */
	int64_t validity_s;        /* 0: the backend's default */
	unsigned keep;             /* backups kept on each node */
	int64_t timeout_s;         /* per restart, and for the health wait */
	bool yes;
	bool refresh_kubeconfig; /* the workstation's, at the end */
};

void recover_opts_init(struct recover_opts *o);

/*
 * Runs the recovery on every node of c (inventory loaded). Returns a CLI
 * exit code: 0 every node renewed and healthy, 1 it stopped (the output
 * and the journal say where), 2 input error.
 */
int recover_run(struct ctx *c, const struct recover_opts *o);

#endif /* CR_RECOVER_H */
