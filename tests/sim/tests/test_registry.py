"""The API semantics without HTTP: the eviction algorithm and PDB status
(kube-api.md §3), conflicts, selectors, pagination and the simulated
controllers, driven by explicit controller ticks."""

import json
import time
import unittest

from tests import simtest  # noqa: F401  (puts simlib on sys.path)
from simlib.api import Core, Request, User

ADMIN = User("kubernetes-admin", ["system:masters",
                                  "system:authenticated"], authn="x509")
EVICT = "/api/v1/namespaces/%s/pods/%s/eviction"
PDB_MSG = "Cannot evict pod as it would violate the pod's disruption budget."
MULTI = ("This pod has more than one PodDisruptionBudget, which the "
         "eviction subresource does not support.")


class Cluster:
    """An in-process core whose controllers run only when ticked."""

    def __init__(self, node_grace=0.0):
        self.core = Core(max_grace=0.0, pod_start_delay=0.0,
                         node_grace=node_grace, compaction_interval=1e9)

    def call(self, method, path, body=None, ctype="application/json",
             user=ADMIN):
        raw = json.dumps(body).encode() if body is not None else b""
        r = self.core.handle(Request(method, path, {"Content-Type": ctype},
                                     raw, user))
        return r.code, (json.loads(r.body) if r.body else None)

    def ok(self, method, path, body=None, ctype="application/json",
           want=(200, 201)):
        code, out = self.call(method, path, body, ctype)
        if code not in want:
            raise AssertionError("%s %s: %d %s" % (method, path, code, out))
        return out

    def tick(self, n=4, advance=0.0):
        for _ in range(n):
            with self.core.store.lock:
                self.core.ctl.tick(time.time() + advance)

    def pause(self, *names):
        self.ok("POST", "/sim/controllers", {n: False for n in names})

    def node(self, name, labels=None):
        self.ok("POST", "/api/v1/nodes", {"metadata": {
            "name": name, "labels": labels or {}}})

    def pod(self, name, ns="default", node="n1", labels=None, owner=None,
            **spec):
        body = {"metadata": {"name": name, "labels": labels or {}},
                "spec": dict({"containers": [{"name": "c",
                                              "image": "i:1"}]}, **spec)}
        if node:
            body["spec"]["nodeName"] = node
        if owner:
            body["metadata"]["ownerReferences"] = [owner]
        return self.ok("POST", "/api/v1/namespaces/%s/pods" % ns, body)

    def get(self, path):
        return self.call("GET", path)[1]

    def pods(self, ns="default", q=""):
        return self.get("/api/v1/namespaces/%s/pods%s" % (ns, q))["items"]

    def rs(self, name, replicas, labels, ns="default", **tspec):
        spec = dict({"containers": [{"name": "c", "image": "i:1"}]}, **tspec)
        return self.ok("POST", "/apis/apps/v1/namespaces/%s/replicasets"
                       % ns, {"metadata": {"name": name}, "spec": {
                           "replicas": replicas,
                           "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels},
                                        "spec": spec}}})

    def pdb(self, name, spec, ns="default"):
        return self.ok("POST", "/apis/policy/v1/namespaces/%s/"
                       "poddisruptionbudgets" % ns,
                       {"metadata": {"name": name}, "spec": spec})

    def pdb_status(self, name, ns="default"):
        return self.get("/apis/policy/v1/namespaces/%s/poddisruptionbudgets/"
                        "%s" % (ns, name))["status"]

    def set_ready(self, name, ready, ns="default"):
        self.ok("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (ns, name),
                {"status": {"conditions": [{"type": "Ready",
                                            "status": ready}]}},
                "application/strategic-merge-patch+json")

    def evict(self, name, ns="default", body_name=None, dry=False):
        body = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": body_name or name, "namespace": ns}}
        if dry:
            body["deleteOptions"] = {"dryRun": ["All"]}
        return self.call("POST", EVICT % (ns, name), body)


def web(c, replicas=3, pdb=None):
    """Nodes n1 and n2, an RS 'web' with ready pods, maybe a PDB."""
    c.node("n1")
    c.node("n2")
    c.rs("web", replicas, {"app": "web"})
    c.tick()
    if pdb is not None:
        c.pdb("web-pdb", dict(pdb, selector={"matchLabels": {"app": "web"}}))
        c.tick()
    return [p["metadata"]["name"] for p in c.pods()]


class EvictionTest(unittest.TestCase):
    """One row per branch of the eviction handler (kube-api.md §3.2)."""

    def test_no_pdb_evicts(self):
        c = Cluster()
        names = web(c)
        code, out = c.evict(names[0])
        self.assertEqual(code, 201)
        self.assertEqual(out, {"kind": "Status", "apiVersion": "v1",
                               "metadata": {}, "status": "Success",
                               "code": 201})
        pod = c.get("/api/v1/namespaces/default/pods/" + names[0])
        self.assertIn("deletionTimestamp", pod["metadata"])
        conds = {x["type"]: x for x in pod["status"]["conditions"]}
        self.assertEqual(conds["DisruptionTarget"]["reason"],
                         "EvictionByEvictionAPI")

    def test_allowed_decrements_and_records(self):
        c = Cluster()
        names = web(c, 3, {"minAvailable": 2})
        self.assertEqual(c.pdb_status("web-pdb")["disruptionsAllowed"], 1)
        c.pause("disruption")
        self.assertEqual(c.evict(names[0])[0], 201)
        st = c.pdb_status("web-pdb")
        self.assertEqual(st["disruptionsAllowed"], 0)
        self.assertIn(names[0], st["disruptedPods"])
        code, out = c.evict(names[1])
        self.assertEqual(code, 429)
        self.assertEqual(out["message"], PDB_MSG)

    def test_blocked_429_with_cause(self):
        c = Cluster()
        names = web(c, 3, {"minAvailable": 3})
        code, out = c.evict(names[0])
        self.assertEqual(code, 429)
        self.assertEqual(out["reason"], "TooManyRequests")
        self.assertEqual(out["message"], PDB_MSG)
        self.assertEqual(out["details"]["causes"], [{
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 3 healthy pods "
                       "and has 3 currently"}])
        self.assertNotIn("retryAfterSeconds", out["details"])
        r = c.core.handle(Request("POST", EVICT % ("default", names[0]), {},
                                  json.dumps({"metadata": {
                                      "name": names[0]}}).encode(), ADMIN))
        self.assertNotIn("Retry-After", dict(r.headers))
        pod = c.get("/api/v1/namespaces/default/pods/" + names[0])
        self.assertNotIn("deletionTimestamp", pod["metadata"])

    def test_two_pdbs_500(self):
        c = Cluster()
        names = web(c, 3, {"minAvailable": 1})
        c.pdb("other", {"maxUnavailable": 1,
                        "selector": {"matchLabels": {"app": "web"}}})
        c.tick()
        code, out = c.evict(names[0])
        self.assertEqual(code, 500)
        self.assertEqual(out, {"kind": "Status", "apiVersion": "v1",
                               "metadata": {}, "status": "Failure",
                               "message": MULTI, "code": 500})

    def test_pdb_ignored_for_pending_finished_deleting(self):
        rows = ["Pending", "Succeeded", "Failed", "deleting"]
        for row in rows:
            with self.subTest(row):
                c = Cluster()
                c.node("n1")
                c.pdb("block", {"maxUnavailable": 0,
                                "selector": {"matchLabels": {"a": "b"}}})
                if row == "Pending":
                    c.pause("kubelet")
                c.pod("p", labels={"a": "b"},
                      **({"nodeName": "n1"} if row != "deleting" else {}))
                if row == "deleting":
                    c.ok("PATCH", "/api/v1/namespaces/default/pods/p",
                         {"metadata": {"finalizers": ["x/y"]}},
                         "application/merge-patch+json")
                c.tick()
                if row in ("Succeeded", "Failed"):
                    c.ok("PATCH", "/api/v1/namespaces/default/pods/p/status",
                         {"status": {"phase": row}},
                         "application/merge-patch+json")
                if row == "deleting":
                    c.ok("DELETE", "/api/v1/namespaces/default/pods/p")
                code, _ = c.evict("p")
                self.assertEqual(code, 201)

    def test_unready_pod_rows(self):
        # (policy, pods, minAvailable, unready pods, evict which, code,
        #  budget decremented)
        rows = [
            ("IfHealthyBudget", 4, 3, 1, "unready", 201, False),
            ("IfHealthyBudget", 4, 3, 1, "ready", 429, False),
            ("IfHealthyBudget", 3, 3, 1, "unready", 429, False),
            (None, 4, 3, 1, "unready", 201, False),
            ("AlwaysAllow", 3, 3, 2, "unready", 201, False),
            # desiredHealthy 0 is not "healthy enough": the budget is used
            ("IfHealthyBudget", 3, 0, 1, "unready", 201, True),
        ]
        for pol, n, min_av, unready, which, want, dec in rows:
            with self.subTest((pol, n, min_av, unready, which)):
                c = Cluster()
                spec = {"minAvailable": min_av}
                if pol:
                    spec["unhealthyPodEvictionPolicy"] = pol
                names = web(c, n, spec)
                for nm in names[:unready]:
                    c.set_ready(nm, "False")
                c.tick()
                target = names[0] if which == "unready" else names[-1]
                before = c.pdb_status("web-pdb")
                code, out = c.evict(target)
                self.assertEqual(code, want, out)
                if want == 201:
                    recorded = target in (c.pdb_status("web-pdb").get(
                        "disruptedPods") or {})
                    self.assertEqual(recorded, dec)
                    self.assertIsNone(before.get("disruptedPods"))

    def test_still_processing(self):
        c = Cluster()
        names = web(c, 3, {"minAvailable": 1})
        c.pause("disruption")
        c.ok("PATCH", "/apis/policy/v1/namespaces/default/"
             "poddisruptionbudgets/web-pdb", {"spec": {"minAvailable": 2}},
             "application/merge-patch+json")
        r = c.core.handle(Request("POST", EVICT % ("default", names[0]), {},
                                  json.dumps({"metadata": {
                                      "name": names[0]}}).encode(), ADMIN))
        out = json.loads(r.body)
        self.assertEqual(r.code, 429)
        self.assertEqual(dict(r.headers).get("Retry-After"), "10")
        self.assertEqual(out["details"]["retryAfterSeconds"], 10)
        self.assertEqual(out["details"]["causes"][0]["message"],
                         "The disruption budget web-pdb is still being "
                         "processed by the server.")

    def test_forbidden_rows(self):
        rows = [
            ({"disruptionsAllowed": -1},
             'poddisruptionbudget.policy "web-pdb" is forbidden: pdb '
             "disruptions allowed is negative"),
            ({"disruptionsAllowed": 1, "disruptedPods": {
                "p%d" % i: "2026-01-01T00:00:00Z" for i in range(2001)}},
             'poddisruptionbudget.policy "web-pdb" is forbidden: '
             "DisruptedPods map too big - too many evictions not confirmed "
             "by PDB controller"),
        ]
        for status, msg in rows:
            with self.subTest(msg):
                c = Cluster()
                names = web(c, 3, {"minAvailable": 1})
                c.pause("disruption")
                st = dict(c.pdb_status("web-pdb"), **status)
                c.ok("PATCH", "/apis/policy/v1/namespaces/default/"
                     "poddisruptionbudgets/web-pdb/status", {"status": st},
                     "application/merge-patch+json")
                code, out = c.evict(names[0])
                self.assertEqual(code, 403)
                self.assertEqual(out["message"], msg)
                self.assertEqual(out["reason"], "Forbidden")

    def test_empty_selector_does_not_gate(self):
        c = Cluster()
        names = web(c, 2)
        c.pdb("all", {"maxUnavailable": 0, "selector": {}})
        c.tick()
        st = c.pdb_status("all")
        self.assertEqual(st["currentHealthy"], 2)
        self.assertEqual(st["disruptionsAllowed"], 0)
        self.assertEqual(c.evict(names[0])[0], 201)

    def test_request_errors(self):
        c = Cluster()
        names = web(c)
        code, out = c.evict(names[0], body_name="other")
        self.assertEqual((code, out["message"]),
                         (400, "name in URL does not match name in Eviction "
                          "object"))
        code, out = c.evict("nope")
        self.assertEqual((code, out["message"], out["reason"]),
                         (404, 'pods "nope" not found', "NotFound"))
        code, _ = c.evict(names[0], dry=True)
        self.assertEqual(code, 201)
        pod = c.get("/api/v1/namespaces/default/pods/" + names[0])
        self.assertNotIn("deletionTimestamp", pod["metadata"])

    def test_terminating_namespace(self):
        c = Cluster()
        c.node("n1")
        c.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "gone"}})
        c.pod("p", ns="gone")
        c.ok("PATCH", "/api/v1/namespaces/gone/pods/p",
             {"metadata": {"finalizers": ["x/y"]}},
             "application/merge-patch+json")
        c.tick()
        c.ok("DELETE", "/api/v1/namespaces/gone")
        code, out = c.evict("p", ns="gone")
        self.assertEqual(code, 403)
        self.assertEqual(out["details"]["causes"][0]["reason"],
                         "NamespaceTerminating")
        code, out = c.call("POST", "/api/v1/namespaces/gone/configmaps",
                           {"metadata": {"name": "x"}})
        self.assertEqual(code, 403)
        self.assertIn("because it is being terminated", out["message"])


class PdbStatusTest(unittest.TestCase):
    """The disruption controller's arithmetic (kube-api.md §3.1)."""

    ROWS = [
        # name, pdb spec (selector app=web), rs replicas,
        # (expected, desired, healthy, allowed, reason)
        ("min int", {"minAvailable": 2}, 3, (3, 2, 3, 1, "SufficientPods")),
        ("min all", {"minAvailable": 3}, 3,
         (3, 3, 3, 0, "InsufficientPods")),
        ("min pct", {"minAvailable": "50%"}, 3,
         (3, 2, 3, 1, "SufficientPods")),
        ("max int", {"maxUnavailable": 1}, 3,
         (3, 2, 3, 1, "SufficientPods")),
        ("max pct rounds up", {"maxUnavailable": "34%"}, 3,
         (3, 1, 3, 2, "SufficientPods")),
        ("max zero", {"maxUnavailable": 0}, 3,
         (3, 3, 3, 0, "InsufficientPods")),
        ("neither", {}, 3, (0, 0, 3, 0, "InsufficientPods")),
        ("min above count", {"minAvailable": 5}, 3,
         (3, 5, 3, 0, "InsufficientPods")),
    ]

    def test_rows(self):
        for name, spec, n, want in self.ROWS:
            with self.subTest(name):
                c = Cluster()
                web(c, n, spec)
                st = c.pdb_status("web-pdb")
                got = (st["expectedPods"], st["desiredHealthy"],
                       st["currentHealthy"], st["disruptionsAllowed"],
                       st["conditions"][0]["reason"])
                self.assertEqual(got, want)
                pdb = c.get("/apis/policy/v1/namespaces/default/"
                            "poddisruptionbudgets/web-pdb")
                self.assertEqual(st["observedGeneration"],
                                 pdb["metadata"]["generation"])

    def test_unhealthy_and_deleting_not_counted(self):
        c = Cluster()
        names = web(c, 4, {"minAvailable": 1})
        c.set_ready(names[0], "False")
        c.ok("PATCH", "/api/v1/namespaces/default/pods/" + names[1],
             {"metadata": {"finalizers": ["x/y"]}},
             "application/merge-patch+json")
        c.pause("replicaset")
        c.ok("DELETE", "/api/v1/namespaces/default/pods/" + names[1])
        c.tick()
        st = c.pdb_status("web-pdb")
        self.assertEqual((st["currentHealthy"], st["expectedPods"]), (2, 4))

    def test_scale_sources(self):
        c = Cluster()
        c.node("n1")
        c.ok("POST", "/apis/apps/v1/namespaces/default/deployments", {
            "metadata": {"name": "d"}, "spec": {
                "replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                "template": {"metadata": {"labels": {"app": "d"}},
                             "spec": {"containers": [{"name": "c",
                                                      "image": "i"}]}}}})
        c.tick(6)
        c.pod("naked", labels={"app": "d"})
        c.pdb("d", {"maxUnavailable": "50%",
                    "selector": {"matchLabels": {"app": "d"}}})
        c.tick()
        st = c.pdb_status("d")
        # the Deployment's scale; the unmanaged pod is ignored
        self.assertEqual((st["expectedPods"], st["desiredHealthy"]), (2, 1))
        self.assertEqual(st["currentHealthy"], 3)

    def test_daemonset_pods_fail_sync(self):
        c = Cluster()
        c.node("n1")
        c.ok("POST", "/apis/apps/v1/namespaces/default/daemonsets", {
            "metadata": {"name": "ds"}, "spec": {
                "selector": {"matchLabels": {"app": "ds"}},
                "template": {"metadata": {"labels": {"app": "ds"}},
                             "spec": {"containers": [{"name": "c",
                                                      "image": "i"}]}}}})
        c.tick()
        c.pdb("ds", {"maxUnavailable": 1,
                     "selector": {"matchLabels": {"app": "ds"}}})
        c.tick()
        st = c.pdb_status("ds")
        self.assertEqual(st["disruptionsAllowed"], 0)
        self.assertEqual(st["conditions"][0]["reason"], "SyncFailed")

    def test_null_selector_matches_nothing(self):
        c = Cluster()
        web(c, 2)
        c.pdb("none", {"minAvailable": 1})
        c.tick()
        st = c.pdb_status("none")
        self.assertEqual((st["expectedPods"], st["currentHealthy"],
                          st["disruptionsAllowed"]), (0, 0, 0))

    def test_disrupted_pods_expire(self):
        c = Cluster()
        names = web(c, 3, {"minAvailable": 1})
        c.pause("disruption", "replicaset")
        c.ok("PATCH", "/apis/policy/v1/namespaces/default/"
             "poddisruptionbudgets/web-pdb/status", {"status": {
                 "disruptedPods": {names[0]: "2020-01-01T00:00:00Z",
                                   names[1]: time.strftime(
                                       "%Y-%m-%dT%H:%M:%SZ",
                                       time.gmtime())}}},
             "application/merge-patch+json")
        c.ok("POST", "/sim/controllers", {"disruption": True})
        c.tick()
        st = c.pdb_status("web-pdb")
        self.assertEqual(list(st["disruptedPods"]), [names[1]])
        self.assertEqual(st["currentHealthy"], 2)


class ObjectsTest(unittest.TestCase):
    def test_conflicts_and_validation(self):
        c = Cluster()
        lease = c.ok("POST", "/apis/coordination.k8s.io/v1/namespaces/"
                     "kube-system/leases", {"metadata": {"name": "lock"},
                                            "spec": {"holderIdentity": "a"}})
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/" \
            "leases/lock"
        rows = [
            ("POST", path.rsplit("/", 1)[0], {"metadata": {"name": "lock"}},
             409, "AlreadyExists",
             'leases.coordination.k8s.io "lock" already exists'),
            ("PUT", path, dict(lease, metadata=dict(lease["metadata"],
                                                    resourceVersion="1")),
             409, "Conflict", 'Operation cannot be fulfilled on '
             'leases.coordination.k8s.io "lock": the object has been '
             'modified; please apply your changes to the latest version and '
             'try again'),
            ("PUT", path, {"metadata": {"name": "lock"}, "spec": {}}, 422,
             "Invalid", 'leases.coordination.k8s.io "lock" is invalid: '
             'metadata.resourceVersion: Invalid value: 0x0: must be '
             'specified for an update'),
            ("PUT", path, dict(lease, metadata={"name": "other"}), 400,
             "BadRequest", "the name of the object (other) does not match "
             "the name on the URL (lock)"),
            ("PATCH", path, {"metadata": {"resourceVersion": "1"}}, 409,
             "Conflict", None),
            ("POST", "/api/v1/namespaces/nope/configmaps",
             {"metadata": {"name": "x"}}, 404, "NotFound",
             'namespaces "nope" not found'),
            ("POST", "/api/v1/namespaces/default/configmaps",
             {"metadata": {"name": "Bad_Name"}}, 422, "Invalid", None),
            ("POST", "/api/v1/namespaces/default/pods",
             {"metadata": {"name": "p"}, "spec": {}}, 422, "Invalid",
             'Pod "p" is invalid: spec.containers: Required value: '),
            ("POST", "/apis/policy/v1/namespaces/default/"
             "poddisruptionbudgets", {"metadata": {"name": "x"}, "spec": {
                 "minAvailable": 1, "maxUnavailable": 1}}, 422, "Invalid",
             None),
            ("DELETE", path, {"preconditions": {"uid": "nope"}}, 409,
             "Conflict", None),
            ("GET", "/api/v1/namespaces/default/pods/nope", None, 404,
             "NotFound", 'pods "nope" not found'),
        ]
        for method, p, body, code, reason, msg in rows:
            with self.subTest((method, p, code)):
                ctype = "application/merge-patch+json" if method == "PATCH" \
                    else "application/json"
                got, out = c.call(method, p, body, ctype)
                self.assertEqual(got, code, out)
                self.assertEqual(out["reason"], reason)
                self.assertEqual(out["kind"], "Status")
                if msg is not None:
                    self.assertEqual(out["message"], msg)
        # The current resourceVersion works; configmaps allow a blind PUT.
        lease["spec"]["holderIdentity"] = "b"
        new = c.ok("PUT", path, lease)
        self.assertGreater(int(new["metadata"]["resourceVersion"]),
                           int(lease["metadata"]["resourceVersion"]))
        c.ok("POST", "/api/v1/namespaces/default/configmaps",
             {"metadata": {"name": "cm"}, "data": {"a": "1"}})
        cm = c.ok("PUT", "/api/v1/namespaces/default/configmaps/cm",
                  {"metadata": {"name": "cm"}, "data": {"a": "2"}})
        self.assertEqual((cm["kind"], cm["apiVersion"], cm["data"]),
                         ("ConfigMap", "v1", {"a": "2"}))

    def test_status_subresource_split(self):
        c = Cluster()
        c.node("n1")
        c.pod("p")
        c.tick()
        p = c.get("/api/v1/namespaces/default/pods/p")
        p["status"]["phase"] = "Failed"
        p["metadata"]["labels"] = {"x": "y"}
        out = c.ok("PUT", "/api/v1/namespaces/default/pods/p", p)
        self.assertEqual(out["status"]["phase"], "Running")
        self.assertEqual(out["metadata"]["labels"], {"x": "y"})
        out = c.ok("PATCH", "/api/v1/namespaces/default/pods/p/status",
                   {"status": {"phase": "Succeeded"},
                    "metadata": {"labels": {"z": "1"}}},
                   "application/merge-patch+json")
        self.assertEqual(out["status"]["phase"], "Succeeded")
        self.assertEqual(out["metadata"]["labels"], {"x": "y"})
        c.tick()
        self.assertEqual(c.get("/api/v1/namespaces/default/pods/p")[
            "status"]["phase"], "Succeeded")

    def test_lists_selectors_pagination(self):
        c = Cluster()
        c.node("n1")
        c.node("n2")
        for i in range(5):
            c.pod("a%d" % i, node="n1" if i < 3 else "n2",
                  labels={"app": "a", "i": str(i)})
        c.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "other"}})
        c.pod("b0", ns="other", node="n1", labels={"app": "b"})
        rows = [
            ("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
             ["a0", "a1", "a2", "b0"]),
            ("/api/v1/namespaces/default/pods?fieldSelector="
             "spec.nodeName%3Dn1", ["a0", "a1", "a2"]),
            ("/api/v1/pods?labelSelector=app%3Da,i%20in%20(1,4)",
             ["a1", "a4"]),
            ("/api/v1/pods?labelSelector=app!%3Da", ["b0"]),
            ("/api/v1/pods?labelSelector=!i", ["b0"]),
            ("/api/v1/pods?labelSelector=i%20notin%20(0,1,2)",
             ["a3", "a4", "b0"]),
            ("/api/v1/pods?fieldSelector=metadata.name%3Da3", ["a3"]),
            ("/api/v1/pods?fieldSelector=status.phase%3DPending", []),
        ]
        c.tick()
        for path, want in rows:
            with self.subTest(path):
                out = c.get(path)
                self.assertEqual(out["kind"], "PodList")
                self.assertEqual(out["apiVersion"], "v1")
                self.assertEqual([p["metadata"]["name"]
                                  for p in out["items"]], want)
                for p in out["items"]:
                    self.assertEqual((p["kind"], p["apiVersion"]),
                                     ("Pod", "v1"))

    def test_pagination(self):
        c = Cluster()
        c.node("n1")
        for i in range(5):
            c.pod("p%d" % i)
        got = []
        pages = []
        path = "/api/v1/namespaces/default/pods?limit=2"
        out = c.get(path)
        while True:
            pages.append(out["metadata"])
            got += [p["metadata"]["name"] for p in out["items"]]
            tok = out["metadata"].get("continue")
            if not tok:
                break
            out = c.get(path + "&continue=" + tok)
        self.assertEqual(got, ["p0", "p1", "p2", "p3", "p4"])
        self.assertEqual([p.get("remainingItemCount") for p in pages],
                         [3, 1, None])
        first = c.get(path)["metadata"]["continue"]
        c.ok("POST", "/sim/compact", {})
        code, out = c.call("GET", path + "&continue=" + first)
        self.assertEqual((code, out["reason"]), (410, "Expired"))
        code, out = c.call("GET", path + "&continue=garbage")
        self.assertEqual(code, 400)
        filtered = c.get("/api/v1/namespaces/default/pods?limit=2&"
                         "fieldSelector=spec.nodeName%3Dn1")
        self.assertNotIn("remainingItemCount", filtered["metadata"])
        self.assertIn("continue", filtered["metadata"])

    def test_delete_collection(self):
        c = Cluster()
        for n in ("a", "b", "c"):
            c.ok("POST", "/api/v1/namespaces/default/configmaps",
                 {"metadata": {"name": n, "labels": {"keep": str(n == "c")}}})
        out = c.ok("DELETE", "/api/v1/namespaces/default/configmaps?"
                   "labelSelector=keep%3DFalse")
        self.assertEqual([o["metadata"]["name"] for o in out["items"]],
                         ["a", "b"])
        left = c.get("/api/v1/namespaces/default/configmaps")["items"]
        self.assertEqual([o["metadata"]["name"] for o in left], ["c"])

    def test_routing_errors(self):
        c = Cluster()
        rows = [("GET", "/api/v1/nodes/n/eviction", 404),
                ("GET", "/api/v1/namespaces/default/leases", 404),
                ("GET", "/apis/apps/v2/deployments", 404),
                ("GET", "/api/v1/namespaces/default/nodes/x", 404),
                ("GET", "/api/v1/pods/x", 404),
                ("POST", "/api/v1/nodes/x", 405),
                ("HEAD", "/api/v1/nodes", 405),
                ("PUT", "/api/v1/namespaces/default/pods/p/eviction", 405),
                ("GET", "/nope", 404)]
        for method, path, code in rows:
            with self.subTest((method, path)):
                got, out = c.call(method, path, {"metadata": {"name": "x"}}
                                  if method in ("POST", "PUT") else None)
                self.assertEqual(got, code, out)
                self.assertEqual(out["kind"], "Status")

    def test_resource_version_per_write(self):
        c = Cluster()
        rv0 = int(c.get("/api/v1/namespaces")["metadata"]["resourceVersion"])
        cm = c.ok("POST", "/api/v1/namespaces/default/configmaps",
                  {"metadata": {"name": "x"}})
        cm2 = c.ok("PATCH", "/api/v1/namespaces/default/configmaps/x",
                   {"data": {"a": "b"}}, "application/merge-patch+json")
        rvs = [int(cm["metadata"]["resourceVersion"]),
               int(cm2["metadata"]["resourceVersion"])]
        self.assertEqual(rvs, [rv0 + 1, rv0 + 2])
        same = c.ok("PATCH", "/api/v1/namespaces/default/configmaps/x",
                    {"data": {"a": "b"}}, "application/merge-patch+json")
        self.assertEqual(same["metadata"]["resourceVersion"], str(rvs[1]))

    def test_graceful_delete_and_finalizers(self):
        c = Cluster()
        c.node("n1")
        c.pod("p", terminationGracePeriodSeconds=30)
        c.tick()
        out = c.ok("DELETE", "/api/v1/namespaces/default/pods/p")
        self.assertEqual(out["metadata"]["deletionGracePeriodSeconds"], 30)
        c.tick()
        self.assertEqual(c.call("GET",
                                "/api/v1/namespaces/default/pods/p")[0], 404)
        c.pause("kubelet")
        c.pod("q", node=None)
        out = c.ok("DELETE", "/api/v1/namespaces/default/pods/q")
        self.assertEqual(c.call("GET",
                                "/api/v1/namespaces/default/pods/q")[0], 404)
        c.ok("POST", "/api/v1/namespaces/default/configmaps", {
            "metadata": {"name": "f", "finalizers": ["x/y"]}})
        c.ok("DELETE", "/api/v1/namespaces/default/configmaps/f")
        cm = c.get("/api/v1/namespaces/default/configmaps/f")
        self.assertIn("deletionTimestamp", cm["metadata"])
        c.ok("PATCH", "/api/v1/namespaces/default/configmaps/f",
             {"metadata": {"finalizers": None}},
             "application/merge-patch+json")
        self.assertEqual(c.call(
            "GET", "/api/v1/namespaces/default/configmaps/f")[0], 404)

    def test_protobuf_delete_body(self):
        c = Cluster()
        c.node("n1")
        c.pod("p")
        c.tick()
        body = bytes.fromhex("6b3873000a130a0276311" "20d44656c6574654f7074"
                             "696f6e73120208071a002200")
        r = c.core.handle(Request(
            "DELETE", "/api/v1/namespaces/default/pods/p",
            {"Content-Type": "application/vnd.kubernetes.protobuf",
             "Accept": "application/vnd.kubernetes.protobuf,"
                       "application/json"}, body, ADMIN))
        self.assertEqual(r.code, 200)
        self.assertEqual(r.ctype, "application/json")
        self.assertEqual(json.loads(r.body)["metadata"][
            "deletionGracePeriodSeconds"], 7)


class ControllersTest(unittest.TestCase):
    def test_rs_replaces_on_schedulable_node(self):
        c = Cluster()
        c.node("n1")
        c.node("n2")
        c.node("n3")
        c.rs("web", 3, {"app": "web"})
        c.tick()
        c.ok("PATCH", "/api/v1/nodes/n1", {"spec": {"unschedulable": True}},
             "application/strategic-merge-patch+json")
        c.ok("PATCH", "/api/v1/nodes/n3", {"spec": {"unschedulable": True}},
             "application/strategic-merge-patch+json")
        c.tick()
        old = {p["metadata"]["name"]: p["spec"]["nodeName"]
               for p in c.pods()}
        victim = next(n for n, node in old.items() if node == "n1")
        self.assertEqual(c.evict(victim)[0], 201)
        c.tick(6)
        now = {p["metadata"]["name"]: p for p in c.pods()}
        self.assertNotIn(victim, now)
        new = [p for n, p in now.items() if n not in old]
        self.assertEqual(len(new), 1)
        self.assertEqual(new[0]["spec"]["nodeName"], "n2")
        self.assertEqual(new[0]["status"]["phase"], "Running")
        self.assertTrue(new[0]["metadata"]["name"].startswith("web-"))

    def test_daemonset_on_every_node(self):
        c = Cluster()
        c.node("n1")
        c.node("n2")
        c.ok("PATCH", "/api/v1/nodes/n2", {"spec": {"unschedulable": True}},
             "application/merge-patch+json")
        c.ok("POST", "/apis/apps/v1/namespaces/kube-system/daemonsets", {
            "metadata": {"name": "proxy"}, "spec": {
                "selector": {"matchLabels": {"app": "p"}},
                "template": {"metadata": {"labels": {"app": "p"}},
                             "spec": {"containers": [{"name": "c",
                                                      "image": "i"}]}}}})
        c.tick()
        pods = c.pods("kube-system")
        self.assertEqual(sorted(p["spec"]["nodeName"] for p in pods),
                         ["n1", "n2"])
        ref = pods[0]["metadata"]["ownerReferences"][0]
        self.assertEqual((ref["kind"], ref["apiVersion"], ref["controller"]),
                         ("DaemonSet", "apps/v1", True))
        c.node("n3")
        c.tick()
        self.assertEqual(len(c.pods("kube-system")), 3)
        ds = c.get("/apis/apps/v1/namespaces/kube-system/daemonsets/proxy")
        self.assertEqual(ds["status"]["desiredNumberScheduled"], 3)

    def test_unschedulable_taint(self):
        c = Cluster()
        c.node("n1")
        c.ok("PATCH", "/api/v1/nodes/n1", {"spec": {"unschedulable": True}},
             "application/strategic-merge-patch+json")
        c.tick()
        taints = c.get("/api/v1/nodes/n1")["spec"]["taints"]
        self.assertEqual([(t["key"], t["effect"]) for t in taints],
                         [("node.kubernetes.io/unschedulable", "NoSchedule")])
        c.ok("PATCH", "/api/v1/nodes/n1", {"spec": {"unschedulable": None}},
             "application/strategic-merge-patch+json")
        c.tick()
        self.assertNotIn("taints", c.get("/api/v1/nodes/n1")["spec"])

    def test_dead_node(self):
        c = Cluster(node_grace=40.0)
        old = "2020-01-01T00:00:00Z"
        c.ok("POST", "/api/v1/nodes", {"metadata": {"name": "ext"},
                                       "status": {"conditions": [{
                                           "type": "Ready", "status": "True",
                                           "lastHeartbeatTime": old}]}})
        c.pod("p", node="ext")
        c.tick()
        node = c.get("/api/v1/nodes/ext")
        self.assertEqual(node["status"]["conditions"][0]["status"],
                         "Unknown")
        self.assertIn("node.kubernetes.io/unreachable",
                      [t["key"] for t in node["spec"]["taints"]])
        c.ok("DELETE", "/api/v1/namespaces/default/pods/p")
        c.tick()
        p = c.get("/api/v1/namespaces/default/pods/p")
        self.assertIn("deletionTimestamp", p["metadata"])

    def test_scheduler_respects_taints(self):
        c = Cluster()
        c.ok("POST", "/api/v1/nodes", {"metadata": {"name": "cp"}, "spec": {
            "taints": [{"key": "node-role.kubernetes.io/control-plane",
                        "effect": "NoSchedule"}]}})
        c.pod("free", node=None)
        c.pod("tol", node=None, tolerations=[{
            "key": "node-role.kubernetes.io/control-plane",
            "operator": "Exists", "effect": "NoSchedule"}])
        c.tick()
        free = c.get("/api/v1/namespaces/default/pods/free")
        tol = c.get("/api/v1/namespaces/default/pods/tol")
        self.assertNotIn("nodeName", free["spec"])
        self.assertEqual(free["status"]["conditions"][0]["reason"],
                         "Unschedulable")
        self.assertEqual(tol["spec"]["nodeName"], "cp")

    def test_namespace_and_owner_cleanup(self):
        c = Cluster()
        c.node("n1")
        c.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "x"}})
        c.rs("r", 2, {"a": "b"}, ns="x")
        c.tick()
        self.assertEqual(len(c.pods("x")), 2)
        c.ok("DELETE", "/apis/apps/v1/namespaces/x/replicasets/r")
        c.tick()
        self.assertEqual(c.pods("x"), [])
        c.ok("POST", "/api/v1/namespaces/x/configmaps",
             {"metadata": {"name": "cm"}})
        c.ok("DELETE", "/api/v1/namespaces/x")
        c.tick(6)
        self.assertEqual(c.call("GET", "/api/v1/namespaces/x")[0], 404)


if __name__ == "__main__":
    unittest.main()
