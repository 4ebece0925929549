"""certroll drain vs kubectl drain on two identical kubesim states.

For every scenario (pods on the node, their terminationGracePeriodSeconds)
and every run: two simulators are started on 127.0.0.1 with the same
--max-grace, the same node and pods are bulk-created in both, then one
tool drains node n1 on simulator A and the other on simulator B (the
order alternates between runs so neither always goes first). Half the
pods have no controller (--force), half an emptyDir (--delete-emptydir-
data), so both tools take the same flags. kubectl gets a fresh
--cache-dir every run. Both simulators are stopped by their PID files,
whatever happens.
"""

import json
import os
import shutil
import subprocess

import benchlib

NODE_YAML = """apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {node-role.kubernetes.io/control-plane: ""}
"""
FLAGS = ["--ignore-daemonsets", "--delete-emptydir-data", "--force"]


def scenarios(sizes, runs, large_runs):
    """(pods, grace seconds, runs) rows in the order they run: grace 0 and
    3 s for every size; sizes above 500 pods run large_runs times."""
    return [(pods, grace, large_runs if pods > 500 else runs)
            for pods in sizes for grace in (0, 3)]


class Sim:
    """One kubesim on 127.0.0.1 in its own state directory."""

    def __init__(self, ctx, state_dir, grace):
        self.ctx = ctx
        self.dir = state_dir
        self.kubeconfig = os.path.join(state_dir, "kubeconfig")
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        os.makedirs(state_dir, exist_ok=True)
        self._ctl(["start", "--state-dir", state_dir, "--wait", "60s",
                   "--", "--max-grace", "%ds" % grace])

    def _ctl(self, args, stdin=None):
        argv = [self.ctx["kubesim_ctl"], "--timeout", "60s"] + args
        r = subprocess.run(argv, env=self.env, input=stdin, text=True,
                           capture_output=True, check=False)
        if r.returncode != 0:
            raise benchlib.BenchError("kubesim-ctl %s failed (%d): %s"
                                      % (args[0], r.returncode,
                                         r.stderr.strip()[-400:]))
        return r.stdout

    def populate(self, pods, grace):
        """The node n1 and its pods: half plain, half with an emptyDir."""
        self._ctl(["bulk", "-f", "-"], stdin=NODE_YAML)
        half = pods // 2
        self._ctl(["bulk", "pods", "--count", str(half), "--node", "n1",
                   "--grace", str(grace), "--prefix", "plain"])
        self._ctl(["bulk", "pods", "--count", str(pods - half), "--node",
                   "n1", "--grace", str(grace), "--prefix", "scratch",
                   "--empty-dir"])

    def clear_requests(self):
        self._ctl(["requests", "--clear"])

    def request_count(self):
        return len(json.loads(self._ctl(["requests", "-o", "json"]))
                   ["items"])

    def stop(self):
        if os.path.exists(os.path.join(self.dir, "kubesim.pid")):
            subprocess.run([self.ctx["kubesim_ctl"], "stop", "--state-dir",
                            self.dir], env=self.env, check=False,
                           capture_output=True)


def tool_argv(ctx, tool, sim, cache_dir):
    if tool == "certroll":
        return [ctx["certroll"], "drain", "n1", "--kubeconfig",
                sim.kubeconfig] + FLAGS
    return [ctx["kubectl"], "--kubeconfig", sim.kubeconfig, "--cache-dir",
            cache_dir, "drain", "n1"] + FLAGS


def one_run(ctx, pods, grace, index, work):
    """Both tools once on fresh, identical simulators."""
    order = ["certroll", "kubectl"] if index % 2 == 0 else \
        ["kubectl", "certroll"]
    sims = {}
    result = {}
    try:
        for tool in order:
            sims[tool] = Sim(ctx, os.path.join(work, "sim-" + tool), grace)
            sims[tool].populate(pods, grace)
        for tool in order:
            sim = sims[tool]
            sim.clear_requests()
            cache = os.path.join(work, "kubectl-cache-%d-%d" % (pods, index))
            shutil.rmtree(cache, ignore_errors=True)
            log = os.path.join(work, "%s-%d-g%d-run%d.log"
                               % (tool, pods, grace, index))
            m = benchlib.measure(tool_argv(ctx, tool, sim, cache),
                                 env=sim.env, out_path=log, timeout=900)
            if m["rc"] != 0:
                raise benchlib.BenchError("%s drain exited %d, see %s"
                                          % (tool, m["rc"], log))
            m["requests"] = sim.request_count()
            result[tool] = m
    finally:
        for sim in sims.values():
            sim.stop()
    return result


def run(ctx, sizes, runs, large_runs, report):
    """All scenarios; returns their rows for the results file."""
    work = os.path.join(ctx["work"], "drain")
    os.makedirs(work, exist_ok=True)
    rows = []
    for pods, grace, n in scenarios(sizes, runs, large_runs):
        per = {"certroll": [], "kubectl": []}
        for i in range(n):
            r = one_run(ctx, pods, grace, i, work)
            for tool, m in r.items():
                per[tool].append(m)
            report("drain %d pods grace %ds run %d/%d: certroll %.2fs "
                   "%d KiB, kubectl %.2fs %d KiB (load %.1f)"
                   % (pods, grace, i + 1, n, r["certroll"]["wall_s"],
                      r["certroll"]["maxrss_kb"], r["kubectl"]["wall_s"],
                      r["kubectl"]["maxrss_kb"], r["certroll"]["load"]))
        row = {"pods": pods, "grace": grace, "runs": per}
        for key in ("wall_s", "maxrss_kb", "requests"):
            c = benchlib.summarize(per["certroll"], key)
            k = benchlib.summarize(per["kubectl"], key)
            row[key] = {"certroll": c, "kubectl": k,
                        "ratio": benchlib.ratio(c["median"], k["median"])}
        rows.append(row)
    return rows
