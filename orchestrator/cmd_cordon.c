/*
 * certroll cordon | uncordon NODE...: kubectl's cordon and uncordon, with
 * the same requests (GET, then a strategic merge patch only when the node
 * is not already in that state) and the same output lines, so scripts
 * written for kubectl keep working.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "kube.h"
#include "kubecfg.h"
#include "log.h"

#define NODE_DEADLINE_MS 60000

/* The two commands differ only in these words and the wanted state. */
struct cordon_verb {
	const char *name; /* "cordon" */
	const char *done; /* "cordoned" */
	bool cordon;
};

static const struct cordon_verb verb_cordon = { "cordon", "cordoned", true };
static const struct cordon_verb verb_uncordon = { "uncordon", "uncordoned",
	false };

static void
usage(FILE *fp, const struct cordon_verb *v)
{
	fprintf(fp,
	    "usage: certroll %s NODE... [--kubeconfig FILE] [--context "
	    "NAME]\n\n"
	    "Marks each NODE as %s, as 'kubectl %s' does: the node is read,\n"
	    "and patched only when it is not %s already. NODE may be written\n"
	    "node/NAME. Every node is read first; if one does not exist "
	    "nothing is\nchanged.\n\n"
	    "Options:\n"
	    "      --kubeconfig FILE  the kubeconfig to use (default: "
	    "$KUBECONFIG, else\n"
	    "                         ~/.kube/config)\n"
	    "      --context NAME     the kubeconfig context (default: its "
	    "current-context)\n"
	    "  -h, --help             this text\n\n"
	    "Examples:\n"
	    "  certroll %s cp1\n"
	    "  certroll %s cp1 cp2 --context prod\n"
	    "  certroll %s node/cp1 --kubeconfig /etc/kubernetes/admin.conf\n\n"
	    "Output, one line per node: 'node/cp1 %s' or 'node/cp1 already "
	    "%s'.\n"
	    "Exit status: 0 success, 1 a node is missing or could not be "
	    "changed,\n2 usage error.\n",
	    v->name, v->cordon ? "unschedulable" : "schedulable", v->name,
	    v->done, v->name, v->name, v->name, v->done, v->done);
}

static int
parse(int argc, char **argv, const struct cordon_verb *v,
    struct kubecfg_opts *kc)
{
	static const struct option longopts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "context", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'k')
			kc->kubeconfig = optarg;
		else if (c == 'c')
			kc->context = optarg;
		else if (c == 'h') {
			usage(stdout, v);
			return -1;
		} else if (c == ':')
			return cli_usage(v->name, "%s needs a value",
			    argv[optind - 1]);
		else
			return cli_usage(v->name, "unknown option '%s'",
			    argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage(v->name, "name at least one node");
	return CLI_EXIT_OK;
}

/* kubectl resolves every node before it changes any. */
static bool
nodes_exist(struct kube *k, int n, char **names)
{
	struct kube_node_info ni;
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
	return true;
}

static bool
change(struct kube *k, const struct cordon_verb *v, const char *name)
{
	int64_t deadline = clock_deadline_ms(NODE_DEADLINE_MS);
	bool already = false;
	enum cr_err err;

	err = v->cordon ? kube_cordon(k, name, deadline, &already) :
			  kube_uncordon(k, name, deadline, &already);
	if (err != CR_OK) {
		fprintf(stderr, "error: unable to %s node \"%s\": %s\n",
		    v->name, name, kube_error_message(k));
		return false;
	}
	printf("node/%s %s%s\n", name, already ? "already " : "", v->done);
	fflush(stdout);
	return true;
}

static int
run(int argc, char **argv, const struct cordon_verb *v)
{
	struct kubecfg_opts kc = { 0 };
	struct kubecfg *cfg = NULL;
	struct kube *k = NULL;
	int rc, i;

	if ((rc = parse(argc, argv, v, &kc)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (kube_open(&kc, &cfg, &k) != CR_OK)
		return CLI_EXIT_FAIL;
	rc = CLI_EXIT_FAIL;
	if (nodes_exist(k, argc - optind, argv + optind)) {
		rc = CLI_EXIT_OK;
		for (i = optind; i < argc; i++)
			if (!change(k, v, kube_node_arg(argv[i])))
				rc = CLI_EXIT_FAIL;
	}
	kube_free(k);
	kubecfg_free(cfg);
	return rc;
}

int
cmd_cordon(int argc, char **argv)
{
	return run(argc, argv, &verb_cordon);
}

int
cmd_uncordon(int argc, char **argv)
{
	return run(argc, argv, &verb_uncordon);
}
