#!/usr/bin/env python3
"""A kubelet and four control-plane components, as far as the agent sees.

Like the kubelet with static pods, it looks at a manifests directory every
fileCheckFrequency (read from the kubelet's config.yaml) and, for each
kubeadm manifest present, runs the component: TLS listeners on the
addresses and ports of the manifest's flags, serving the certificate files
the manifest names (read when the component starts, as a restarted process
would) and asking for client certificates where the real component does.
When a manifest leaves the directory, the component stops and its ports
close. The agent only moves files and probes ports, exactly as on a node.

  etcd                     --listen-client-urls: GET /health,
                           POST /v3/maintenance/status (client cert from
                           --trusted-ca-file required);
                           --listen-peer-urls (peer cert required)
  kube-apiserver           --advertise-address:--secure-port: GET /readyz
                           (200 only with a client cert from
                           --client-ca-file, else 401)
  kube-controller-manager  --bind-address:--secure-port (10257) and
  kube-scheduler           (10259): GET /healthz, self-signed certificate
                           from --selfsigned-dir unless --tls-cert-file

Each start and stop is appended to --events as a JSON line
{"t": <CLOCK_MONOTONIC seconds>, "event": "start"|"stop"|"refused",
 "component": <name>}. While a component's container exists, the file
--state/<name> does (what tests/support/fakecrictl.sh lists). Faults:
  --no-restart NAME     after NAME first stops it never starts again
  --stop-delay NAME=S   NAME keeps its ports open S seconds after its
                        manifest left (a slow shutdown)
  --linger NAME=S       NAME's container stays listed S seconds after its
                        ports closed
  --gateway-fail        etcd's /health says true but every gateway call
                        fails as in lab.md P9

Prints "READY" once the manifests present at start are running. Stopped by
the test that started it, by PID.
"""

import argparse
import http.server
import json
import os
import re
import socketserver
import ssl
import sys
import threading
import time

FLAG = re.compile(r"^\s*-\s+(--[A-Za-z0-9-]+)(?:=(.*))?\s*$")
COMPONENT = re.compile(r"^\s*component:\s*(\S+)\s*$")


def parse_duration(text):
    m = re.fullmatch(r"\s*([0-9.]+)(ms|s|m)\s*", text)
    if not m:
        raise ValueError("bad duration %r" % text)
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)]
    return float(m.group(1)) * scale


def file_check_frequency(path):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("fileCheckFrequency:"):
                    return parse_duration(line.split(":", 1)[1])
    except FileNotFoundError:
        pass
    return 20.0


def read_manifest(path):
    """(component, {flag: value}) from a kubeadm manifest's lines."""
    name, flags = None, {}
    with open(path) as f:
        for line in f:
            m = COMPONENT.match(line)
            if m and name is None:
                name = m.group(1).strip("'\"")
            m = FLAG.match(line)
            if m:
                flags[m.group(1)] = (m.group(2) or "").strip("'\"")
    return name, flags


def host_port(url):
    m = re.fullmatch(r"https://([^:/]+):(\d+)/?", url)
    if not m:
        raise ValueError("bad url %r" % url)
    return m.group(1), int(m.group(2))


class Events:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a")

    def add(self, event, component):
        with self.lock:
            self.f.write(json.dumps({"t": time.monotonic(), "event": event,
                                     "component": component}) + "\n")
            self.f.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def route(self, method):
        role = self.server.role
        if self.headers.get("Content-Length"):
            self.rfile.read(int(self.headers["Content-Length"]))
        handler = ROUTES.get((role, method, self.path))
        if handler is None:
            self.reply(404, "not found\n", "text/plain")
        else:
            handler(self)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")


def etcd_health(h):
    h.reply(200, '{"health":"true"}')


def etcd_status(h):
    if h.server.opts.gateway_fail:
        h.reply(503, '{"error":"connection closed",'
                '"message":"connection closed","code":14}')
        return
    h.reply(200, json.dumps({
        "header": {"cluster_id": "1", "member_id": "2", "revision": "1",
                   "raft_term": "2"},
        "version": "3.4.23", "dbSize": "20480", "leader": "2"}))


def apiserver_readyz(h):
    if h.connection.getpeercert() is None:
        h.reply(401, '{"kind":"Status","code":401}')
    else:
        h.reply(200, "ok", "text/plain")


def healthz(h):
    h.reply(200, "ok", "text/plain")


ROUTES = {
    ("etcd-client", "GET", "/health"): etcd_health,
    ("etcd-client", "POST", "/v3/maintenance/status"): etcd_status,
    ("apiserver", "GET", "/readyz"): apiserver_readyz,
    ("apiserver", "GET", "/livez"): healthz,
    ("healthz", "GET", "/healthz"): healthz,
}


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx, role, opts):
        self.ctx, self.role, self.opts = ctx, role, opts
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake happens in the handler's thread, on first read.
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass


def tls_context(cert, key, client_ca, required):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED if required else \
            ssl.CERT_OPTIONAL
    return ctx


def listeners(name, f, opts):
    """[(host, port, ssl context, role)] for a component's flags."""
    out = []
    if name == "etcd":
        ctx = tls_context(f["--cert-file"], f["--key-file"],
                          f.get("--trusted-ca-file"),
                          f.get("--client-cert-auth") == "true")
        for url in f["--listen-client-urls"].split(","):
            out.append(host_port(url) + (ctx, "etcd-client"))
        pctx = tls_context(f["--peer-cert-file"], f["--peer-key-file"],
                           f.get("--peer-trusted-ca-file"),
                           f.get("--peer-client-cert-auth") == "true")
        for url in f["--listen-peer-urls"].split(","):
            out.append(host_port(url) + (pctx, "etcd-peer"))
    elif name == "kube-apiserver":
        ctx = tls_context(f["--tls-cert-file"], f["--tls-private-key-file"],
                          f.get("--client-ca-file"), False)
        host = f.get("--advertise-address") or "127.0.0.1"
        out.append((host, int(f.get("--secure-port", "6443")), ctx,
                    "apiserver"))
    else:
        default = {"kube-controller-manager": 10257,
                   "kube-scheduler": 10259}[name]
        cert = f.get("--tls-cert-file") or \
            os.path.join(opts.selfsigned_dir, name + ".crt")
        key = f.get("--tls-private-key-file") or \
            os.path.join(opts.selfsigned_dir, name + ".key")
        ctx = tls_context(cert, key, None, False)
        host = f.get("--bind-address") or "127.0.0.1"
        out.append((host, int(f.get("--secure-port", default)), ctx,
                    "healthz"))
    return out


class Component:
    def __init__(self, name, flags, opts):
        self.name, self.servers = name, []
        for host, port, ctx, role in listeners(name, flags, opts):
            srv = Server((host, port), ctx, role, opts)
            threading.Thread(target=srv.serve_forever, args=(0.05,),
                             daemon=True).start()
            self.servers.append(srv)

    def stop(self):
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()


class Kubelet:
    def __init__(self, opts):
        self.opts = opts
        self.events = Events(opts.events)
        self.running = {}      # manifest file -> Component
        self.stopping = set()  # files whose delayed stop is pending
        self.stopped_once = set()
        self.delays = dict((k, float(v)) for k, v in
                           (d.split("=", 1) for d in opts.stop_delay))
        self.lingers = dict((k, float(v)) for k, v in
                            (d.split("=", 1) for d in opts.linger))

    def container(self, name, exists):
        marker = os.path.join(self.opts.state, name)
        if exists:
            open(marker, "w").close()
        elif os.path.exists(marker):
            os.unlink(marker)

    def start(self, fname):
        name, flags = read_manifest(os.path.join(self.opts.manifests, fname))
        if name in self.opts.no_restart and name in self.stopped_once:
            self.running[fname] = None
            self.events.add("refused", name)
            return
        try:
            self.running[fname] = Component(name, flags, self.opts)
            self.container(name, True)
            self.events.add("start", name)
        except (OSError, KeyError, ValueError, ssl.SSLError) as e:
            self.running[fname] = None
            self.events.add("refused", name)
            print("fakepod: %s: %s" % (name, e), file=sys.stderr)

    def stop_now(self, fname, comp):
        comp.stop()
        self.stopped_once.add(comp.name)
        self.events.add("stop", comp.name)
        linger = self.lingers.get(comp.name, 0)
        if linger > 0:
            threading.Timer(linger, self.gone, (fname, comp.name)).start()
        else:
            self.gone(fname, comp.name)

    def gone(self, fname, name):
        self.container(name, False)
        self.stopping.discard(fname)

    def stop(self, fname):
        comp = self.running.pop(fname)
        if comp is None:
            return
        self.stopping.add(fname)
        delay = self.delays.get(comp.name, 0)
        if delay > 0:
            threading.Timer(delay, self.stop_now, (fname, comp)).start()
        else:
            self.stop_now(fname, comp)

    def sync(self):
        present = set(f for f in os.listdir(self.opts.manifests)
                      if f.endswith(".yaml"))
        for fname in sorted(set(self.running) - present):
            self.stop(fname)
        for fname in sorted(present - set(self.running)):
            if fname not in self.stopping:
                self.start(fname)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifests", required=True)
    ap.add_argument("--kubelet-config", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--selfsigned-dir", default=".")
    ap.add_argument("--no-restart", action="append", default=[])
    ap.add_argument("--stop-delay", action="append", default=[])
    ap.add_argument("--linger", action="append", default=[])
    ap.add_argument("--state", required=True)
    ap.add_argument("--gateway-fail", action="store_true")
    opts = ap.parse_args()

    os.makedirs(opts.state, exist_ok=True)
    period = file_check_frequency(opts.kubelet_config)
    kubelet = Kubelet(opts)
    kubelet.sync()
    print("READY", flush=True)
    while True:
        time.sleep(period)
        kubelet.sync()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
