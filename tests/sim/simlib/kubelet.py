"""The kubelet stand-in: runs a node's static pods as processes and
publishes the node and its mirror pods through the API server.

Every --file-check-frequency it reads <kubernetes-dir>/manifests (files not
starting with '.'). A new manifest starts its component after
--startup-delay; a changed one restarts it; a removed one stops it
(SIGTERM to its process group, SIGKILL after the grace). A component that
exits is restarted with exponential back-off (CrashLoopBackOff).

Components by manifest: etcd and unknown ones run their own command;
kube-apiserver runs `kubesim frontend` with the manifest's flags and the
core socket; kube-controller-manager and kube-scheduler run the component
stand-in with the manifest's flags.
"""

import argparse
import copy
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from . import kyaml
from .client import Client
from .store import now_micro, now_rfc3339
from .util import bool_arg, duration_arg, setup_logging

log = logging.getLogger("kubelet")
HERE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
MIRROR = "kubernetes.io/config.mirror"

HELP = """\
Stand in for the kubelet of one control-plane node: run its static pods
and publish the node and mirror pods through the API.

examples:
  kubelet --node cp1 --kubernetes-dir /etc/kubernetes \\
      --kubeconfig /etc/kubernetes/kubelet.conf --file-check-frequency 1s \\
      --core-socket /run/kubesim.sock --node-ip 10.200.0.11 \\
      --state-dir /var/lib/kubelet-standin --pid-file /run/kubelet-cp1.pid
  mv /etc/kubernetes/manifests/etcd.yaml /tmp/   # etcd stops
  mv /tmp/etcd.yaml /etc/kubernetes/manifests/   # and starts again

State dir: events.log (one JSON line per start/exit/stop), status.json,
logs/<pod>.log (each component's output).
"""


def _probe_of(container):
    for k in ("readinessProbe", "startupProbe", "livenessProbe"):
        if isinstance(container.get(k), dict):
            return container[k]
    return None


class StaticPod:
    """One manifest and the process that runs it."""

    def __init__(self, path, raw, doc, node):
        self.path = path
        self.raw = raw
        self.hash = hashlib.sha256(raw + node.encode()).hexdigest()[:32]
        meta = doc.get("metadata") or {}
        self.spec = doc.get("spec") or {}
        cs = self.spec.get("containers") or [{}]
        self.container = cs[0] if isinstance(cs[0], dict) else {}
        self.cname = self.container.get("name") or meta.get("name", "")
        self.name = meta.get("name") or self.cname
        self.namespace = meta.get("namespace") or "default"
        self.labels = meta.get("labels") or {}
        self.annotations = meta.get("annotations") or {}
        self.command = [str(x) for x in (self.container.get("command") or [])
                        + (self.container.get("args") or [])]
        self.proc = None
        self.state = "pending"
        self.next_start = 0.0
        self.started_at = None
        self.first_seen = now_rfc3339()
        self.restarts = 0
        self.backoff_n = 0
        self.stop_deadline = 0.0
        self.last_term = None
        self.ready = False
        self.container_id = ""
        self.reason = ""

    @property
    def kind(self):
        base = os.path.basename(self.command[0]) if self.command else ""
        for k in ("kube-apiserver", "kube-controller-manager",
                  "kube-scheduler", "etcd"):
            if base == k or (not base and self.name == k):
                return k
        return base or self.name

    def flag(self, name):
        for arg in self.command:
            if arg.startswith("--%s=" % name):
                return arg.split("=", 1)[1]
        return None


class Kubelet:
    def __init__(self, a):
        self.a = a
        self.node = a.node
        self.kdir = os.path.abspath(a.kubernetes_dir)
        self.mdir = os.path.join(self.kdir, "manifests")
        self.state_dir = os.path.abspath(a.state_dir or
                                         "/tmp/kubelet-standin-%s" % a.node)
        os.makedirs(os.path.join(self.state_dir, "logs"), exist_ok=True)
        self.pods = {}          # manifest path -> StaticPod
        self.stopping = []      # StaticPods on their way out
        self.lock = threading.Lock()
        self.quit = threading.Event()
        self.changed = threading.Event()
        self.node_ip = a.node_ip
        self.client = None
        self.node_uid = None
        self.last_node_status = 0.0
        self.posted = {}        # mirror name -> (hash, status json)

    # -- manifests and processes ------------------------------------------

    def scan(self):
        seen = {}
        try:
            names = sorted(os.listdir(self.mdir))
        except OSError:
            names = []
        for n in names:
            p = os.path.join(self.mdir, n)
            if n.startswith(".") or not os.path.isfile(p):
                continue
            try:
                with open(p, "rb") as f:
                    raw = f.read()
                doc = kyaml.load(raw.decode("utf-8"))
                if not isinstance(doc, dict) or doc.get("kind") != "Pod":
                    raise ValueError("not a Pod")
            except (OSError, ValueError) as e:
                log.warning("manifest %s: cannot read it: %s", p, e)
                continue
            seen[p] = (raw, doc)
        with self.lock:
            for p, sp in list(self.pods.items()):
                if p not in seen or seen[p][0] != sp.raw:
                    log.info("static pod %s: manifest %s", sp.name,
                             "removed" if p not in seen else "changed")
                    self._begin_stop(sp)
                    del self.pods[p]
            for p, (raw, doc) in seen.items():
                if p not in self.pods:
                    sp = StaticPod(p, raw, doc, self.node)
                    sp.next_start = time.time() + self.a.startup_delay
                    self.pods[p] = sp
                    if sp.kind == "kube-apiserver" and not self.node_ip:
                        self.node_ip = sp.flag("advertise-address")
                    self.event(sp, "seen")
                    self.changed.set()

    def argv(self, sp):
        k = sp.kind
        rest = sp.command[1:]
        if k == "kube-apiserver":
            if not self.a.core_socket:
                raise ValueError("kube-apiserver needs --core-socket")
            return [sys.executable, self.a.kubesim, "frontend",
                    "--core-socket", self.a.core_socket, "--node",
                    self.node] + rest
        if k in ("kube-controller-manager", "kube-scheduler"):
            kind = k.replace("kube-", "")
            return [sys.executable, self.a.component, "--kind", kind] + rest
        if not sp.command:
            raise ValueError("the manifest has no command")
        exe = sp.command[0]
        if not os.path.isabs(exe):
            found = shutil.which(exe)
            if found is None:
                raise ValueError('exec: "%s": executable file not found in '
                                 "$PATH" % exe)
            exe = found
        elif not os.access(exe, os.X_OK):
            raise ValueError('exec: "%s": stat %s: no such file or directory'
                             % (exe, exe))
        return [exe] + rest

    def start(self, sp, now):
        try:
            argv = self.argv(sp)
        except ValueError as e:
            sp.state = "config-error"
            sp.reason = str(e)
            log.warning("static pod %s: cannot start: %s", sp.name, e)
            sp.next_start = now + self._backoff(sp)
            return
        env = dict(os.environ)
        for e in sp.container.get("env") or []:
            if isinstance(e, dict) and "name" in e:
                env[str(e["name"])] = str(e.get("value", ""))
        logf = open(os.path.join(self.state_dir, "logs", sp.name + ".log"),
                    "ab")
        try:
            sp.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                env=env, cwd=sp.container.get("workingDir") or "/",
                start_new_session=True)
        except OSError as e:
            sp.state = "config-error"
            sp.reason = str(e)
            sp.next_start = now + self._backoff(sp)
            log.warning("static pod %s: cannot start: %s", sp.name, e)
            return
        finally:
            logf.close()
        sp.state = "running"
        sp.reason = ""
        sp.started_at = now_rfc3339(now)
        sp.started_mono = now
        sp.ready = False
        sp.container_id = hashlib.sha256(("%s%f" % (sp.hash, now))
                                         .encode()).hexdigest()
        self.event(sp, "started", pid=sp.proc.pid)
        self.changed.set()

    def _backoff(self, sp):
        sp.backoff_n += 1
        return min(self.a.backoff_initial * (2 ** (sp.backoff_n - 1)),
                   self.a.backoff_max)

    def supervise(self, now):
        with self.lock:
            for sp in self.pods.values():
                if sp.state in ("pending", "backoff", "config-error") and \
                        now >= sp.next_start:
                    self.start(sp, now)
                elif sp.state == "running" and sp.proc.poll() is not None:
                    self._exited(sp, now)
            for sp in list(self.stopping):
                if sp.proc is None or sp.proc.poll() is not None:
                    self.stopping.remove(sp)
                    self.event(sp, "stopped",
                               code=sp.proc.returncode if sp.proc else None)
                elif now >= sp.stop_deadline:
                    self._killpg(sp, signal.SIGKILL)
                    self.event(sp, "killed")
                    sp.stop_deadline = now + 3600

    def _exited(self, sp, now):
        code = sp.proc.returncode
        ran = now - sp.started_mono
        if ran >= 2 * self.a.backoff_max:
            sp.backoff_n = 0
        sp.restarts += 1
        sp.last_term = {"exitCode": code, "reason": "Error" if code else
                        "Completed", "startedAt": sp.started_at,
                        "finishedAt": now_rfc3339(now),
                        "containerID": "containerd://" + sp.container_id}
        sp.state = "backoff"
        sp.ready = False
        delay = self._backoff(sp)
        sp.next_start = now + delay
        sp.reason = "back-off %gs restarting failed container=%s pod=%s-%s" \
            % (delay, sp.cname, sp.name, self.node)
        self.event(sp, "exited", code=code, backoff=delay)
        self.changed.set()

    def _begin_stop(self, sp):
        if sp.proc is not None and sp.proc.poll() is None:
            grace = sp.spec.get("terminationGracePeriodSeconds")
            g = self.a.stop_grace if grace is None else min(
                float(grace), self.a.stop_grace)
            self._killpg(sp, signal.SIGTERM)
            sp.stop_deadline = time.time() + g
            self.stopping.append(sp)
            self.event(sp, "stopping", pid=sp.proc.pid)
        sp.state = "stopped"
        self.changed.set()

    @staticmethod
    def _killpg(sp, sig):
        try:
            os.killpg(sp.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def event(self, sp, what, **kw):
        rec = {"time": time.time(), "pod": sp.name, "event": what}
        rec.update(kw)
        with open(os.path.join(self.state_dir, "events.log"), "a",
                  encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        log.info("static pod %s: %s %s", sp.name, what,
                 " ".join("%s=%s" % kv for kv in kw.items()))

    def write_status(self):
        with self.lock:
            pods = [{"name": sp.name, "manifest": sp.path, "hash": sp.hash,
                     "state": sp.state, "ready": sp.ready,
                     "pid": sp.proc.pid if sp.proc and sp.state == "running"
                     else None, "restarts": sp.restarts,
                     "startedAt": sp.started_at, "reason": sp.reason}
                    for sp in self.pods.values()]
        tmp = os.path.join(self.state_dir, ".status.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"node": self.node, "pods": pods}, f, indent=1)
        os.rename(tmp, os.path.join(self.state_dir, "status.json"))

    def shutdown(self):
        with self.lock:
            for sp in self.pods.values():
                self._begin_stop(sp)
            self.pods.clear()
        end = time.time() + self.a.stop_grace + 2
        while self.stopping and time.time() < end:
            self.supervise(time.time())
            time.sleep(0.05)

    # -- probes -------------------------------------------------------------

    def probe_loop(self):
        while not self.quit.wait(self.a.probe_period):
            with self.lock:
                pods = [sp for sp in self.pods.values()
                        if sp.state == "running"]
            for sp in pods:
                ok = self.probe(sp)
                if ok != sp.ready:
                    sp.ready = ok
                    self.event(sp, "ready" if ok else "unready")
                    self.changed.set()

    def probe(self, sp):
        pr = _probe_of(sp.container)
        if pr is None:
            return True
        timeout = min(float(pr.get("timeoutSeconds", 1)), 2.0)
        try:
            if "httpGet" in pr:
                return _http_probe(pr["httpGet"], self.node_ip, timeout)
            if "tcpSocket" in pr:
                t = pr["tcpSocket"]
                with socket.create_connection((t.get("host") or
                                               self.node_ip or "127.0.0.1",
                                               int(t["port"])), timeout):
                    return True
            if "exec" in pr:
                cmd = [str(x) for x in pr["exec"].get("command") or []]
                r = subprocess.run(cmd, capture_output=True, timeout=timeout,
                                   check=False)
                return r.returncode == 0
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return False
        return True

    # -- API --------------------------------------------------------------

    def api_loop(self):
        while not self.quit.is_set():
            self.changed.wait(self.a.node_status_update_frequency)
            self.changed.clear()
            if self.quit.is_set():
                return
            try:
                self.sync_api()
            except Exception as e:  # pylint: disable=broad-except
                # A real kubelet retries forever: no answer of an API
                # server killed mid-response (IncompleteRead, a text body
                # where JSON was due) may end the heartbeats and leave the
                # node NotReady.
                log.warning("API %s: %s: %s", self.a.kubeconfig,
                            type(e).__name__, e)
                self.client = None

    def _api(self, method, path, body=None, ctype="application/json"):
        if self.client is None:
            self.client = Client(self.a.kubeconfig, timeout=5.0)
        return self.client.request(method, path, body, ctype)

    def sync_api(self):
        if self.a.register_node:
            self.sync_node()
        self.renew_lease()
        self.sync_mirrors()

    def node_object(self):
        labels = {"kubernetes.io/hostname": self.node,
                  "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "beta.kubernetes.io/os": "linux",
                  "beta.kubernetes.io/arch": "amd64"}
        spec = {}
        if self.a.control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-"
                   "balancers"] = ""
            spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane",
                               "effect": "NoSchedule"}]
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node, "labels": labels},
                "spec": spec, "status": self.node_status()}

    def node_status(self):
        ts = now_rfc3339()
        conds = []
        for ctype, reason, msg in (
                ("MemoryPressure", "KubeletHasSufficientMemory",
                 "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure",
                 "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID",
                 "kubelet has sufficient PID available")):
            conds.append({"type": ctype, "status": "False", "reason": reason,
                          "message": msg, "lastHeartbeatTime": ts,
                          "lastTransitionTime": self.started})
        conds.append({"type": "Ready", "status": "True",
                      "reason": "KubeletReady",
                      "message": "kubelet is posting ready status",
                      "lastHeartbeatTime": ts,
                      "lastTransitionTime": self.started})
        cap = {"cpu": "2", "memory": "8Gi", "pods": "110",
               "ephemeral-storage": "50Gi"}
        return {"conditions": conds,
                "addresses": [{"type": "InternalIP",
                               "address": self.node_ip or "127.0.0.1"},
                              {"type": "Hostname", "address": self.node}],
                "nodeInfo": {"kubeletVersion": self.a.kubelet_version,
                             "kubeProxyVersion": self.a.kubelet_version,
                             "containerRuntimeVersion": "containerd://1.7.20",
                             "operatingSystem": "linux",
                             "architecture": "amd64",
                             "osImage": "Debian GNU/Linux 12 (bookworm)",
                             "kernelVersion": os.uname().release,
                             "machineID": "", "systemUUID": "",
                             "bootID": ""},
                "capacity": dict(cap), "allocatable": dict(cap),
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}

    def sync_node(self):
        now = time.time()
        if self.node_uid is None:
            code, out = self._api("GET", "/api/v1/nodes/" + self.node)
            if code == 404:
                code, out = self._api("POST", "/api/v1/nodes",
                                      self.node_object())
                self.last_node_status = now
            if code >= 300:
                raise OSError("node %s: HTTP %d: %s" % (self.node, code,
                                                        _msg(out)))
            self.node_uid = out["metadata"]["uid"]
        if now - self.last_node_status >= self.a.node_status_report:
            code, out = self._api("PATCH", "/api/v1/nodes/%s/status"
                                  % self.node,
                                  {"status": self.node_status()},
                                  "application/merge-patch+json")
            if code == 404:
                self.node_uid = None
            elif code >= 300:
                raise OSError("node %s status: HTTP %d: %s"
                              % (self.node, code, _msg(out)))
            self.last_node_status = now

    def renew_lease(self):
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/" \
            "leases/" + self.node
        spec = {"holderIdentity": self.node, "leaseDurationSeconds": 40,
                "renewTime": now_micro()}
        code, out = self._api("PATCH", path, {"spec": spec},
                              "application/merge-patch+json")
        if code == 404:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.node,
                                 "namespace": "kube-node-lease"},
                    "spec": spec}
            if self.node_uid:
                body["metadata"]["ownerReferences"] = [{
                    "apiVersion": "v1", "kind": "Node", "name": self.node,
                    "uid": self.node_uid}]
            code, out = self._api("POST", "/apis/coordination.k8s.io/v1/"
                                  "namespaces/kube-node-lease/leases", body)
        if code >= 300 and code != 409:
            raise OSError("node lease: HTTP %d: %s" % (code, _msg(out)))

    def sync_mirrors(self):
        with self.lock:
            pods = list(self.pods.values())
            want = {"%s-%s" % (sp.name, self.node): sp for sp in pods}
        for name, sp in want.items():
            self.sync_mirror(name, sp)
        for name in list(self.posted):
            if name not in want:
                ns = self.posted[name][2]
                code, _ = self._api("DELETE", "/api/v1/namespaces/%s/pods/%s"
                                    % (ns, name),
                                    {"kind": "DeleteOptions",
                                     "apiVersion": "v1",
                                     "gracePeriodSeconds": 0})
                if code < 300 or code == 404:
                    del self.posted[name]

    def sync_mirror(self, name, sp):
        base = "/api/v1/namespaces/%s/pods" % sp.namespace
        code, cur = self._api("GET", "%s/%s" % (base, name))
        status = self.pod_status(sp)
        if code == 200 and (cur["metadata"].get("annotations") or {}).get(
                MIRROR) != sp.hash:
            self._api("DELETE", "%s/%s" % (base, name),
                      {"kind": "DeleteOptions", "apiVersion": "v1",
                       "gracePeriodSeconds": 0})
            code = 404
        if code == 404:
            if self.node_uid is None and self.a.register_node:
                return
            code, cur = self._api("POST", base, self.mirror_object(name, sp))
            if code >= 300:
                raise OSError("mirror pod %s: HTTP %d: %s"
                              % (name, code, _msg(cur)))
            self.posted.pop(name, None)
        elif code >= 300:
            raise OSError("mirror pod %s: HTTP %d: %s" % (name, code,
                                                          _msg(cur)))
        key = json.dumps(status, sort_keys=True)
        if self.posted.get(name, (None, None))[1] != key or \
                cur.get("status", {}).get("phase") != status["phase"]:
            code, out = self._api("PATCH", "%s/%s/status" % (base, name),
                                  {"status": status},
                                  "application/merge-patch+json")
            if code >= 300:
                raise OSError("mirror pod %s status: HTTP %d: %s"
                              % (name, code, _msg(out)))
            self.posted[name] = (sp.hash, key, sp.namespace)

    def mirror_object(self, name, sp):
        ann = dict(sp.annotations)
        ann.update({"kubernetes.io/config.hash": sp.hash, MIRROR: sp.hash,
                    "kubernetes.io/config.seen": sp.first_seen,
                    "kubernetes.io/config.source": "file"})
        m = {"name": name, "namespace": sp.namespace,
             "labels": dict(sp.labels), "annotations": ann}
        if self.node_uid:
            m["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node",
                                     "name": self.node, "uid": self.node_uid,
                                     "controller": True}]
        spec = copy.deepcopy(sp.spec)
        spec["nodeName"] = self.node
        return {"apiVersion": "v1", "kind": "Pod", "metadata": m,
                "spec": spec}

    def pod_status(self, sp):
        running = sp.state == "running"
        ready = running and sp.ready
        ip = self.node_ip or "127.0.0.1"
        cs = {"name": sp.cname, "image": sp.container.get("image", ""),
              "imageID": "", "ready": ready, "started": running,
              "restartCount": sp.restarts}
        if running:
            cs["state"] = {"running": {"startedAt": sp.started_at}}
            cs["containerID"] = "containerd://" + sp.container_id
        elif sp.state == "config-error":
            cs["state"] = {"waiting": {"reason": "CreateContainerError",
                                       "message": sp.reason}}
        elif sp.state == "pending":
            cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
        else:
            cs["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": sp.reason}}
        if sp.last_term:
            cs["lastState"] = {"terminated": sp.last_term}
        t = self.started
        conds = [{"type": "PodReadyToStartContainers", "status": "True",
                  "lastTransitionTime": t},
                 {"type": "Initialized", "status": "True",
                  "lastTransitionTime": t}]
        for ctype in ("Ready", "ContainersReady"):
            c = {"type": ctype, "status": "True" if ready else "False",
                 "lastTransitionTime": t}
            if not ready:
                c["reason"] = "ContainersNotReady"
                c["message"] = "containers with unready status: [%s]" \
                    % sp.cname
            conds.append(c)
        conds.append({"type": "PodScheduled", "status": "True",
                      "lastTransitionTime": t})
        return {"phase": "Running" if running or sp.restarts else "Pending",
                "conditions": conds, "hostIP": ip, "hostIPs": [{"ip": ip}],
                "podIP": ip, "podIPs": [{"ip": ip}],
                "startTime": sp.first_seen, "qosClass": "Burstable",
                "containerStatuses": [cs]}

    # -- main loop ------------------------------------------------------

    def run(self):
        self.started = now_rfc3339()
        threads = [threading.Thread(target=self.api_loop, name="api",
                                    daemon=True),
                   threading.Thread(target=self.probe_loop, name="probe",
                                    daemon=True)]
        for t in threads:
            t.start()
        next_scan = 0.0
        next_status = 0.0
        while not self.quit.is_set():
            now = time.time()
            if now >= next_scan:
                self.scan()
                next_scan = now + self.a.file_check_frequency
            self.supervise(now)
            if now >= next_status:
                self.write_status()
                next_status = now + 1.0
            self.quit.wait(0.05)
        self.shutdown()
        self.write_status()


def _http_probe(g, default_host, timeout):
    scheme = str(g.get("scheme", "HTTP")).lower()
    host = g.get("host") or default_host or "127.0.0.1"
    if ":" in host:
        host = "[%s]" % host
    url = "%s://%s:%s%s" % (scheme, host, int(g.get("port")),
                            g.get("path", "/"))
    req = urllib.request.Request(url)
    for h in g.get("httpHeaders") or []:
        req.add_header(h.get("name"), h.get("value"))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return 200 <= r.status < 400
    except urllib.error.HTTPError as e:
        return 200 <= e.code < 400



def _msg(out):
    return out.get("message") if isinstance(out, dict) else str(out)[:200]


def _parser():
    p = argparse.ArgumentParser(
        prog="kubelet", description=HELP, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--node", required=True, help="node name")
    p.add_argument("--kubernetes-dir", default="/etc/kubernetes",
                   help="holds manifests/ (default %(default)s)")
    p.add_argument("--kubeconfig", help="credentials for the API "
                   "(default <kubernetes-dir>/kubelet.conf)")
    p.add_argument("--file-check-frequency", type=duration_arg, default=20.0,
                   help="how often manifests/ is read (default 20s, like "
                   "the kubelet)")
    p.add_argument("--startup-delay", type=duration_arg, default=0.2,
                   help="from seeing a manifest to starting it")
    p.add_argument("--state-dir", help="default /tmp/kubelet-standin-NODE")
    p.add_argument("--pid-file")
    p.add_argument("--core-socket", help="kubesim core socket, for "
                   "kube-apiserver manifests")
    p.add_argument("--node-ip", help="InternalIP (default: the API server "
                   "manifest's --advertise-address, else 127.0.0.1)")
    p.add_argument("--control-plane", type=bool_arg, default=True,
                   help="label and taint the node as control plane")
    p.add_argument("--register-node", type=bool_arg, default=True)
    p.add_argument("--kubelet-version", default="v1.31.0")
    p.add_argument("--node-status-update-frequency", type=duration_arg,
                   default=2.0, help="lease renewal and mirror pod sync")
    p.add_argument("--node-status-report", type=duration_arg, default=30.0,
                   help="node status heartbeat")
    p.add_argument("--probe-period", type=duration_arg, default=1.0)
    p.add_argument("--stop-grace", type=duration_arg, default=10.0,
                   help="SIGKILL this long after SIGTERM (the manifest's "
                   "terminationGracePeriodSeconds if shorter)")
    p.add_argument("--backoff-initial", type=duration_arg, default=1.0)
    p.add_argument("--backoff-max", type=duration_arg, default=20.0)
    p.add_argument("--kubesim", default=os.path.join(HERE, "kubesim"),
                   help=argparse.SUPPRESS)
    p.add_argument("--component", default=os.path.join(HERE, "component"),
                   help=argparse.SUPPRESS)
    p.add_argument("--log-level", default="info",
                   choices=("debug", "info", "warning", "error"))
    return p


def main(argv=None):
    a = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if not a.kubeconfig:
        a.kubeconfig = os.path.join(a.kubernetes_dir, "kubelet.conf")
    setup_logging("kubelet[%s]" % a.node, a.log_level)
    k = Kubelet(a)

    def stop(signum, frame):
        k.quit.set()
        k.changed.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.pid_file:
        with open(a.pid_file, "w", encoding="ascii") as f:
            f.write("%d\n" % os.getpid())
    log.info("watching %s every %gs", k.mdir, a.file_check_frequency)
    try:
        k.run()
    finally:
        if a.pid_file and os.path.exists(a.pid_file):
            os.unlink(a.pid_file)
    return 0
