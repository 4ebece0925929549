"""`kubesim frontend`: an API server front end for one control-plane node.

It terminates TLS with the node's own serving certificate and client CA,
authenticates, probes its etcd for /readyz, and forwards everything to the
shared core over its Unix socket. It takes kube-apiserver's flags, so the
kubelet stand-in can start it from a kubeadm kube-apiserver manifest;
flags it does not model are accepted and ignored.
"""

import http.client
import json
import socket
import ssl
import threading
import time
import urllib.parse

from . import errors
from . import health
from .api import Response, dumps

STORAGE_CHECKS = ("etcd", "etcd-readiness", "informer-sync")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.sock_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.sock_path)
        self.sock = s


class CoreClient:
    """Forwards authenticated requests to the core socket."""

    RELAY = ("retry-after", "x-content-type-options", "warning")

    def __init__(self, path, name, anonymous_auth=True):
        self.path = path
        self.name = name
        self.anonymous_auth = anonymous_auth
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = UnixHTTPConnection(self.path, 3600)
            self.local.conn = c
        return c

    def _drop(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
        self.local.conn = None

    def headers(self, req):
        u = req.user
        h = {"X-Sim-Frontend": self.name, "X-Sim-Authn": u.authn,
             "X-Sim-Failing": ",".join(sorted(req.local_failing))}
        for k in ("content-type", "accept"):
            if k in req.headers:
                h[k] = req.headers[k]
        if not u.anon and u.name:
            h["X-Remote-User"] = u.name
            h["X-Remote-Group"] = ",".join(u.groups)
            if u.uid:
                h["X-Remote-Uid"] = u.uid
        return h

    def handle(self, req):
        if req.user.anon and not self.anonymous_auth:
            err = errors.unauthorized()
            return Response(401, dumps(err.status()))
        for attempt in (0, 1):
            try:
                return self._forward(req)
            except (OSError, http.client.HTTPException):
                self._drop()
                if attempt:
                    return self._core_down(req)
        return self._core_down(req)

    def _forward(self, req):
        c = self._conn()
        c.request(req.method, req.target, body=req.body or None,
                  headers=self.headers(req))
        r = c.getresponse()
        if r.getheader("X-Sim-Action") == "cut":
            r.read()
            self._drop()
            return Response(0, action="cut")
        hdrs = [(k, v) for k, v in r.getheaders() if k.lower() in self.RELAY]
        ctype = r.getheader("Content-Type", "application/json")
        if (r.getheader("Transfer-Encoding") or "").lower() == "chunked":
            self.local.conn = None
            return Response(r.status, ctype=ctype, headers=hdrs,
                            stream=_relay(r, c))
        return Response(r.status, r.read(), ctype, hdrs)

    def _core_down(self, req):
        p = req.path.rstrip("/")
        head = p.split("/")[1] if p.count("/") >= 1 and p != "" else ""
        if head in ("livez", "readyz", "healthz"):
            failing = set(STORAGE_CHECKS) | set(req.local_failing)
            code, body = health.render(head, p[len(head) + 2:], req.query,
                                       failing)
            return Response(code, body.encode(), "text/plain; charset=utf-8")
        err = errors.service_unavailable()
        return Response(503, dumps(err.status()))


def _relay(resp, conn):
    try:
        while True:
            data = resp.read1(65536)
            if not data:
                return
            yield data
    finally:
        conn.close()


class EtcdProbe:
    """The readyz etcd check: a real TLS request to etcd with the API
    server's etcd client certificate, cached for about a second. The
    certificate is loaded once at start, as kube-apiserver does; each
    request waits up to `timeout` (kube-apiserver's
    --etcd-readycheck-timeout, 2 s by default)."""

    def __init__(self, servers, cafile, certfile, keyfile, ttl=1.0,
                 timeout=2.0):
        self.urls = [urllib.parse.urlsplit(u.strip())
                     for u in servers.split(",") if u.strip()]
        self.ctx = ssl.create_default_context(cafile=cafile) if cafile \
            else ssl.create_default_context()
        if certfile:
            self.ctx.load_cert_chain(certfile, keyfile)
        self.ttl = ttl
        self.timeout = timeout
        self.lock = threading.Lock()
        self.at = 0.0
        self.healthy = False
        self.last_error = ""

    def ok(self):
        with self.lock:
            if time.time() - self.at >= self.ttl:
                self.healthy = self._probe()
                self.at = time.time()
            return self.healthy

    def _probe(self):
        for u in self.urls:
            try:
                if u.scheme == "https":
                    c = http.client.HTTPSConnection(u.hostname, u.port or 2379,
                                                    timeout=self.timeout,
                                                    context=self.ctx)
                else:
                    c = http.client.HTTPConnection(u.hostname, u.port or 2379,
                                                   timeout=self.timeout)
                c.request("GET", "/health")
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200 and json.loads(body).get("health") == \
                        "true":
                    return True
                self.last_error = "%s: HTTP %d %r" % (u.geturl(), r.status,
                                                       body[:80])
            except (OSError, ValueError, ssl.SSLError,
                    http.client.HTTPException) as e:
                self.last_error = "%s: %s" % (u.geturl(), e)
        return False
