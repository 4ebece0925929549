"""kubesim-ctl: the command line for kubesim's admin endpoints, and for
starting and stopping kubesim in the background (CTest fixtures)."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from . import kyaml
from .client import Client, ConfigError
from .util import duration_arg

HELP = """\
Drive a running kubesim through its admin endpoints (/sim/*), which need
the admin client certificate (O=system:masters or kubeadm:cluster-admins),
or start and stop kubesim in the background.

examples:
  kubesim-ctl start --state-dir /tmp/sim -- --version-minor 33
  export KUBECONFIG=/tmp/sim/kubeconfig
  kubesim-ctl faults set --latency-ms 200
  kubesim-ctl faults set --burst-codes 503,429 --burst-count 3 \\
      --retry-after 1 --paths '/api/v1/nodes'
  kubesim-ctl faults set --stop-answering --frontend cp1
  kubesim-ctl faults set --failing-checks etcd     # /readyz fails
  kubesim-ctl faults clear
  kubesim-ctl requests --since 0 -o json
  kubesim-ctl bulk pods --count 1000 --node cp1 --owner replicaset/web
  kubesim-ctl bulk -f objects.yaml
  kubesim-ctl controllers pause disruption
  kubesim-ctl compact                  # outstanding continue tokens -> 410
  kubesim-ctl stop --state-dir /tmp/sim
"""


class CtlError(Exception):
    pass


def _client(a):
    path = a.kubeconfig or os.environ.get("KUBECONFIG", "").split(":")[0]
    if not path:
        raise CtlError("no kubeconfig: pass --kubeconfig or set KUBECONFIG")
    try:
        return Client(path, timeout=a.timeout)
    except (OSError, ConfigError) as e:
        raise CtlError("kubeconfig %s: %s" % (path, e)) from None


def _call(a, method, path, body=None):
    c = _client(a)
    try:
        code, out = c.request(method, path, body)
    except OSError as e:
        raise CtlError("%s %s: cannot reach %s: %s"
                       % (method, path, c.cfg.server, e)) from None
    if code >= 300 and code != 207:
        msg = out.get("message") if isinstance(out, dict) else out
        raise CtlError("%s %s: HTTP %d: %s" % (method, path, code, msg))
    return out


def _print(obj):
    print(json.dumps(obj, indent=2, sort_keys=True))


def cmd_faults(a):
    if a.action == "clear":
        _call(a, "DELETE", "/sim/faults")
        return 0
    if a.action == "show":
        _print(_call(a, "GET", "/sim/faults"))
        return 0
    if a.json:
        spec = json.loads(a.json)
    else:
        spec = {}
        if a.latency_ms is not None:
            spec["latency_ms"] = a.latency_ms
        if a.burst_codes or a.burst_count:
            b = {"count": a.burst_count or 1,
                 "codes": [int(c) for c in (a.burst_codes or "503")
                           .split(",")]}
            if a.retry_after:
                b["retry_after"] = a.retry_after
            if a.paths:
                b["paths"] = a.paths
            spec["burst"] = b
        if a.cut_connections:
            spec["cut_connections"] = a.cut_connections
        if a.stop_answering:
            spec["stop_answering"] = True
        if a.failing_checks:
            spec["failing_checks"] = a.failing_checks.split(",")
        if a.shutdown:
            spec["shutdown"] = True
        if a.frontend:
            spec["frontends"] = a.frontend
        if not spec:
            raise CtlError("faults set: give at least one fault (see "
                           "--help)")
    _print(_call(a, "POST", "/sim/faults", spec))
    return 0


def cmd_requests(a):
    if a.clear:
        _call(a, "DELETE", "/sim/requests")
        return 0
    out = _call(a, "GET", "/sim/requests?since=%d" % a.since)
    if a.output == "json":
        _print(out)
        return 0
    for e in out["items"]:
        print("%d %s %s %d %s" % (e["seq"], e["method"], e["path"],
                                  e["status"], e["frontend"]))
    return 0


def _load_objects(path):
    with (sys.stdin if path == "-" else open(path, encoding="utf-8")) as f:
        text = f.read()
    docs = kyaml.load_all(text)
    out = []
    for d in docs:
        if isinstance(d, list):
            out.extend(d)
        elif isinstance(d, dict) and d.get("kind", "").endswith("List") \
                and "items" in d:
            out.extend(d["items"])
        elif isinstance(d, dict) and "items" in d and "kind" not in d:
            out.extend(d["items"])
        else:
            out.append(d)
    return out


def _gen_pods(a):
    owner = None
    if a.owner:
        kind, _, name = a.owner.partition("/")
        plural = {"replicaset": "replicasets", "rs": "replicasets",
                  "daemonset": "daemonsets", "ds": "daemonsets"}.get(kind)
        if plural is None or not name:
            raise CtlError("--owner must be replicaset/NAME or "
                           "daemonset/NAME")
        o = _call(a, "GET", "/apis/apps/v1/namespaces/%s/%s/%s"
                  % (a.namespace, plural, name))
        owner = {"apiVersion": "apps/v1", "kind": o["kind"], "name": name,
                 "uid": o["metadata"]["uid"], "controller": True,
                 "blockOwnerDeletion": True}
    labels = dict(kv.split("=", 1) for kv in a.labels.split(",")
                  if "=" in kv) if a.labels else {}
    pods = []
    for i in range(a.count):
        m = {"name": "%s-%d" % (a.prefix, i), "namespace": a.namespace,
             "labels": dict(labels)}
        if owner:
            m["ownerReferences"] = [owner]
        spec = {"containers": [{"name": "c", "image": a.image}],
                "terminationGracePeriodSeconds": a.grace}
        if a.node:
            spec["nodeName"] = a.node
        if a.empty_dir:
            spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": m,
                     "spec": spec})
    return pods


def cmd_bulk(a):
    if a.what == "pods":
        items = _gen_pods(a)
    elif a.file:
        items = _load_objects(a.file)
    else:
        raise CtlError("bulk: give -f FILE or 'pods --count N'")
    out = _call(a, "POST", "/sim/bulk", {"items": items})
    print("created %d objects" % out["created"])
    for e in out["errors"]:
        print("item %d: %s" % (e["index"], e["message"]), file=sys.stderr)
    return 1 if out["errors"] else 0


def cmd_controllers(a):
    if a.action == "show":
        _print(_call(a, "GET", "/sim/controllers"))
        return 0
    if not a.names:
        raise CtlError("controllers %s: name at least one controller"
                       % a.action)
    body = {n: a.action == "resume" for n in a.names}
    _print(_call(a, "POST", "/sim/controllers", body))
    return 0


def cmd_compact(a):
    _print(_call(a, "POST", "/sim/compact", {}))
    return 0


def _kubesim():
    return os.path.join(os.path.dirname(os.path.dirname(
        os.path.realpath(__file__))), "kubesim")


def cmd_start(a):
    d = os.path.abspath(a.state_dir)
    os.makedirs(d, mode=0o700, exist_ok=True)
    extra = [x for x in a.kubesim_args if x != "--"]
    logf = open(os.path.join(d, "kubesim.log"), "ab")
    p = subprocess.Popen([sys.executable, _kubesim(), "--state-dir", d]
                         + extra, stdin=subprocess.DEVNULL, stdout=logf,
                         stderr=logf, start_new_session=True)
    logf.close()
    end = time.time() + a.wait
    while time.time() < end:
        if p.poll() is not None:
            raise CtlError("kubesim exited with status %d; see %s/kubesim.log"
                           % (p.returncode, d))
        # The pid file comes last, once every listener serves (there is
        # no kubeconfig with --listen none).
        if os.path.exists(os.path.join(d, "kubesim.pid")):
            print(p.pid)
            return 0
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL)
    raise CtlError("kubesim did not serve within %gs; see %s/kubesim.log"
                   % (a.wait, d))


def cmd_stop(a):
    pidf = os.path.join(os.path.abspath(a.state_dir), "kubesim.pid")
    try:
        with open(pidf, encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        print("kubesim-ctl: no kubesim running for %s (no pid file)"
              % a.state_dir, file=sys.stderr)
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    end = time.time() + a.wait
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return 0


def cmd_wait_ready(a):
    end = time.time() + a.wait
    last = ""
    while time.time() < end:
        try:
            code, out = _client(a).request("GET", "/readyz")
            if code == 200:
                return 0
            last = "HTTP %d" % code
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise CtlError("not ready after %gs: %s" % (a.wait, last))


def _parser():
    p = argparse.ArgumentParser(
        prog="kubesim-ctl", description=HELP, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kubeconfig", help="admin kubeconfig (default: "
                   "$KUBECONFIG)")
    p.add_argument("--timeout", type=duration_arg, default=10.0,
                   help="per request (default 10s)")
    sub = p.add_subparsers(dest="cmd", required=True)

    f = sub.add_parser("faults", help="show, set or clear injected faults")
    f.add_argument("action", choices=("set", "clear", "show"))
    f.add_argument("--json", help="the whole fault spec as JSON")
    f.add_argument("--latency-ms", type=float)
    f.add_argument("--burst-codes", help="comma-separated, e.g. 429,503")
    f.add_argument("--burst-count", type=int)
    f.add_argument("--retry-after", type=int, help="Retry-After seconds on "
                   "burst errors")
    f.add_argument("--paths", help="regex on the request path+query")
    f.add_argument("--cut-connections", type=int)
    f.add_argument("--stop-answering", action="store_true")
    f.add_argument("--failing-checks", help="health checks that fail, e.g. "
                   "etcd")
    f.add_argument("--shutdown", action="store_true",
                   help="/readyz reports shutdown")
    f.add_argument("--frontend", action="append",
                   help="only requests through this front end (repeatable)")
    f.set_defaults(fn=cmd_faults)

    r = sub.add_parser("requests", help="the request log")
    r.add_argument("--since", type=int, default=0)
    r.add_argument("--clear", action="store_true")
    r.add_argument("-o", "--output", choices=("text", "json"),
                   default="text")
    r.set_defaults(fn=cmd_requests)

    b = sub.add_parser("bulk", help="create many objects at once")
    b.add_argument("what", nargs="?", choices=("pods",))
    b.add_argument("-f", "--file", help="YAML/JSON objects ('-' = stdin)")
    b.add_argument("--count", type=int, default=1)
    b.add_argument("--namespace", default="default")
    b.add_argument("--node")
    b.add_argument("--prefix", default="pod")
    b.add_argument("--owner", help="replicaset/NAME or daemonset/NAME")
    b.add_argument("--labels", help="k=v,k2=v2")
    b.add_argument("--image", default="registry.k8s.io/pause:3.10")
    b.add_argument("--grace", type=int, default=30,
                   help="terminationGracePeriodSeconds")
    b.add_argument("--empty-dir", action="store_true")
    b.set_defaults(fn=cmd_bulk)

    c = sub.add_parser("controllers", help="pause or resume simulated "
                       "controllers")
    c.add_argument("action", choices=("show", "pause", "resume"))
    c.add_argument("names", nargs="*")
    c.set_defaults(fn=cmd_controllers)

    sub.add_parser("compact", help="expire continue tokens and old "
                   "watches").set_defaults(fn=cmd_compact)

    s = sub.add_parser("start", help="start kubesim in the background; "
                       "prints its PID once it serves")
    s.add_argument("--state-dir", required=True)
    s.add_argument("--wait", type=duration_arg, default=30.0)
    s.add_argument("kubesim_args", nargs=argparse.REMAINDER,
                   help="after '--': more kubesim options")
    s.set_defaults(fn=cmd_start)

    st = sub.add_parser("stop", help="stop the kubesim of a state dir "
                        "(SIGTERM, then SIGKILL)")
    st.add_argument("--state-dir", required=True)
    st.add_argument("--wait", type=duration_arg, default=10.0)
    st.set_defaults(fn=cmd_stop)

    w = sub.add_parser("wait-ready", help="wait until /readyz answers 200")
    w.add_argument("--wait", type=duration_arg, default=30.0)
    w.set_defaults(fn=cmd_wait_ready)
    return p


def main(argv=None):
    a = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return a.fn(a)
    except CtlError as e:
        print("kubesim-ctl: %s" % e, file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print("kubesim-ctl: %s" % e, file=sys.stderr)
        return 1
