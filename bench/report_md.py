"""results.json -> the Markdown tables of docs/benchmarks.md."""


def _s(v):
    return "%.2f" % v if isinstance(v, float) else str(v)


def _n(v):
    """A count or KiB: whole, even when it is the median of two runs."""
    return "%d" % round(v)


def _vals(vs):
    return " ".join(_s(v) for v in vs)


def _drain(rows):
    out = ["## drain (simulator, node n1)", "",
           "| pods | grace | certroll s (median) | kubectl s (median) | "
           "time ratio | certroll KiB | kubectl KiB | RSS ratio | "
           "requests c/k | load |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        w, m, q = r["wall_s"], r["maxrss_kb"], r["requests"]
        loads = [x["load"] for x in r["runs"]["certroll"]]
        out.append("| %d | %ds | %s (%s) | %s (%s) | %s | %s | %s | %s | "
                   "%s/%s | %s |" % (
                       r["pods"], r["grace"], _vals(w["certroll"]["values"]),
                       _s(w["certroll"]["median"]),
                       _vals(w["kubectl"]["values"]),
                       _s(w["kubectl"]["median"]), _s(w["ratio"]),
                       _n(m["certroll"]["median"]), _n(m["kubectl"]["median"]),
                       _s(m["ratio"]), _n(q["certroll"]["median"]),
                       _n(q["kubectl"]["median"]), _vals(loads)))
    return out


def _check(c):
    out = ["## check (%d-node lab, %d certificate files)"
           % (c["nodes"], c["certs"]), "",
           "| contender | wall s (runs) | median | ratio to certroll | "
           "load |", "|---|---|---|---|---|"]
    base = c["rows"][0]["median"]
    for r in c["rows"]:
        out.append("| %s | %s | %s | %s | %s |" % (
            r["name"], _vals(r["values"]), _s(r["median"]),
            _s(round(r["median"] / base, 2)) if base else "-",
            _vals(r["loads"])))
    return out


def _rollout(r):
    out = ["## rollout (3-node lab)", "",
           "| run | certroll apply s | floor s | ratio | certroll KiB | "
           "load |", "|---|---|---|---|---|---|"]
    for i, x in enumerate(r["runs"]):
        out.append("| %d | %s | %s | %s | %s | %s |" % (
            i + 1, _s(x["wall_s"]), _s(x["floor_s"]), _s(x["ratio"]),
            _s(x["maxrss_kb"]), _s(x["load"])))
    out += ["", "Phases of the last run (certroll's report, seconds):", ""]
    out += ["| node | %s |" % " | ".join(r["phase_names"]),
            "|---|%s" % ("---|" * len(r["phase_names"]))]
    for node, ph in r["phases"].items():
        out.append("| %s | %s |" % (node, " | ".join(
            _s(ph.get(n, "")) for n in r["phase_names"])))
    out += ["", "Floor of the last run: %s" % r["floor_detail"]]
    return out


def _memory(m):
    out = ["## memory (peak RSS, KiB)", "", "| what | KiB |", "|---|---|"]
    for k, v in m.items():
        out.append("| %s | %s |" % (k, _n(v)))
    return out


def render(res):
    mc = res["machine"]
    out = ["# certroll benchmark results", "",
           "Machine: %s, %d cores, %.1f GiB, Linux %s; load %.2f at the "
           "start, %.2f at the end; started %s." % (
               mc["cpu"], mc["cores"], mc["mem_gib"], mc["kernel"],
               res["load_start"], res.get("load_end", 0.0), res["started"]),
           ""]
    if "drain" in res:
        out += _drain(res["drain"]) + [""]
    if "check" in res:
        out += _check(res["check"]) + [""]
    if "rollout" in res:
        out += _rollout(res["rollout"]) + [""]
    if "memory" in res:
        out += _memory(res["memory"]) + [""]
    return "\n".join(out)
