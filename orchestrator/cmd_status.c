/*
 * certroll status: what the last rollout of this cluster did, from its
 * journal alone (no cluster access needed), and what to run next.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctx.h"
#include "journal.h"
#include "jv.h"
#include "log.h"
#include "runlog.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: certroll status [-o text|json] [--journal FILE] "
	    "[options]\n\n"
	    "Shows the last rollout of the cluster from its journal: each "
	    "node's state,\nwhether certroll holds it cordoned, why the run "
	    "stopped, and the command\nto run next. Reads only local files; "
	    "the cluster need not answer.\n\n"
	    "Options:\n"
	    "  -o, --output FORMAT         text (default) or json\n"
	    "      --journal FILE          this journal instead of the "
	    "cluster's latest\n"
	    "      --cluster NAME          the cluster whose runs to look at "
	    "(default: the\n"
	    "                              kubeconfig's current cluster)\n"
	    "      --kubeconfig FILE, --context NAME, --state-dir DIR\n"
	    "  -h, --help                  this text\n\n"
	    "Examples:\n"
	    "  certroll status\n"
	    "  certroll status --cluster prod -o json\n\n"
	    "Exit status: 0 the last run completed, 1 it did not (stopped, "
	    "failed or\ninterrupted) or there is none, 2 usage error.\n");
}

/* True when the journal says certroll's own cordon is on the node now. */
static bool
cordoned_by_us(const struct runlog_node *n)
{
	if (!n->cordon_known || n->was_cordoned || n->released)
		return false;
	return n->state >= NODE_CORDON && n->state != NODE_DONE &&
	    n->state != NODE_ABORTED && n->state != NODE_PENDING;
}

static const char *
cordon_text(const struct runlog_node *n)
{
	if (n->state == NODE_CORDON)
		return "maybe"; /* interrupted around the cordon request */
	if (cordoned_by_us(n))
		return "yes";
	if (n->cordon_known && n->was_cordoned)
		return "operator";
	return "no";
}

static void
detail(const struct runlog_node *n, char *buf, size_t len)
{
	size_t renewed = n->renewed != NULL ?
	    json_object_array_length(n->renewed) :
	    0;

	if (n->state == NODE_DONE)
		snprintf(buf, len, "renewed %zu certificates", renewed);
	else if (n->message != NULL)
		snprintf(buf, len, "%s%s", n->message,
		    n->rolled_back ? " (rolled back)" : "");
	else
		buf[0] = '\0';
}

static void
print_next(const struct runlog *r)
{
	size_t i;

	if (r->result != NULL && strcmp(r->result, "done") == 0) {
		printf("\nNothing to do: every node was renewed.\n");
		return;
	}
	for (i = 0; i < r->nnodes; i++) {
		if (r->nodes[i].state != NODE_FAILED)
			continue;
		printf("\n%s needs attention: it %s. Fix the cause, then "
		       "resume.\n",
		    r->nodes[i].name,
		    r->nodes[i].rolled_back || !r->nodes[i].changed ?
			"could not be made schedulable again" :
			"did not come back healthy and is left cordoned");
	}
	printf("\nNext: certroll resume%s%s\n",
	    r->inventory != NULL ? " -i " : "",
	    r->inventory != NULL ? r->inventory : "");
}

static void
print_text(const struct runlog *r, const char *path)
{
	char buf[640];
	size_t i;

	printf("Run %s of cluster %s\n", r->run_id, r->cluster);
	printf("  journal   %s\n", path);
	printf("  started   %s by %s\n", r->started != NULL ? r->started : "?",
	    r->identity != NULL ? r->identity : "?");
	printf("  last      %s%s\n", r->ended != NULL ? r->ended : "?",
	    r->torn ? " (the last record was cut short by a crash)" : "");
	printf("  result    %s%s%s\n",
	    r->result != NULL ? r->result : "not finished (interrupted?)",
	    r->message != NULL ? ": " : "",
	    r->message != NULL ? r->message : "");
	printf("\n%-16s %-9s %-9s %s\n", "NODE", "STATE", "CORDONED", "DETAIL");
	for (i = 0; i < r->nnodes; i++) {
		detail(&r->nodes[i], buf, sizeof(buf));
		printf("%-16s %-9s %-9s %s\n", r->nodes[i].name,
		    node_state_name(r->nodes[i].state),
		    cordon_text(&r->nodes[i]), buf);
	}
	print_next(r);
}

static void
print_json(const struct runlog *r, const char *path)
{
	json_object *o = json_object_new_object(), *nodes, *n;
	size_t i;

	jv_add_str(o, "run", r->run_id);
	jv_add_str(o, "cluster", r->cluster);
	jv_add_str(o, "journal", path);
	jv_add_str(o, "started", r->started);
	jv_add_str(o, "last", r->ended);
	jv_add_str(o, "identity", r->identity);
	jv_add_str(o, "result", r->result);
	jv_add_str(o, "message", r->message);
	jv_add_bool(o, "complete", runlog_complete(r));
	nodes = json_object_new_array();
	for (i = 0; i < r->nnodes; i++) {
		n = json_object_new_object();
		jv_add_str(n, "name", r->nodes[i].name);
		jv_add_str(n, "state", node_state_name(r->nodes[i].state));
		jv_add_str(n, "cordoned", cordon_text(&r->nodes[i]));
		jv_add_bool(n, "rolled_back", r->nodes[i].rolled_back);
		jv_add_str(n, "message", r->nodes[i].message);
		jv_add_str(n, "backup", r->nodes[i].backup);
		json_object_array_add(nodes, n);
	}
	json_object_object_add(o, "nodes", nodes);
	printf("%s\n", jv_to_pretty(o));
	json_object_put(o);
}

static int
show(struct ctx *c, const char *journal, bool json)
{
	char *path = NULL, why[128];
	struct runlog *r = NULL;
	int rc;

	if (journal != NULL) {
		path = strdup(journal);
	} else if (journal_latest(c->state_dir, ctx_cluster(c), &path, NULL) !=
	    CR_OK) {
		fprintf(stderr,
		    "certroll status: no rollout of cluster '%s' recorded "
		    "under %s\n",
		    ctx_cluster(c), c->state_dir);
		return CLI_EXIT_FAIL;
	}
	if (runlog_load(path, &r, why, sizeof(why)) != CR_OK) {
		log_warnx("journal '%s' cannot be read: %s", path, why);
		free(path);
		return CLI_EXIT_FAIL;
	}
	if (json)
		print_json(r, path);
	else
		print_text(r, path);
	rc = runlog_complete(r) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	runlog_free(r);
	free(path);
	return rc;
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CTX_LONG_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "journal", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx_opts o;
	struct ctx c;
	const char *journal = NULL;
	bool json = false;
	int ch, rc;

	ctx_opts_init(&o);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:o:h", opts, NULL)) != -1) {
		if ((rc = ctx_opts_parse(&o, "status", ch, optarg)) != 0) {
			if (rc < 0)
				return CLI_EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case 'o':
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0)
				return cli_usage("status",
				    "-o: '%s' is not text or json", optarg);
			json = strcmp(optarg, "json") == 0;
			break;
		case 'J':
			journal = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option("status", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage("status", "unexpected argument '%s'",
		    argv[optind]);
	ctx_init(&c, "status", &o);
	rc = show(&c, journal, json);
	ctx_clear(&c);
	return rc;
}
