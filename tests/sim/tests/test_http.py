"""kubesim over HTTPS: authentication, discovery, health, fault
injection, the request log, bulk creation, watch, restart."""

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest

from tests import simtest
from tests.simtest import SimTestCase, start_kubesim

NODES = "/api/v1/nodes"


class HttpTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        d = simtest.tmpdir(cls, "kubesim-http-")
        tokens = os.path.join(d, "tokens.csv")
        with open(tokens, "w", encoding="utf-8") as f:
            f.write('admintoken,alice,u1,"system:masters,dev"\n'
                    "usertoken,bob,u2\n")
        cls.sim = start_kubesim(cls, "--token-auth-file", tokens,
                                "--version-minor", "29", "--max-grace", "0",
                                state_dir=os.path.join(d, "state"))

    def setUp(self):
        self.sim.request("DELETE", "/sim/faults")

    def req(self, *a, **kw):
        return self.sim.request(*a, **kw)

    def test_authentication_rows(self):
        s = self.sim
        expired = s.sign("expired", "old-admin", ["system:masters"],
                         days=10, start_offset_days=-20)
        future = s.sign("future", "new-admin", ["system:masters"],
                        days=10, start_offset_days=5)
        rows = [
            ("admin cert", dict(cert="admin"), NODES, 200, None),
            ("anonymous version", dict(cert=None), "/version", 200, None),
            ("anonymous healthz", dict(cert=None), "/healthz", 200, None),
            ("anonymous discovery", dict(cert=None), "/api", 403,
             'forbidden: User "system:anonymous" cannot get path "/api"'),
            ("anonymous list", dict(cert=None), NODES, 403,
             'nodes is forbidden: User "system:anonymous" cannot list '
             'resource "nodes" in API group "" at the cluster scope'),
            ("anonymous get", dict(cert=None),
             "/api/v1/namespaces/default/pods/x", 403,
             'pods "x" is forbidden: User "system:anonymous" cannot get '
             'resource "pods" in API group "" in the namespace "default"'),
            ("admin token", dict(cert=None, token="admintoken"), NODES, 200,
             None),
            ("token without rights", dict(cert=None, token="usertoken"),
             "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
             403, 'leases.coordination.k8s.io is forbidden: User "bob" '
             'cannot list resource "leases" in API group '
             '"coordination.k8s.io" in the namespace "kube-system"'),
            ("token user reads discovery", dict(cert=None, token="usertoken"),
             "/api", 200, None),
            ("bad token", dict(cert=None, token="nope"), NODES, 401,
             "Unauthorized"),
            ("bad token on healthz", dict(cert=None, token="nope"),
             "/healthz", 401, "Unauthorized"),
            ("expired cert", dict(cert=expired), NODES, 401, "Unauthorized"),
            ("not yet valid cert", dict(cert=future), NODES, 401,
             "Unauthorized"),
            ("expired cert, good token", dict(cert=expired,
                                              token="admintoken"),
             NODES, 200, None),
        ]
        for name, kw, path, code, msg in rows:
            with self.subTest(name):
                got = self.req("GET", path, **kw)
                self.assertStatus(got, code, name)
                if msg:
                    self.assertEqual(got[2]["message"], msg)
                    self.assertEqual(got[2]["code"], code)

    def test_foreign_ca_refused(self):
        d = simtest.tmpdir(self)
        from simlib import pki
        ca, key = pki.make_ca(d, "other-ca")
        cert = pki.sign(ca, key, os.path.join(d, "c"), "kubernetes-admin",
                        ["system:masters"])
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.req("GET", NODES, cert=cert)

    def test_admin_endpoints_need_admin_cert(self):
        got = self.req("GET", "/sim/faults", cert=None, token="admintoken")
        self.assertStatus(got, 403)
        self.assertIn('cannot get path "/sim/faults"', got[2]["message"])
        self.assertStatus(self.req("GET", "/sim/faults"), 200)

    def test_discovery(self):
        code, _, out = self.req("GET", "/api")
        self.assertEqual((code, out["kind"], out["versions"]),
                         (200, "APIVersions", ["v1"]))
        groups = self.req("GET", "/apis")[2]
        self.assertEqual(groups["kind"], "APIGroupList")
        names = [g["name"] for g in groups["groups"]]
        for g in ("apps", "policy", "coordination.k8s.io"):
            self.assertIn(g, names)
        core = self.req("GET", "/api/v1")[2]
        ev = [r for r in core["resources"] if r["name"] == "pods/eviction"]
        self.assertEqual(ev, [{"name": "pods/eviction", "singularName": "",
                               "namespaced": True, "kind": "Eviction",
                               "verbs": ["create"], "group": "policy",
                               "version": "v1"}])
        rows = [("/apis/apps/v1", "daemonsets"),
                ("/apis/policy/v1", "poddisruptionbudgets"),
                ("/apis/coordination.k8s.io/v1", "leases"),
                ("/api/v1", "pods/status"), ("/api/v1", "nodes/status")]
        for path, res in rows:
            with self.subTest(path):
                out = self.req("GET", path)[2]
                self.assertEqual(out["kind"], "APIResourceList")
                self.assertIn(res, [r["name"] for r in out["resources"]])
        ver = self.req("GET", "/version", cert=None)[2]
        self.assertEqual((ver["major"], ver["minor"], ver["gitVersion"]),
                         ("1", "29", "v1.29.0"))
        self.assertStatus(self.req("GET", "/apis/nope/v1"), 404)

    def test_json_when_protobuf_preferred(self):
        code, hdrs, out = self.req("GET", NODES, headers={
            "Accept": "application/vnd.kubernetes.protobuf,"
                      "application/json"})
        self.assertEqual((code, hdrs["content-type"], out["kind"]),
                         (200, "application/json", "NodeList"))

    def test_table(self):
        self.req("POST", NODES, {"metadata": {"name": "tbl"}})
        code, _, out = self.req("GET", NODES + "/tbl", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,"
                      "application/json"})
        self.assertEqual((code, out["kind"], out["apiVersion"]),
                         (200, "Table", "meta.k8s.io/v1"))
        self.assertEqual([c["name"] for c in out["columnDefinitions"]][:5],
                         ["Name", "Status", "Roles", "Age", "Version"])
        self.assertEqual(out["rows"][0]["cells"][0], "tbl")

    def test_health(self):
        code, hdrs, body = self.req("GET", "/readyz", cert=None)
        self.assertEqual((code, body), (200, "ok"))
        self.assertEqual(hdrs["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(hdrs["x-content-type-options"], "nosniff")
        body = self.req("GET", "/readyz?verbose")[2]
        self.assertTrue(body.endswith("readyz check passed\n"))
        self.req("POST", "/sim/faults", {"failing_checks": ["etcd"]})
        code, _, body = self.req("GET", "/readyz")
        self.assertEqual(code, 500)
        self.assertIn("[-]etcd failed: reason withheld\n", body)
        self.assertEqual(self.req("GET", "/livez/etcd")[0], 500)
        self.assertEqual(self.req("GET", "/livez/ping")[0], 200)
        self.req("POST", "/sim/faults", {"shutdown": True})
        code, _, body = self.req("GET", "/readyz")
        self.assertIn("[-]shutdown failed: reason withheld", body)
        self.assertEqual(self.req("GET", "/livez")[0], 200)
        self.req("DELETE", "/sim/faults")
        self.assertEqual(self.req("GET", "/readyz")[0], 200)

    def test_fault_latency(self):
        self.req("POST", "/sim/faults", {"latency_ms": 300})
        t0 = time.time()
        self.assertStatus(self.req("GET", NODES), 200)
        self.assertGreaterEqual(time.time() - t0, 0.3)
        t0 = time.time()
        self.req("GET", "/sim/faults")
        self.assertLess(time.time() - t0, 0.3)

    def test_fault_burst(self):
        self.req("POST", "/sim/faults", {"burst": {
            "codes": [429, 503], "count": 3, "retry_after": 2,
            "paths": "^/api/v1/nodes"}})
        self.assertStatus(self.req("GET", "/api/v1/namespaces"), 200)
        got = [self.req("GET", NODES) for _ in range(4)]
        self.assertEqual([g[0] for g in got], [429, 503, 429, 200])
        self.assertEqual(got[0][1].get("retry-after"), "2")
        self.assertEqual(got[0][2]["reason"], "TooManyRequests")
        self.assertEqual(got[1][2]["details"]["retryAfterSeconds"], 2)
        self.assertEqual(self.req("GET", "/sim/faults")[2]["burst_left"], 0)

    def test_fault_cut_and_stop(self):
        self.req("POST", "/sim/faults", {"cut_connections": 2})
        for _ in range(2):
            with self.assertRaises((http.client.HTTPException,
                                    ConnectionError, ssl.SSLError)):
                self.req("GET", NODES)
        self.assertStatus(self.req("GET", NODES), 200)
        self.req("POST", "/sim/faults", {"stop_answering": True})
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.req("GET", NODES, timeout=1.0)
        self.req("DELETE", "/sim/faults")
        self.assertStatus(self.req("GET", NODES), 200)

    def test_fault_frontend_filter_and_validation(self):
        self.req("POST", "/sim/faults", {"burst": {"codes": [500],
                                                   "count": 5},
                                         "frontends": ["cp2"]})
        self.assertStatus(self.req("GET", NODES), 200)
        bad = [{"bogus": 1}, {"burst": {"codes": [200]}},
               {"burst": {"codes": [500], "paths": "("}},
               {"latency_ms": -1}, {"frontends": "cp1"}, [1]]
        for spec in bad:
            with self.subTest(spec):
                self.assertStatus(self.req("POST", "/sim/faults", spec), 400)

    def test_request_log(self):
        self.req("DELETE", "/sim/requests")
        self.req("GET", NODES + "/absent")
        self.req("GET", "/version")
        out = self.req("GET", "/sim/requests")[2]
        got = [(e["method"], e["path"], e["status"], e["frontend"])
               for e in out["items"]]
        self.assertEqual(got, [("GET", NODES + "/absent", 404, "kubesim"),
                               ("GET", "/version", 200, "kubesim")])
        seq = out["items"][0]["seq"]
        later = self.req("GET", "/sim/requests?since=%d" % seq)[2]
        self.assertEqual([e["path"] for e in later["items"]], ["/version"])

    def test_bulk(self):
        self.req("POST", "/api/v1/namespaces", {"metadata": {"name": "bulk"}})
        items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": "b%d" % i, "namespace": "bulk"}, "spec": {
            "containers": [{"name": "c", "image": "i"}]}}
            for i in range(1000)]
        items.append({"apiVersion": "v1", "kind": "Bogus",
                      "metadata": {"name": "x"}})
        t0 = time.time()
        code, _, out = self.req("POST", "/sim/bulk", {"items": items},
                                timeout=60)
        took = time.time() - t0
        self.assertEqual((code, out["created"]), (207, 1000))
        self.assertEqual(out["errors"][0]["index"], 1000)
        self.assertLess(took, 20)
        lst = self.req("GET", "/api/v1/namespaces/bulk/pods?limit=500")[2]
        self.assertEqual(len(lst["items"]), 500)
        self.assertEqual(lst["metadata"]["remainingItemCount"], 500)

    def test_watch(self):
        ns = "/api/v1/namespaces/default/configmaps"
        rv = self.req("GET", ns)[2]["metadata"]["resourceVersion"]
        ctx = ssl.create_default_context(cafile=self.sim.ca)
        ctx.load_cert_chain(*self.sim.admin)
        c = http.client.HTTPSConnection(self.sim.host, self.sim.port,
                                        context=ctx, timeout=5)
        c.request("GET", "%s?watch=true&resourceVersion=%s&timeoutSeconds=5&"
                  "fieldSelector=metadata.name%%3Dw1" % (ns, rv))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.req("POST", ns, {"metadata": {"name": "w0"}})
        self.req("POST", ns, {"metadata": {"name": "w1"}})
        self.req("PATCH", ns + "/w1", {"data": {"a": "b"}},
                 "application/merge-patch+json")
        self.req("DELETE", ns + "/w1")
        events = [json.loads(r.readline()) for _ in range(3)]
        c.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"])
                          for e in events],
                         [("ADDED", "w1"), ("MODIFIED", "w1"),
                          ("DELETED", "w1")])
        self.req("POST", "/sim/compact", {})
        c = http.client.HTTPSConnection(self.sim.host, self.sim.port,
                                        context=ctx, timeout=5)
        c.request("GET", "%s?watch=true&resourceVersion=%s" % (ns, rv))
        ev = json.loads(c.getresponse().readline())
        c.close()
        self.assertEqual((ev["type"], ev["object"]["code"],
                          ev["object"]["reason"]), ("ERROR", 410, "Expired"))


class LifecycleTest(SimTestCase):
    def test_restart_reuses_pki_and_shutdown_delay(self):
        d = simtest.tmpdir(self)
        state = os.path.join(d, "state")
        s1 = start_kubesim(self, state_dir=state)
        with open(s1.ca, "rb") as f:
            ca1 = f.read()
        s1.stop()
        self.assertFalse(os.path.exists(os.path.join(state, "kubesim.pid")))
        s2 = start_kubesim(self, "--shutdown-delay", "2s", state_dir=state)
        self.sim = s2
        with open(s2.ca, "rb") as f:
            self.assertEqual(f.read(), ca1)
        self.assertStatus(s2.request("GET", NODES), 200)
        os.kill(s2.proc.pid, 15)
        time.sleep(0.5)
        code, _, body = s2.request("GET", "/readyz")
        self.assertEqual(code, 500)
        self.assertIn("[-]shutdown failed", body)
        self.assertEqual(s2.request("GET", "/livez")[0], 200)
        self.assertEqual(s2.proc.wait(10), 0)

    def test_anonymous_disabled(self):
        s = start_kubesim(self, "--anonymous-auth", "false")
        self.sim = s
        self.assertStatus(s.request("GET", "/healthz", cert=None), 401)
        self.assertStatus(s.request("GET", "/healthz"), 200)


class CtlTest(SimTestCase):
    """kubesim-ctl: start/stop for fixtures and each admin command."""

    def ctl(self, *args, kubeconfig=None):
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        return subprocess.run([sys.executable, os.path.join(
            simtest.SIM, "kubesim-ctl")] + list(args), capture_output=True,
            text=True, timeout=60, env=env, check=False)

    def test_start_stop_core_only(self):
        d = simtest.tmpdir(self)
        sock = os.path.join(d, "core.sock")
        p = self.ctl("start", "--state-dir", d, "--", "--listen", "none",
                     "--core-socket", sock)
        self.assertEqual(p.returncode, 0, p.stderr)
        pid = int(p.stdout)
        self.addCleanup(simtest._kill, pid)
        self.assertTrue(os.path.exists(sock))
        self.assertFalse(os.path.exists(os.path.join(d, "kubeconfig")))
        self.assertEqual(self.ctl("stop", "--state-dir", d).returncode, 0)
        simtest.wait_for(lambda: not os.path.exists(sock), 10,
                         what="socket removed")
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)
        p = self.ctl("stop", "--state-dir", d)
        self.assertEqual(p.returncode, 0)
        self.assertIn("no kubesim running", p.stderr)

    def test_admin_commands(self):
        self.sim = s = start_kubesim(self)
        kc = s.kubeconfig
        rows = [
            (["faults", "set", "--burst-codes", "503", "--burst-count", "2",
              "--paths", "^/api/v1/nodes$"], 0, '"burst_left": 2'),
            (["faults", "show"], 0, '"codes": ['),
            (["faults", "set"], 1, "give at least one fault"),
            (["faults", "clear"], 0, ""),
            (["faults", "set", "--json", '{"bogus": 1}'], 1,
             "unknown fault fields: bogus"),
            (["controllers", "pause", "disruption"], 0,
             '"disruption": false'),
            (["controllers", "resume", "disruption"], 0,
             '"disruption": true'),
            (["controllers", "pause"], 1, "name at least one controller"),
            (["bulk", "pods", "--count", "3", "--prefix", "ctl"], 0,
             "created 3 objects"),
            (["compact"], 0, "compactedResourceVersion"),
            (["wait-ready", "--wait", "5s"], 0, ""),
        ]
        for args, code, out in rows:
            with self.subTest(args):
                p = self.ctl(*args, kubeconfig=kc)
                self.assertEqual(p.returncode, code, p.stdout + p.stderr)
                self.assertIn(out, p.stdout + p.stderr)
        pods = s.request("GET", "/api/v1/namespaces/default/pods")[2]
        self.assertEqual(sorted(p["metadata"]["name"] for p in pods["items"]),
                         ["ctl-0", "ctl-1", "ctl-2"])
        self.ctl("requests", "--clear", kubeconfig=kc)
        s.request("GET", "/api/v1/nodes")
        p = self.ctl("requests", kubeconfig=kc)
        self.assertRegex(p.stdout, r"^\d+ GET /api/v1/nodes 200 kubesim$")
        p = self.ctl("faults", "show")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no kubeconfig", p.stderr)


if __name__ == "__main__":
    unittest.main()
