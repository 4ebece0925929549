#!/usr/bin/env python3
"""Side by side: the real `kubectl drain` and `certroll drain` on two
kubesim instances holding the same objects must evict the same pods, keep
the same pods and report the same blockers (compared as sets, not text).

usage: drain_vs_kubectl.py --certroll BIN --kubesim PATH [--keep]

Exit 0 when every scenario agrees, 1 when one differs (the differences are
printed), 77 when kubectl or python's ssl support is missing. Both
simulators run on 127.0.0.1 and are stopped by PID whatever happens.
"""

import argparse
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

NS = "default"

# Each scenario drains its own node in both simulators.
SCENARIOS = [
    ("s1", []),
    ("s2", ["--ignore-daemonsets", "--delete-emptydir-data", "--force",
            "--timeout=6s"]),
    ("s3", ["--ignore-daemonsets", "--delete-emptydir-data", "--force",
            "--disable-eviction", "--timeout=20s"]),
    ("s4", ["--ignore-daemonsets", "--pod-selector=tier=api", "--chunk-size=3",
            "--timeout=20s"]),
    ("s5", ["--ignore-daemonsets", "--delete-emptydir-data",
            "--grace-period=0", "--timeout=20s"]),
]


def owner(kind, api, name):
    return [{"apiVersion": api, "kind": kind, "name": name,
             "uid": "uid-" + name, "controller": True}]


def pod(node, name, labels=None, owners=None, volumes=None,
        annotations=None):
    meta = {"name": "%s-%s" % (name, node), "namespace": NS,
            "labels": dict(labels or {})}
    if owners:
        meta["ownerReferences"] = owners
    if annotations:
        meta["annotations"] = annotations
    spec = {"nodeName": node, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": "registry/app:1"}]}
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": spec}


def objects(node):
    """The cluster state of one scenario: a node and its pods."""
    rs = owner("ReplicaSet", "apps/v1", "web-" + node)
    ds = owner("DaemonSet", "apps/v1", "proxy-" + node)
    return [
        {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": node, "labels": {
                "node-role.kubernetes.io/control-plane": ""}}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {
            "name": "proxy-" + node, "namespace": NS}, "spec": {
            "selector": {"matchLabels": {"ds": node}}, "template": {
                "metadata": {"labels": {"ds": node}}, "spec": {
                    "nodeSelector": {"none": "none"},
                    "containers": [{"name": "c", "image": "x"}]}}}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": {"name": "db-" + node, "namespace": NS},
         "spec": {"minAvailable": 1,
                  "selector": {"matchLabels": {"app": "db-" + node}}}},
        pod(node, "api-1", {"tier": "api"}, rs),
        pod(node, "api-2", {"tier": "api"}, rs),
        pod(node, "db-0", {"app": "db-" + node}, rs),
        pod(node, "cache-1", {}, rs, [{"name": "tmp", "emptyDir": {}}]),
        pod(node, "report-1", {}, owner("Job", "batch/v1", "report")),
        pod(node, "naked-1"),
        pod(node, "kube-proxy", {"ds": node}, ds),
        pod(node, "kube-apiserver", {"component": "kube-apiserver"},
            owner("Node", "v1", node),
            annotations={"kubernetes.io/config.mirror": "hash"}),
    ]


class Sim:
    """One kubesim in its own directory, spoken to with its admin cert."""

    def __init__(self, kubesim, root, name):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.log = open(os.path.join(self.dir, "sim.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, kubesim, "--state-dir", self.dir,
             "--version-minor", "33", "--max-grace", "0.3s"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        deadline = time.time() + 30
        while not os.path.exists(self.kubeconfig):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("kubesim %s did not start" % name)
            time.sleep(0.05)
        with open(self.kubeconfig) as f:
            self.url = re.search(r"server: (\S+)", f.read()).group(1)
        self.ctx = ssl.create_default_context(
            cafile=os.path.join(self.dir, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(self.dir, "admin.crt"),
                                 os.path.join(self.dir, "admin.key"))

    def call(self, method, path, body=None, ctype="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", ctype)
        with urllib.request.urlopen(req, context=self.ctx, timeout=20) as r:
            return json.loads(r.read() or b"{}")

    def pods(self, node):
        out = self.call("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3D"
                        + node)
        return {p["metadata"]["name"] for p in out["items"]
                if not p["metadata"].get("deletionTimestamp")}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def setup(sim, node):
    sim.call("POST", "/sim/controllers",
             {"daemonset": False, "replicaset": False, "deployment": False})
    res = sim.call("POST", "/sim/bulk", {"items": objects(node)})
    if res.get("errors"):
        raise RuntimeError("bulk: %s" % res["errors"])


def finish_setup(sim, node):
    sim.call("PATCH", "/api/v1/namespaces/%s/pods/report-1-%s/status"
             % (NS, node), {"status": {"phase": "Succeeded"}},
             "application/merge-patch+json")


BLOCKERS = [
    ("daemonset", re.compile(r"DaemonSet-managed Pods")),
    ("local-storage", re.compile(r"Pods with local storage")),
    ("no-controller", re.compile(r"declare no controller")),
]


def blockers(stderr):
    """{(kind, pod)} from kubectl's (and so certroll's) error lines."""
    out = set()
    for line in stderr.splitlines():
        m = re.match(r"^cannot delete (?:cannot delete )?(.*): ([^:]+)$",
                     line)
        if m:
            kind = next((k for k, rx in BLOCKERS if rx.search(m.group(1))),
                        "other:" + m.group(1))
            for ref in m.group(2).split(", "):
                out.add((kind, ref.strip()))
            continue
        m = re.match(r'^error when evicting pods/"([^"]+)" -n "([^"]+)": '
                     r'(.*)$', line)
        if m:
            why = "timeout" if "global timeout" in m.group(3) else \
                m.group(3)
            out.add((why, "%s/%s" % (m.group(2), m.group(1))))
    return out


def evicting(stdout):
    return set(re.findall(r"^evicting pod (\S+)", stdout, re.M))


def run(argv, env):
    t0 = time.time()
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=120, check=False)
    return p.returncode, p.stdout, p.stderr, time.time() - t0


def scenario(name, flags, a, b, certroll, cache):
    node = "cp-" + name
    for s in (a, b):
        setup(s, node)
    time.sleep(0.8)
    for s in (a, b):
        finish_setup(s, node)
    time.sleep(0.3)
    before = a.pods(node)
    if before != b.pods(node):
        raise RuntimeError("the two simulators differ before draining")
    env = dict(os.environ, KUBECACHEDIR=cache)
    k = run(["kubectl", "--kubeconfig", a.kubeconfig, "--cache-dir", cache,
             "drain", node] + flags, env)
    c = run([certroll, "drain", node, "--kubeconfig", b.kubeconfig] + flags,
            env)
    results = []
    for (rc, out, err, secs), sim in ((k, a), (c, b)):
        left = sim.pods(node)
        results.append({"rc": rc, "evicted": before - left, "kept": left,
                        "blockers": blockers(err),
                        "evicting": evicting(out), "secs": secs,
                        "out": out, "err": err})
    return compare(name, flags, results[0], results[1])


def compare(name, flags, k, c):
    ok = True
    for key in ("rc", "evicted", "kept", "blockers", "evicting"):
        if k[key] != c[key]:
            ok = False
            print("%s %s: %s differ:\n  kubectl:  %s\n  certroll: %s"
                  % (name, " ".join(flags), key, sorted_or(k[key]),
                     sorted_or(c[key])))
    print("%s %-70s %s  evicted %d kept %d blockers %d  kubectl %.1fs "
          "certroll %.1fs" % ("ok  " if ok else "FAIL", name + " " +
                              " ".join(flags), "", len(c["evicted"]),
                              len(c["kept"]), len(c["blockers"]),
                              k["secs"], c["secs"]))
    if not ok:
        for who, r in (("kubectl", k), ("certroll", c)):
            print("---- %s stdout\n%s---- %s stderr\n%s" % (
                who, r["out"], who, r["err"]))
    return ok


def sorted_or(v):
    return sorted(v) if isinstance(v, set) else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--certroll", required=True)
    ap.add_argument("--kubesim", required=True)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory")
    a = ap.parse_args()
    if shutil.which("kubectl") is None:
        print("SKIP: kubectl is not installed")
        return 77
    root = tempfile.mkdtemp(prefix="certroll-drain-vs-kubectl-")
    sims = []
    ok = True
    try:
        sims = [Sim(a.kubesim, root, "kubectl"),
                Sim(a.kubesim, root, "certroll")]
        cache = os.path.join(root, "kubectl-cache")
        for name, flags in SCENARIOS:
            ok = scenario(name, flags, sims[0], sims[1], a.certroll,
                          cache) and ok
    finally:
        for s in sims:
            s.stop()
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
