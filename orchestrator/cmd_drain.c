/*
 * certroll drain NODE...: kubectl drain's flags, defaults, requests and
 * output lines (drain.h explains what is done better than kubectl), so a
 * script that reads kubectl's output reads ours.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "drain.h"
#include "duration.h"
#include "kube.h"
#include "kubecfg.h"
#include "log.h"
#include "xmalloc.h"

#define NODE_DEADLINE_MS 60000

struct opts {
	struct kubecfg_opts kc;
	struct drain_opts d;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll drain NODE... [options]\n\n"
	    "Cordons each NODE, then evicts its pods the way 'kubectl drain' "
	    "does:\nDaemonSet and mirror (static) pods stay, evictions "
	    "respect\nPodDisruptionBudgets, and pods without a controller, "
	    "with emptyDir data or\nmanaged by a DaemonSet stop the drain "
	    "unless a flag allows them. Evictions\nrun in parallel "
	    "(--max-inflight); a PDB's refusal is retried after 5s, then less\n"
	    "often, until --timeout; API errors while waiting are retried. "
	    "Nodes are "
	    "drained\none after another and stay cordoned; 'certroll "
	    "uncordon' undoes that.\n\n"
	    "Options (kubectl's names and defaults):\n"
	    "      --ignore-daemonsets       leave DaemonSet-managed pods "
	    "alone\n"
	    "      --delete-emptydir-data    evict pods with emptyDir data "
	    "(it is lost)\n"
	    "      --force                   also delete pods without a "
	    "controller\n"
	    "      --grace-period SECONDS    termination grace period "
	    "(default -1: the pod's)\n"
	    "      --timeout DURATION        give up after this long "
	    "(default 0: never)\n"
	    "      --pod-selector SELECTOR   only pods with these labels\n"
	    "      --skip-wait-for-delete-timeout SECONDS\n"
	    "                                do not wait for pods deleted "
	    "longer ago\n"
	    "      --disable-eviction        DELETE pods instead of evicting "
	    "them: this\n"
	    "                                bypasses PodDisruptionBudgets\n"
	    "      --chunk-size N            pods per list request (default "
	    "500, 0: all)\n"
	    "      --max-inflight N          evictions in flight at once "
	    "(default 16)\n"
	    "      --kubeconfig FILE         the kubeconfig (default: "
	    "$KUBECONFIG, else\n"
	    "                                ~/.kube/config)\n"
	    "      --context NAME            the kubeconfig context\n"
	    "  -h, --help                    this text\n\n"
	    "Examples:\n"
	    "  certroll drain cp1 --ignore-daemonsets\n"
	    "  certroll drain cp1 --ignore-daemonsets --delete-emptydir-data "
	    "--timeout 5m\n"
	    "  certroll drain cp2 --ignore-daemonsets --pod-selector "
	    "'app!=ingress' --context prod\n\n"
	    "Output: 'node/cp1 cordoned', 'evicting pod ns/name', "
	    "'pod/name evicted',\n'node/cp1 drained'; errors as kubectl "
	    "prints them.\n"
	    "Exit status: 0 every node drained, 1 a node could not be "
	    "drained, 2 usage\nerror.\n");
}

static bool
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Go durations as kubectl takes them; a bare "0" means no timeout. */
static bool
parse_timeout(const char *s, int64_t *msp)
{
	if (strcmp(s, "0") == 0) {
		*msp = 0;
		return true;
	}
	return duration_parse_ms(s, msp) == CR_OK;
}

enum opt_id {
	OPT_KUBECONFIG = 256,
	OPT_CONTEXT,
	OPT_FORCE,
	OPT_IGNORE_DS,
	OPT_EMPTYDIR,
	OPT_GRACE,
	OPT_TIMEOUT,
	OPT_SELECTOR,
	OPT_SKIP_WAIT,
	OPT_DISABLE_EVICTION,
	OPT_CHUNK,
	OPT_INFLIGHT,
};

static const struct option longopts[] = {
	{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
	{ "context", required_argument, NULL, OPT_CONTEXT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "ignore-daemonsets", no_argument, NULL, OPT_IGNORE_DS },
	{ "delete-emptydir-data", no_argument, NULL, OPT_EMPTYDIR },
	{ "grace-period", required_argument, NULL, OPT_GRACE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "pod-selector", required_argument, NULL, OPT_SELECTOR },
	{ "skip-wait-for-delete-timeout", required_argument, NULL,
	    OPT_SKIP_WAIT },
	{ "disable-eviction", no_argument, NULL, OPT_DISABLE_EVICTION },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK },
	{ "max-inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Flags with a value; false when the value is malformed. */
static bool
value_opt(int c, const char *arg, struct opts *o)
{
	int64_t v;

	switch (c) {
	case OPT_KUBECONFIG:
		o->kc.kubeconfig = arg;
		return true;
	case OPT_CONTEXT:
		o->kc.context = arg;
		return true;
	case OPT_SELECTOR:
		o->d.pod_selector = arg;
		return true;
	case OPT_TIMEOUT:
		return parse_timeout(arg, &o->d.timeout_ms);
	case OPT_GRACE:
		return parse_int(arg, -1, INT32_MAX, &o->d.grace_period);
	case OPT_SKIP_WAIT:
		return parse_int(arg, 0, INT32_MAX, &o->d.skip_wait_s);
	case OPT_CHUNK:
		return parse_int(arg, 0, INT32_MAX, &o->d.chunk_size);
	default:
		if (!parse_int(arg, 1, 1024, &v))
			return false;
		o->d.max_inflight = (unsigned)v;
		return true;
	}
}

static bool
flag_opt(int c, struct opts *o)
{
	switch (c) {
	case OPT_FORCE:
		o->d.force = true;
		return true;
	case OPT_IGNORE_DS:
		o->d.ignore_daemonsets = true;
		return true;
	case OPT_EMPTYDIR:
		o->d.delete_emptydir_data = true;
		return true;
	case OPT_DISABLE_EVICTION:
		o->d.disable_eviction = true;
		return true;
	default:
		return false;
	}
}

static int
parse(int argc, char **argv, struct opts *o)
{
	int c, li = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &li)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == ':')
			return cli_usage("drain", "%s needs a value",
			    argv[optind - 1]);
		if (c == '?')
			return cli_usage("drain", "unknown option '%s'",
			    argv[optind - 1]);
		if (flag_opt(c, o))
			continue;
		if (!value_opt(c, optarg, o))
			return cli_usage("drain", "invalid value '%s' for --%s",
			    optarg, longopts[li].name);
	}
	if (optind >= argc)
		return cli_usage("drain", "name at least one node");
	return CLI_EXIT_OK;
}

/* kubectl resolves every node, then cordons them all, then drains. */
static bool
cordon_all(struct kube *k, int n, char **names)
{
	struct kube_node_info ni;
	bool already;
	int i;

	for (i = 0; i < n; i++) {
		memset(&ni, 0, sizeof(ni));
		if (kube_get_node(k, kube_node_arg(names[i]),
			clock_deadline_ms(NODE_DEADLINE_MS), &ni) != CR_OK) {
			kube_print_error(stderr, k);
			return false;
		}
		kube_node_info_clear(&ni);
	}
	for (i = 0; i < n; i++) {
		if (kube_cordon(k, kube_node_arg(names[i]),
			clock_deadline_ms(NODE_DEADLINE_MS),
			&already) != CR_OK) {
			fprintf(stderr,
			    "error: unable to cordon node \"%s\": %s\n",
			    kube_node_arg(names[i]), kube_error_message(k));
			return false;
		}
		printf("node/%s %scordoned\n", kube_node_arg(names[i]),
		    already ? "already " : "");
	}
	fflush(stdout);
	return true;
}

/*
 * Drains one node; on failure prints kubectl's lines and appends its
 * errors to errs. Returns whether the node was drained.
 */
static bool
drain_one(struct kube *k, const char *node, const struct drain_opts *d,
    struct strv *errs)
{
	struct drain_result r = { 0 };
	enum cr_err err;
	char *msg;
	size_t i;

	if ((err = drain_node(k, node, d, &r)) == CR_OK) {
		printf("node/%s drained\n", node);
		fflush(stdout);
		drain_result_clear(&r);
		return true;
	}
	msg = drain_join_errors(&r.errors);
	if (err != CR_ERR_STATE && r.pending.n > 0) {
		fprintf(stderr,
		    "There are pending pods in node \"%s\" when an error "
		    "occurred: %s\n",
		    node, msg);
		for (i = 0; i < r.pending.n; i++)
			fprintf(stderr, "pod/%s\n", r.pending.v[i]);
	}
	fprintf(stderr,
	    "error: unable to drain node \"%s\" due to error: %s, continuing "
	    "command...\n",
	    node, msg);
	for (i = 0; i < r.errors.n; i++)
		strv_push(errs, r.errors.v[i]);
	free(msg);
	drain_result_clear(&r);
	return false;
}

/* kubectl ends with the nodes left and every error on its own line. */
static int
drain_all(struct kube *k, int n, char **names, const struct drain_opts *d)
{
	struct strv failed = { 0 }, errs = { 0 };
	size_t i;
	int j, rc;

	for (j = 0; j < n; j++)
		if (!drain_one(k, kube_node_arg(names[j]), d, &errs))
			strv_push(&failed, kube_node_arg(names[j]));
	if (failed.n > 0) {
		fprintf(stderr, "There are pending nodes to be drained:\n");
		for (i = 0; i < failed.n; i++)
			fprintf(stderr, " %s\n", failed.v[i]);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
	}
	rc = failed.n > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	strv_clear(&failed);
	strv_clear(&errs);
	return rc;
}

int
cmd_drain(int argc, char **argv)
{
	struct opts o = { 0 };
	struct kubecfg *cfg = NULL;
	struct kube *k = NULL;
	int rc;

	drain_opts_init(&o.d);
	o.d.out = stdout;
	o.d.err = stderr;
	if ((rc = parse(argc, argv, &o)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (kube_open(&o.kc, &cfg, &k) != CR_OK)
		return CLI_EXIT_FAIL;
	rc = CLI_EXIT_FAIL;
	if (cordon_all(k, argc - optind, argv + optind))
		rc = drain_all(k, argc - optind, argv + optind, &o.d);
	kube_free(k);
	kubecfg_free(cfg);
	return rc;
}
