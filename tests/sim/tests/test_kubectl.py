"""The real kubectl against the simulator: cordon/uncordon (including the
"already" cases and a missing node), create, get (tables, selectors,
chunked lists), delete (which waits through a watch), patch of the status
subresource, and the errors it prints for bad credentials."""

import json
import os
import time
import unittest

from tests import simtest
from tests.simtest import Kubectl, SimTestCase, start_kubesim
from simlib import pki

SKIP_REASON = None if simtest.KUBECTL else "kubectl is not on PATH"

OBJECTS = """\
apiVersion: v1
kind: Node
metadata:
  name: cp1
  labels:
    node-role.kubernetes.io/control-plane: ""
---
apiVersion: v1
kind: Node
metadata:
  name: w1
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx:1.25
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web-pdb
  namespace: default
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  a: "1"
"""


class KubectlTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = start_kubesim(cls, "--max-grace", "0")
        cls.k = Kubectl(cls, cls.sim)
        p = cls.k("create", "-f", "-", stdin=OBJECTS)
        if p.returncode != 0:
            raise AssertionError("kubectl create failed: %s" % p.stderr)
        cls.created = p.stdout
        simtest.wait_for(lambda: cls.sim.request(
            "GET", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/"
            "web-pdb")[2]["status"].get("currentHealthy") == 3, 20,
            what="web pods healthy")

    def ok(self, *args, **kw):
        p = self.k(*args, **kw)
        if p.returncode != 0:
            self.fail("kubectl %s: %s%s" % (" ".join(args), p.stdout,
                                            p.stderr))
        return p.stdout

    def node(self, name):
        return self.sim.request("GET", "/api/v1/nodes/" + name)[2]

    def test_create_output(self):
        for line in ("node/cp1 created", "node/w1 created",
                     "replicaset.apps/web created",
                     "poddisruptionbudget.policy/web-pdb created",
                     "configmap/settings created"):
            self.assertIn(line, self.created)

    def test_cordon_uncordon(self):
        self.sim.request("POST", "/api/v1/nodes", {"metadata": {
            "name": "cx"}})
        rows = [
            (["cordon", "cx"], "node/cx cordoned", True),
            (["cordon", "cx"], "node/cx already cordoned", True),
            (["uncordon", "cx"], "node/cx uncordoned", False),
            (["uncordon", "node/cx"], "node/cx already uncordoned", False),
        ]
        for args, out, want in rows:
            with self.subTest(args):
                self.sim.request("DELETE", "/sim/requests")
                self.assertIn(out, self.ok(*args))
                self.assertEqual(bool(self.node("cx")["spec"].get(
                    "unschedulable")), want)
                patches = [e for e in self.sim.request(
                    "GET", "/sim/requests")[2]["items"]
                    if e["method"] == "PATCH"]
                self.assertEqual(len(patches), 0 if "already" in out else 1)
        p = self.k("cordon", "bar")
        self.assertEqual(p.returncode, 1)
        self.assertIn('nodes "bar" not found', p.stderr)

    def test_cordon_taint_and_several_nodes(self):
        for n in ("m1", "m2"):
            self.sim.request("POST", "/api/v1/nodes", {"metadata": {
                "name": n}})
        out = self.ok("cordon", "m1", "m2")
        self.assertIn("node/m1 cordoned", out)
        self.assertIn("node/m2 cordoned", out)
        simtest.wait_for(lambda: [t["key"] for t in self.node("m1")[
            "spec"].get("taints", [])] == ["node.kubernetes.io/unschedulable"],
            5, what="unschedulable taint")
        self.ok("uncordon", "m1", "m2")
        simtest.wait_for(lambda: "taints" not in self.node("m2")["spec"], 5,
                         what="taint removed")

    def test_get(self):
        out = self.ok("get", "nodes")
        self.assertRegex(out, r"NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION")
        self.assertRegex(out, r"cp1\s+Ready\s+control-plane")
        out = self.ok("get", "pods", "-l", "app=web", "--chunk-size=1",
                      "-o", "name")
        self.assertEqual(len(out.split()), 3)
        out = self.ok("get", "pods", "--field-selector",
                      "status.phase=Running", "-o", "json")
        items = json.loads(out)["items"]
        self.assertEqual({p["kind"] for p in items}, {"Pod"})
        out = self.ok("get", "pdb", "web-pdb", "-o",
                      "jsonpath={.status.disruptionsAllowed}")
        self.assertEqual(out, "1")
        out = self.ok("get", "cm", "settings", "-o", "jsonpath={.data.a}")
        self.assertEqual(out, "1")
        p = self.k("get", "pod", "nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn('pods "nope" not found', p.stderr)

    def test_delete_waits_for_removal(self):
        self.sim.request("POST", "/api/v1/namespaces/default/pods", {
            "metadata": {"name": "doomed"}, "spec": {
                "nodeName": "w1", "containers": [{"name": "c",
                                                  "image": "i"}]}})
        out = self.ok("delete", "pod", "doomed")
        self.assertIn('pod "doomed" deleted', out)
        self.assertEqual(self.sim.request(
            "GET", "/api/v1/namespaces/default/pods/doomed")[0], 404)
        self.sim.request("POST", "/api/v1/namespaces/default/configmaps",
                         {"metadata": {"name": "gone"}})
        self.assertIn('configmap "gone" deleted',
                      self.ok("delete", "configmap", "gone"))
        self.assertEqual(self.sim.request(
            "GET", "/api/v1/namespaces/default/configmaps/gone")[0], 404)

    def test_patch_status_subresource(self):
        if self.k.client_minor() < 24:
            self.skipTest("kubectl < 1.24 has no --subresource")
        self.sim.request("POST", "/api/v1/namespaces/default/pods", {
            "metadata": {"name": "job-1", "labels": {"app": "web"}},
            "spec": {"nodeName": "w1", "containers": [{"name": "c",
                                                       "image": "i"}]}})
        simtest.wait_for(lambda: self.sim.request(
            "GET", "/api/v1/namespaces/default/pods/job-1")[2]["status"][
            "phase"] == "Running", 10, what="running")
        self.ok("patch", "pod", "job-1", "--subresource=status",
                "--type=strategic", "-p",
                '{"status":{"conditions":[{"type":"Ready",'
                '"status":"False"}]}}')
        pod = self.sim.request("GET",
                               "/api/v1/namespaces/default/pods/job-1")[2]
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual((conds["Ready"], conds["ContainersReady"]),
                         ("False", "True"))
        out = self.ok("patch", "pod", "job-1", "--subresource=status",
                      "--type=merge", "-p", '{"status":{"phase":"Succeeded"}}')
        self.assertIn("pod/job-1 patched", out)
        time.sleep(0.5)
        out = self.ok("get", "pod", "job-1", "-o",
                      "jsonpath={.status.phase}")
        self.assertEqual(out, "Succeeded")
        self.ok("delete", "pod", "job-1")

    def test_create_across_minors(self):
        """kubectl 1.27 asks /openapi/v2 (protobuf) and 1.28+ /openapi/v3
        whether the server validates fields; both must let create run
        with the default --validate (the dispatcher picks the binary)."""
        for minor in ("27", "30", "33"):
            with self.subTest(minor):
                sim = start_kubesim(self, "--version-minor", minor)
                k = Kubectl(self, sim)
                p = k("create", "-f", "-", stdin=OBJECTS)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("poddisruptionbudget.policy/web-pdb created",
                              p.stdout)
                # The first apply adds last-applied-configuration.
                for want in ("configured", "unchanged"):
                    p = k("apply", "-f", "-", stdin=OBJECTS)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertIn("configmap/settings " + want, p.stdout)
                sim.stop()

    def test_bad_credentials(self):
        d = simtest.tmpdir(self)
        crt, key = self.sim.sign("old", "kubernetes-admin",
                                 ["system:masters"], days=3,
                                 start_offset_days=-10)
        kc = os.path.join(d, "expired.conf")
        with open(kc, "w", encoding="utf-8") as f:
            f.write(pki.kubeconfig(self.sim.url, self.sim.ca, crt, key))
        p = self.k("get", "nodes", kubeconfig=kc)
        self.assertEqual(p.returncode, 1)
        # The text in parentheses depends on the kubectl version.
        self.assertIn("error: You must be logged in to the server", p.stderr)
        # A certificate of a user without rights: the real Forbidden text.
        crt, key = self.sim.sign("nobody", "nobody", ["viewers"])
        kc2 = os.path.join(d, "nobody.conf")
        with open(kc2, "w", encoding="utf-8") as f:
            f.write(pki.kubeconfig(self.sim.url, self.sim.ca, crt, key))
        p = self.k("get", "nodes", kubeconfig=kc2)
        self.assertEqual(p.returncode, 1)
        self.assertIn('nodes is forbidden: User "nobody" cannot list '
                      'resource "nodes" in API group "" at the cluster scope',
                      p.stderr)


if __name__ == "__main__":
    unittest.main()
