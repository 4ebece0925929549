"""Small helpers shared by the programs."""

import argparse
import logging
import re
import sys

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0,
          "m": 60.0, "h": 3600.0}
_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")


def parse_duration(s):
    """Go duration ('1s', '200ms', '1m30s') or plain seconds -> float."""
    s = str(s).strip()
    try:
        v = float(s)
        if v < 0:
            raise ValueError
        return v
    except ValueError:
        pass
    pos = 0
    total = 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError("invalid duration %r (examples: 1s, 200ms, 1m30s)"
                         % s)
    return total


def duration_arg(s):
    try:
        return parse_duration(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def bool_arg(s):
    v = str(s).lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError("expected true or false, got %r" % s)


def host_port(s, default_port=None):
    """'HOST:PORT', '[v6]:PORT' -> (host, port)."""
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = s.rpartition(":")
        if not _:
            host, port = s, ""
    if not port and default_port is not None:
        port = default_port
    try:
        return host, int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected HOST:PORT (e.g. 127.0.0.1:6443), got %r" % s) from None


def url_host(host):
    return "[%s]" % host if ":" in host else host


def setup_logging(prog, level):
    logging.basicConfig(
        stream=sys.stderr, level=getattr(logging, level.upper(), 20),
        format=prog + ": %(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S")
