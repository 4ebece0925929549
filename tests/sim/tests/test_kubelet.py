"""The kubelet stand-in with fake components (start when a manifest
appears, stop when it leaves, restart on change and on exit with back-off,
SIGKILL after the grace), what it publishes in the API (node, lease,
mirror pods and their readiness), the kube-apiserver mapping to
`kubesim frontend`, and the controller-manager/scheduler stand-in."""

import json
import os
import signal
import sys
import time
import unittest

from tests import simtest
from tests.simtest import SIM, SimTestCase, free_port, spawn, start_kubesim
from simlib import kyaml, pki

FAKE = r'''
import os, signal, socket, sys, time
args = dict(a[2:].split("=", 1) for a in sys.argv[1:])
with open(args["marker"], "a") as f:
    f.write("%d %s\n" % (os.getpid(), " ".join(sys.argv[1:])))
if args.get("ignore-term"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
s = None
if args.get("port"):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(args["port"])))
    s.listen(5)
    s.settimeout(0.1)
end = time.time() + float(args.get("crash-after", "1e9"))
while time.time() < end:
    if s is not None:
        try:
            s.accept()[0].close()
        except OSError:
            pass
    else:
        time.sleep(0.1)
sys.exit(3)
'''


def manifest(name, command, probe_port=None, grace=None, image="fake:1"):
    c = {"name": name, "image": image, "command": command}
    if probe_port:
        c["readinessProbe"] = {"tcpSocket": {"host": "127.0.0.1",
                                             "port": probe_port},
                               "periodSeconds": 1}
    spec = {"containers": [c], "hostNetwork": True}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return kyaml.dump({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name, "namespace": "kube-system",
        "labels": {"component": name, "tier": "control-plane"}},
        "spec": spec})


class KubeletTest(SimTestCase):
    NODE = "kn1"

    @classmethod
    def setUpClass(cls):
        cls.d = d = simtest.tmpdir(cls, "kubelet-test-")
        cls.sock = os.path.join(d, "core.sock")
        cls.sim = start_kubesim(cls, "--core-socket", cls.sock,
                                state_dir=os.path.join(d, "core"))
        cls.kdir = os.path.join(d, "kubernetes")
        cls.mdir = os.path.join(cls.kdir, "manifests")
        os.makedirs(cls.mdir)
        crt, key = cls.sim.sign("kubelet", "system:node:" + cls.NODE,
                                ["system:nodes"])
        with open(os.path.join(cls.kdir, "kubelet.conf"), "w",
                  encoding="utf-8") as f:
            f.write(pki.kubeconfig(cls.sim.url, cls.sim.ca, crt, key))
        cls.fake = os.path.join(d, "fake.py")
        with open(cls.fake, "w", encoding="utf-8") as f:
            f.write(FAKE)
        cls.state = os.path.join(d, "kubelet-state")
        cls.pidf = os.path.join(d, "kubelet.pid")
        cls.kubelet = spawn([
            sys.executable, os.path.join(SIM, "kubelet"), "--node", cls.NODE,
            "--kubernetes-dir", cls.kdir, "--file-check-frequency", "200ms",
            "--startup-delay", "100ms", "--state-dir", cls.state,
            "--pid-file", cls.pidf, "--core-socket", cls.sock,
            "--node-ip", "127.0.0.1", "--node-status-update-frequency",
            "300ms", "--probe-period", "200ms", "--backoff-initial", "500ms",
            "--backoff-max", "2s", "--stop-grace", "5s"],
            os.path.join(d, "kubelet.log"))
        cls.addClassCleanup(simtest.stop, cls.kubelet)
        simtest.wait_for(lambda: os.path.exists(cls.pidf), 30,
                         what="kubelet to start")

    # -- helpers ---------------------------------------------------------

    def put(self, name, text):
        tmp = os.path.join(self.d, "." + name)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.mdir, name + ".yaml"))

    def remove(self, name):
        os.unlink(os.path.join(self.mdir, name + ".yaml"))

    def fake_cmd(self, marker, **kw):
        return [sys.executable, self.fake, "--marker=" + marker] + \
            ["--%s=%s" % kv for kv in kw.items()]

    def events(self, pod):
        try:
            with open(os.path.join(self.state, "events.log"),
                      encoding="utf-8") as f:
                return [e for e in map(json.loads, f) if e["pod"] == pod]
        except OSError:
            return []

    def pids(self, marker):
        try:
            with open(marker, encoding="utf-8") as f:
                return [int(line.split()[0]) for line in f
                        if line.endswith("\n")]
        except OSError:
            return []

    def mirror(self, name):
        code, _, out = self.sim.request(
            "GET", "/api/v1/namespaces/kube-system/pods/%s-%s"
            % (name, self.NODE))
        return out if code == 200 else None

    def mirror_ready(self, name, want, phase=None):
        def check():
            m = self.mirror(name)
            if m is None:
                return False
            ready = {c["type"]: c["status"] for c in m["status"].get(
                "conditions", [])}.get("Ready")
            if phase and m["status"].get("phase") != phase:
                return False
            return m if ready == want else False
        return simtest.wait_for(check, 20, what="mirror %s Ready=%s"
                                % (name, want))

    @staticmethod
    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        with open("/proc/%d/stat" % pid, encoding="ascii") as f:
            return f.read().split()[2] != "Z"

    # -- tests -------------------------------------------------------------

    def test_node_and_lease_published(self):
        node = simtest.wait_for(lambda: self.sim.request(
            "GET", "/api/v1/nodes/" + self.NODE)[2].get("status"), 20,
            what="node")
        n = self.sim.request("GET", "/api/v1/nodes/" + self.NODE)[2]
        self.assertIn("node-role.kubernetes.io/control-plane",
                      n["metadata"]["labels"])
        self.assertIn({"key": "node-role.kubernetes.io/control-plane",
                       "effect": "NoSchedule"}, n["spec"]["taints"])
        ready = [c for c in node["conditions"] if c["type"] == "Ready"][0]
        self.assertEqual(ready["status"], "True")
        self.assertEqual(node["addresses"][0], {"type": "InternalIP",
                                                "address": "127.0.0.1"})
        lease = simtest.wait_for(lambda: self.sim.request(
            "GET", "/apis/coordination.k8s.io/v1/namespaces/"
            "kube-node-lease/leases/" + self.NODE)[0] == 200, 20,
            what="node lease")
        self.assertTrue(lease)

    def test_start_stop_change(self):
        marker = os.path.join(self.d, "a.marker")
        port = free_port()
        self.put("fake-a", manifest("fake-a", self.fake_cmd(
            marker, port=port), probe_port=port))
        simtest.wait_for(lambda: self.pids(marker), 20, what="fake-a start")
        pid = self.pids(marker)[0]
        m = self.mirror_ready("fake-a", "True")
        ann = m["metadata"]["annotations"]
        self.assertIn("kubernetes.io/config.mirror", ann)
        self.assertEqual(m["metadata"]["ownerReferences"][0]["kind"], "Node")
        self.assertEqual(m["spec"]["nodeName"], self.NODE)
        cs = m["status"]["containerStatuses"][0]
        self.assertTrue(cs["ready"])
        started = cs["state"]["running"]["startedAt"]
        # a changed manifest restarts the component
        time.sleep(1.1)
        self.put("fake-a", manifest("fake-a", self.fake_cmd(
            marker, port=port, extra="2"), probe_port=port))
        simtest.wait_for(lambda: len(self.pids(marker)) == 2, 20,
                         what="restart on change")
        simtest.wait_for(lambda: not self.alive(pid), 10, what="old gone")
        m2 = simtest.wait_for(
            lambda: (self.mirror("fake-a") or {}).get("metadata", {}).get(
                "annotations", {}).get("kubernetes.io/config.mirror") !=
            ann["kubernetes.io/config.mirror"] and self.mirror("fake-a"),
            20, what="new mirror")
        self.mirror_ready("fake-a", "True")
        m2 = self.mirror("fake-a")
        self.assertNotEqual(m2["status"]["containerStatuses"][0]["state"][
            "running"]["startedAt"], started)
        # removal stops it and deletes the mirror pod
        pid2 = self.pids(marker)[1]
        self.remove("fake-a")
        simtest.wait_for(lambda: not self.alive(pid2), 10, what="stopped")
        simtest.wait_for(lambda: self.mirror("fake-a") is None, 10,
                         what="mirror deleted")
        kinds = [e["event"] for e in self.events("fake-a")]
        self.assertEqual(kinds.count("started"), 2)
        self.assertIn("stopped", kinds)

    def test_deleted_mirror_pod_comes_back(self):
        marker = os.path.join(self.d, "m.marker")
        self.put("mirror-b", manifest("mirror-b", self.fake_cmd(marker)))
        first = self.mirror_ready("mirror-b", "True", "Running")
        path = "/api/v1/namespaces/kube-system/pods/mirror-b-" + self.NODE
        self.assertStatus(self.sim.request("DELETE", path), 200)
        again = simtest.wait_for(
            lambda: (self.mirror("mirror-b") or {}).get("metadata", {}).get(
                "uid", first["metadata"]["uid"]) != first["metadata"]["uid"]
            and self.mirror("mirror-b"), 20, what="mirror pod recreated")
        self.assertEqual(len(self.pids(marker)), 1, "component restarted")
        self.assertEqual(again["metadata"]["annotations"][
            "kubernetes.io/config.mirror"], first["metadata"]["annotations"][
            "kubernetes.io/config.mirror"])
        self.remove("mirror-b")

    def test_crash_loop_back_off(self):
        marker = os.path.join(self.d, "crash.marker")
        self.put("crash", manifest("crash", self.fake_cmd(
            marker, **{"crash-after": "0.2"})))
        simtest.wait_for(lambda: len(self.pids(marker)) >= 3, 20,
                         what="three starts")
        exits = [e for e in self.events("crash") if e["event"] == "exited"]
        self.assertEqual(exits[0]["code"], 3)
        self.assertEqual([e["backoff"] for e in exits[:2]], [0.5, 1.0])
        m = simtest.wait_for(lambda: (self.mirror("crash") or {}).get(
            "status", {}).get("containerStatuses", [{}])[0].get(
            "restartCount", 0) >= 2 and self.mirror("crash"), 20,
            what="restartCount")
        cs = m["status"]["containerStatuses"][0]
        self.assertEqual(cs["lastState"]["terminated"]["exitCode"], 3)
        self.remove("crash")

    def test_sigkill_after_grace(self):
        marker = os.path.join(self.d, "stubborn.marker")
        self.put("stubborn", manifest("stubborn", self.fake_cmd(
            marker, **{"ignore-term": "1"}), grace=1))
        simtest.wait_for(lambda: self.pids(marker), 20, what="start")
        pid = self.pids(marker)[0]
        time.sleep(0.3)
        t0 = time.time()
        self.remove("stubborn")
        simtest.wait_for(lambda: not self.alive(pid), 10, what="killed")
        self.assertGreaterEqual(time.time() - t0, 0.9)
        simtest.wait_for(lambda: "killed" in [
            e["event"] for e in self.events("stubborn")], 5, what="event")

    def test_unready_and_unstartable(self):
        marker = os.path.join(self.d, "deaf.marker")
        self.put("deaf", manifest("deaf", self.fake_cmd(marker),
                                  probe_port=free_port()))
        m = self.mirror_ready("deaf", "False", "Running")
        simtest.wait_for(lambda: self.pids(marker), 10, what="deaf start")
        self.assertTrue(m["status"]["containerStatuses"][0]["started"])
        self.assertFalse(m["status"]["containerStatuses"][0]["ready"])
        self.put("broken", manifest("broken", ["/nonexistent/binary"]))
        def waiting():
            m = self.mirror("broken") or {}
            cs = m.get("status", {}).get("containerStatuses") or [{}]
            return cs[0].get("state", {}).get("waiting")
        st = simtest.wait_for(
            lambda: (waiting() or {}).get("reason") == "CreateContainerError"
            and waiting(), 20, what="broken's status")
        self.assertEqual(st["message"], 'exec: "/nonexistent/binary": stat '
                         '/nonexistent/binary: no such file or directory')
        self.mirror_ready("broken", "False")
        self.remove("deaf")
        self.remove("broken")

    def test_kube_apiserver_runs_frontend(self):
        port = free_port()
        d = os.path.join(self.d, "apiserver")
        os.makedirs(d)
        ca, key = pki.make_ca(d, "node-ca")
        pki.sign(ca, key, os.path.join(d, "apiserver"), "kube-apiserver",
                 eku="serverAuth", sans=["127.0.0.1"])
        cmd = ["kube-apiserver", "--advertise-address=127.0.0.1",
               "--bind-address=127.0.0.1", "--secure-port=%d" % port,
               "--tls-cert-file=%s/apiserver.crt" % d,
               "--tls-private-key-file=%s/apiserver.key" % d,
               "--client-ca-file=" + ca, "--enable-admission-plugins="
               "NodeRestriction", "--service-cluster-ip-range=10.96.0.0/12"]
        text = manifest("kube-apiserver", cmd)
        doc = kyaml.load(text)
        doc["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {
            "host": "127.0.0.1", "port": port, "path": "/readyz",
            "scheme": "HTTPS"}}
        self.put("kube-apiserver", kyaml.dump(doc))
        self.mirror_ready("kube-apiserver", "True")
        got = self.sim.request("GET", "/version", cert=None,
                               host="127.0.0.1", port=port, ca=ca)
        self.assertEqual(got[0], 200)
        self.sim.request("DELETE", "/sim/requests")
        self.sim.request("GET", "/livez", cert=None, host="127.0.0.1",
                         port=port, ca=ca)
        log = self.sim.request("GET", "/sim/requests")[2]["items"]
        self.assertEqual([e["frontend"] for e in log
                          if e["path"] == "/livez"], [self.NODE])
        self.remove("kube-apiserver")


class KubeletShutdownTest(SimTestCase):
    def test_sigterm_stops_children(self):
        d = simtest.tmpdir(self)
        self.sim = start_kubesim(self)
        kdir = os.path.join(d, "k")
        os.makedirs(os.path.join(kdir, "manifests"))
        crt, key = self.sim.sign("kubelet", "system:node:x",
                                 ["system:nodes"])
        with open(os.path.join(kdir, "kubelet.conf"), "w",
                  encoding="utf-8") as f:
            f.write(pki.kubeconfig(self.sim.url, self.sim.ca, crt, key))
        fake = os.path.join(d, "fake.py")
        with open(fake, "w", encoding="utf-8") as f:
            f.write(FAKE)
        markers = []
        for i in range(2):
            mk = os.path.join(d, "m%d" % i)
            markers.append(mk)
            with open(os.path.join(kdir, "manifests", "f%d.yaml" % i), "w",
                      encoding="utf-8") as f:
                f.write(manifest("f%d" % i, [sys.executable, fake,
                                             "--marker=" + mk]))
        k = spawn([sys.executable, os.path.join(SIM, "kubelet"), "--node",
                   "x", "--kubernetes-dir", kdir, "--file-check-frequency",
                   "100ms", "--startup-delay", "0s", "--state-dir",
                   os.path.join(d, "st")], os.path.join(d, "kubelet.log"))
        self.addCleanup(simtest.stop, k)

        def pids():
            out = []
            for mk in markers:
                if not os.path.exists(mk):
                    return None
                with open(mk, encoding="utf-8") as f:
                    words = f.read().split()
                if not words:   # created, not written yet
                    return None
                out.append(int(words[0]))
            return out
        children = simtest.wait_for(pids, 20, what="children")
        os.kill(k.pid, signal.SIGTERM)
        self.assertEqual(k.wait(15), 0)
        for pid in children:
            with self.subTest(pid):
                self.assertFalse(KubeletTest.alive(pid))


class ComponentTest(SimTestCase):
    def start_component(self, kind, kubeconfig):
        port = free_port()
        p = spawn([sys.executable, os.path.join(SIM, "component"), "--kind",
                   kind, "--kubeconfig", kubeconfig, "--bind-address",
                   "127.0.0.1", "--secure-port", str(port), "--api-period",
                   "200ms", "--leader-elect=true",
                   "--authorization-kubeconfig=" + kubeconfig],
                  kubeconfig + ".log")
        self.addCleanup(simtest.stop, p)
        return port

    def health(self, port):
        import ssl
        import http.client
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                        timeout=3)
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def test_health_follows_client_certificate(self):
        self.sim = s = start_kubesim(self)
        d = simtest.tmpdir(self)
        other, okey = pki.make_ca(d, "other")
        certs = {
            "good": s.sign("good", "system:kube-scheduler"),
            "expired": s.sign("expired", "system:kube-scheduler", days=5,
                              start_offset_days=-10),
            "foreign": pki.sign(other, okey, os.path.join(d, "foreign"),
                                "system:kube-scheduler"),
        }
        rows = [("good", "scheduler", 200), ("expired", "scheduler", 500),
                ("foreign", "controller-manager", 500)]
        for name, kind, want in rows:
            with self.subTest(name):
                kc = os.path.join(d, name + ".conf")
                with open(kc, "w", encoding="utf-8") as f:
                    f.write(pki.kubeconfig(s.url, s.ca, *certs[name]))
                port = self.start_component(kind, kc)
                simtest.wait_for(lambda: self.health(port)[0] == want, 20,
                                 what="%s health %d" % (name, want))
                time.sleep(0.5)
                code, body = self.health(port)
                self.assertEqual(code, want)
                self.assertEqual(body == "ok", want == 200)
        lease = s.request("GET", "/apis/coordination.k8s.io/v1/namespaces/"
                          "kube-system/leases/kube-scheduler")
        self.assertEqual(lease[0], 200)
        self.assertTrue(lease[2]["spec"]["holderIdentity"])


if __name__ == "__main__":
    unittest.main()
