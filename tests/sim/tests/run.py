#!/usr/bin/env python3
"""Run one test module for CTest: exit 0 when it passed, 1 when it failed,
77 (skipped) when the module says it cannot run here (SKIP_REASON)."""

import importlib
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(
    os.path.realpath(__file__))))


def _terminate(signum, frame):
    # Leave through sys.exit so atexit stops the children we started.
    sys.exit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    name = sys.argv[1]
    mod = importlib.import_module("tests." + name)
    reason = getattr(mod, "SKIP_REASON", None)
    if reason:
        print("SKIP %s: %s" % (name, reason))
        return 77
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    res = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if res.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
