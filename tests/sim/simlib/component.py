"""kube-controller-manager / kube-scheduler stand-in.

It authenticates to the API server of its kubeconfig with the client
certificate in it (leader election on its Lease in kube-system, like the
real components), and serves /healthz, /livez and /readyz over TLS with a
self-signed serving certificate made at start. Health is 200 "ok" only
while the last API call succeeded: an expired or foreign client
certificate, or an unreachable API server, makes it 500.
"""

import argparse
import http.client
import http.server
import logging
import os
import shutil
import signal
import socketserver
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid

from . import pki
from .client import Client, ConfigError
from .store import now_micro
from .util import duration_arg, setup_logging

log = logging.getLogger("component")

DEFAULT_PORT = {"controller-manager": 10257, "scheduler": 10259}
HELP = """\
Stand in for kube-controller-manager or kube-scheduler.

examples:
  component --kind scheduler --kubeconfig /etc/kubernetes/scheduler.conf \\
      --bind-address 127.0.0.1 --secure-port 10259
  curl -k https://127.0.0.1:10259/healthz      # ok while the API answers

Other flags of the real components are accepted and ignored.
"""


class State:
    def __init__(self):
        self.ok = False
        self.error = "no API call yet"
        self.leader = False



class Elector:
    """Leader election on kube-system/<lease> (best effort), whose only
    purpose here is a periodic authenticated API call."""

    def __init__(self, client, lease, identity, duration=15):
        self.c = client
        self.path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/" \
            "leases/" + lease
        self.lease = lease
        self.id = identity
        self.duration = duration
        self.observed = None
        self.observed_at = 0.0

    def step(self):
        """One round; returns True when the API answered sensibly."""
        code, cur = self.c.request("GET", self.path)
        if code == 404:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.lease,
                                 "namespace": "kube-system"},
                    "spec": self._spec(0, now_micro())}
            code, _ = self.c.request(
                "POST", self.path.rsplit("/", 1)[0], body)
            return code in (201, 409), code == 201
        if code != 200:
            raise OSError("GET lease %s: HTTP %d: %s" % (
                self.lease, code, cur.get("message")
                if isinstance(cur, dict) else cur))
        spec = cur.get("spec") or {}
        rv = cur["metadata"]["resourceVersion"]
        if rv != self.observed:
            self.observed = rv
            self.observed_at = time.time()
        holder = spec.get("holderIdentity")
        mine = holder == self.id
        expired = time.time() > self.observed_at + spec.get(
            "leaseDurationSeconds", self.duration)
        if not (mine or expired or not holder):
            return True, False
        trans = spec.get("leaseTransitions", 0) + (0 if mine else 1)
        acq = spec.get("acquireTime") if mine else now_micro()
        cur["spec"] = self._spec(trans, acq)
        code, _ = self.c.request("PUT", self.path, cur)
        return code in (200, 409), code == 200

    def _spec(self, transitions, acquire):
        return {"holderIdentity": self.id,
                "leaseDurationSeconds": self.duration,
                "acquireTime": acquire, "renewTime": now_micro(),
                "leaseTransitions": transitions}


def api_loop(a, state, quit_ev):
    ident = "%s_%s" % (socket.gethostname(), uuid.uuid4())
    lease = "kube-" + a.kind
    client = None
    elector = None
    while True:
        try:
            if client is None:
                client = Client(a.kubeconfig, timeout=3.0)
                elector = Elector(client, lease, ident)
            ok, leader = elector.step()
            if not ok:
                raise OSError("the API refused the lease update")
            if not state.ok:
                log.info("API reachable (leader=%s)", leader)
            state.ok, state.error, state.leader = True, "", leader
        except (OSError, ConfigError, ValueError, KeyError,
                http.client.HTTPException) as e:
            if state.ok or state.error != str(e):
                log.warning("API call failed: %s", e)
            state.ok, state.error = False, str(e)
            client = None
        if quit_ev.wait(a.api_period):
            return


class HealthHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "component"
    sys_version = ""

    def log_message(self, fmt, *args):
        log.debug(fmt, *args)

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        if path not in ("/healthz", "/livez", "/readyz"):
            body = b"404 page not found\n"
            code = 404
        elif self.server.state.ok:
            body = b"ok"
            code = 200
        else:
            name = path[1:]
            body = ("[+]ping ok\n[-]leaderElection failed: reason withheld\n"
                    "%s check failed\n" % name).encode()
            code = 500
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HealthServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, ctx, state):
        self.address_family = socket.AF_INET6 if ":" in addr[0] \
            else socket.AF_INET
        self.ctx = ctx
        self.state = state
        super().__init__(addr, HealthHandler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(10)
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def _parser():
    p = argparse.ArgumentParser(
        prog="component", description=HELP, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", required=True,
                   choices=("controller-manager", "scheduler"))
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--bind-address", default="127.0.0.1")
    p.add_argument("--secure-port", type=int)
    p.add_argument("--cert-dir", help="where the self-signed serving "
                   "certificate goes (default: a temporary directory)")
    p.add_argument("--api-period", type=duration_arg, default=1.0,
                   help="how often it calls the API (default 1s)")
    p.add_argument("--log-level", default="info",
                   choices=("debug", "info", "warning", "error"))
    return p


def main(argv=None):
    a, _ = _parser().parse_known_args(sys.argv[1:] if argv is None else argv)
    setup_logging("kube-" + a.kind, a.log_level)
    port = a.secure_port or DEFAULT_PORT[a.kind]
    tmp = None
    cert_dir = a.cert_dir
    if not cert_dir:
        tmp = tempfile.mkdtemp(prefix="component-%s-" % a.kind)
        cert_dir = tmp
    state = State()
    quit_ev = threading.Event()
    try:
        crt, key = pki.self_signed(
            os.path.join(cert_dir, "kube-" + a.kind),
            "localhost@%d" % int(time.time()), ["localhost", "127.0.0.1",
                                                 a.bind_address])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        srv = HealthServer((a.bind_address, port), ctx, state)
    except (OSError, pki.PkiError) as e:
        log.error("cannot serve on %s:%d: %s", a.bind_address, port, e)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        return 1
    signal.signal(signal.SIGTERM, lambda s, f: quit_ev.set())
    signal.signal(signal.SIGINT, lambda s, f: quit_ev.set())
    t = threading.Thread(target=api_loop, args=(a, state, quit_ev),
                         daemon=True)
    t.start()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    log.info("serving https://%s:%d/healthz", a.bind_address, port)
    while not quit_ev.wait(1.0):
        pass
    srv.shutdown()
    srv.server_close()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0
