"""Helpers for the simulator's tests: start kubesim and friends as child
processes (always stopped by PID, also when a test fails), and talk HTTPS
to them with a chosen identity."""

import atexit
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

SIM = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
sys.path.insert(0, SIM)

from simlib import pki  # noqa: E402

_CHILDREN = set()
PR_SET_PDEATHSIG = 1


def _reap_all():
    for pid in list(_CHILDREN):
        _kill(pid)


atexit.register(_reap_all)


def _kill(pid, grace=5.0):
    """SIGTERM, then SIGKILL after grace; only our own children."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _CHILDREN.discard(pid)
        return
    end = time.time() + grace
    while time.time() < end:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _CHILDREN.discard(pid)
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    _CHILDREN.discard(pid)


def _die_with_parent():
    """In the child: SIGTERM when the test process dies, even by SIGKILL
    (a CTest timeout), so no simulator outlives its test."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv, log_path, **kw):
    """Start a child process in its own session; stopped at exit."""
    with open(log_path, "ab") as logf:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=logf, start_new_session=True,
                             preexec_fn=_die_with_parent, **kw)
    _CHILDREN.add(p.pid)
    return p


def stop(p, grace=5.0):
    if p is not None and p.poll() is None:
        _kill(p.pid, grace)
    elif p is not None:
        _CHILDREN.discard(p.pid)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, timeout=10.0, interval=0.05, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError("timed out after %gs waiting for %s (last: %r)"
                         % (timeout, what, last))


def tail(path, n=30):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Sim:
    """A running kubesim (state dir, URL, admin credentials)."""

    def __init__(self, d, proc, url):
        self.dir = d
        self.proc = proc
        self.url = url
        self.host, port = url[len("https://"):].rsplit(":", 1)
        self.port = int(port)
        self.kubeconfig = os.path.join(d, "kubeconfig")
        self.ca = os.path.join(d, "ca.crt")
        self.admin = (os.path.join(d, "admin.crt"),
                      os.path.join(d, "admin.key"))

    def stop(self):
        stop(self.proc)

    def log(self):
        return tail(os.path.join(self.dir, "kubesim.log"))

    def sign(self, name, cn, orgs=(), days=30, start_offset_days=None,
             eku="clientAuth"):
        """A client certificate from this kubesim's CA."""
        return pki.sign(self.ca, os.path.join(self.dir, "ca.key"),
                        os.path.join(self.dir, name), cn, orgs, eku=eku,
                        days=days, start_offset_days=start_offset_days)

    def request(self, method, path, body=None, ctype="application/json",
                cert="admin", token=None, headers=None, timeout=10.0,
                host=None, port=None, ca=None):
        """(status, headers dict, parsed body). cert: 'admin', None or
        (crt, key)."""
        ctx = ssl.create_default_context(cafile=ca or self.ca)
        if cert == "admin":
            ctx.load_cert_chain(*self.admin)
        elif cert:
            ctx.load_cert_chain(*cert)
        c = http.client.HTTPSConnection(host or self.host, port or self.port,
                                        timeout=timeout, context=ctx)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else \
                json.dumps(body).encode()
            h.setdefault("Content-Type", ctype)
        if token:
            h["Authorization"] = "Bearer " + token
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
        finally:
            c.close()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        out = raw.decode("utf-8", "replace")
        if "json" in hdrs.get("content-type", ""):
            try:
                out = json.loads(raw)
            except ValueError:
                pass
        return r.status, hdrs, out


def cleanup_of(owner):
    """addCleanup of a test, or addClassCleanup of a test class."""
    return owner.addClassCleanup if isinstance(owner, type) \
        else owner.addCleanup


def tmpdir(owner, prefix="simtest-"):
    d = tempfile.mkdtemp(prefix=prefix)
    cleanup_of(owner)(shutil.rmtree, d, True)
    return d


def start_kubesim(owner, *args, state_dir=None):
    """kubesim with a fresh state dir; stopped by the owner's cleanup
    (a test or a test class)."""
    d = state_dir or tmpdir(owner, "kubesim-test-")
    os.makedirs(d, mode=0o700, exist_ok=True)
    logp = os.path.join(d, "kubesim.log")
    p = spawn([sys.executable, os.path.join(SIM, "kubesim"), "--state-dir",
               d] + list(args), logp)
    cleanup_of(owner)(stop, p)
    kc = os.path.join(d, "kubeconfig")

    def ready():
        if p.poll() is not None:
            raise AssertionError("kubesim exited %s:\n%s" % (p.returncode,
                                                             tail(logp)))
        return os.path.exists(kc) and os.path.exists(
            os.path.join(d, "kubesim.pid"))
    wait_for(ready, 30, what="kubesim to serve")
    with open(kc, encoding="utf-8") as f:
        url = next(line.split()[-1] for line in f
                   if line.strip().startswith("server:"))
    return Sim(d, p, url)


class SimTestCase(unittest.TestCase):
    """Asserts with the simulator's log attached on failure."""

    sim = None

    def assertStatus(self, got, code, what=""):
        status = got[0] if isinstance(got, tuple) else got
        if status != code:
            extra = "\n" + self.sim.log() if self.sim else ""
            self.fail("%s: HTTP %s, want %s: %s%s" % (
                what, status, code, got[2] if isinstance(got, tuple)
                else "", extra))


KUBECTL = shutil.which("kubectl")


class Kubectl:
    """The real kubectl against a Sim; every run gets its own cache dir."""

    def __init__(self, owner, sim):
        self.sim = sim
        self.base = tmpdir(owner, "kubectl-cache-")
        self.runs = 0
        self.minor = None

    def __call__(self, *args, timeout=90, stdin=None, kubeconfig=None):
        self.runs += 1
        cache = os.path.join(self.base, str(self.runs))
        p = subprocess.run([KUBECTL, "--kubeconfig",
                            kubeconfig or self.sim.kubeconfig,
                            "--cache-dir", cache] + list(args),
                           input=stdin, capture_output=True, text=True,
                           timeout=timeout, check=False)
        shutil.rmtree(cache, ignore_errors=True)
        return p

    def client_minor(self):
        """Minor version of the kubectl that really runs (the gcloud
        dispatcher picks it from the server's /version)."""
        if self.minor is None:
            p = self("version", "-o", "json")
            v = json.loads(p.stdout)["clientVersion"]
            self.minor = int("".join(c for c in v["minor"] if c.isdigit()))
        return self.minor
