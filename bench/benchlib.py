"""Shared pieces of the certroll benchmarks (bench/run, docs/benchmarks.md).

Every measurement runs one child process and reads its wall time from the
monotonic clock and its peak resident set from wait4(): the kernel reports
the largest RSS of the child and of every descendant it waited for, so a
dispatcher that runs the real program as its child (the gcloud kubectl)
is measured by its largest process.
"""

import os
import platform
import statistics
import subprocess
import time


class BenchError(Exception):
    """A benchmark could not run; the message says what to do."""


def loadavg():
    """The 1-minute load average now, as a float."""
    with open("/proc/loadavg", encoding="ascii") as f:
        return float(f.read().split()[0])


def machine():
    """CPU model, cores, kernel and memory, for the report's header."""
    model = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    return {"cpu": model, "cores": os.cpu_count(),
            "kernel": platform.release(), "mem_gib": round(mem_kb / 2**20, 1)}


def measure(argv, env=None, out_path=None, timeout=None):
    """Run argv; return {wall_s, maxrss_kb, rc, load}.

    stdout and stderr go to out_path (else are discarded). timeout in
    seconds kills the child (SIGKILL) and raises BenchError.
    """
    load = loadavg()
    sink = open(out_path, "wb") if out_path else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdout=sink,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        deadline = None if timeout is None else t0 + timeout
        try:
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise BenchError("%s: still running after %ds, killed"
                                     % (argv[0], timeout))
                time.sleep(0.005)
        except BaseException:
            # Timed out, interrupted or terminated: the child goes too.
            p.kill()
            os.wait4(p.pid, 0)
            p.returncode = -9
            raise
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if out_path:
            sink.close()
    return {"wall_s": round(wall, 3), "maxrss_kb": ru.ru_maxrss,
            "rc": p.returncode, "load": load}


def median(values):
    """Median of a non-empty list (mean of the middle two when even)."""
    if not values:
        raise BenchError("median of no values")
    return statistics.median(values)


def ratio(a, b):
    """a / b rounded to 2 decimals; None when b is 0."""
    return round(a / b, 2) if b else None


def summarize(runs, key):
    """The values of key in runs (a list of measure() results) and median."""
    vals = [r[key] for r in runs]
    return {"values": vals, "median": median(vals)}
