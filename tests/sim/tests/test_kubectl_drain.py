"""The real kubectl drains nodes of the simulator: every filter case of
kube-api.md §2.3/§2.9 (TestDrain rows plus the derived ones), in eviction
mode and in DELETE mode, a PodDisruptionBudget that blocks until --timeout
and several PDBs on one pod. Assertions use the parts of kubectl's output
that are the same from kubectl 1.20 to 1.33, and the cluster state."""

import re
import time
import unittest
import uuid

from tests import simtest
from tests.simtest import Kubectl, SimTestCase, start_kubesim

SKIP_REASON = None if simtest.KUBECTL else "kubectl is not on PATH"

# Patterns (regular expressions) over the wordings kubectl 1.20 to 1.33
# print: "Pods not managed by ..." became "Pods declare no controller" and
# later "Pods that declare no controller".
_NOCTL = (r"(that )?declare no controller|not managed by "
          r"ReplicationController, ReplicaSet, Job, DaemonSet or StatefulSet")
UNMANAGED = r"Pods (%s) \(use --force to override\)" % _NOCTL
UNMANAGED_WARN = r"deleting Pods (%s): {ns}/{pod0}" % _NOCTL
DAEMONSET = re.escape("DaemonSet-managed Pods (use --ignore-daemonsets to "
                      "ignore)")
LOCAL = re.escape("Pods with local storage (use --delete-emptydir-data to "
                  "override)")
IGNORED = re.escape("ignoring DaemonSet-managed Pods: ") + "{ns}/{pod%d}"
PDB_MSG = "Cannot evict pod as it would violate the pod's disruption budget"
MULTI = ("This pod has more than one PodDisruptionBudget, which the "
         "eviction subresource does not support.")

# name, pods [(kind, emptyDir, phase)], extra args, fatal,
# indexes of the pods that must be gone, patterns expected on stderr
# ({pod0}, {ns} are filled in). kinds: rs, ds, naked, mirror, ds-missing.
ROWS = [
    ("rs", [("rs", False, None)], [], False, [0], []),
    ("ds", [("ds", False, None)], [], True, [], [DAEMONSET + ": {ns}/{pod0}"]),
    ("ds-finished", [("ds", False, "Succeeded")], [], False, [0], []),
    ("naked", [("naked", False, None)], [], True, [], [UNMANAGED]),
    ("naked-force", [("naked", False, None)], ["--force"], False, [0],
     [UNMANAGED_WARN]),
    ("ds-ignore", [("ds", False, None)], ["--ignore-daemonsets"], False, [],
     [IGNORED % 0]),
    ("ds-emptydir-ignore", [("ds", True, None)], ["--ignore-daemonsets"],
     False, [], [IGNORED % 0]),
    ("rs-emptydir-flag", [("rs", True, None)], ["--delete-emptydir-data"],
     False, [0], []),
    ("rs-emptydir-finished", [("rs", True, "Succeeded")], [], False, [0], []),
    ("rs-emptydir", [("rs", True, None)], [], True, [], [LOCAL]),
    ("naked-emptydir-force", [("naked", True, None)], ["--force"], True, [],
     [LOCAL]),
    ("naked-emptydir-failed", [("naked", True, "Failed")], [], False, [0],
     []),
    ("naked-emptydir-both", [("naked", True, None)],
     ["--force", "--delete-emptydir-data"], False, [0], [UNMANAGED_WARN]),
    ("empty", [], [], False, [], []),
    ("mirror", [("mirror", False, None)], [], False, [], []),
    ("ds-missing", [("ds-missing", False, None)], [], True, [],
     [re.escape('daemonsets.apps "gone" not found')]),
    # The DS filter's warning is overwritten by the unreplicated filter's
    # Okay (the pod has a controller), so nothing is printed.
    ("ds-missing-force", [("ds-missing", False, None)], ["--force"], False,
     [0], []),
    ("naked-finished", [("naked", False, "Succeeded")], [], False, [0], []),
    ("mixed", [("rs", False, None), ("ds", False, None),
               ("mirror", False, None), ("naked", False, None)],
     ["--ignore-daemonsets", "--force"], False, [0, 3], [IGNORED % 1]),
]
DELETE_MODE = {"rs", "naked-force", "naked-emptydir-both", "ds-ignore",
               "mixed"}


class Drain(SimTestCase):
    """Scenario builder; pods are made by hand (workload controllers are
    paused) so each row has exactly the pods of the table."""

    minor_args = ()

    @classmethod
    def setUpClass(cls):
        cls.sim = start_kubesim(cls, "--max-grace", "0", *cls.minor_args)
        cls.k = Kubectl(cls, cls.sim)
        cls.sim.request("POST", "/sim/controllers",
                        {"replicaset": False, "daemonset": False})

    def api(self, method, path, body=None, ctype="application/json",
            want=(200, 201)):
        got = self.sim.request(method, path, body, ctype)
        if got[0] not in want:
            self.fail("%s %s: %s\n%s" % (method, path, got, self.sim.log()))
        return got[2]

    def scenario(self, name, pods):
        node = "n-%s-%s" % (name, uuid.uuid4().hex[:5])
        ns = node
        self.api("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        self.api("POST", "/api/v1/nodes", {"metadata": {"name": node}})
        owners = {}
        for kind, plural in (("ReplicaSet", "replicasets"),
                             ("DaemonSet", "daemonsets")):
            o = self.api("POST", "/apis/apps/v1/namespaces/%s/%s"
                         % (ns, plural), {"metadata": {"name": kind.lower()},
                                          "spec": {
                             "replicas": 1,
                             "selector": {"matchLabels": {"x": "y"}},
                             "template": {"metadata": {"labels": {"x": "y"}},
                                          "spec": {"containers": [{
                                              "name": "c", "image": "i"}]}}}})
            owners[kind] = o["metadata"]
        names = []
        for i, (kind, empty, phase) in enumerate(pods):
            names.append(self.pod(ns, node, i, kind, empty, owners))
        for name_, (kind, _, phase) in zip(names, pods):
            if kind != "mirror":
                simtest.wait_for(lambda n=name_: self.phase(ns, n) ==
                                 "Running", 10, what="pod running")
            if phase:
                self.api("PATCH", "/api/v1/namespaces/%s/pods/%s/status"
                         % (ns, name_), {"status": {"phase": phase}},
                         "application/merge-patch+json")
        return node, ns, names

    def pod(self, ns, node, i, kind, empty, owners):
        meta = {"name": "%s-%d" % (kind, i)}
        ref = None
        if kind in ("rs", "ds"):
            o = owners["ReplicaSet" if kind == "rs" else "DaemonSet"]
            ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet" if kind ==
                   "rs" else "DaemonSet", "name": o["name"], "uid": o["uid"],
                   "controller": True}
        elif kind == "ds-missing":
            ref = {"apiVersion": "apps/v1", "kind": "DaemonSet",
                   "name": "gone", "uid": str(uuid.uuid4()),
                   "controller": True}
        elif kind == "mirror":
            meta["annotations"] = {"kubernetes.io/config.mirror": "abc"}
            ref = {"apiVersion": "v1", "kind": "Node", "name": node,
                   "uid": str(uuid.uuid4()), "controller": True}
        if ref:
            meta["ownerReferences"] = [ref]
        spec = {"nodeName": node, "containers": [{"name": "c",
                                                  "image": "i:1"}]}
        if empty:
            spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        self.api("POST", "/api/v1/namespaces/%s/pods" % ns,
                 {"metadata": meta, "spec": spec})
        return meta["name"]

    def phase(self, ns, name):
        return self.api("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name),
                        want=(200,))["status"]["phase"]

    def exists(self, ns, name):
        code = self.sim.request("GET", "/api/v1/namespaces/%s/pods/%s"
                                % (ns, name))[0]
        return code == 200

    def cordoned(self, node):
        return self.api("GET", "/api/v1/nodes/" + node)["spec"].get(
            "unschedulable") is True

    def check_row(self, row, delete_mode):
        name, pods, args, fatal, gone, errs = row
        node, ns, names = self.scenario(name, pods)
        extra = ["--disable-eviction"] if delete_mode else []
        p = self.k("drain", node, "--timeout=60s", *(args + extra))
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode != 0, fatal, out)
        self.assertTrue(self.cordoned(node), "node left schedulable")
        self.assertIn("node/%s cordoned" % node, p.stdout)
        if not fatal:
            self.assertIn("node/%s drained" % node, p.stdout)
        fmt = {"ns": re.escape(ns)}
        fmt.update({"pod%d" % i: re.escape(n) for i, n in enumerate(names)})
        for e in errs:
            self.assertRegex(p.stderr, e.format(**fmt))
        for i, n in enumerate(names):
            self.assertEqual(self.exists(ns, n), i not in gone,
                             "pod %s: %s" % (n, out))
            if i in gone:
                verb = "deleted" if delete_mode else "evicted"
                if pods[i][2] is None:
                    self.assertIn("pod/%s %s" % (n, verb), p.stdout)
        if "mirror" in [k for k, _, _ in pods]:
            self.assertNotIn("mirror-", p.stderr)


class DrainEvictionTest(Drain):
    """Eviction mode with kubectl 1.27 (older wording of the messages;
    the DELETE-mode class below runs 1.33)."""

    minor_args = ("--version-minor", "27")

    def test_filter_rows(self):
        for row in ROWS:
            with self.subTest(row[0]):
                self.check_row(row, False)

    def test_eviction_requests(self):
        node, ns, names = self.scenario("log", [("rs", False, None)])
        self.sim.request("DELETE", "/sim/requests")
        p = self.k("drain", node, "--timeout=30s")
        self.assertEqual(p.returncode, 0, p.stderr)
        log = self.sim.request("GET", "/sim/requests")[2]["items"]
        ev = [(e["method"], e["status"]) for e in log
              if e["path"].endswith("/%s/eviction" % names[0])]
        self.assertEqual(ev, [("POST", 201)])
        pods = [e for e in log if e["path"].startswith("/api/v1/pods?")]
        self.assertIn("fieldSelector=spec.nodeName%3D" + node,
                      pods[0]["path"])

    def test_pdb_blocks_until_timeout(self):
        node, ns, names = self.scenario("pdb", [("rs", False, None)])
        self.api("POST", "/apis/policy/v1/namespaces/%s/poddisruptionbudgets"
                 % ns, {"metadata": {"name": "keep"}, "spec": {
                     "minAvailable": 1, "selector": {"matchLabels": {}}}})
        self.api("PATCH", "/api/v1/namespaces/%s/pods/%s" % (ns, names[0]),
                 {"metadata": {"labels": {"app": "keep"}}},
                 "application/merge-patch+json")
        self.api("PATCH", "/apis/policy/v1/namespaces/%s/"
                 "poddisruptionbudgets/keep" % ns,
                 {"spec": {"selector": {"matchLabels": {"app": "keep"}}}},
                 "application/merge-patch+json")
        self.sim.request("DELETE", "/sim/requests")
        t0 = time.time()
        p = self.k("drain", node, "--timeout=6s")
        took = time.time() - t0
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn(PDB_MSG, p.stderr)
        self.assertIn("global timeout reached", p.stderr)
        self.assertGreaterEqual(took, 6)
        self.assertTrue(self.exists(ns, names[0]))
        log = self.sim.request("GET", "/sim/requests")[2]["items"]
        ev = [e["status"] for e in log if e["path"].endswith("/eviction")]
        self.assertGreaterEqual(len(ev), 2)
        self.assertEqual(set(ev), {429})

    def test_two_pdbs_fail_at_once(self):
        node, ns, names = self.scenario("pdbs", [("naked", False, None)])
        self.api("PATCH", "/api/v1/namespaces/%s/pods/%s" % (ns, names[0]),
                 {"metadata": {"labels": {"app": "a"}}},
                 "application/merge-patch+json")
        for n in ("one", "two"):
            self.api("POST", "/apis/policy/v1/namespaces/%s/"
                     "poddisruptionbudgets" % ns, {
                         "metadata": {"name": n}, "spec": {
                             "maxUnavailable": 1,
                             "selector": {"matchLabels": {"app": "a"}}}})
        self.sim.request("DELETE", "/sim/requests")
        p = self.k("drain", node, "--force", "--timeout=30s")
        self.assertEqual(p.returncode, 1)
        self.assertIn(MULTI, p.stderr)
        log = self.sim.request("GET", "/sim/requests")[2]["items"]
        ev = [e["status"] for e in log if e["path"].endswith("/eviction")]
        self.assertEqual(ev, [500])


class DrainDeleteModeTest(Drain):
    """--disable-eviction: DELETE, protobuf DeleteOptions on kubectl
    1.32+ (the server must not answer 415)."""

    minor_args = ("--version-minor", "33")

    def test_filter_rows(self):
        for row in ROWS:
            if row[0] in DELETE_MODE:
                with self.subTest(row[0]):
                    self.check_row(row, True)

    def test_delete_bypasses_pdb(self):
        node, ns, names = self.scenario("del-pdb", [("rs", False, None)])
        self.api("POST", "/apis/policy/v1/namespaces/%s/poddisruptionbudgets"
                 % ns, {"metadata": {"name": "keep"}, "spec": {
                     "maxUnavailable": 0, "selector": {}}})
        self.sim.request("DELETE", "/sim/requests")
        p = self.k("drain", node, "--disable-eviction", "--grace-period=7",
                   "--timeout=30s")
        self.assertEqual(p.returncode, 0, p.stderr)
        log = self.sim.request("GET", "/sim/requests")[2]["items"]
        dels = [e["status"] for e in log if e["method"] == "DELETE"]
        self.assertEqual(dels, [200])
        self.assertFalse(self.exists(ns, names[0]))


if __name__ == "__main__":
    unittest.main()
