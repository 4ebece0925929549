"""HTTP/1.1 serving: threaded, keep-alive, TLS with client certificates
and bearer tokens, and the plain core socket the front ends talk to."""

import csv
import http.server
import logging
import os
import socket
import socketserver
import ssl
import threading
import time

from .api import Request, User

log = logging.getLogger("kubesim")
# X509_V_FLAG_NO_CHECK_TIME: accept expired client certificates in the
# handshake so the authenticator can answer 401 as the real server does.
NO_CHECK_TIME = 0x200000
MAX_BODY = 64 << 20


class TLSFiles:
    """Serving certificate, key and client CA; reloaded when they change
    on disk, like kube-apiserver's dynamic serving certificates."""

    def __init__(self, cert, key, client_ca):
        self.files = (cert, key, client_ca)
        self.lock = threading.Lock()
        self.checked = 0.0
        self.stamp = None
        self.ctx = None
        self.ctx = self._build()

    def _mtimes(self):
        return tuple(os.stat(f).st_mtime_ns if f else 0 for f in self.files)

    def _build(self):
        cert, key, ca = self.files
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["http/1.1"])
        if ca:
            ctx.load_verify_locations(cafile=ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.verify_flags = ctx.verify_flags | NO_CHECK_TIME
        self.stamp = self._mtimes()
        return ctx

    def context(self):
        now = time.time()
        with self.lock:
            if now - self.checked >= 1.0:
                self.checked = now
                try:
                    if self._mtimes() != self.stamp:
                        self.ctx = self._build()
                        log.info("reloaded serving certificate %s",
                                 self.files[0])
                except (OSError, ssl.SSLError) as e:
                    log.warning("keeping the old serving certificate: %s", e)
            return self.ctx


def load_tokens(path):
    """kube-apiserver --token-auth-file: token,user,uid,"group1,group2"."""
    out = {}
    if not path:
        return out
    with open(path, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise ValueError("%s:%d: expected token,user,uid[,groups]"
                                 % (path, n))
            groups = [g for g in (row[3].split(",") if len(row) > 3 else [])
                      if g]
            out[row[0]] = (row[1], row[2], groups)
    return out


def _subject(cert):
    cn = ""
    orgs = []
    for rdn in cert.get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                cn = v
            elif k == "organizationName":
                orgs.append(v)
    return cn, orgs


class Authn:
    """x509 first, then bearer token; anonymous when neither is given."""

    def __init__(self, tokens=None):
        self.tokens = tokens or {}

    def user(self, cert, authorization):
        bad = False
        if cert:
            now = time.time()
            nb = ssl.cert_time_to_seconds(cert["notBefore"])
            na = ssl.cert_time_to_seconds(cert["notAfter"])
            if nb <= now <= na:
                cn, orgs = _subject(cert)
                return User(cn, orgs + ["system:authenticated"],
                            authn="x509")
            bad = True
        if authorization:
            kind, _, tok = authorization.partition(" ")
            ent = self.tokens.get(tok.strip()) if kind.lower() == \
                "bearer" else None
            if ent:
                name, uid, groups = ent
                return User(name, groups + ["system:authenticated"], uid,
                            authn="token")
            bad = True
        if bad:
            return User("", authn="invalid")
        return User.anonymous()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""
    timeout = 120

    def setup(self):
        self.tls_ok = True
        self.peer_cert = None
        srv = self.server
        if srv.tls is not None:
            try:
                self.request.setsockopt(socket.IPPROTO_TCP,
                                        socket.TCP_NODELAY, 1)
                self.request.settimeout(10)
                self.request = srv.tls.context().wrap_socket(
                    self.request, server_side=True)
                self.peer_cert = self.request.getpeercert() or None
            except (ssl.SSLError, OSError) as e:
                self.tls_ok = False
                log.debug("%s: TLS handshake failed: %s", srv.name, e)
        super().setup()

    def handle(self):
        if self.tls_ok:
            try:
                super().handle()
            except (ConnectionError, ssl.SSLError, TimeoutError):
                self.close_connection = True

    def address_string(self):
        return str(self.client_address[0]) if self.client_address else "unix"

    def log_message(self, fmt, *args):
        log.debug("%s %s", self.server.name, fmt % args)

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
                if len(out) > MAX_BODY:
                    raise ValueError("request body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(n) if n else b""

    def _serve(self):
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(413)
            return
        user, frontend, failing = self.server.identify(self)
        req = Request(self.command, self.path, dict(self.headers.items()),
                      body, user, frontend, failing)
        self._respond(self.server.backend(req))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def _respond(self, resp):
        if resp.action == "cut":
            self.close_connection = True
            if self.server.tls is None:
                # Tell the front end to cut its client's connection.
                self.send_response(502)
                self.send_header("X-Sim-Action", "cut")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(resp.code)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in resp.headers:
            self.send_header(k, v)
        if resp.stream is None:
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            for chunk in resp.stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            resp.stream.close()


class _Base(socketserver.ThreadingMixIn):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 4096
    allow_reuse_address = True


class TLSServer(_Base, http.server.HTTPServer):
    """An HTTPS listener. backend(Request) -> Response."""

    def __init__(self, addr, name, backend, tls, authn, local_failing=None):
        self.address_family = socket.AF_INET6 if ":" in addr[0] \
            else socket.AF_INET
        self.name = name
        self.backend = backend
        self.tls = tls
        self.authn = authn
        self.local_failing = local_failing or (lambda: ())
        super().__init__(addr, Handler)

    def server_bind(self):
        # Skip HTTPServer's getfqdn(): no DNS in a lab namespace.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def identify(self, h):
        user = self.authn.user(h.peer_cert, h.headers.get("Authorization"))
        return user, self.name, self.local_failing()


class UnixServer(_Base, socketserver.UnixStreamServer):
    """The core socket: plain HTTP from trusted front ends, which pass the
    authenticated identity in X-Remote-* headers."""

    allow_reuse_address = False

    def __init__(self, path, backend):
        self.name = "core-socket"
        self.backend = backend
        self.tls = None
        if os.path.exists(path):
            os.unlink(path)
        old = os.umask(0o077)
        try:
            super().__init__(path, Handler)
        finally:
            os.umask(old)

    def identify(self, h):
        hd = h.headers
        name = hd.get("X-Remote-User")
        authn = hd.get("X-Sim-Authn", "x509")
        if name:
            groups = []
            for g in hd.get_all("X-Remote-Group") or []:
                groups.extend(x for x in g.split(",") if x)
            user = User(name, groups, hd.get("X-Remote-Uid", ""), authn)
        elif authn == "invalid":
            user = User("", authn="invalid")
        else:
            user = User.anonymous()
        failing = [x for x in hd.get("X-Sim-Failing", "").split(",") if x]
        return user, hd.get("X-Sim-Frontend", "unix"), failing


def serve_in_thread(server, name):
    t = threading.Thread(target=server.serve_forever, name=name,
                         kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    return t
