"""The kubesim program: the core (state, controllers, HTTPS listener, core
socket) and the `frontend` subcommand."""

import argparse
import logging
import os
import signal
import sys
import threading
import time

from . import httpserve as H
from . import pki
from .api import Core
from .frontend import CoreClient, EtcdProbe, STORAGE_CHECKS
from .util import (bool_arg, duration_arg, host_port, setup_logging,
                   url_host)

log = logging.getLogger("kubesim")

SERVE_HELP = """\
Run the Kubernetes API simulator in the foreground.

On first start it creates, in --state-dir, a CA (ca.crt, ca.key), a serving
certificate (server.crt) and an admin client certificate (admin.crt,
O=system:masters); later starts reuse them. Once it serves it writes
DIR/kubeconfig (admin, embedded credentials, the listener's URL) and
DIR/kubesim.pid.

examples:
  kubesim --state-dir /tmp/sim                  # random port on 127.0.0.1
  kubectl --kubeconfig /tmp/sim/kubeconfig get nodes
  kubesim --state-dir /tmp/sim --listen 127.0.0.1:6443 --version-minor 33
  kubesim --state-dir /tmp/sim --core-socket /run/kubesim.sock  # for
                                              # `kubesim frontend` per node
"""

FRONTEND_HELP = """\
Serve the shared state of a kubesim core as one node's API server.

Takes kube-apiserver's flags (those not modelled are ignored), so a kubelet
stand-in can start it from a kubeadm kube-apiserver manifest. Listens on
--listen, else on --bind-address (default 0.0.0.0):--secure-port (6443).

example:
  kubesim frontend --core-socket /run/kubesim.sock --node cp1 \\
    --advertise-address=10.200.0.11 --secure-port=6443 \\
    --tls-cert-file=/etc/kubernetes/pki/apiserver.crt \\
    --tls-private-key-file=/etc/kubernetes/pki/apiserver.key \\
    --client-ca-file=/etc/kubernetes/pki/ca.crt \\
    --etcd-servers=https://127.0.0.1:2379 \\
    --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt \\
    --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt \\
    --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key
"""


def _serve_parser():
    p = argparse.ArgumentParser(
        prog="kubesim", description=SERVE_HELP, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--state-dir", required=True,
                   help="certificates, kubeconfig and pid file live here")
    p.add_argument("--listen", default="127.0.0.1:0",
                   help="HTTPS address HOST:PORT, port 0 = random, 'none' "
                   "= no HTTPS listener (default %(default)s)")
    p.add_argument("--core-socket",
                   help="also serve the state on this Unix socket for "
                   "`kubesim frontend`")
    p.add_argument("--name", default="kubesim",
                   help="this listener's name in the request log and in "
                   "fault filters (default %(default)s)")
    p.add_argument("--token-auth-file",
                   help="CSV token,user,uid,\"group1,group2\" as "
                   "kube-apiserver reads it")
    p.add_argument("--tls-cert-file", help="serving certificate instead "
                   "of the generated one")
    p.add_argument("--tls-private-key-file", help="its key")
    p.add_argument("--client-ca-file", help="more CAs to trust for client "
                   "certificates (the state CA is always trusted)")
    p.add_argument("--version-minor", type=int, default=31,
                   help="/version minor; the kubectl dispatcher picks "
                   "kubectl 1.<minor> (default %(default)s)")
    p.add_argument("--git-version", help="/version gitVersion "
                   "(default v1.<minor>.0)")
    p.add_argument("--max-grace", type=duration_arg, default=2.0,
                   help="cap on pod termination grace periods (default 2s)")
    p.add_argument("--pod-start-delay", type=duration_arg, default=0.2,
                   help="bound pods become Running and Ready after this "
                   "(default 0.2s)")
    p.add_argument("--controller-interval", type=duration_arg, default=0.05,
                   help="controllers' tick (default 50ms)")
    p.add_argument("--node-monitor-grace-period", type=duration_arg,
                   default=40.0, help="a node whose kubelet posted nothing "
                   "for this long becomes Unknown; 0 = never (default 40s)")
    p.add_argument("--compaction-interval", type=duration_arg, default=300.0,
                   help="continue tokens older than this get 410 "
                   "(default 5m)")
    p.add_argument("--shutdown-delay", type=duration_arg, default=0.0,
                   help="on SIGTERM keep serving this long with /readyz "
                   "failing (default 0)")
    p.add_argument("--authorization-mode", choices=("RBAC", "AlwaysAllow"),
                   default="RBAC", help="RBAC: only admins, nodes and "
                   "control-plane components may use resources")
    p.add_argument("--anonymous-auth", type=bool_arg, default=True,
                   help="false: 401 for requests without credentials")
    p.add_argument("--log-level", default="info",
                   choices=("debug", "info", "warning", "error"))
    return p


def _ensure_pki(d, host, extra_sans=()):
    ca_crt = os.path.join(d, "ca.crt")
    ca_key = os.path.join(d, "ca.key")
    if not (os.path.exists(ca_crt) and os.path.exists(ca_key)):
        pki.make_ca(d)
    sans = ["localhost", "127.0.0.1", "::1", "kubernetes",
            "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local"] + list(extra_sans)
    if host not in ("", "0.0.0.0", "::"):
        sans.append(host)
    srv = os.path.join(d, "server")
    if not os.path.exists(srv + ".crt") or not set(sans) <= set(
            pki.cert_sans(srv + ".crt")):
        pki.sign(ca_crt, ca_key, srv, "kube-apiserver", eku="serverAuth",
                 sans=sans)
    adm = os.path.join(d, "admin")
    if not os.path.exists(adm + ".crt"):
        pki.sign(ca_crt, ca_key, adm, "kubernetes-admin",
                 orgs=["system:masters"])
    return ca_crt


def _client_ca(d, ca_crt, extra):
    if not extra:
        return ca_crt
    bundle = os.path.join(d, "client-ca-bundle.crt")
    with open(ca_crt, "rb") as f:
        data = f.read()
    with open(extra, "rb") as f:
        data += b"\n" + f.read()
    pki.write_atomic(bundle, data, 0o644)
    return bundle


class Stopper:
    """SIGTERM/SIGINT set an event the main thread waits on."""

    def __init__(self):
        self.ev = threading.Event()
        signal.signal(signal.SIGTERM, self._on)
        signal.signal(signal.SIGINT, self._on)

    def _on(self, signum, frame):
        self.ev.set()

    def wait(self):
        while not self.ev.wait(0.2):
            pass


def serve_main(argv):
    a = _serve_parser().parse_args(argv)
    setup_logging("kubesim", a.log_level)
    d = os.path.abspath(a.state_dir)
    os.makedirs(d, mode=0o700, exist_ok=True)
    # Waiters poll for these: never let them see the last run's.
    for f in ("kubeconfig", "kubesim.pid"):
        if os.path.exists(os.path.join(d, f)):
            os.unlink(os.path.join(d, f))
    host, port = ("", 0) if a.listen == "none" else host_port(a.listen)
    try:
        ca = _ensure_pki(d, host)
    except pki.PkiError as e:
        log.error("state dir %s: cannot create certificates: %s", d, e)
        return 1
    stopper = Stopper()
    core = Core(a.version_minor, a.git_version, a.max_grace,
                a.pod_start_delay, a.controller_interval,
                a.node_monitor_grace_period, a.compaction_interval,
                a.authorization_mode, a.anonymous_auth)
    core.start()
    servers = []
    try:
        servers = _listeners(a, d, ca, core, host, port)
    except (OSError, ValueError) as e:
        log.error("cannot serve: %s", e)
        core.stop()
        return 1
    stopper.wait()
    log.info("stopping")
    core.shutting_down = True
    if a.shutdown_delay:
        time.sleep(a.shutdown_delay)
    for s in servers:
        s.shutdown()
        s.server_close()
    core.stop()
    for f in (os.path.join(d, "kubesim.pid"), a.core_socket):
        if f and os.path.exists(f):
            os.unlink(f)
    return 0


def _listeners(a, d, ca, core, host, port):
    servers = []
    if a.core_socket:
        u = H.UnixServer(a.core_socket, core.handle)
        H.serve_in_thread(u, "core-socket")
        servers.append(u)
        log.info("serving the core on unix:%s", a.core_socket)
    if a.listen != "none":
        cert = a.tls_cert_file or os.path.join(d, "server.crt")
        key = a.tls_private_key_file or os.path.join(d, "server.key")
        tls = H.TLSFiles(cert, key, _client_ca(d, ca, a.client_ca_file))
        authn = H.Authn(H.load_tokens(a.token_auth_file))
        srv = H.TLSServer((host, port), a.name, core.handle, tls, authn)
        H.serve_in_thread(srv, "https")
        servers.append(srv)
        bound = srv.server_address[1]
        shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1",
                 "::": "::1"}.get(host, host)
        core.server_address = "%s:%d" % (url_host(shown), bound)
        url = "https://%s:%d" % (url_host(shown), bound)
        pki.write_atomic(os.path.join(d, "kubeconfig"), pki.kubeconfig(
            url, ca, os.path.join(d, "admin.crt"),
            os.path.join(d, "admin.key")))
        log.info("serving %s (kubeconfig %s/kubeconfig)", url, d)
    pki.write_atomic(os.path.join(d, "kubesim.pid"), "%d\n" % os.getpid(),
                     0o644)
    return servers


def _frontend_parser():
    p = argparse.ArgumentParser(
        prog="kubesim frontend", description=FRONTEND_HELP,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--core-socket", required=True,
                   help="the core's Unix socket (kubesim --core-socket)")
    p.add_argument("--listen", help="HOST:PORT, overrides --bind-address "
                   "and --secure-port")
    p.add_argument("--bind-address", default="0.0.0.0")
    p.add_argument("--secure-port", type=int, default=6443)
    p.add_argument("--advertise-address", help="accepted; the address "
                   "clients are told about")
    p.add_argument("--tls-cert-file", required=True)
    p.add_argument("--tls-private-key-file", required=True)
    p.add_argument("--client-ca-file", help="CA for client certificates")
    p.add_argument("--token-auth-file")
    p.add_argument("--anonymous-auth", type=bool_arg, default=True)
    p.add_argument("--etcd-servers", help="comma-separated URLs probed by "
                   "the readyz etcd check")
    p.add_argument("--etcd-cafile")
    p.add_argument("--etcd-certfile")
    p.add_argument("--etcd-keyfile")
    p.add_argument("--etcd-readycheck-timeout", type=duration_arg,
                   default=2.0, help="how long the readyz etcd check waits "
                   "for etcd's answer")
    p.add_argument("--node", help="name in the request log and in fault "
                   "filters (default: the listen address)")
    p.add_argument("--pid-file")
    p.add_argument("--shutdown-delay-duration", type=duration_arg,
                   default=0.0, help="on SIGTERM keep serving this long "
                   "with /readyz failing")
    p.add_argument("--log-level", default="info",
                   choices=("debug", "info", "warning", "error"))
    return p


def frontend_main(argv):
    a, ignored = _frontend_parser().parse_known_args(argv)
    setup_logging("kubesim-frontend", a.log_level)
    if ignored:
        log.debug("ignoring flags not modelled: %s", " ".join(ignored))
    if a.listen:
        host, port = host_port(a.listen)
    else:
        host, port = a.bind_address, a.secure_port
    name = a.node or "%s:%d" % (host, port)
    try:
        tls = H.TLSFiles(a.tls_cert_file, a.tls_private_key_file,
                         a.client_ca_file)
        probe = EtcdProbe(a.etcd_servers, a.etcd_cafile, a.etcd_certfile,
                          a.etcd_keyfile,
                          timeout=a.etcd_readycheck_timeout) \
            if a.etcd_servers else None
        authn = H.Authn(H.load_tokens(a.token_auth_file))
    except (OSError, ValueError) as e:
        log.error("cannot load certificates or tokens: %s", e)
        return 1
    state = {"stopping": False}

    def local_failing():
        out = set()
        if probe is not None and not probe.ok():
            out.update(STORAGE_CHECKS[:2])
        if state["stopping"]:
            out.add("shutdown")
        return out

    fwd = CoreClient(a.core_socket, name, a.anonymous_auth)
    stopper = Stopper()
    try:
        srv = H.TLSServer((host, port), name, fwd.handle, tls, authn,
                          local_failing)
    except OSError as e:
        log.error("cannot listen on %s:%d: %s", host, port, e)
        return 1
    H.serve_in_thread(srv, "https")
    if a.pid_file:
        pki.write_atomic(a.pid_file, "%d\n" % os.getpid(), 0o644)
    log.info("%s: serving https://%s:%d for core %s", name, url_host(host),
             srv.server_address[1], a.core_socket)
    stopper.wait()
    state["stopping"] = True
    if a.shutdown_delay_duration:
        time.sleep(a.shutdown_delay_duration)
    srv.shutdown()
    srv.server_close()
    if a.pid_file and os.path.exists(a.pid_file):
        os.unlink(a.pid_file)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "frontend":
        return frontend_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    return serve_main(argv)
