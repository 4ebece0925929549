#!/usr/bin/env python3
"""tests/lab/etcd-monitor against a stand-in etcd on loopback: what it
counts as a failed write and what it does not.

Rows: a member that closes every keep-alive connection after one answer
(as a restarted member leaves its clients) costs no write; a member that
stops answering, one that answers 503, and one that is gone cost writes.
Needs python3 and the openssl CLI only."""

import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MONITOR = os.path.join(HERE, "etcd-monitor")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mode = self.server.mode
        self.server.seen += 1
        if mode == "hang" and self.server.seen > 3:
            time.sleep(2)
        code, body = (503, b'{"error":"etcdserver: leader changed"}') \
            if mode == "503" else (200, b'{"header":{"revision":"7"}}')
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # "close": drop the connection without saying so, as a member that
        # restarts between two writes does.
        self.close_connection = mode == "close"


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        """A client that gave up on a hanging answer is the point."""


class MonitorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="etcd-monitor-test-")
        cls.crt = os.path.join(cls.d, "m.crt")
        cls.key = os.path.join(cls.d, "m.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=etcd-member", "-days", "1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", cls.key, "-out", cls.crt],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        for f in os.listdir(cls.d):
            os.unlink(os.path.join(cls.d, f))
        os.rmdir(cls.d)

    def serve(self, mode):
        srv = Server(("127.0.0.1", 0), Handler)
        srv.mode, srv.seen = mode, 0
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.crt, self.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return srv

    def monitor(self, port, duration=1.5):
        p = subprocess.run(
            [sys.executable, MONITOR, "--any",
             "--endpoints", "https://127.0.0.1:%d" % port,
             "--cacert", self.crt, "--cert", self.crt, "--key", self.key,
             "--interval", "0.05", "--timeout", "0.5",
             "--duration", str(duration)],
            capture_output=True, text=True, timeout=60)
        return p.returncode, json.loads(p.stdout.strip().splitlines()[-1])

    def test_rows(self):
        rows = [
            # mode, exit, failed writes?, reconnects?
            ("keep", 0, False, False),
            ("close", 0, False, True),
            ("hang", 1, True, False),
            ("503", 1, True, False),
        ]
        for mode, code, failed, reconnects in rows:
            with self.subTest(mode):
                srv = self.serve(mode)
                rc, s = self.monitor(srv.server_address[1])
                self.assertEqual(rc, code, s)
                self.assertGreater(s["ticks"], 3, s)
                self.assertEqual(s["failed"] > 0, failed, s)
                self.assertEqual(s["reconnects"] > 0, reconnects, s)
                self.assertGreaterEqual(srv.seen, s["ticks"] if mode in (
                    "keep", "close") else 1, s)

    def test_member_gone(self):
        srv = self.serve("keep")
        port = srv.server_address[1]
        srv.shutdown()
        srv.server_close()
        rc, s = self.monitor(port, duration=0.5)
        self.assertEqual(rc, 1, s)
        self.assertEqual(s["failed"], s["ticks"], s)
        self.assertEqual(s["reconnects"], 0, s)


if __name__ == "__main__":
    unittest.main()
