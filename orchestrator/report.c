#include "report.h"

#include <stdint.h>
#include <string.h>

#include "duration.h"
#include "jv.h"
#include "timefmt.h"

static int64_t
seconds_between(const char *a, const char *b)
{
	int64_t ms_a, ms_b;

	if (a == NULL || b == NULL ||
	    timefmt_parse_rfc3339(a, &ms_a) != CR_OK ||
	    timefmt_parse_rfc3339(b, &ms_b) != CR_OK)
		return 0;
	return (ms_b - ms_a) / 1000;
}

static json_object *
phases_json(const struct runlog_node *n)
{
	json_object *o = json_object_new_object();
	unsigned s;

	for (s = 0; s < NODE__MAX; s++)
		if (n->spent_ms[s] > 0)
			jv_add_int(o, node_state_name(s), n->spent_ms[s]);
	return o;
}

json_object *
report_json(const struct runlog *r)
{
	json_object *o = json_object_new_object(), *nodes, *n;
	size_t i;

	jv_add_str(o, "run", r->run_id);
	jv_add_str(o, "cluster", r->cluster);
	jv_add_str(o, "result", r->result);
	jv_add_str(o, "message", r->message);
	jv_add_str(o, "started", r->started);
	jv_add_str(o, "ended", r->ended);
	jv_add_int(o, "duration_seconds",
	    seconds_between(r->started, r->ended));
	nodes = json_object_new_array();
	for (i = 0; i < r->nnodes; i++) {
		n = json_object_new_object();
		jv_add_str(n, "name", r->nodes[i].name);
		jv_add_str(n, "state", node_state_name(r->nodes[i].state));
		jv_add_str(n, "message", r->nodes[i].message);
		jv_add_bool(n, "rolled_back", r->nodes[i].rolled_back);
		json_object_object_add(n, "phases", phases_json(&r->nodes[i]));
		json_object_object_add(n, "certificates",
		    r->nodes[i].renewed != NULL ?
			json_object_get(r->nodes[i].renewed) :
			json_object_new_array());
		json_object_array_add(nodes, n);
	}
	json_object_object_add(o, "nodes", nodes);
	return o;
}

static void
print_phases(const struct runlog_node *n, FILE *fp)
{
	char took[32];
	int64_t total = 0;
	unsigned s;
	bool first = true;

	for (s = 0; s < NODE__MAX; s++)
		total += n->spent_ms[s];
	duration_format(total / 1000, took, sizeof(took));
	fprintf(fp, "  %-12s %-9s %-8s", n->name, node_state_name(n->state),
	    took);
	for (s = 0; s < NODE__MAX; s++) {
		if (n->spent_ms[s] < 500)
			continue;
		duration_format((n->spent_ms[s] + 500) / 1000, took,
		    sizeof(took));
		fprintf(fp, "%s%s %s", first ? " (" : ", ", node_state_name(s),
		    took);
		first = false;
	}
	fprintf(fp, "%s\n", first ? "" : ")");
}

static void
print_expiry(json_object *when_str, char *buf, size_t len)
{
	const char *s = json_object_get_string(when_str);
	int64_t ms;

	if (s == NULL || timefmt_parse_rfc3339(s, &ms) != CR_OK) {
		snprintf(buf, len, "?");
		return;
	}
	timefmt_kubeadm((time_t)(ms / 1000), buf, len);
}

static void
print_certs(const struct runlog_node *n, FILE *fp)
{
	char before[TIMEFMT_MAX], after[TIMEFMT_MAX];
	json_object *c, *v;
	size_t i,
	    cnt = n->renewed != NULL ? json_object_array_length(n->renewed) : 0;

	for (i = 0; i < cnt; i++) {
		c = json_object_array_get_idx(n->renewed, i);
		json_object_object_get_ex(c, "old_not_after", &v);
		print_expiry(v, before, sizeof(before));
		json_object_object_get_ex(c, "new_not_after", &v);
		print_expiry(v, after, sizeof(after));
		fprintf(fp, "      %-26s %s -> %s\n",
		    jv_str(c, "name") != NULL ? jv_str(c, "name") : "?", before,
		    after);
	}
}

void
report_print(const struct runlog *r, FILE *fp)
{
	char took[32];
	size_t i, done = 0;

	for (i = 0; i < r->nnodes; i++)
		done += r->nodes[i].state == NODE_DONE;
	duration_format(seconds_between(r->started, r->ended), took,
	    sizeof(took));
	fprintf(fp,
	    "\nRollout %s of cluster %s: %s, %zu of %zu nodes "
	    "renewed in %s\n",
	    r->run_id, r->cluster, r->result != NULL ? r->result : "unfinished",
	    done, r->nnodes, took);
	if (r->message != NULL)
		fprintf(fp, "  %s\n", r->message);
	for (i = 0; i < r->nnodes; i++) {
		print_phases(&r->nodes[i], fp);
		if (r->nodes[i].message != NULL &&
		    r->nodes[i].state != NODE_DONE)
			fprintf(fp, "      %s%s\n", r->nodes[i].message,
			    r->nodes[i].rolled_back ? " (rolled back)" : "");
		print_certs(&r->nodes[i], fp);
	}
}
