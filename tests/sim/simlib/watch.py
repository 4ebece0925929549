"""?watch=true: a stream of JSON watch events, one per line."""

import json
import time

from . import errors
from . import selectors as S
from .api import Response


def _line(etype, obj):
    return (json.dumps({"type": etype, "object": obj},
                       separators=(",", ":")) + "\n").encode()


def _gone(rv, oldest):
    err = errors.expired("too old resource version: %s (%s)" % (rv, oldest))
    return _line("ERROR", err.status())


def _matcher(t, ns, lsel, fsel):
    def match(obj):
        if obj is None:
            return False
        m = obj["metadata"]
        if ns is not None and m.get("namespace") != ns:
            return False
        return lsel.matches(m.get("labels")) and fsel.matches(obj)
    return match


def start(core, req, t, ns):
    """Response streaming the events of type t (in ns) that match."""
    lsel = S.parse_labels(req.q("labelSelector"))
    fsel = S.parse_fields(req.q("fieldSelector"), t.plural)
    try:
        timeout = float(req.q("timeoutSeconds") or 1800)
        rv = req.q("resourceVersion") or "0"
        start_rv = int(rv)
    except ValueError:
        raise errors.bad_request("resourceVersion and timeoutSeconds must "
                                 "be numbers") from None
    bookmarks = req.q("allowWatchBookmarks") in ("true", "1")
    initial_events = req.q("sendInitialEvents") == "true" or start_rv == 0
    match = _matcher(t, ns, lsel, fsel)
    store = core.store
    with store.lock:
        if start_rv and start_rv < store.oldest_watch_rv():
            oldest = store.oldest_watch_rv()
            return Response(200, stream=iter([_gone(start_rv, oldest)]))
        initial = [o for o in store.items(t, ns) if match(o)] \
            if initial_events else []
        last = store.rv if initial_events else start_rv
    return Response(200, stream=_events(core, t, match, initial, last,
                                        time.time() + timeout, bookmarks,
                                        req.q("sendInitialEvents") ==
                                        "true"))


def _events(core, t, match, initial, last, deadline, bookmarks,
            initial_end):
    for o in initial:
        yield _line("ADDED", o)
    if initial_end and bookmarks:
        yield _line("BOOKMARK", {
            "kind": t.kind, "apiVersion": t.api_version,
            "metadata": {"resourceVersion": str(last), "annotations": {
                "k8s.io/initial-events-end": "true"}}})
    store = core.store
    while time.time() < deadline and not core.shutting_down:
        with store.lock:
            evs = store.events_after(last)
            if not evs:
                store.changed.wait(min(1.0, max(deadline - time.time(), 0)))
                evs = store.events_after(last)
            oldest = store.oldest_watch_rv()
        if evs and last < oldest and evs[0].rv > last + 1:
            yield _gone(last, oldest)
            return
        for e in evs:
            last = e.rv
            if e.tkey != t.key:
                continue
            now_in = e.etype != "DELETED" and match(e.obj)
            was_in = e.old is not None and match(e.old)
            if e.etype == "DELETED":
                if was_in:
                    yield _line("DELETED", e.obj)
            elif now_in and was_in:
                yield _line("MODIFIED", e.obj)
            elif now_in:
                yield _line("ADDED", e.obj)
            elif was_in:
                yield _line("DELETED", e.obj)
