/*
 * The plan: its duration estimate, plan_estimate_node(), against what the
 * lab measured and against its own promises (what each input adds); and
 * plan_compare(), which makes 'apply --plan FILE' refuse a cluster that
 * changed since the plan was saved.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cu_run.h"
#include "jv.h"
#include "plan.h"
#include "xmalloc.h"

/* The lab's kubelet polls its manifests every second; kubeadm's, 20 s. */
#define LAB_FCF_S     1
#define KUBEADM_FCF_S 20

struct shape {
	int64_t fcf_s;
	bool external_etcd;
	bool drain_known;
	size_t nevict;
	size_t nrenew;
};

static const struct shape lab = { LAB_FCF_S, false, true, 1, 11 };

static struct plan_duration
estimate(const struct shape *s, bool first, int64_t grace_s)
{
	static const char *names[] = { "admin.conf", "apiserver",
		"apiserver-etcd-client", "apiserver-kubelet-client",
		"controller-manager.conf", "etcd-healthcheck-client",
		"etcd-peer", "etcd-server", "front-proxy-client",
		"scheduler.conf", "super-admin.conf" };
	struct plan_node pn;
	struct plan_duration d;
	size_t i;

	memset(&pn, 0, sizeof(pn));
	pn.inspect.facts.file_check_frequency_ms = s->fcf_s * 1000;
	pn.inspect.facts.etcd_external = s->external_etcd;
	pn.drain_known = s->drain_known;
	pn.drain.nevict = s->nevict;
	for (i = 0; i < s->nrenew && i < sizeof(names) / sizeof(names[0]); i++)
		strv_push(&pn.renew, names[i]);
	d = plan_estimate_node(&pn, first, grace_s);
	strv_clear(&pn.renew);
	return d;
}

/* A node that renews nothing is skipped by the rollout: no time. */
static void
test_plan_nothing_to_renew(void)
{
	struct shape s = lab;
	struct plan_duration d;

	s.nrenew = 0;
	d = estimate(&s, true, -1);
	CU_ASSERT_EQUAL(d.typical_s, 0);
	CU_ASSERT_EQUAL(d.max_s, 0);
}

/*
 * `make demo` on 2026-11-29 (build/demo/apply.txt): cp1 11 s, cp2 10 s,
 * cp3 11 s, 34 s in all, one pod evicted per node, the lab's 1 s
 * fileCheckFrequency. The typical estimate may be pessimistic, by less
 * than half; the upper bound must hold.
 */
static void
test_plan_lab_as_measured(void)
{
	struct plan_duration first = estimate(&lab, true, -1);
	struct plan_duration next = estimate(&lab, false, -1);
	int64_t typical = first.typical_s + 2 * next.typical_s;
	int64_t most = first.max_s + 2 * next.max_s;

	printf("\n  lab: typical %lld s, at most %lld s, measured 34 s\n",
	    (long long)typical, (long long)most);
	CU_ASSERT(next.typical_s >= 11);
	CU_ASSERT(first.typical_s <= INT64_C(2) * 11);
	CU_ASSERT(typical >= 34 && typical <= 34 * 3 / 2);
	CU_ASSERT(most >= typical);
}

/*
 * Each restart (four with a stacked etcd) waits on average one
 * fileCheckFrequency in all, at most two: going from the lab's 1 s to
 * kubeadm's 20 s adds 19 s per component to the typical and 38 s to the
 * upper bound, and nothing else changes.
 */
static void
test_plan_file_check_frequency(void)
{
	struct shape s = lab;
	struct plan_duration a, b;

	a = estimate(&s, false, -1);
	s.fcf_s = KUBEADM_FCF_S;
	b = estimate(&s, false, -1);
	CU_ASSERT_EQUAL(b.typical_s - a.typical_s, INT64_C(4) * 19);
	CU_ASSERT_EQUAL(b.max_s - a.max_s, INT64_C(4) * 2 * 19);
	s.external_etcd = true;
	a = estimate(&s, false, -1);
	CU_ASSERT_EQUAL(b.typical_s - a.typical_s, KUBEADM_FCF_S + 1);
	CU_ASSERT_EQUAL(b.max_s - a.max_s, 2 * KUBEADM_FCF_S + 7);
}

/*
 * Evicted pods normally stop at once; only the upper bound counts their
 * whole grace period: the pods' own (30 s by default) or --grace-period.
 */
static void
test_plan_grace_period(void)
{
	struct plan_duration own = estimate(&lab, false, -1);
	struct plan_duration longer = estimate(&lab, false, 120);
	struct plan_duration none = estimate(&lab, false, 0);

	CU_ASSERT_EQUAL(longer.typical_s, own.typical_s);
	CU_ASSERT_EQUAL(none.typical_s, own.typical_s);
	CU_ASSERT_EQUAL(longer.max_s - own.max_s, 120 - 30);
	CU_ASSERT_EQUAL(own.max_s - none.max_s, 30);
}

/*
 * A node with nothing to evict drains faster; one whose drain could not
 * be previewed is counted as evicting. The first node also takes the
 * etcd snapshot.
 */
static void
test_plan_drain_and_snapshot(void)
{
	struct shape s = lab;
	struct plan_duration evicting = estimate(&s, false, -1);
	struct plan_duration d;

	s.nevict = 0;
	d = estimate(&s, false, -1);
	CU_ASSERT(d.typical_s < evicting.typical_s);
	CU_ASSERT(d.max_s < evicting.max_s - 30);
	s.drain_known = false;
	d = estimate(&s, false, -1);
	CU_ASSERT_EQUAL(d.typical_s, evicting.typical_s);
	CU_ASSERT_EQUAL(d.max_s, evicting.max_s);
	d = estimate(&lab, true, -1);
	CU_ASSERT(d.typical_s > evicting.typical_s);
	CU_ASSERT(d.max_s > evicting.max_s);
}

/* --- apply --plan FILE: the saved plan against the cluster now ------- */

static struct inv_node invs[2];

/* Two nodes, cp1 and cp2, each renewing apiserver and admin.conf. */
static void
two_nodes(struct plan *p)
{
	static const char *const certs[] = { "apiserver", "admin.conf" };
	struct cert_info *ci;
	size_t i, k;

	memset(p, 0, sizeof(*p));
	p->now = 1795000000;
	p->nnodes = 2;
	p->nodes = xcalloc(2, sizeof(*p->nodes));
	for (i = 0; i < 2; i++) {
		invs[i].name = invs[i].node_name = i == 0 ? "cp1" : "cp2";
		invs[i].address = i == 0 ? "10.0.0.11" : "10.0.0.12";
		p->nodes[i].inv = &invs[i];
		p->nodes[i].drain_known = true;
		for (k = 0; k < 2; k++) {
			ci = cert_list_add(&p->nodes[i].inspect.certificates);
			ci->name = xstrdup(certs[k]);
			ci->serial = xasprintf("%02zX%02zX", i, k);
			ci->not_after = p->now + (time_t)20 * 86400;
			strv_push(&p->nodes[i].renew, certs[k]);
		}
	}
}

/* The plan as 'plan --out' saves it and 'apply --plan' reads it back. */
static json_object *
saved(const struct plan *p)
{
	json_object *o = plan_to_json(p), *back = NULL;
	const char *text = jv_to_pretty(o);

	CU_ASSERT_EQUAL_FATAL(jv_parse(text, strlen(text), &back, NULL, 0),
	    CR_OK);
	json_object_put(o);
	return back;
}

/* A blocker of kind on node pn now. */
static void
block(struct plan_node *pn, const char *kind)
{
	pn->drain.blockers = xreallocarray(pn->drain.blockers,
	    pn->drain.nblockers + 1, sizeof(*pn->drain.blockers));
	pn->drain.blockers[pn->drain.nblockers].kind = xstrdup(kind);
	pn->drain.blockers[pn->drain.nblockers].pod = xstrdup("default/web-1");
	pn->drain.blockers[pn->drain.nblockers].message = xstrdup("held");
	pn->drain.nblockers++;
}

/* compare(saved, now, want): plan_compare()'s verdict, why containing want. */
static void
compare(json_object *plan, const struct plan *now, const char *want)
{
	char why[256] = "";
	enum cr_err err = plan_compare(plan, now, why, sizeof(why));

	if (want == NULL) {
		CU_ASSERT_EQUAL(err, CR_OK);
		return;
	}
	CU_ASSERT_EQUAL(err, CR_ERR_STATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, want));
	if (strstr(why, want) == NULL)
		fprintf(stderr, "\nwant '%s', got '%s'\n", want, why);
}

static void
test_plan_file_unchanged(void)
{
	struct plan p;
	json_object *o;

	two_nodes(&p);
	o = saved(&p);
	compare(o, &p, NULL);
	/* A PDB that only delays the drain was not a blocker either. */
	block(&p.nodes[1], "pdb-wait");
	compare(o, &p, NULL);
	json_object_put(o);
	plan_clear(&p);
}

static void
test_plan_file_changed(void)
{
	struct plan p;
	struct plan_node tmp;
	json_object *o;
	char *serial;

	two_nodes(&p);
	o = saved(&p);
	/* Someone renewed cp2's API server certificate since. */
	serial = p.nodes[1].inspect.certificates.v[0].serial;
	serial[0] = 'F';
	compare(o, &p, "cp2: apiserver is not the certificate the plan saw");
	serial[0] = '0';
	compare(o, &p, NULL);
	/* Fewer certificates to renew (another --renew-before). */
	p.nodes[0].renew.n = 1;
	compare(o, &p, "cp1: the certificates to renew changed");
	p.nodes[0].renew.n = 2;
	/* The nodes in another order, and one node fewer (--only). */
	tmp = p.nodes[0];
	p.nodes[0] = p.nodes[1];
	p.nodes[1] = tmp;
	compare(o, &p, "node 1 is cp2 now, not cp1");
	p.nodes[1] = p.nodes[0];
	p.nodes[0] = tmp;
	p.nnodes = 1;
	compare(o, &p, "the plan has 2 nodes, the inventory 1");
	p.nnodes = 2;
	/* A drain blocked now that was not when the plan was made. */
	block(&p.nodes[0], "pdb");
	compare(o, &p, "cp1: its drain is blocked now");
	json_object_put(o);
	/* Not a saved plan at all. */
	o = json_object_new_object();
	compare(o, &p, "the plan has 0 nodes");
	json_object_put(o);
	plan_clear(&p);
}

static CU_TestInfo plan_tests[] = {
	{ "nothing_to_renew", test_plan_nothing_to_renew },
	{ "lab_as_measured", test_plan_lab_as_measured },
	{ "file_check_frequency", test_plan_file_check_frequency },
	{ "grace_period", test_plan_grace_period },
	{ "drain_and_snapshot", test_plan_drain_and_snapshot },
	{ "file_unchanged", test_plan_file_unchanged },
	{ "file_changed", test_plan_file_changed },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ .pName = "plan", .pTests = plan_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cu_run(suites);
}
