"""One core, several front ends: each with its own serving certificate and
client CA sees the same state; a foreign client certificate is refused;
the etcd readiness check really talks TLS to a real etcd with the front
end's etcd client certificate."""

import os
import shutil
import sys
import unittest

from tests import simtest
from tests.simtest import SIM, SimTestCase, free_port, spawn, start_kubesim
from simlib import pki, server

ETCD = shutil.which("etcd")


class Node:
    """A node's PKI (own CA) and its front end."""

    def __init__(self, owner, d, name, sock, sim, extra=()):
        self.sim = sim
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir)
        self.ca, ca_key = pki.make_ca(self.dir, "ca-" + name)
        pki.sign(self.ca, ca_key, os.path.join(self.dir, "apiserver"),
                 "kube-apiserver", eku="serverAuth", sans=["127.0.0.1"])
        self.admin = pki.sign(self.ca, ca_key, os.path.join(self.dir,
                                                            "admin"),
                              "kubernetes-admin", ["kubeadm:cluster-admins"])
        self.port = free_port()
        self.log = os.path.join(self.dir, "frontend.log")
        argv = [sys.executable, os.path.join(SIM, "kubesim"), "frontend",
                "--core-socket", sock, "--node", name,
                "--advertise-address=127.0.0.1",
                "--secure-port=%d" % self.port, "--bind-address=127.0.0.1",
                "--tls-cert-file=" + os.path.join(self.dir, "apiserver.crt"),
                "--tls-private-key-file=" + os.path.join(self.dir,
                                                         "apiserver.key"),
                "--client-ca-file=" + self.ca, "--allow-privileged=true",
                "--authorization-mode", "Node,RBAC"] + list(extra)
        self.proc = spawn(argv, self.log)
        simtest.cleanup_of(owner)(simtest.stop, self.proc)
        simtest.wait_for(self.serving, 30, what="front end %s" % name)

    def serving(self):
        if self.proc.poll() is not None:
            raise AssertionError("front end exited:\n" + simtest.tail(
                self.log))
        try:
            # Any HTTP answer: the listener is up (the core may not be).
            return self.request("GET", "/version", cert=None)[0] > 0
        except OSError:
            return False

    def request(self, method, path, body=None, cert="node", **kw):
        return self.sim.request(method, path, body,
                                cert=self.admin if cert == "node" else cert,
                                host="127.0.0.1", port=self.port,
                                ca=self.ca, **kw)


class FrontendTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        d = simtest.tmpdir(cls, "kubesim-fe-")
        cls.sock = os.path.join(d, "core.sock")
        cls.sim = start_kubesim(cls, "--core-socket", cls.sock,
                                state_dir=os.path.join(d, "core"))
        cls.d = d
        cls.a = Node(cls, d, "cp1", cls.sock, cls.sim)
        cls.b = Node(cls, d, "cp2", cls.sock, cls.sim)

    def test_one_state_two_front_ends(self):
        body = {"metadata": {"name": "shared"}, "data": {"k": "v"}}
        got = self.a.request("POST", "/api/v1/namespaces/default/configmaps",
                             body)
        self.assertStatus(got, 201)
        got = self.b.request("GET",
                             "/api/v1/namespaces/default/configmaps/shared")
        self.assertStatus(got, 200)
        self.assertEqual(got[2]["data"], {"k": "v"})
        got = self.sim.request("GET", "/api/v1/namespaces/default/"
                               "configmaps/shared")
        self.assertEqual(got[2]["metadata"]["uid"],
                         self.b.request("GET", "/api/v1/namespaces/default/"
                                        "configmaps/shared")[2]["metadata"][
                             "uid"])

    def test_foreign_client_ca_refused(self):
        import ssl
        for who, target in ((self.b.admin, self.a), (self.a.admin, self.b),
                            (self.sim.admin, self.a)):
            with self.subTest(target.dir):
                with self.assertRaises((ssl.SSLError, ConnectionError)):
                    target.request("GET", "/api/v1/nodes", cert=who)

    def test_identity_reaches_core_and_log(self):
        self.sim.request("DELETE", "/sim/requests")
        self.assertStatus(self.a.request("GET", "/api/v1/nodes"), 200)
        self.assertStatus(self.b.request("GET", "/api/v1/nodes", cert=None),
                          403)
        items = self.sim.request("GET", "/sim/requests")[2]["items"]
        got = [(e["frontend"], e["user"], e["status"]) for e in items]
        self.assertEqual(got, [("cp1", "kubernetes-admin", 200),
                               ("cp2", "system:anonymous", 403)])

    def test_faults_per_front_end(self):
        self.sim.request("POST", "/sim/faults", {
            "stop_answering": True, "frontends": ["cp1"]})
        try:
            with self.assertRaises(OSError):
                self.a.request("GET", "/api/v1/nodes", timeout=1.0)
            self.assertStatus(self.b.request("GET", "/api/v1/nodes"), 200)
        finally:
            self.sim.request("DELETE", "/sim/faults")
        self.sim.request("POST", "/sim/faults", {"cut_connections": 1,
                                                 "frontends": ["cp2"]})
        with self.assertRaises(OSError):
            self.b.request("GET", "/api/v1/nodes")
        self.assertStatus(self.b.request("GET", "/api/v1/nodes"), 200)
        self.sim.request("DELETE", "/sim/faults")

    def test_admin_endpoints_through_front_end(self):
        got = self.a.request("GET", "/sim/faults")
        self.assertStatus(got, 200)

    def test_bad_flags_exit_1(self):
        d = simtest.tmpdir(self)
        base = [sys.executable, os.path.join(SIM, "kubesim"), "frontend",
                "--core-socket", self.sock, "--listen", "127.0.0.1:%d"
                % free_port()]
        rows = [
            ("missing cert", ["--tls-cert-file=/nonexistent.crt",
                              "--tls-private-key-file=/nonexistent.key"],
             1, "cannot load certificates"),
            ("key of another cert", [
                "--tls-cert-file=" + os.path.join(self.a.dir,
                                                  "apiserver.crt"),
                "--tls-private-key-file=" + os.path.join(self.b.dir,
                                                         "apiserver.key")],
             1, "cannot load certificates"),
            ("port in use", [
                "--tls-cert-file=" + os.path.join(self.a.dir,
                                                  "apiserver.crt"),
                "--tls-private-key-file=" + os.path.join(self.a.dir,
                                                         "apiserver.key"),
                "--listen", "127.0.0.1:%d" % self.a.port], 1, "cannot listen"),
            ("no cert flag", [], 2, "--tls-cert-file"),
        ]
        for name, extra, code, msg in rows:
            with self.subTest(name):
                log = os.path.join(d, name.replace(" ", "_") + ".log")
                p = spawn(base + extra, log)
                self.assertEqual(p.wait(30), code)
                simtest.stop(p)
                self.assertIn(msg, simtest.tail(log))

    def test_core_down(self):
        d = simtest.tmpdir(self)
        sock = os.path.join(d, "gone.sock")
        n = Node(self, d, "cp9", sock, self.sim)
        got = n.request("GET", "/api/v1/nodes")
        self.assertEqual(got[0], 503)
        code, _, body = n.request("GET", "/readyz")
        self.assertEqual(code, 500)
        self.assertIn("[-]informer-sync failed", body)


class FlagsTest(unittest.TestCase):
    """kube-apiserver's flags the front end models."""

    def test_etcd_readycheck_timeout(self):
        base = ["--core-socket=c.sock", "--tls-cert-file=a.crt",
                "--tls-private-key-file=a.key"]
        rows = [("default", [], 2.0),
                ("set", ["--etcd-readycheck-timeout=5s"], 5.0)]
        for name, extra, want in rows:
            with self.subTest(name):
                a, _ = server._frontend_parser().parse_known_args(
                    base + extra)
                self.assertEqual(a.etcd_readycheck_timeout, want)


@unittest.skipIf(ETCD is None, "etcd is not installed")
class EtcdProbeTest(SimTestCase):
    """/readyz's etcd check against a real etcd with client-cert auth."""

    @classmethod
    def setUpClass(cls):
        d = simtest.tmpdir(cls, "kubesim-etcd-")
        cls.d = d
        cls.sock = os.path.join(d, "core.sock")
        cls.sim = start_kubesim(cls, "--core-socket", cls.sock,
                                state_dir=os.path.join(d, "core"))
        pdir = os.path.join(d, "etcd-pki")
        os.makedirs(pdir)
        cls.eca, cls.eca_key = pki.make_ca(pdir, "etcd-ca")
        pki.sign(cls.eca, cls.eca_key, os.path.join(pdir, "server"), "cp1",
                 eku="serverAuth,clientAuth", sans=["127.0.0.1",
                                                    "localhost"])
        cls.good = pki.sign(cls.eca, cls.eca_key, os.path.join(pdir, "good"),
                            "kube-apiserver-etcd-client")
        other, okey = pki.make_ca(os.path.join(d), "not-etcd-ca")
        cls.bad = pki.sign(other, okey, os.path.join(pdir, "bad"),
                           "kube-apiserver-etcd-client")
        cls.expired = pki.sign(cls.eca, cls.eca_key,
                               os.path.join(pdir, "expired"),
                               "kube-apiserver-etcd-client", days=5,
                               start_offset_days=-10)
        cport, pport = free_port(), free_port()
        cls.etcd_url = "https://127.0.0.1:%d" % cport
        srv = os.path.join(pdir, "server")
        cls.etcd = spawn([
            ETCD, "--name=cp1", "--data-dir=" + os.path.join(d, "data"),
            "--listen-client-urls=" + cls.etcd_url,
            "--advertise-client-urls=" + cls.etcd_url,
            "--listen-peer-urls=https://127.0.0.1:%d" % pport,
            "--initial-advertise-peer-urls=https://127.0.0.1:%d" % pport,
            "--initial-cluster=cp1=https://127.0.0.1:%d" % pport,
            "--cert-file=%s.crt" % srv, "--key-file=%s.key" % srv,
            "--client-cert-auth=true", "--trusted-ca-file=" + cls.eca,
            "--peer-cert-file=%s.crt" % srv, "--peer-key-file=%s.key" % srv,
            "--peer-client-cert-auth=true",
            "--peer-trusted-ca-file=" + cls.eca,
            "--listen-metrics-urls=http://127.0.0.1:%d" % free_port()],
            os.path.join(d, "etcd.log"))
        cls.addClassCleanup(simtest.stop, cls.etcd)

    def node(self, name, cert):
        return Node(self, self.d, name, self.sock, self.sim, [
            "--etcd-servers=" + self.etcd_url, "--etcd-cafile=" + self.eca,
            "--etcd-certfile=" + cert[0], "--etcd-keyfile=" + cert[1]])

    def readyz(self, n):
        return n.request("GET", "/readyz?verbose", cert=None)

    def test_rows(self):
        rows = [("good", self.good, 200), ("foreign-ca", self.bad, 500),
                ("expired", self.expired, 500)]
        nodes = {}
        for name, cert, want in rows:
            with self.subTest(name):
                n = nodes[name] = self.node(name, cert)
                if want == 200:
                    got = simtest.wait_for(
                        lambda: self.readyz(n)[0] == 200 and self.readyz(n),
                        30, what="etcd ready")
                    self.assertIn("[+]etcd ok", got[2])
                else:
                    code, _, body = self.readyz(n)
                    self.assertEqual(code, want)
                    self.assertIn("[-]etcd failed: reason withheld", body)
                    self.assertIn("[+]informer-sync ok", body)
                    self.assertEqual(n.request("GET", "/livez/ping",
                                               cert=None)[0], 200)
        # etcd gone: the healthy front end turns not ready within ~1 s.
        simtest.stop(self.etcd)
        simtest.wait_for(lambda: self.readyz(nodes["good"])[0] == 500, 10,
                         what="readyz to fail without etcd")


if __name__ == "__main__":
    unittest.main()
