"""Fault injection and the request log (the /sim admin endpoints)."""

import collections
import re
import threading
import time

from . import errors

KNOWN = {"latency_ms", "burst", "cut_connections", "stop_answering",
         "failing_checks", "shutdown", "frontends"}
BURST_KEYS = {"codes", "count", "retry_after", "paths"}


class Decision:
    """What the fault state says about one request."""

    def __init__(self, latency=0.0, error=None, action=None):
        self.latency = latency
        self.error = error      # errors.ApiError to answer with
        self.action = action    # None, "cut" or "stop"


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.cleared = threading.Condition(self.lock)
        self.spec = {}
        self.burst_left = 0
        self.burst_i = 0
        self.cut_left = 0
        self.generation = 0

    def set(self, spec):
        """Replace the fault configuration; raises ApiError when invalid."""
        if not isinstance(spec, dict):
            raise errors.bad_request("faults must be a JSON object")
        unknown = set(spec) - KNOWN
        if unknown:
            raise errors.bad_request("unknown fault fields: %s"
                                     % ", ".join(sorted(unknown)))
        burst = spec.get("burst")
        if burst is not None:
            _check_burst(burst)
        if "latency_ms" in spec and not _nonneg(spec["latency_ms"]):
            raise errors.bad_request("latency_ms must be a non-negative "
                                     "number")
        if "cut_connections" in spec and not _nonneg(spec["cut_connections"]):
            raise errors.bad_request("cut_connections must be a non-negative "
                                     "integer")
        fr = spec.get("frontends")
        if fr is not None and not (isinstance(fr, list) and
                                   all(isinstance(x, str) for x in fr)):
            raise errors.bad_request("frontends must be a list of names")
        fc = spec.get("failing_checks")
        if fc is not None and not (isinstance(fc, list) and
                                   all(isinstance(x, str) for x in fc)):
            raise errors.bad_request("failing_checks must be a list of "
                                     "check names")
        with self.lock:
            self.spec = dict(spec)
            self.burst_left = int(burst.get("count", 0)) if burst else 0
            self.burst_i = 0
            self.cut_left = int(spec.get("cut_connections", 0))
            self.generation += 1
            self.cleared.notify_all()

    def clear(self):
        with self.lock:
            self.spec = {}
            self.burst_left = 0
            self.cut_left = 0
            self.generation += 1
            self.cleared.notify_all()

    def show(self):
        with self.lock:
            out = dict(self.spec)
            if "burst" in out:
                out["burst_left"] = self.burst_left
            if "cut_connections" in out:
                out["cut_connections_left"] = self.cut_left
            return out

    def failing_checks(self, frontend):
        with self.lock:
            if not self._applies(frontend):
                return set(), False
            return (set(self.spec.get("failing_checks") or ()),
                    bool(self.spec.get("shutdown")))

    def _applies(self, frontend):
        fr = self.spec.get("frontends")
        return fr is None or frontend in fr

    def decide(self, frontend, path):
        """Consume the fault budget for one request."""
        with self.lock:
            if not self.spec or not self._applies(frontend):
                return Decision()
            d = Decision(float(self.spec.get("latency_ms", 0)) / 1000.0)
            if self.spec.get("stop_answering"):
                d.action = "stop"
                return d
            if self.cut_left > 0:
                self.cut_left -= 1
                d.action = "cut"
                return d
            burst = self.spec.get("burst")
            if burst and self.burst_left > 0:
                pat = burst.get("paths")
                if not pat or re.search(pat, path):
                    codes = burst.get("codes") or [503]
                    code = codes[self.burst_i % len(codes)]
                    self.burst_i += 1
                    self.burst_left -= 1
                    d.error = errors.for_code(
                        int(code), int(burst.get("retry_after", 0)))
            return d

    def wait_cleared(self, timeout):
        """Block while stop_answering is set (for at most timeout s)."""
        end = time.time() + timeout
        with self.lock:
            gen = self.generation
            while self.spec.get("stop_answering") and gen == self.generation:
                left = end - time.time()
                if left <= 0:
                    return
                self.cleared.wait(left)


def _nonneg(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def _check_burst(b):
    if not isinstance(b, dict):
        raise errors.bad_request("burst must be a JSON object")
    unknown = set(b) - BURST_KEYS
    if unknown:
        raise errors.bad_request("unknown burst fields: %s"
                                 % ", ".join(sorted(unknown)))
    codes = b.get("codes", [503])
    if not isinstance(codes, list) or not codes or not all(
            isinstance(c, int) and 400 <= c <= 599 for c in codes):
        raise errors.bad_request("burst.codes must be a list of HTTP error "
                                 "codes (400-599)")
    if not _nonneg(b.get("count", 0)) or not _nonneg(b.get("retry_after", 0)):
        raise errors.bad_request("burst.count and burst.retry_after must be "
                                 "non-negative")
    if b.get("paths") is not None:
        try:
            re.compile(b["paths"])
        except (re.error, TypeError) as e:
            raise errors.bad_request("burst.paths is not a regular "
                                     "expression: %s" % e) from None


class RequestLog:
    """method, path and status of every API request (not /sim/*)."""

    def __init__(self, maxlen=100000):
        self.lock = threading.Lock()
        self.items = collections.deque(maxlen=maxlen)
        self.seq = 0

    def add(self, method, path, status, frontend, user, started):
        with self.lock:
            self.seq += 1
            self.items.append({"seq": self.seq, "time": started,
                               "method": method, "path": path,
                               "status": status, "frontend": frontend,
                               "user": user,
                               "duration_ms": round((time.time() - started)
                                                    * 1000.0, 3)})

    def since(self, seq):
        with self.lock:
            return [e for e in self.items if e["seq"] > seq]

    def clear(self):
        with self.lock:
            self.items.clear()
