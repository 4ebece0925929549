"""A small Kubernetes API client driven by a kubeconfig file (for the
node stand-ins and kubesim-ctl)."""

import base64
import http.client
import json
import os
import ssl
import tempfile
import threading
import urllib.parse

from . import kyaml


class ConfigError(ValueError):
    pass


def _named(items, name, what, path):
    for it in items or []:
        if isinstance(it, dict) and it.get("name") == name:
            return it.get(what) or {}
    raise ConfigError("%s: %s %r not found" % (path, what, name))


def _data(entry, key, base, path):
    """Bytes of '<key>-data' (base64) or of the file '<key>' (relative to
    the kubeconfig's directory)."""
    if entry.get(key + "-data"):
        try:
            return base64.b64decode(entry[key + "-data"])
        except ValueError:
            raise ConfigError("%s: %s-data is not base64" % (path, key)) \
                from None
    if entry.get(key):
        f = entry[key]
        if not os.path.isabs(f):
            f = os.path.join(base, f)
        with open(f, "rb") as fh:
            return fh.read()
    return None


class Kubeconfig:
    """The current context of a kubeconfig: server, CA, credentials."""

    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            doc = kyaml.load(f.read())
        if not isinstance(doc, dict):
            raise ConfigError("%s: not a kubeconfig" % path)
        ctx_name = doc.get("current-context")
        if not ctx_name:
            raise ConfigError("%s: no current-context" % path)
        ctx = _named(doc.get("contexts"), ctx_name, "context", path)
        cluster = _named(doc.get("clusters"), ctx.get("cluster"), "cluster",
                         path)
        user = _named(doc.get("users"), ctx.get("user"), "user", path)
        base = os.path.dirname(os.path.abspath(path))
        self.server = cluster.get("server")
        if not self.server:
            raise ConfigError("%s: cluster has no server" % path)
        self.ca = _data(cluster, "certificate-authority", base, path)
        self.insecure = bool(cluster.get("insecure-skip-tls-verify"))
        self.cert = _data(user, "client-certificate", base, path)
        self.key = _data(user, "client-key", base, path)
        self.token = user.get("token")
        if not self.token and user.get("tokenFile"):
            with open(user["tokenFile"], encoding="utf-8") as f:
                self.token = f.read().strip()
        u = urllib.parse.urlsplit(self.server)
        self.host = u.hostname
        self.port = u.port or 443

    def ssl_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca:
            ctx.load_verify_locations(cadata=self.ca.decode())
        else:
            ctx.load_default_certs()
        if self.cert and self.key:
            with tempfile.TemporaryDirectory() as d:
                c = os.path.join(d, "c.pem")
                k = os.path.join(d, "k.pem")
                fd = os.open(k, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(self.key)
                with open(c, "wb") as f:
                    f.write(self.cert)
                ctx.load_cert_chain(c, k)
        return ctx


class Client:
    """One keep-alive HTTPS connection per thread to the kubeconfig's
    server; reconnects after a failure."""

    def __init__(self, kubeconfig_path, timeout=5.0):
        self.path = kubeconfig_path
        self.timeout = timeout
        self.local = threading.local()
        self.cfg = Kubeconfig(kubeconfig_path)
        self.ctx = self.cfg.ssl_context()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPSConnection(
                self.cfg.host, self.cfg.port, timeout=self.timeout,
                context=self.ctx)
            self.local.conn = c
        return c

    def close(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
            self.local.conn = None

    def request(self, method, path, body=None,
                ctype="application/json"):
        """(status, parsed JSON or text). Raises OSError/ssl.SSLError when
        the server cannot be reached."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else \
                json.dumps(body).encode()
            headers["Content-Type"] = ctype
        if self.cfg.token:
            headers["Authorization"] = "Bearer " + self.cfg.token
        try:
            c = self._conn()
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        if "json" in (r.getheader("Content-Type") or ""):
            try:
                return r.status, json.loads(raw)
            except ValueError:
                pass
        return r.status, raw.decode("utf-8", "replace")
