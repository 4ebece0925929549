"""The benchmarks that need the lab (tests/lab/lab, docs/lab.md): check,
rollout and the memory of certroll and the agent through a rollout.

The lab is the machine's one lab: it is brought up in its own directory
with this process as its holder (so it is released if we die) and waits up
to 15 minutes for another holder; it is always brought down at the end.
Everything runs in the lab's hub namespace (`lab exec`), so no traffic
leaves the machine.
"""

import glob
import json
import os
import re
import subprocess
import threading
import time

import benchlib

LAB_DIR = "/tmp/certroll-lab-bench"
CHECK_NODES = 9          # the lab's maximum (tests/lab/lab: 1 to 9)
ROLLOUT_NODES = 3
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager",
              "kube-scheduler")
LAB_MAX_GRACE_S = 2.0    # the lab's kubesim runs with the default --max-grace


class Lab:
    """One lab session, held by this process."""

    def __init__(self, ctx, report):
        self.ctx = ctx
        self.report = report
        self.script = os.path.join(ctx["src"], "tests", "lab", "lab")
        self.env = dict(os.environ, CERTROLL_LAB_DIR=LAB_DIR,
                        CR_BIN_DIR=ctx["bindir"])
        self.up_ok = False

    def _lab(self, args, timeout):
        r = subprocess.run([self.script] + args, env=self.env, text=True,
                           capture_output=True, timeout=timeout, check=False)
        if r.returncode != 0:
            raise benchlib.BenchError("lab %s failed (%d): %s" % (
                args[0], r.returncode, r.stderr.strip()[-800:]))
        return r.stdout

    def up(self, nodes, extra=()):
        self.report("lab up --nodes %d %s (waits for another holder)"
                    % (nodes, " ".join(extra)))
        self._lab(["up", "--nodes", str(nodes), "--holder",
                   str(os.getpid()), "--wait", "900"] + list(extra), 1200)
        self.up_ok = True

    def down(self):
        if self.up_ok:
            self.up_ok = False
            self._lab(["down"], 300)

    def exec_argv(self, argv):
        return [self.script, "exec", "--"] + argv

    def measure(self, argv, log):
        return benchlib.measure(self.exec_argv(argv), env=self.env,
                                out_path=log, timeout=900)

    def path(self, *parts):
        return os.path.join(LAB_DIR, *parts)


# --- check -------------------------------------------------------------


def read_script(files):
    """One shell command printing the expiry of every file, as openssl
    sees it: .crt directly, kubeconfigs through client-certificate-data.
    A file the node does not have is skipped, as certroll check skips it
    (super-admin.conf exists on the first node only)."""
    crt = [f for f in files if f.endswith(".crt")]
    conf = [f for f in files if not f.endswith(".crt")]
    return ("for f in %s; do [ -e $f ] || continue; printf '%%s ' $f; "
            "openssl x509 -noout -enddate -in $f; done; for f in %s; do "
            "[ -e $f ] || continue; printf '%%s ' $f; sed -n "
            "'s/^ *client-certificate-data: *//p' $f | base64 -d | openssl "
            "x509 -noout -enddate; done" % (" ".join(crt), " ".join(conf)))


def check_contenders(lab, files, nodes):
    inv = lab.path("inventory.ini")
    ansible_env = ["env", "ANSIBLE_HOST_KEY_CHECKING=True",
                   "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3",
                   "ANSIBLE_SSH_ARGS=-C -o ControlMaster=auto "
                   "-o ControlPersist=60s -o UserKnownHostsFile="
                   + lab.path("known_hosts")]
    shell = read_script(files)
    ansible = ansible_env + ["ansible", "-i", inv, "kube_control_plane",
                             "-m", "shell", "-a", shell]
    seq = "for h in %s; do ssh -F %s $h %s; done" % (
        " ".join(nodes), lab.path("ssh_config"), _quote(shell))
    # The lab's certificates expire in 20 days: thresholds below that keep
    # the exit status 0 (the work is the same at any threshold).
    return [("certroll check", [lab.ctx["certroll"], "check", "-i", inv,
                                "--warn", "7d", "--crit", "1d"]),
            ("ansible forks 5 (default)", ansible),
            ("ansible forks 20", ansible + ["-f", "20"]),
            ("sequential ssh", ["bash", "-c", seq])]


def _quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def check_files(lab, work):
    """The files certroll check reads (from its JSON), node names too."""
    log = os.path.join(work, "check-discover.json")
    m = lab.measure([lab.ctx["certroll"], "check", "-i",
                     lab.path("inventory.ini"), "-o", "json", "--out",
                     log], os.path.join(work, "check-discover.log"))
    if m["rc"] not in (0, 1, 2):
        raise benchlib.BenchError("certroll check exited %d, see %s"
                                  % (m["rc"], work))
    with open(log, encoding="utf-8") as f:
        doc = json.load(f)
    files = sorted({c["file"] for c in doc["certificates"] if c["file"]})
    nodes = sorted({c["node"] for c in doc["certificates"]})
    return files, nodes


def run_check(lab, runs, work, report):
    lab.up(CHECK_NODES, ["--ssh-only"])
    files, nodes = check_files(lab, work)
    contenders = check_contenders(lab, files, nodes)
    rows = {name: [] for name, _ in contenders}
    for i in range(runs + 1):          # round 0 warms every contender
        for name, argv in contenders:
            log = os.path.join(work, "check-%s-%d.log"
                               % (re.sub(r"\W+", "_", name), i))
            m = lab.measure(argv, log)
            if m["rc"] != 0:
                raise benchlib.BenchError("%s exited %d, see %s"
                                          % (name, m["rc"], log))
            if i > 0:
                rows[name].append(m)
                report("check run %d/%d: %s %.2fs (load %.1f)"
                       % (i, runs, name, m["wall_s"], m["load"]))
    lab.down()
    out = []
    for name, _ in contenders:
        s = benchlib.summarize(rows[name], "wall_s")
        out.append({"name": name, "values": s["values"],
                    "median": s["median"],
                    "loads": [m["load"] for m in rows[name]]})
    return {"nodes": len(nodes), "certs": len(files), "files": files,
            "rows": out}


# --- rollout and memory --------------------------------------------------


class Sampler(threading.Thread):
    """Every 20 ms: VmHWM of every certroll-agent process on the machine
    (the lab's nodes are PID namespaces of this kernel), and which static
    pod manifests each node has, to time when the agent moved one out
    ("gone") and back ("back")."""

    def __init__(self, nodes):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak_kb = {}
        self.nodes = nodes
        self.moves = {n: [] for n in nodes}
        self.present = {n: self._manifests(n) for n in nodes}

    def run(self):
        while not self.stop.wait(0.02):
            for st in glob.glob("/proc/[0-9]*/status"):
                self._sample(st)
            for n in self.nodes:
                self._watch(n)

    @staticmethod
    def _manifests(node):
        d = os.path.join(LAB_DIR, "nodes", node, "kubernetes", "manifests")
        try:
            return {f for f in os.listdir(d) if not f.startswith(".")}
        except OSError:
            return set()

    def _watch(self, node):
        now = time.time()
        cur = self._manifests(node)
        for f in self.present[node] - cur:
            self.moves[node].append({"time": now, "file": f, "move": "gone"})
        for f in cur - self.present[node]:
            self.moves[node].append({"time": now, "file": f, "move": "back"})
        self.present[node] = cur

    def _sample(self, st):
        try:
            with open(st, encoding="ascii", errors="replace") as f:
                text = f.read()
        except OSError:
            return
        if not text.startswith("Name:\tcertroll-agent"):
            return
        m = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
        if m:
            pid = st.split("/")[2]
            self.peak_kb[pid] = max(self.peak_kb.get(pid, 0),
                                    int(m.group(1)))


def node_events(node, t0, t1):
    path = os.path.join(LAB_DIR, "nodes", node, "var-lib-kubelet", "standin",
                        "events.log")
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if t0 <= e["time"] <= t1:
                out.append(e)
    return out


def component_waits(events, moves, fcf):
    """Per component, the waits the lab imposes on a restart as intervals:
    from the manifest moved out to the kubelet's "stopped", and from the
    manifest back to "ready" (the kubelet noticing it, the start-up delay,
    the process starting, the first probe). A move the sampler did not
    see counts one fileCheckFrequency before the kubelet's event."""
    res = {}
    for comp in COMPONENTS:
        ev = [e for e in events if e["pod"].startswith(comp)]
        mv = [m for m in moves if m["file"] == comp + ".yaml"]
        gone = [m["time"] for m in mv if m["move"] == "gone"]
        back = [m["time"] for m in mv if m["move"] == "back"]
        stopped = [e["time"] for e in ev if e["event"] == "stopped"]
        ready = [e["time"] for e in ev if e["event"] == "ready"]
        iv = []
        if stopped:
            iv.append((gone[0] if gone and gone[0] <= stopped[0]
                       else stopped[0] - fcf, stopped[0]))
        if ready:
            iv.append((back[-1] if back and back[-1] <= ready[-1]
                       else ready[-1] - fcf, ready[-1]))
        res[comp] = {"stop_s": round(iv[0][1] - iv[0][0], 3) if stopped
                     else 0.0,
                     "start_s": round(iv[-1][1] - iv[-1][0], 3) if ready
                     else 0.0,
                     "intervals": iv}
    return res


def covered(intervals):
    """Seconds covered by the union of (start, end) intervals: waits that
    overlap (certroll moving on while a component still starts) count
    once."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def evictions(lab, t0, t1):
    """Times of the eviction POSTs the simulator answered 201 in [t0, t1]
    (its request log, read through the lab's own door in the hub)."""
    r = subprocess.run(lab.exec_argv([
        lab.ctx["kubesim_ctl"], "--kubeconfig", lab.path("sim", "kubeconfig"),
        "requests", "-o", "json"]), env=lab.env, text=True,
        capture_output=True, check=False)
    if r.returncode != 0:
        raise benchlib.BenchError("kubesim-ctl requests failed: %s"
                                  % r.stderr.strip()[-400:])
    return [e["time"] for e in json.loads(r.stdout)["items"]
            if e["method"] == "POST" and e["path"].endswith("/eviction")
            and e["status"] == 201 and t0 <= e["time"] <= t1]


def floor_of(nodes, events, moves, evicted_at, fcf):
    """The rollout's floor: per node the lab's termination grace when its
    drain evicted a pod, and per component the measured waits of
    component_waits().

    Nodes go one after another, so a node's drain lies between the
    previous node's last kubelet event and its own first one."""
    total = 0.0
    detail = []
    prev_end = float("-inf")
    for node in nodes:
        ev = events[node]
        first = min((e["time"] for e in ev), default=float("inf"))
        evicted = any(prev_end <= t <= first for t in evicted_at)
        prev_end = max((e["time"] for e in ev), default=prev_end)
        drain = LAB_MAX_GRACE_S if evicted else 0.0
        waits = component_waits(ev, moves[node], fcf)
        restarts = covered([iv for c in waits.values()
                            for iv in c["intervals"]])
        total += drain + restarts
        detail.append("%s %.1f s (drain %.0f s, restarts %.1f s)"
                      % (node, drain + restarts, drain, restarts))
    return round(total, 2), "; ".join(detail)


def run_rollout(lab, runs, work, report):
    lab.up(ROLLOUT_NODES)
    with open(lab.path("file-check-frequency"), encoding="ascii") as f:
        fcf = float(f.read().strip().rstrip("s"))
    nodes = ["cp%d" % (i + 1) for i in range(ROLLOUT_NODES)]
    out = {"runs": [], "agent_peak_kb": 0}
    for i in range(runs):
        rep = os.path.join(work, "apply-report-%d.json" % i)
        log = os.path.join(work, "apply-%d.log" % i)
        sampler = Sampler(nodes)
        sampler.start()
        t0 = time.time()
        m = lab.measure([lab.ctx["certroll"], "apply", "-i",
                         lab.path("inventory.ini"), "--yes", "--report",
                         rep, "--state-dir",
                         os.path.join(work, "state-%d" % i)], log)
        t1 = time.time()
        sampler.stop.set()
        sampler.join()
        if m["rc"] != 0:
            raise benchlib.BenchError("certroll apply exited %d, see %s"
                                      % (m["rc"], log))
        events = {n: node_events(n, t0, t1) for n in nodes}
        waits = {n: component_waits(events[n], sampler.moves[n], fcf)
                 for n in nodes}
        floor, detail = floor_of(nodes, events, sampler.moves,
                                 evictions(lab, t0, t1), fcf)
        agent = max(sampler.peak_kb.values(), default=0)
        out["agent_peak_kb"] = max(out["agent_peak_kb"], agent)
        row = {"wall_s": m["wall_s"], "floor_s": floor,
               "ratio": benchlib.ratio(m["wall_s"], floor),
               "maxrss_kb": m["maxrss_kb"], "load": m["load"],
               "agent_peak_kb": agent, "waits": waits}
        out["runs"].append(row)
        out["floor_detail"] = detail
        with open(rep, encoding="utf-8") as f:
            doc = json.load(f)
        out["phases"] = {n["name"]: {k: round(v / 1000.0, 2) for k, v in
                                     n["phases"].items()}
                         for n in doc["nodes"]}
        report("rollout run %d/%d: apply %.1fs, floor %.1fs, certroll "
               "%d KiB, agent %d KiB (load %.1f)" % (
                   i + 1, runs, m["wall_s"], floor, m["maxrss_kb"], agent,
                   m["load"]))
    lab.down()
    names = []
    for ph in out["phases"].values():
        names += [k for k in ph if k not in names]
    out["phase_names"] = names
    out["fcf_s"] = fcf
    walls = [r["wall_s"] for r in out["runs"]]
    floors = [r["floor_s"] for r in out["runs"]]
    out["median_wall_s"] = benchlib.median(walls)
    out["median_floor_s"] = benchlib.median(floors)
    out["median_ratio"] = benchlib.ratio(out["median_wall_s"],
                                         out["median_floor_s"])
    return out


def run(ctx, parts, runs, report):
    work = os.path.join(ctx["work"], "lab")
    os.makedirs(work, exist_ok=True)
    lab = Lab(ctx, report)
    res = {}
    try:
        if "check" in parts:
            res["check"] = run_check(lab, runs, work, report)
        if "rollout" in parts or "memory" in parts:
            res["rollout"] = run_rollout(lab, runs, work, report)
    finally:
        lab.down()
    return res
