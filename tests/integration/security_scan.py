#!/usr/bin/env python3
"""Scan what certroll wrote for secrets (docs/reliability.md, "Security").

usage: security_scan.py --secrets FILE_OR_DIR... --scan FILE_OR_DIR...
       security_scan.py --self-check

--secrets names where the secrets are: PEM files holding a PRIVATE KEY and
kubeconfigs (client-key-data, client-certificate-data, token, and the keys
inside their base64 data). Directories are walked. --scan names what must
not contain any of them: stdout/stderr captures, journals, run logs,
reports. A hit is any PEM "PRIVATE KEY" header, or any distinctive chunk
of a key body, of a kubeconfig's credential data or of a token, also in
JSON-escaped text. Exit status: 0 clean, 1 a secret was found (each hit is
printed with the file and what leaked, never the secret itself), 2 usage.

--self-check proves the scan can fail: it plants chunks of a key in files
(plain, JSON-escaped, inside a longer line) and a PEM header, and exits 1
if any of them is missed.
"""
import argparse
import base64
import os
import re
import sys
import tempfile

CHUNK = 24  # characters of base64: 144 bits, never a coincidence
STEP = 16
HEADER = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
PEM_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----\s*(.*?)-----END \1-----", re.S)
KUBECONFIG_FIELD = re.compile(
    r"^\s*(client-key-data|client-certificate-data|token|password):\s*"
    r"['\"]?([^'\"\s]+)", re.M)


def chunks(body, what):
    """Distinctive chunks of a base64 body: windows of CHUNK characters
    every STEP inside each line (so line breaks and escapes do not matter,
    and any leaked run of CHUNK + STEP characters contains one), skipping
    the first line's ASN.1 prefix that every key of a type shares."""
    out = []
    lines = [l.strip() for l in body.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        for start in range(32 if i == 0 else 0, len(line) - CHUNK + 1, STEP):
            out.append((line[start:start + CHUNK],
                        "%s, line %d" % (what, i + 1)))
    return out


def secrets_of_text(text, where):
    found = []
    for m in PEM_KEY.finditer(text):
        found += chunks(m.group(2), "%s (%s)" % (where, m.group(1)))
    for m in KUBECONFIG_FIELD.finditer(text):
        field, value = m.group(1), m.group(2)
        what = "%s %s" % (where, field)
        if field in ("token", "password"):
            if len(value) >= 8:
                found.append((value, what))
            continue
        found += chunks(value, what)
        try:
            inner = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        found += secrets_of_text(inner, what + " (decoded)")
    return found


def files_under(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                for n in sorted(names):
                    yield os.path.join(root, n)
        elif os.path.isfile(p):
            yield p
        else:
            print("security_scan: %s: no such file" % p, file=sys.stderr)
            sys.exit(2)


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def collect(paths):
    secrets = {}
    for f in files_under(paths):
        if os.path.islink(f):
            continue
        for chunk, what in secrets_of_text(read_text(f), f):
            secrets.setdefault(chunk, what)
    return secrets


def scan(paths, secrets):
    hits = []
    for f in files_under(paths):
        text = read_text(f)
        # json-c escapes '/' as '\/'; a key in a JSON string has '\n'.
        flat = text.replace("\\/", "/")
        if HEADER.search(flat):
            hits.append("%s: a PEM PRIVATE KEY header" % f)
        for chunk, what in secrets.items():
            if chunk in flat:
                hits.append("%s: part of %s" % (f, what))
    return hits


def self_check():
    key = (
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgq0CbnLT4y3k2Xj7b\n"
        "Gk0V9w1Xo0bJc2YQJ3pGQ2lqT3ahRANCAAT5yqj0Q4eK7mM2bC1yq0t9CzYHkFvd\n"
        "a3tXq1uSJg4oAw8Lr4T+fK0V2sQhQmJkR1Vt1cUu6b8YxQyT0Lx2Wd7c\n"
        "-----END PRIVATE KEY-----\n")
    kubeconfig = "users:\n- name: u\n  user:\n    client-key-data: %s\n" \
        "    token: abcdefghijklmnop0123456789\n" % \
        base64.b64encode(key.encode()).decode()
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "secrets")
        os.mkdir(src)
        with open(os.path.join(src, "k.key"), "w") as f:
            f.write(key)
        with open(os.path.join(src, "admin.conf"), "w") as f:
            f.write(kubeconfig)
        secrets = collect([src])
        body = key.splitlines()[2]
        planted = {
            "clean": "certroll: node cp1: renewed 'apiserver'\n",
            "chunk in a log line": "debug: got %s from the node\n" % body[10:50],
            "json-escaped": '{"msg":"%s"}\n' % key.replace("\n", "\\n")
            .replace("/", "\\/")[40:160],
            "pem header": "-----BEGIN EC PRIVATE KEY-----\n",
            "kubeconfig data": "client-key-data: %s\n" %
            base64.b64encode(key.encode()).decode()[100:140],
            "token": "Authorization: Bearer abcdefghijklmnop0123456789\n",
        }
        for name, text in planted.items():
            p = os.path.join(d, name.replace(" ", "-"))
            with open(p, "w") as f:
                f.write(text)
            hits = scan([p], secrets)
            want = name != "clean"
            ok = bool(hits) == want
            print("self-check: %-20s %s" % (name, "ok" if ok else
                  "MISSED" if want else "FALSE ALARM: %s" % hits))
            failures += not ok
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--secrets", nargs="+", default=[])
    ap.add_argument("--scan", nargs="+", default=[])
    ap.add_argument("--self-check", action="store_true")
    a = ap.parse_args()
    if a.self_check:
        return self_check()
    if not a.secrets or not a.scan:
        ap.print_usage(sys.stderr)
        return 2
    secrets = collect(a.secrets)
    hits = scan(a.scan, secrets)
    for h in hits:
        print("LEAK: " + h)
    print("security_scan: %d secret chunks from %s; %d files scanned, %d hits"
          % (len(secrets), " ".join(a.secrets),
             sum(1 for _ in files_under(a.scan)), len(hits)))
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
