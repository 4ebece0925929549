#!/usr/bin/env python3
"""Tests of the benchmark harness itself (not of certroll's speed: no
timed assertions). Run by `make bench` before it measures anything:
python3 bench/test_bench.py
"""

import base64
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchlib  # noqa: E402
import drain_bench  # noqa: E402
import lab_bench  # noqa: E402
import report_md  # noqa: E402


class Stats(unittest.TestCase):
    def test_median_rows(self):
        for vals, want in [([3.0], 3.0), ([1.0, 9.0, 2.0], 2.0),
                           ([4.0, 1.0, 3.0, 2.0], 2.5), ([5, 5, 5], 5)]:
            with self.subTest(vals=vals):
                self.assertEqual(benchlib.median(vals), want)

    def test_median_of_nothing_is_an_error(self):
        with self.assertRaises(benchlib.BenchError):
            benchlib.median([])

    def test_ratio_rows(self):
        for a, b, want in [(1.0, 2.0, 0.5), (3.0, 1.0, 3.0), (1.0, 3.0, 0.33),
                           (0.0, 5.0, 0.0), (2.0, 0.0, None)]:
            with self.subTest(a=a, b=b):
                self.assertEqual(benchlib.ratio(a, b), want)


class Measure(unittest.TestCase):
    def test_peak_rss_of_a_child_that_allocates_64_mib(self):
        m = benchlib.measure([sys.executable, "-c",
                              "b = bytearray(64 << 20); b[::4096] = b'x' * "
                              "len(b[::4096])"])
        self.assertEqual(m["rc"], 0)
        self.assertGreaterEqual(m["maxrss_kb"], 64 * 1024)

    def test_peak_rss_of_a_grandchild_counts(self):
        # The gcloud kubectl dispatcher runs the real kubectl as its child.
        code = ("import subprocess, sys; subprocess.run([sys.executable, "
                "'-c', 'b = bytearray(96 << 20); b[::4096] = b\"x\" * "
                "len(b[::4096])'], check=True)")
        m = benchlib.measure([sys.executable, "-c", code])
        self.assertGreaterEqual(m["maxrss_kb"], 96 * 1024)

    def test_exit_status_and_output(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "log")
            m = benchlib.measure(["sh", "-c", "echo hi; echo err >&2; exit 3"],
                                 out_path=out)
            self.assertEqual(m["rc"], 3)
            with open(out, encoding="ascii") as f:
                self.assertEqual(f.read(), "hi\nerr\n")

    def test_timeout_kills(self):
        with self.assertRaises(benchlib.BenchError):
            benchlib.measure(["sleep", "30"], timeout=0.3)


class DrainScenarios(unittest.TestCase):
    def test_large_sizes_use_large_runs(self):
        self.assertEqual(drain_bench.scenarios([110, 1000], 3, 2),
                         [(110, 0, 3), (110, 3, 3), (1000, 0, 2),
                          (1000, 3, 2)])

    def test_same_flags_for_both_tools(self):
        class S:
            kubeconfig = "/k"
        ctx = {"certroll": "/c", "kubectl": "/kc"}
        c = drain_bench.tool_argv(ctx, "certroll", S, "/cache")
        k = drain_bench.tool_argv(ctx, "kubectl", S, "/cache")
        self.assertEqual(c[-3:], k[-3:])
        self.assertIn("--cache-dir", k)
        self.assertEqual(k[k.index("--cache-dir") + 1], "/cache")


def ev(t, pod, what):
    return {"time": t, "pod": pod + "-cp1", "event": what}


class Rollout(unittest.TestCase):
    EVENTS = [ev(10.0, "etcd", "stopping"), ev(10.5, "etcd", "stopped"),
              ev(12.0, "etcd", "seen"), ev(12.3, "etcd", "started"),
              ev(13.0, "etcd", "ready"),
              ev(14.0, "kube-apiserver", "stopping"),
              ev(16.0, "kube-apiserver", "stopped"),
              ev(17.0, "kube-apiserver", "seen"),
              ev(19.5, "kube-apiserver", "ready"),
              ev(20.0, "kube-controller-manager", "stopping"),
              ev(20.1, "kube-controller-manager", "stopped"),
              ev(21.0, "kube-controller-manager", "seen"),
              ev(22.0, "kube-controller-manager", "ready"),
              ev(23.0, "kube-scheduler", "stopping"),
              ev(23.2, "kube-scheduler", "stopped"),
              ev(24.0, "kube-scheduler", "seen")]

    MOVES = [{"time": 9.6, "file": "etcd.yaml", "move": "gone"},
             {"time": 11.5, "file": "etcd.yaml", "move": "back"},
             {"time": 13.8, "file": "kube-apiserver.yaml", "move": "gone"},
             {"time": 16.5, "file": "kube-apiserver.yaml", "move": "back"},
             {"time": 19.9, "file": "kube-controller-manager.yaml",
              "move": "gone"},
             {"time": 20.5, "file": "kube-controller-manager.yaml",
              "move": "back"},
             {"time": 23.5, "file": "kube-scheduler.yaml", "move": "back"}]

    def test_component_waits_rows(self):
        w = lab_bench.component_waits(self.EVENTS, self.MOVES, 1.0)
        self.assertEqual(w["etcd"]["intervals"], [(9.6, 10.5), (11.5, 13.0)])
        self.assertEqual((w["kube-apiserver"]["stop_s"],
                          w["kube-apiserver"]["start_s"]), (2.2, 3.0))
        self.assertEqual(w["kube-controller-manager"]["intervals"],
                         [(19.9, 20.1), (20.5, 22.0)])
        # move out not seen: one fileCheckFrequency before "stopped";
        # never ready: no start interval
        self.assertEqual(w["kube-scheduler"]["intervals"], [(22.2, 23.2)])

    def test_covered_rows(self):
        for iv, want in [([], 0.0), ([(1, 2)], 1.0), ([(1, 3), (2, 4)], 3.0),
                         ([(1, 5), (2, 3)], 4.0), ([(4, 5), (1, 2)], 2.0),
                         ([(1, 2), (2, 3)], 2.0)]:
            with self.subTest(iv=iv):
                self.assertAlmostEqual(lab_bench.covered(iv), want)

    def test_floor_charges_grace_only_where_a_pod_was_evicted(self):
        ev2 = [dict(e, time=e["time"] + 100) for e in self.EVENTS]
        mv2 = [dict(m, time=m["time"] + 100) for m in self.MOVES]
        # 9.6-10.5, 11.5-13.0, 13.8-16.0, 16.5-19.5, 19.9-20.1, 20.5-22.0,
        # 22.2-23.2
        restarts = 0.9 + 1.5 + 2.2 + 3.0 + 0.2 + 1.5 + 1.0
        for evicted_at, want in [([], 2 * restarts),
                                 ([5.0], 2 * restarts + 2.0),
                                 ([50.0], 2 * restarts + 2.0),
                                 ([5.0, 60.0], 2 * restarts + 4.0),
                                 ([200.0], 2 * restarts)]:
            with self.subTest(evicted_at=evicted_at):
                floor, _ = lab_bench.floor_of(
                    ["cp1", "cp2"], {"cp1": self.EVENTS, "cp2": ev2},
                    {"cp1": self.MOVES, "cp2": mv2}, evicted_at, 1.0)
                self.assertAlmostEqual(floor, round(want, 2))


class ReadScript(unittest.TestCase):
    """The Ansible/ssh command reads the same dates as openssl itself."""

    def test_crt_and_kubeconfig(self):
        with tempfile.TemporaryDirectory() as d:
            crt, key = os.path.join(d, "a.crt"), os.path.join(d, "a.key")
            subprocess.run(["openssl", "req", "-x509", "-newkey",
                            "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-subj", "/CN=t", "-days", "3",
                            "-keyout", key, "-out", crt], check=True,
                           capture_output=True)
            want = subprocess.run(["openssl", "x509", "-noout", "-enddate",
                                   "-in", crt], check=True, text=True,
                                  capture_output=True).stdout
            with open(crt, "rb") as f:
                data = base64.b64encode(f.read()).decode()
            conf = os.path.join(d, "admin.conf")
            with open(conf, "w", encoding="ascii") as f:
                f.write("users:\n- name: a\n  user:\n"
                        "    client-certificate-data: %s\n"
                        "    client-key-data: eA==\n" % data)
            gone = [os.path.join(d, "gone.crt"),
                    os.path.join(d, "super-admin.conf")]
            out = subprocess.run(["sh", "-c", lab_bench.read_script(
                [crt, conf] + gone)], check=True, text=True,
                capture_output=True).stdout
            self.assertEqual(out, "%s %s%s %s" % (crt, want, conf, want))


class Render(unittest.TestCase):
    def test_drain_table_shows_medians_and_ratio(self):
        row = {"pods": 110, "grace": 0, "runs": {"certroll": [
            {"load": 1.5}], "kubectl": [{"load": 1.6}]}}
        for key, c, k in [("wall_s", 0.5, 20.0), ("maxrss_kb", 17000, 54000),
                          ("requests", 120, 240)]:
            row[key] = {"certroll": {"values": [c], "median": c},
                        "kubectl": {"values": [k], "median": k},
                        "ratio": benchlib.ratio(c, k)}
        md = report_md.render({"machine": {"cpu": "X", "cores": 2,
                                           "mem_gib": 1.0, "kernel": "6"},
                               "load_start": 1.0, "load_end": 2.0,
                               "started": "now", "drain": [row]})
        self.assertIn("| 110 | 0s | 0.50 (0.50) | 20.00 (20.00) | 0.03 |",
                      md)
        self.assertIn("| 0.31 | 120/240 | 1.50 |", md)
        self.assertIn("| 17000 | 54000 |", md)

    def test_medians_of_two_counts_print_whole(self):
        md = report_md.render({"machine": {"cpu": "X", "cores": 2,
                                           "mem_gib": 1.0, "kernel": "6"},
                               "load_start": 1.0, "started": "now",
                               "memory": {"certroll drain": 39590.0,
                                          "agent": 16668}})
        self.assertIn("| certroll drain | 39590 |", md)
        self.assertIn("| agent | 16668 |", md)


if __name__ == "__main__":
    unittest.main()
