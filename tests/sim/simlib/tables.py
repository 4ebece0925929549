"""Server-side printing: meta.k8s.io/v1 Table for `kubectl get`."""

import time

from .store import parse_time


def human_duration(secs):
    """apimachinery duration.HumanDuration."""
    s = int(secs)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        return "%dm" % minutes if s % 60 == 0 else "%dm%ds" % (minutes,
                                                              s % 60)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24,
                                                               h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        y = hours // 24 // 365
        return "%dy" % y if dy == 0 else "%dy%dd" % (y, dy)
    return "%dy" % (hours // 24 // 365)


def _age(o):
    t = parse_time(o["metadata"].get("creationTimestamp"))
    if t is None:
        return "<unknown>"
    return human_duration(time.time() - t)


def _col(name, typ="string", priority=0, fmt=""):
    return {"name": name, "type": typ, "format": fmt, "description": name,
            "priority": priority}


def _pod_row(p):
    st = p.get("status") or {}
    cs = st.get("containerStatuses") or []
    total = len((p.get("spec") or {}).get("containers") or [])
    ready = sum(1 for c in cs if c.get("ready"))
    reason = st.get("reason") or st.get("phase") or "Pending"
    for c in cs:
        w = (c.get("state") or {}).get("waiting")
        if w and w.get("reason"):
            reason = w["reason"]
    if p["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    restarts = sum(c.get("restartCount", 0) for c in cs)
    return ["%d/%d" % (ready, total), reason, restarts, _age(p),
            st.get("podIP") or "<none>",
            (p.get("spec") or {}).get("nodeName") or "<none>", "<none>",
            "<none>"]


def _node_row(n):
    status = "Unknown"
    for c in (n.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            status = {"True": "Ready", "False": "NotReady"}.get(
                c.get("status"), "Unknown")
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in
                   (n["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    info = (n.get("status") or {}).get("nodeInfo") or {}
    ip = "<none>"
    for a in (n.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            ip = a.get("address")
    return [status, ",".join(roles) or "<none>", _age(n),
            info.get("kubeletVersion", ""), ip, "<none>",
            info.get("osImage", ""), info.get("kernelVersion", ""),
            info.get("containerRuntimeVersion", "")]


def _pdb_row(o):
    spec = o.get("spec") or {}
    st = o.get("status") or {}
    return [str(spec.get("minAvailable", "N/A")),
            str(spec.get("maxUnavailable", "N/A")),
            st.get("disruptionsAllowed", 0), _age(o)]


def _ds_row(o):
    st = o.get("status") or {}
    sel = ((o.get("spec") or {}).get("template") or {}).get("spec", {}).get(
        "nodeSelector") or {}
    return [st.get("desiredNumberScheduled", 0),
            st.get("currentNumberScheduled", 0), st.get("numberReady", 0),
            st.get("updatedNumberScheduled", 0),
            st.get("numberAvailable", 0),
            ",".join("%s=%s" % kv for kv in sorted(sel.items())) or "<none>",
            _age(o)]


def _rs_row(o):
    st = o.get("status") or {}
    return [(o.get("spec") or {}).get("replicas", 1), st.get("replicas", 0),
            st.get("readyReplicas", 0), _age(o)]


def _deploy_row(o):
    st = o.get("status") or {}
    want = (o.get("spec") or {}).get("replicas", 1)
    return ["%d/%d" % (st.get("readyReplicas", 0), want),
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0),
            _age(o)]


def _lease_row(o):
    return [(o.get("spec") or {}).get("holderIdentity") or "", _age(o)]


def _ns_row(o):
    return [(o.get("status") or {}).get("phase", ""), _age(o)]


def _cm_row(o):
    return [len(o.get("data") or {}) + len(o.get("binaryData") or {}),
            _age(o)]


PRINTERS = {
    "pods": ([_col("Ready"), _col("Status"), _col("Restarts", "integer"),
              _col("Age"), _col("IP", priority=1), _col("Node", priority=1),
              _col("Nominated Node", priority=1),
              _col("Readiness Gates", priority=1)], _pod_row),
    "nodes": ([_col("Status"), _col("Roles"), _col("Age"), _col("Version"),
               _col("Internal-IP", priority=1),
               _col("External-IP", priority=1), _col("OS-Image", priority=1),
               _col("Kernel-Version", priority=1),
               _col("Container-Runtime", priority=1)], _node_row),
    "poddisruptionbudgets": ([_col("Min Available"), _col("Max Unavailable"),
                              _col("Allowed Disruptions", "integer"),
                              _col("Age")], _pdb_row),
    "daemonsets": ([_col("Desired", "integer"), _col("Current", "integer"),
                    _col("Ready", "integer"), _col("Up-to-date", "integer"),
                    _col("Available", "integer"), _col("Node Selector"),
                    _col("Age")], _ds_row),
    "replicasets": ([_col("Desired", "integer"), _col("Current", "integer"),
                     _col("Ready", "integer"), _col("Age")], _rs_row),
    "deployments": ([_col("Ready"), _col("Up-to-date", "integer"),
                     _col("Available", "integer"), _col("Age")],
                    _deploy_row),
    "leases": ([_col("Holder"), _col("Age")], _lease_row),
    "namespaces": ([_col("Status"), _col("Age")], _ns_row),
    "configmaps": ([_col("Data", "integer"), _col("Age")], _cm_row),
}


def table(t, objs, list_meta):
    cols, row = PRINTERS.get(t.plural, ([_col("Age")],
                                        lambda o: [_age(o)]))
    rows = []
    for o in objs:
        rows.append({"cells": [o["metadata"]["name"]] + row(o),
                     "object": {"kind": "PartialObjectMetadata",
                                "apiVersion": "meta.k8s.io/v1",
                                "metadata": o["metadata"]}})
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
           "metadata": dict(list_meta),
           "columnDefinitions": [_col("Name", fmt="name")] + cols,
           "rows": rows}
    return out
