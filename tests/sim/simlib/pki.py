"""Certificates through the openssl CLI, and kubeconfig files."""

import base64
import ipaddress
import os
import subprocess
import tempfile
import time

from . import kyaml


class PkiError(RuntimeError):
    pass


def _openssl(args, cwd=None):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True,
                       text=True, check=False)
    if p.returncode != 0:
        raise PkiError("openssl %s failed: %s" % (args[0],
                                                  p.stderr.strip()))
    return p.stdout


def _write_ext(path, lines):
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


def genkey(path):
    """An ECDSA P-256 key (fast), mode 0600."""
    old = os.umask(0o077)
    try:
        _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-out", path])
    finally:
        os.umask(old)


def make_ca(dirpath, cn="kubesim-ca", days=3650):
    """ca.crt + ca.key in dirpath."""
    key = os.path.join(dirpath, "ca.key")
    crt = os.path.join(dirpath, "ca.crt")
    genkey(key)
    _openssl(["req", "-x509", "-new", "-key", key, "-sha256", "-days",
              str(days), "-subj", "/CN=%s" % cn,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,"
              "keyCertSign",
              "-addext", "subjectKeyIdentifier=hash", "-out", crt])
    return crt, key


def _subject(cn, orgs):
    return "".join("/O=%s" % o for o in orgs) + "/CN=%s" % cn


def san_entries(names):
    out = []
    for n in names:
        try:
            ipaddress.ip_address(n)
            out.append("IP:%s" % n)
        except ValueError:
            out.append("DNS:%s" % n)
    return out


def sign(ca_crt, ca_key, out_prefix, cn, orgs=(), eku="clientAuth",
         sans=(), days=365, start_offset_days=None):
    """Issue out_prefix.crt/.key signed by the CA.

    start_offset_days < 0 with days > 0 relative to that start gives
    certificates valid in the past (expired ones) for tests.
    """
    key = out_prefix + ".key"
    crt = out_prefix + ".crt"
    genkey(key)
    with tempfile.TemporaryDirectory() as tmp:
        csr = os.path.join(tmp, "req.csr")
        ext = os.path.join(tmp, "ext.cnf")
        _openssl(["req", "-new", "-key", key, "-subj", _subject(cn, orgs),
                  "-out", csr])
        lines = ["basicConstraints=critical,CA:FALSE",
                 "keyUsage=critical,digitalSignature,keyEncipherment",
                 "extendedKeyUsage=%s" % eku,
                 "authorityKeyIdentifier=keyid"]
        if sans:
            lines.append("subjectAltName=%s" % ",".join(san_entries(sans)))
        _write_ext(ext, lines)
        if start_offset_days is None:
            _openssl(["x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey",
                      ca_key, "-set_serial", "0x" + os.urandom(8).hex(),
                      "-sha256", "-extfile", ext, "-days", str(days),
                      "-out", crt])
        else:
            _sign_dated(tmp, csr, ca_crt, ca_key, ext, crt,
                        start_offset_days, days)
    return crt, key


def _sign_dated(tmp, csr, ca_crt, ca_key, ext, crt, start_offset_days,
                days):
    """Explicit validity dates (in the past or future) need `openssl ca`:
    `x509 -req` of OpenSSL 3.0 only knows -days."""
    with open(os.path.join(tmp, "index.txt"), "w", encoding="ascii"):
        pass
    with open(os.path.join(tmp, "serial"), "w", encoding="ascii") as f:
        f.write(os.urandom(8).hex().upper() + "\n")
    cfg = os.path.join(tmp, "ca.cnf")
    _write_ext(cfg, [
        "[ca]", "default_ca = d", "[d]", "dir = " + tmp,
        "database = %s/index.txt" % tmp, "new_certs_dir = " + tmp,
        "serial = %s/serial" % tmp, "default_md = sha256",
        "policy = p", "unique_subject = no", "[p]",
        "organizationName = optional", "commonName = supplied"])
    t0 = time.time() + start_offset_days * 86400
    fmt = "%Y%m%d%H%M%SZ"
    _openssl(["ca", "-batch", "-config", cfg, "-cert", ca_crt, "-keyfile",
              ca_key, "-in", csr, "-out", crt, "-notext", "-preserveDN",
              "-extfile", ext, "-startdate",
              time.strftime(fmt, time.gmtime(t0)), "-enddate",
              time.strftime(fmt, time.gmtime(t0 + days * 86400))])


def self_signed(out_prefix, cn, sans, days=365):
    """A self-signed serving certificate (what kcm/scheduler make)."""
    key = out_prefix + ".key"
    crt = out_prefix + ".crt"
    genkey(key)
    _openssl(["req", "-x509", "-new", "-key", key, "-sha256", "-days",
              str(days), "-subj", "/CN=%s" % cn,
              "-addext", "subjectAltName=%s" % ",".join(san_entries(sans)),
              "-addext", "extendedKeyUsage=serverAuth",
              "-out", crt])
    return crt, key


def cert_sans(crt):
    """DNS and IP SANs of a certificate file."""
    out = _openssl(["x509", "-in", crt, "-noout", "-ext", "subjectAltName"])
    names = []
    for line in out.splitlines()[1:]:
        for part in line.split(","):
            part = part.strip()
            if part.startswith("DNS:"):
                names.append(part[4:])
            elif part.startswith("IP Address:"):
                names.append(str(ipaddress.ip_address(part[11:])))
    return names


def b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_atomic(path, data, mode=0o600):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               dir=d)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def kubeconfig(server, ca_crt, cert=None, key=None, token=None,
               name="kubesim", user="kubesim-admin"):
    """An admin kubeconfig (YAML text) with embedded credentials."""
    u = {}
    if cert:
        u["client-certificate-data"] = b64file(cert)
        u["client-key-data"] = b64file(key)
    if token:
        u["token"] = token
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": name, "cluster": {
               "server": server,
               "certificate-authority-data": b64file(ca_crt)}}],
           "users": [{"name": user, "user": u}],
           "contexts": [{"name": name, "context": {"cluster": name,
                                                    "user": user}}],
           "current-context": name, "preferences": {}}
    return kyaml.dump(cfg)
