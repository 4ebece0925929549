"""The cluster's moving parts, simulated in the core process.

- kubelet: pods bound to a node become Running and Ready after a delay;
  deleted pods go away after their grace period (capped by max_grace),
  but only while the node is Ready (pods on a dead node stay Terminating).
- scheduler: binds pods without spec.nodeName to a schedulable Ready node
  whose taints they tolerate.
- replicaset, deployment, daemonset: keep the owned pods at the wanted
  count (new names), so drained pods come back elsewhere.
- disruption: PodDisruptionBudget status, kube-api.md §3.1.
- nodelifecycle: the node.kubernetes.io/unschedulable taint, Ready for
  nodes created without conditions, Unknown for nodes whose kubelet stopped
  posting status.
- namespace: empties and removes terminating namespaces.
Each can be paused for tests (POST /sim/controllers).
"""

import collections
import copy
import hashlib
import json
import math
import threading
import time

from . import resources as R
from . import selectors as S
from .registry import (is_mirror, pod_deleting, pod_ready, pod_terminal,
                       rand_suffix, set_condition)
from .store import controller_ref, now_rfc3339, parse_time

NAMES = ("kubelet", "scheduler", "replicaset", "deployment", "daemonset",
         "disruption", "nodelifecycle", "namespace")
DISRUPTION_TIMEOUT = 120.0
UNSCHED_TAINT = "node.kubernetes.io/unschedulable"
CP_ROLE = "node-role.kubernetes.io/control-plane"
# Tolerations the DaemonSet controller adds to its pods.
DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
     "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
     "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists",
     "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists",
     "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists",
     "effect": "NoSchedule"},
    {"key": UNSCHED_TAINT, "operator": "Exists", "effect": "NoSchedule"},
]


def tolerates(tolerations, taint):
    for t in tolerations or []:
        if not isinstance(t, dict):
            continue
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator", "Equal") == "Exists":
            if not t.get("key") or t["key"] == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and \
                t.get("value", "") == taint.get("value", ""):
            return True
    return False


def fits(node, pod_spec, extra_tolerations=()):
    """Taints tolerated and nodeSelector matched."""
    tols = list(pod_spec.get("tolerations") or []) + list(extra_tolerations)
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and \
                not tolerates(tols, taint):
            return False
    labels = node["metadata"].get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    return True


def node_ready(node):
    for c in node.get("status", {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def node_ip(node):
    for a in node.get("status", {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return a.get("address")
    return "10.0.0.1"


class PodFacts:
    """What the controllers need of a pod, computed once per write."""

    __slots__ = ("name", "obj", "labels", "ready", "deleting", "active",
                 "ctrl_uid", "node")

    def __init__(self, pod):
        m = pod["metadata"]
        self.name = m["name"]
        self.obj = pod
        self.labels = m.get("labels") or {}
        self.ready = pod_ready(pod)
        self.deleting = pod_deleting(pod)
        self.active = not self.deleting and not pod_terminal(pod)
        ref = controller_ref(pod)
        self.ctrl_uid = ref.get("uid") if ref else None
        self.node = pod.get("spec", {}).get("nodeName")


def template_hash(tmpl):
    raw = json.dumps(tmpl, sort_keys=True).encode()
    h = int(hashlib.sha256(raw).hexdigest()[:12], 16)
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    out = ""
    for _ in range(10):
        out += alphabet[h % len(alphabet)]
        h //= len(alphabet)
    return out


class Controllers:
    def __init__(self, store, registry, pod_start_delay=0.2,
                 max_grace=2.0, interval=0.05, node_grace=40.0,
                 compaction_interval=300.0):
        self.store = store
        self.reg = registry
        self.start_delay = pod_start_delay
        self.max_grace = max_grace
        self.interval = interval
        self.node_grace = node_grace
        self.compaction_interval = compaction_interval
        self.enabled = {n: True for n in NAMES}
        self.wake = threading.Event()
        self.stop_ev = threading.Event()
        self.pending_start = {}
        self.deleting = {}
        self.unscheduled = set()
        self.dirty_owners = set()
        self.dirty_pdb_ns = set()
        self.dirty_nodes = set()
        self.all_ds_dirty = False
        self.sim_nodes = set()
        self.pdb_recheck = {}
        self.facts = collections.defaultdict(dict)   # ns -> name -> facts
        self.active_by_ctrl = collections.defaultdict(set)  # uid -> keys
        self.match_cache = {}   # pdb uid -> (generation, {pod: (labels, ok)})
        self.next_ip = 1
        self.last_lifecycle = 0.0
        self.last_compact = time.time()
        self.thread = None
        store.listeners.append(self.on_change)
        registry.sync_pdbs = self.sync_pdbs

    # -- change notifications (store lock held) ---------------------------

    def on_change(self, t, old, new):
        obj = new if new is not None else old
        m = obj["metadata"]
        fn = {R.PODS.key: self._pod_changed, R.NODES.key: self._node_changed,
              R.PDBS.key: self._pdb_changed}.get(t.key)
        if fn:
            fn(obj, old, new)
        elif t in (R.REPLICASETS, R.DAEMONSETS, R.DEPLOYMENTS):
            self.dirty_owners.add(m["uid"])
            ref = controller_ref(obj)
            if ref:
                self.dirty_owners.add(ref.get("uid"))
        self.wake.set()

    def _pod_changed(self, obj, old, new):
        m = obj["metadata"]
        key = (m["namespace"], m["name"])
        self.dirty_pdb_ns.add(m["namespace"])
        ref = controller_ref(obj)
        if ref:
            self.dirty_owners.add(ref.get("uid"))
        was = self.facts[key[0]].get(key[1])
        if was is not None and was.active and was.ctrl_uid:
            self.active_by_ctrl[was.ctrl_uid].discard(key)
        if new is None:
            self.facts[key[0]].pop(key[1], None)
            self.pending_start.pop(key, None)
            self.deleting.pop(key, None)
            self.unscheduled.discard(key)
            return
        f = self.facts[key[0]][key[1]] = PodFacts(new)
        if f.active and f.ctrl_uid:
            self.active_by_ctrl[f.ctrl_uid].add(key)
        spec = new.get("spec", {})
        if pod_deleting(new):
            self.pending_start.pop(key, None)
            self.unscheduled.discard(key)
            grace = new["metadata"].get("deletionGracePeriodSeconds", 0)
            due = time.time() + min(float(grace), self.max_grace)
            self.deleting[key] = min(self.deleting.get(key, due), due)
            return
        if not spec.get("nodeName"):
            self.unscheduled.add(key)
        elif not is_mirror(new) and new.get("status", {}).get(
                "phase") == "Pending" and key not in self.pending_start:
            self.pending_start[key] = time.time() + self.start_delay

    def _node_changed(self, obj, old, new):
        name = obj["metadata"]["name"]
        self.dirty_nodes.add(name)
        self.all_ds_dirty = True
        if old is None and new is not None and not any(
                c.get("type") == "Ready"
                for c in new.get("status", {}).get("conditions") or []):
            self.sim_nodes.add(name)
        if new is None:
            self.sim_nodes.discard(name)
        if new is not None and node_ready(new):
            for p in self.store.pods_on(name):
                k = (p["metadata"]["namespace"], p["metadata"]["name"])
                if k in self.deleting:
                    self.wake.set()
        if self.unscheduled:
            self.wake.set()

    def _pdb_changed(self, obj, old, new):
        if old is None or new is None or old.get("spec") != new.get("spec") \
                or old["metadata"].get("generation") != \
                new["metadata"].get("generation"):
            self.dirty_pdb_ns.add(obj["metadata"]["namespace"])

    # -- loop ------------------------------------------------------------

    def start(self):
        self.thread = threading.Thread(target=self.run, name="controllers",
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_ev.set()
        self.wake.set()
        if self.thread:
            self.thread.join(5)

    def run(self):
        while not self.stop_ev.is_set():
            self.wake.wait(self.interval)
            self.wake.clear()
            with self.store.lock:
                self.tick(time.time())

    def tick(self, now):
        """One pass over everything that is due (store lock held)."""
        on = self.enabled
        if on["nodelifecycle"]:
            self._sync_nodes(now)
        if on["namespace"]:
            self._sync_namespaces()
        if on["deployment"] or on["replicaset"] or on["daemonset"]:
            self._sync_owners()
        if on["scheduler"]:
            self._schedule()
        if on["kubelet"]:
            self._kubelet(now)
        if on["disruption"]:
            due = [ns for ns, t in self.pdb_recheck.items() if t <= now]
            for ns in due:
                self.pdb_recheck.pop(ns)
                self.dirty_pdb_ns.add(ns)
            for ns in sorted(self.dirty_pdb_ns):
                self.sync_pdbs(ns)
        if now - self.last_compact >= self.compaction_interval:
            self.store.compact()
            self.last_compact = now

    # -- kubelet -----------------------------------------------------------

    def _kubelet(self, now):
        for key, due in sorted(self.pending_start.items(),
                               key=lambda kv: kv[1]):
            if due > now:
                continue
            pod = self.store.get(R.PODS, key[0], key[1])
            if pod is None or pod_deleting(pod) or pod_terminal(pod):
                self.pending_start.pop(key, None)
                continue
            node = self.store.get(R.NODES, "", pod["spec"].get("nodeName"))
            if node is None or not node_ready(node):
                continue
            self.pending_start.pop(key, None)
            if pod.get("status", {}).get("phase") == "Pending":
                self._start_pod(pod, node, now)
        for key, due in list(self.deleting.items()):
            if due > now:
                continue
            pod = self.store.get(R.PODS, key[0], key[1])
            if pod is None:
                self.deleting.pop(key, None)
                continue
            node = self.store.get(R.NODES, "", pod["spec"].get("nodeName"))
            if node is not None and not node_ready(node):
                continue
            self.deleting.pop(key, None)
            self._finish_pod(pod)

    def _start_pod(self, pod, node, now):
        new = copy.deepcopy(pod)
        spec = new["spec"]
        hostip = node_ip(node)
        if spec.get("hostNetwork"):
            ip = hostip
        else:
            ip = "10.244.%d.%d" % (self.next_ip // 250, self.next_ip % 250 + 1)
            self.next_ip += 1
        ts = now_rfc3339(now)
        st = new.setdefault("status", {})
        st["phase"] = "Running"
        st["hostIP"] = hostip
        st["hostIPs"] = [{"ip": hostip}]
        st["podIP"] = ip
        st["podIPs"] = [{"ip": ip}]
        st["startTime"] = ts
        for ctype in ("PodReadyToStartContainers", "Initialized", "Ready",
                      "ContainersReady", "PodScheduled"):
            set_condition(st, ctype, "True", None, None, None)
        for c in st["conditions"]:
            c.pop("reason", None)
            c.pop("message", None)
        st["containerStatuses"] = [{
            "name": c.get("name"), "ready": True, "started": True,
            "restartCount": 0, "image": c.get("image"),
            "imageID": "sha256:" + hashlib.sha256(
                str(c.get("image")).encode()).hexdigest(),
            "containerID": "containerd://" + hashlib.sha256(
                (new["metadata"]["uid"] + str(c.get("name"))).encode()
            ).hexdigest(),
            "state": {"running": {"startedAt": ts}}}
            for c in spec.get("containers") or []]
        self.store.commit(R.PODS, new, pod)

    def _finish_pod(self, pod):
        if pod["metadata"].get("finalizers"):
            if pod["metadata"].get("deletionGracePeriodSeconds"):
                new = copy.deepcopy(pod)
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                self.store.commit(R.PODS, new, pod)
            return
        self.reg.remove_now(R.PODS, pod)

    # -- scheduler -------------------------------------------------------

    def _candidate_nodes(self):
        out = []
        for n in self.store.items(R.NODES):
            if n.get("spec", {}).get("unschedulable") or not node_ready(n) \
                    or n["metadata"].get("deletionTimestamp"):
                continue
            out.append(n)
        return out

    def _loads(self):
        """Active pods per node and per (node, controller)."""
        total = collections.Counter()
        same = collections.Counter()
        for by_name in self.facts.values():
            for f in by_name.values():
                if f.active and f.node:
                    total[f.node] += 1
                    same[(f.node, f.ctrl_uid)] += 1
        return total, same

    def _schedule(self):
        if not self.unscheduled:
            return
        nodes = self._candidate_nodes()
        total, same = self._loads()
        for key in sorted(self.unscheduled):
            pod = self.store.get(R.PODS, key[0], key[1])
            if pod is None or pod_deleting(pod) or \
                    pod["spec"].get("nodeName"):
                self.unscheduled.discard(key)
                continue
            spec = pod["spec"]
            ok = [n for n in nodes if fits(n, spec)]
            ref = controller_ref(pod)
            owner = ref.get("uid") if ref else None
            if not ok:
                self._unschedulable(pod, len(nodes))
                continue
            best = min(ok, key=lambda n: (
                same[(n["metadata"]["name"], owner)] if owner else 0,
                total[n["metadata"]["name"]], n["metadata"]["name"]))
            name = best["metadata"]["name"]
            total[name] += 1
            same[(name, owner)] += 1
            new = copy.deepcopy(pod)
            new["spec"]["nodeName"] = name
            set_condition(new.setdefault("status", {}), "PodScheduled",
                          "True", None, None, None)
            for c in new["status"]["conditions"]:
                if c["type"] == "PodScheduled":
                    c.pop("reason", None)
                    c.pop("message", None)
            self.unscheduled.discard(key)
            self.store.commit(R.PODS, new, pod)

    def _unschedulable(self, pod, total):
        st = pod.get("status", {})
        for c in st.get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False":
                return
        new = copy.deepcopy(pod)
        set_condition(new.setdefault("status", {}), "PodScheduled", "False",
                      "Unschedulable",
                      "0/%d nodes are available: no node is schedulable, "
                      "ready and tolerated by the pod." % total, None)
        self.store.commit(R.PODS, new, pod)

    # -- workload controllers -------------------------------------------

    def _sync_owners(self):
        if self.all_ds_dirty and self.enabled["daemonset"]:
            for ds in self.store.items(R.DAEMONSETS):
                self.dirty_owners.add(ds["metadata"]["uid"])
            self.all_ds_dirty = False
        rounds = 0
        while self.dirty_owners and rounds < 4:
            rounds += 1
            uids = sorted(u for u in self.dirty_owners if u)
            self.dirty_owners.clear()
            for uid in uids:
                obj = self.store.lookup_uid(uid)
                if obj is None or obj["metadata"].get("deletionTimestamp"):
                    continue
                fn = {"Deployment": self._sync_deployment,
                      "ReplicaSet": self._sync_replicaset,
                      "DaemonSet": self._sync_daemonset}.get(obj.get("kind"))
                if fn:
                    fn(obj)

    def _owned(self, owner):
        """Facts of the active pods whose controller is owner."""
        keys = self.active_by_ctrl.get(owner["metadata"]["uid"], ())
        return [self.facts[ns][name] for ns, name in keys]

    def _new_pod(self, owner, node=None, extra_tolerations=()):
        tmpl = owner["spec"].get("template") or {}
        m = tmpl.get("metadata") or {}
        om = owner["metadata"]
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "%s-%s" % (om["name"], rand_suffix()),
                            "generateName": om["name"] + "-",
                            "namespace": om["namespace"],
                            "labels": dict(m.get("labels") or {}),
                            "ownerReferences": [{
                                "apiVersion": "apps/v1",
                                "kind": owner["kind"], "name": om["name"],
                                "uid": om["uid"], "controller": True,
                                "blockOwnerDeletion": True}]},
               "spec": copy.deepcopy(tmpl.get("spec") or {})}
        if m.get("annotations"):
            pod["metadata"]["annotations"] = dict(m["annotations"])
        if node:
            pod["spec"]["nodeName"] = node
        if extra_tolerations:
            tols = pod["spec"].setdefault("tolerations", [])
            for t in extra_tolerations:
                if t not in tols:
                    tols.append(dict(t))
        try:
            self.reg.create(R.PODS, om["namespace"], pod)
        except Exception:   # namespace terminating or invalid template
            return

    def _write_status(self, t, obj, status):
        cur = obj.get("status") or {}
        if all(cur.get(k) == v for k, v in status.items()):
            return
        new = copy.deepcopy(obj)
        new.setdefault("status", {}).update(status)
        self.store.commit(t, new, obj)

    def _sync_replicaset(self, rs):
        if not self.enabled["replicaset"]:
            return
        active = self._owned(rs)
        want = rs["spec"].get("replicas", 1)
        for _ in range(want - len(active)):
            self._new_pod(rs)
        if len(active) != want:
            active = self._reconcile_down(rs, active, want)
        ready = sum(1 for f in active if f.ready)
        self._write_status(R.REPLICASETS, rs, {
            "replicas": len(active), "fullyLabeledReplicas": len(active),
            "readyReplicas": ready, "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1)})
        ref = controller_ref(rs)
        if ref:
            self.dirty_owners.add(ref.get("uid"))

    def _reconcile_down(self, rs, active, want):
        if len(active) > want:
            victims = sorted(active, key=lambda f: (
                bool(f.node), f.obj["status"].get("phase") == "Running",
                f.ready, -(parse_time(f.obj["metadata"].get(
                    "creationTimestamp")) or 0), f.name))
            for f in victims[:len(active) - want]:
                self.reg.delete(R.PODS, rs["metadata"]["namespace"], f.name)
        return self._owned(rs)

    def _sync_deployment(self, d):
        if not self.enabled["deployment"]:
            return
        spec = d["spec"]
        h = template_hash(spec.get("template"))
        name = "%s-%s" % (d["metadata"]["name"], h)
        owned = [o for t, o in self.store.by_owner(d["metadata"]["uid"])
                 if t is R.REPLICASETS]
        want = spec.get("replicas", 1)
        current = None
        for rs in owned:
            if rs["metadata"]["name"] == name:
                current = rs
            elif rs["spec"].get("replicas", 0) != 0:
                new = copy.deepcopy(rs)
                new["spec"]["replicas"] = 0
                new["metadata"]["generation"] = \
                    rs["metadata"].get("generation", 1) + 1
                self.store.commit(R.REPLICASETS, new, rs)
        if current is None:
            self._new_rs(d, name, h, want)
        elif current["spec"].get("replicas") != want:
            new = copy.deepcopy(current)
            new["spec"]["replicas"] = want
            new["metadata"]["generation"] = \
                current["metadata"].get("generation", 1) + 1
            self.store.commit(R.REPLICASETS, new, current)
        ready = 0
        total = 0
        for rs in owned:
            st = rs.get("status") or {}
            ready += st.get("readyReplicas", 0)
            total += st.get("replicas", 0)
        self._write_status(R.DEPLOYMENTS, d, {
            "replicas": total, "readyReplicas": ready,
            "availableReplicas": ready, "updatedReplicas": total,
            "observedGeneration": d["metadata"].get("generation", 1)})

    def _new_rs(self, d, name, h, replicas):
        spec = copy.deepcopy(d["spec"])
        tmpl = spec.get("template") or {}
        tmeta = tmpl.setdefault("metadata", {})
        tmeta.setdefault("labels", {})["pod-template-hash"] = h
        sel = spec.get("selector") or {}
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        om = d["metadata"]
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": name, "namespace": om["namespace"],
                           "labels": dict(tmeta["labels"]),
                           "ownerReferences": [{
                               "apiVersion": "apps/v1", "kind": "Deployment",
                               "name": om["name"], "uid": om["uid"],
                               "controller": True,
                               "blockOwnerDeletion": True}]},
              "spec": {"replicas": replicas, "selector": sel,
                       "template": tmpl}}
        try:
            self.reg.create(R.REPLICASETS, om["namespace"], rs)
        except Exception:   # namespace terminating or invalid template
            return

    def _sync_daemonset(self, ds):
        if not self.enabled["daemonset"]:
            return
        tspec = (ds["spec"].get("template") or {}).get("spec") or {}
        by_node = {}
        for f in sorted(self._owned(ds), key=lambda f: f.name):
            by_node.setdefault(f.node, []).append(f)
        nodes = self.store.items(R.NODES)
        eligible = {n["metadata"]["name"] for n in nodes
                    if fits(n, tspec, DS_TOLERATIONS)}
        for name in sorted(eligible):
            if not by_node.get(name):
                self._new_pod(ds, name, DS_TOLERATIONS)
        for name, facts in by_node.items():
            extra = facts if name not in eligible else facts[1:]
            for f in extra:
                self.reg.delete(R.PODS, ds["metadata"]["namespace"], f.name)
        active = self._owned(ds)
        ready = sum(1 for f in active if f.ready)
        self._write_status(R.DAEMONSETS, ds, {
            "desiredNumberScheduled": len(eligible),
            "currentNumberScheduled": len(active),
            "updatedNumberScheduled": len(active), "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": max(len(eligible) - ready, 0),
            "numberMisscheduled": 0,
            "observedGeneration": ds["metadata"].get("generation", 1)})

    # -- disruption controller (kube-api.md §3.1) -------------------------

    def sync_pdbs(self, ns):
        """Bring every PDB of ns up to date (store lock held)."""
        if not self.enabled["disruption"]:
            return
        self.dirty_pdb_ns.discard(ns)
        pdbs = self.store.items(R.PDBS, ns)
        if not pdbs:
            return
        facts = self.facts.get(ns, {})
        now = time.time()
        for pdb in pdbs:
            self._sync_pdb(pdb, facts, now)

    def _matching(self, pdb, sel, facts):
        """Facts of the pods the PDB selects; per-pod results are cached
        until the pod's labels or the PDB's generation change."""
        uid = pdb["metadata"]["uid"]
        gen = pdb["metadata"].get("generation", 1)
        cache = self.match_cache.get(uid)
        if cache is None or cache[0] != gen:
            cache = (gen, {})
            self.match_cache[uid] = cache
        memo = cache[1]
        if len(memo) > 2 * len(facts) + 64:
            for name in [n for n in memo if n not in facts]:
                del memo[name]
        out = []
        for name, f in facts.items():
            hit = memo.get(name)
            if hit is None or hit[0] is not f.labels:
                hit = (f.labels, sel.matches(f.labels))
                memo[name] = hit
            if hit[1]:
                out.append(f)
        return out

    def _sync_pdb(self, pdb, facts, now):
        spec = pdb.get("spec") or {}
        sel = S.from_label_selector(spec.get("selector"))
        gen = pdb["metadata"].get("generation", 1)
        try:
            if sel is None:
                raise ValueError("invalid label selector")
            pods = self._matching(pdb, sel, facts)
            expected, desired = self._expected(spec, pods)
        except ValueError as e:
            self._pdb_failsafe(pdb, str(e), gen)
            return
        disrupted, recheck = self._disrupted(pdb, facts, now)
        healthy = sum(1 for f in pods if f.ready and not f.deleting
                      and f.name not in disrupted)
        allowed = healthy - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        if recheck:
            ns = pdb["metadata"]["namespace"]
            self.pdb_recheck[ns] = min(self.pdb_recheck.get(ns, recheck),
                                       recheck)
        st = copy.deepcopy(pdb.get("status") or {})
        st.update({"observedGeneration": gen, "disruptionsAllowed": allowed,
                   "currentHealthy": healthy, "desiredHealthy": desired,
                   "expectedPods": expected})
        if disrupted:
            st["disruptedPods"] = disrupted
        else:
            st.pop("disruptedPods", None)
        if allowed > 0:
            set_condition(st, "DisruptionAllowed", "True", "SufficientPods",
                          "", gen)
        else:
            set_condition(st, "DisruptionAllowed", "False",
                          "InsufficientPods", "", gen)
        if st != pdb.get("status"):
            new = copy.deepcopy(pdb)
            new["status"] = st
            self.store.commit(R.PDBS, new, pdb)

    def _pdb_failsafe(self, pdb, msg, gen):
        st = copy.deepcopy(pdb.get("status") or {})
        st["disruptionsAllowed"] = 0
        st["observedGeneration"] = gen
        set_condition(st, "DisruptionAllowed", "False", "SyncFailed", msg,
                      gen)
        if st != pdb.get("status"):
            new = copy.deepcopy(pdb)
            new["status"] = st
            self.store.commit(R.PDBS, new, pdb)

    def _expected(self, spec, pods):
        """(expectedPods, desiredHealthy) per getExpectedPodCount."""
        if spec.get("maxUnavailable") is not None:
            expected = self._expected_scale(pods)
            mu = _scaled(spec["maxUnavailable"], expected)
            return expected, max(expected - mu, 0)
        ma = spec.get("minAvailable")
        if ma is None:
            return 0, 0
        if isinstance(ma, int):
            return len(pods), ma
        expected = self._expected_scale(pods)
        return expected, _scaled(ma, expected)

    def _expected_scale(self, pods):
        scales = {}
        seen = set()
        for f in pods:
            uid = f.ctrl_uid
            if uid is None or uid in seen:
                continue    # unmanaged pods are ignored (with an event)
            seen.add(uid)
            owner = self.store.lookup_uid(uid)
            if owner is None or owner.get("kind") not in ("ReplicaSet",
                                                          "Deployment"):
                raise ValueError('found no controllers for pod "%s"'
                                 % f.name)
            if owner["kind"] == "ReplicaSet":
                dref = controller_ref(owner)
                dep = self.store.lookup_uid(dref.get("uid")) if dref else None
                if dep is not None and dep.get("kind") == "Deployment":
                    owner = dep
            scales[owner["metadata"]["uid"]] = owner["spec"].get("replicas",
                                                                 1)
        return sum(scales.values())

    def _disrupted(self, pdb, facts, now):
        old = (pdb.get("status") or {}).get("disruptedPods") or {}
        out = {}
        recheck = None
        for name, ts in old.items():
            f = facts.get(name)
            if f is None or f.deleting:
                continue
            t = parse_time(ts) or 0
            expiry = t + DISRUPTION_TIMEOUT
            if expiry < now:
                continue
            out[name] = ts
            recheck = expiry if recheck is None else min(recheck, expiry)
        return out, recheck

    # -- node lifecycle -------------------------------------------------

    def _sync_nodes(self, now):
        for name in sorted(self.dirty_nodes):
            node = self.store.get(R.NODES, "", name)
            if node is None:
                continue
            new = copy.deepcopy(node)
            if name in self.sim_nodes:
                self._sim_node_status(new, now)
            self._unschedulable_taint(new)
            self._condition_taints(new)
            if new != node:
                self.store.commit(R.NODES, new, node)
        self.dirty_nodes.clear()
        if self.node_grace > 0 and now - self.last_lifecycle >= 1.0:
            self.last_lifecycle = now
            for node in self.store.items(R.NODES):
                if node["metadata"]["name"] not in self.sim_nodes:
                    self._check_heartbeat(node, now)

    @staticmethod
    def _unschedulable_taint(node):
        spec = node.setdefault("spec", {})
        taints = spec.get("taints") or []
        has = any(t.get("key") == UNSCHED_TAINT for t in taints)
        if spec.get("unschedulable") and not has:
            taints.append({"key": UNSCHED_TAINT, "effect": "NoSchedule",
                           "timeAdded": now_rfc3339()})
            spec["taints"] = taints
        elif not spec.get("unschedulable") and has:
            taints = [t for t in taints if t.get("key") != UNSCHED_TAINT]
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)

    @staticmethod
    def _condition_taints(node):
        """not-ready / unreachable taints follow the Ready condition."""
        status = None
        for c in node.get("status", {}).get("conditions") or []:
            if c.get("type") == "Ready":
                status = c.get("status")
        if status is None:
            return
        want = {"False": "node.kubernetes.io/not-ready",
                "Unknown": "node.kubernetes.io/unreachable"}.get(status)
        spec = node.setdefault("spec", {})
        taints = [t for t in spec.get("taints") or []
                  if t.get("key") not in ("node.kubernetes.io/not-ready",
                                          "node.kubernetes.io/unreachable")
                  or t.get("key") == want]
        if want and not any(t.get("key") == want for t in taints):
            for effect in ("NoSchedule", "NoExecute"):
                taints.append({"key": want, "effect": effect,
                               "timeAdded": now_rfc3339()})
        if taints:
            spec["taints"] = taints
        else:
            spec.pop("taints", None)

    @staticmethod
    def _sim_node_status(node, now):
        st = node.setdefault("status", {})
        if any(c.get("type") == "Ready" for c in st.get("conditions") or []):
            return
        ts = now_rfc3339(now)
        conds = st.setdefault("conditions", [])
        for ctype, reason, msg in (
                ("MemoryPressure", "KubeletHasSufficientMemory",
                 "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure",
                 "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID",
                 "kubelet has sufficient PID available")):
            conds.append({"type": ctype, "status": "False", "reason": reason,
                          "message": msg, "lastHeartbeatTime": ts,
                          "lastTransitionTime": ts})
        conds.append({"type": "Ready", "status": "True",
                      "reason": "KubeletReady",
                      "message": "kubelet is posting ready status",
                      "lastHeartbeatTime": ts, "lastTransitionTime": ts})
        name = node["metadata"]["name"]
        st.setdefault("addresses", [{"type": "InternalIP",
                                     "address": "10.0.0.1"},
                                    {"type": "Hostname", "address": name}])
        st.setdefault("nodeInfo", {
            "kubeletVersion": "v1.31.0", "kubeProxyVersion": "v1.31.0",
            "containerRuntimeVersion": "containerd://1.7.20",
            "operatingSystem": "linux", "architecture": "amd64",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "kernelVersion": "6.1.0", "machineID": "", "systemUUID": "",
            "bootID": ""})
        cap = {"cpu": "2", "memory": "8Gi", "pods": "110",
               "ephemeral-storage": "50Gi"}
        st.setdefault("capacity", dict(cap))
        st.setdefault("allocatable", dict(cap))

    def _check_heartbeat(self, node, now):
        name = node["metadata"]["name"]
        ready = None
        for c in node.get("status", {}).get("conditions") or []:
            if c.get("type") == "Ready":
                ready = c
        if ready is None:
            return
        last = parse_time(ready.get("lastHeartbeatTime")) or 0
        lease = self.store.get(R.LEASES, "kube-node-lease", name)
        if lease is not None:
            last = max(last, parse_time((lease.get("spec") or {}).get(
                "renewTime")) or 0)
        stale = now - last > self.node_grace
        if stale and ready.get("status") != "Unknown":
            self._mark_unknown(node)

    def _mark_unknown(self, node):
        new = copy.deepcopy(node)
        ts = now_rfc3339()
        for c in new["status"]["conditions"]:
            c["status"] = "Unknown"
            c["reason"] = "NodeStatusUnknown"
            c["message"] = "Kubelet stopped posting node status."
            c["lastTransitionTime"] = ts
        self._condition_taints(new)
        self.store.commit(R.NODES, new, node)
        for p in self.store.pods_on(node["metadata"]["name"]):
            if pod_ready(p):
                np = copy.deepcopy(p)
                set_condition(np["status"], "Ready", "False", None, None,
                              None)
                self.store.commit(R.PODS, np, p)

    # -- namespaces -------------------------------------------------------

    def _sync_namespaces(self):
        for ns in self.store.items(R.NAMESPACES):
            if ns.get("status", {}).get("phase") != "Terminating":
                continue
            name = ns["metadata"]["name"]
            left = 0
            for t in R.TYPES:
                if not t.namespaced:
                    continue
                for o in self.store.items(t, name):
                    left += 1
                    if not o["metadata"].get("deletionTimestamp"):
                        self.reg.delete(t, name, o["metadata"]["name"])
            if left == 0:
                self.store.commit(R.NAMESPACES, None, ns)


def _scaled(v, total):
    """intstr.GetScaledValueFromIntOrPercent with roundUp=true."""
    if isinstance(v, int):
        return v
    pct = int(str(v).rstrip("%"))
    return int(math.ceil(pct * total / 100.0))
