"""/livez, /readyz and /healthz in the real server's text format
(apiserver/pkg/server/healthz, kube-api.md §6.1)."""

HOOKS = ["poststarthook/start-apiserver-admission-initializer",
         "poststarthook/generic-apiserver-start-informers",
         "poststarthook/start-kube-apiserver-admission-initializer",
         "poststarthook/bootstrap-controller"]
CHECKS = {
    "livez": ["ping", "log", "etcd"] + HOOKS,
    "healthz": ["ping", "log", "etcd"] + HOOKS,
    "readyz": ["ping", "log", "etcd", "etcd-readiness", "informer-sync"]
    + HOOKS + ["shutdown"],
}


def render(kind, sub, query, failing):
    """(http code, body) for GET /<kind>[/<sub>]?query.

    failing: names of the checks that fail now. 'shutdown' only exists in
    readyz, so a shutting-down server stays live.
    """
    names = CHECKS[kind]
    if sub:
        if sub not in names:
            return 404, "404 page not found\n"
        if sub in failing:
            return 500, "internal server error: %s check failed\n" % sub
        return 200, "ok"
    excluded = set(query.get("exclude", []))
    lines = []
    failed = False
    for n in names:
        if n in excluded:
            lines.append("[+]%s excluded: ok" % n)
        elif n in failing:
            lines.append("[-]%s failed: reason withheld" % n)
            failed = True
        else:
            lines.append("[+]%s ok" % n)
    unknown = sorted(excluded - set(names))
    if unknown:
        lines.append("warn: some health checks cannot be excluded: no "
                     "matches for %s" % ", ".join('"%s"' % u
                                                  for u in unknown))
    if failed:
        return 500, "\n".join(lines) + "\n%s check failed\n" % kind
    if "verbose" in query:
        return 200, "\n".join(lines) + "\n%s check passed\n" % kind
    return 200, "ok"
