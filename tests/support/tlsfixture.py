#!/usr/bin/env python3
"""A scripted HTTPS server for the TLS client's and the snapshot's tests.

Each request path selects a canned response, some of them deliberately
malformed, truncated or stalled, which a real server would rarely produce
on demand. /v3/maintenance/snapshot streams an etcd v3 gateway snapshot in
the form etcd 3.4 sends it (newline-delimited JSON, 32 KiB blobs, then a
final message whose blob is the SHA-256 of the database), damaged as
--snapshot-mode says.

Usage: tlsfixture.py --cert C --key K [--client-ca CA] [--stall-handshake]
                     [--snapshot-mode MODE] [--snapshot-size N]
Prints "PORT <n>" on stdout once it listens on 127.0.0.1, then serves until
killed. The test that starts it stops it by PID.
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import threading

BLOB = 32768


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def head(status, fields):
    lines = ["HTTP/1.1 %s" % status] + fields + ["", ""]
    return "\r\n".join(lines).encode()


def snapshot_messages(db, mode):
    """The newline-delimited JSON messages of a snapshot of db."""
    msgs = []
    for off in range(0, len(db), BLOB):
        piece = db[off:off + BLOB]
        result = {"blob": base64.b64encode(piece).decode()}
        remaining = len(db) - off - len(piece)
        if remaining > 0:
            result["remaining_bytes"] = str(remaining)
        msgs.append(json.dumps({"result": result}).encode() + b"\n")
    digest = hashlib.sha256(db).digest()
    if mode == "badtrailer":
        digest = hashlib.sha256(db + b"x").digest()
    if mode != "nohash":
        blob = base64.b64encode(digest).decode()
        msgs.append(json.dumps({"result": {"blob": blob}}).encode() + b"\n")
    if mode == "error":
        err = {"error": {"grpc_code": 14, "http_code": 503,
                         "message": "etcdserver: snapshot aborted",
                         "http_status": "Service Unavailable"}}
        msgs.insert(1, json.dumps(err).encode() + b"\n")
        del msgs[2:]
    if mode == "oversize":
        msgs.insert(1, b'{"result":{"blob":"' + b"A" * (300 * 1024) + b'"}}\n')
    return msgs


def send_snapshot(conn, args):
    if args.snapshot_mode == "status503":
        body = b'{"error":"connection closed","message":"connection closed","code":14}'
        conn.sendall(head("503 Service Unavailable",
                          ["Content-Type: application/json",
                           "Content-Length: %d" % len(body)]) + body)
        return
    db = os.urandom(args.snapshot_size)
    msgs = snapshot_messages(db, args.snapshot_mode)
    conn.sendall(head("200 OK", ["Content-Type: application/json",
                                 "Transfer-Encoding: chunked"]))
    if args.snapshot_mode == "cut":
        msgs = msgs[: max(1, len(msgs) // 2)]
        # Half a message, then the connection drops without a last chunk.
        msgs[-1] = msgs[-1][: len(msgs[-1]) // 2]
    for m in msgs:
        # etcd's gateway flushes one message per chunk; split some lines
        # across two chunks so the reader must join them.
        half = len(m) // 2
        conn.sendall(chunk(m[:half]) + chunk(m[half:]))
    if args.snapshot_mode != "cut":
        conn.sendall(b"0\r\n\r\n")


def stall(conn):
    """Keeps the connection open, silent, until the client goes away."""
    conn.settimeout(60)
    try:
        while conn.recv(1):
            pass
    except (OSError, ssl.SSLError):
        pass


FIXED = {
    "/cl": head("200 OK", ["Content-Type: text/plain",
                           "Content-Length: 21"]) + b"hello, content-length",
    "/chunked": head("200 OK", ["Transfer-Encoding: chunked"]) +
    b"3;ext=1\r\nhel\r\n" + chunk(b"lo, ") + chunk(b"chunked") +
    b"0\r\nX-Trailer: 1\r\n\r\n",
    "/close": head("200 OK", ["Connection: close"]) + b"until close",
    "/empty": head("204 No Content", []),
    "/interim": b"HTTP/1.1 100 Continue\r\n\r\n" +
    head("200 OK", ["Content-Length: 2"]) + b"ok",
    "/cut-chunked": head("200 OK", ["Transfer-Encoding: chunked"]) +
    chunk(b"partial") + b"10\r\nshort",
    "/cut-length": head("200 OK", ["Content-Length: 100"]) + b"0123456789",
    "/bad-chunk": head("200 OK", ["Transfer-Encoding: chunked"]) +
    b"zz\r\nhello\r\n0\r\n\r\n",
    "/bad-chunk-crlf": head("200 OK", ["Transfer-Encoding: chunked"]) +
    b"5\r\nhelloXX0\r\n\r\n",
    "/bad-status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "/not-http": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "/bad-te": head("200 OK", ["Transfer-Encoding: gzip"]) + b"x",
    "/bad-length": head("200 OK", ["Content-Length: 12x"]) + b"x",
    "/two-lengths": head("200 OK", ["Content-Length: 2",
                                    "Content-Length: 3"]) + b"abc",
    "/huge-header": head("200 OK", ["X-Big: " + "a" * 40000,
                                    "Content-Length: 0"]),
    "/no-response": b"",
}


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        got = conn.recv(65536)
        if not got:
            return None, None, b""
        data += got
    hdr, _, body = data.partition(b"\r\n\r\n")
    lines = hdr.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    length = int(fields.get("content-length", "0"))
    while len(body) < length:
        got = conn.recv(65536)
        if not got:
            break
        body += got
    return method, path, (fields, body)


def echo(conn, method, extra):
    fields, body = extra
    doc = json.dumps({"method": method, "len": len(body),
                      "body": body.decode("latin-1"),
                      "content_type": fields.get("content-type", ""),
                      "host": fields.get("host", "")}).encode()
    conn.sendall(head("200 OK", ["Content-Type: application/json",
                                 "Content-Length: %d" % len(doc)]) + doc)


def big(conn):
    """1,100,000 bytes in 8 KiB chunks: more than the default body cap."""
    conn.sendall(head("200 OK", ["Transfer-Encoding: chunked"]))
    left = 1100000
    while left > 0:
        n = min(8192, left)
        conn.sendall(chunk(b"b" * n))
        left -= n
    conn.sendall(b"0\r\n\r\n")


def serve(conn, args):
    method, path, extra = read_request(conn)
    if path is None:
        return
    if path == "/stall-head":
        stall(conn)
    elif path == "/stall-body":
        conn.sendall(head("200 OK", ["Content-Length: 100"]) + b"0123456789")
        stall(conn)
    elif path == "/echo":
        echo(conn, method, extra)
    elif path == "/big":
        big(conn)
    elif path == "/v3/maintenance/status" and method == "POST":
        doc = json.dumps({"header": {"cluster_id": "1", "member_id": "42",
                                     "revision": "7", "raft_term": "2"},
                          "version": "3.4.23", "dbSize": "20480"}).encode()
        conn.sendall(head("200 OK", ["Content-Type: application/json",
                                     "Content-Length: %d" % len(doc)]) + doc)
    elif path == "/v3/maintenance/snapshot" and method == "POST":
        send_snapshot(conn, args)
    elif path in FIXED:
        conn.sendall(FIXED[path])
    else:
        conn.sendall(head("404 Not Found", ["Content-Length: 0"]))


def handle(raw, ctx, args):
    try:
        if args.stall_handshake:
            stall(raw)
            return
        conn = ctx.wrap_socket(raw, server_side=True)
        try:
            serve(conn, args)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        raw.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca")
    ap.add_argument("--stall-handshake", action="store_true")
    ap.add_argument("--snapshot-mode", default="good",
                    choices=["good", "cut", "badtrailer", "error",
                             "oversize", "nohash", "status503"])
    ap.add_argument("--snapshot-size", type=int, default=5 * BLOB + 1234)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print("PORT %d" % srv.getsockname()[1], flush=True)
    while True:
        raw, _ = srv.accept()
        threading.Thread(target=handle, args=(raw, ctx, args),
                         daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
