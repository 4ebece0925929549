"""The cluster state: objects by type, namespace and name, one global
resourceVersion, indexes for the hot lookups and a watch event log.

Stored objects are never modified in place: a write commits a new dict, so
readers may serialise what they got without holding the lock.
"""

import bisect
import collections
import threading
import time
import uuid

from . import resources as R

WATCH_LOG = 100000


def now_rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(time.time() if t is None else t))


def now_micro(t=None):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%06dZ" % int((t - int(t)) * 1e6)


def parse_time(s):
    """RFC 3339 (seconds or fractional) -> epoch seconds; None if unset."""
    if not s:
        return None
    import calendar
    base, _, frac = s.rstrip("Z").partition(".")
    try:
        t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    return t + (float("0." + frac) if frac.isdigit() else 0.0)


def new_uid():
    return str(uuid.uuid4())


def meta(obj):
    return obj.setdefault("metadata", {})


def controller_ref(obj):
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


class WatchEvent:
    __slots__ = ("rv", "tkey", "etype", "ns", "obj", "old")

    def __init__(self, rv, tkey, etype, ns, obj, old):
        self.rv = rv
        self.tkey = tkey
        self.etype = etype
        self.ns = ns
        self.obj = obj
        self.old = old


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1
        self.objs = {t.key: {} for t in R.TYPES}
        self.pods_by_node = collections.defaultdict(set)
        self.by_uid = {}
        self.dependents = collections.defaultdict(set)
        self.log = []
        self.compacted_rv = 0
        self.listeners = []

    # -- reads -----------------------------------------------------------

    def get(self, t, ns, name):
        return self.objs[t.key].get((ns or "", name))

    def items(self, t, ns=None):
        """Objects of type t (in ns when given), sorted by namespace/name."""
        d = self.objs[t.key]
        if ns is None:
            keys = sorted(d)
        else:
            keys = sorted(k for k in d if k[0] == ns)
        return [d[k] for k in keys]

    def pods_on(self, node):
        keys = sorted(self.pods_by_node.get(node, ()))
        d = self.objs[R.PODS.key]
        return [d[k] for k in keys if k in d]

    def by_owner(self, uid):
        out = []
        for tkey, ns, name in sorted(self.dependents.get(uid, ())):
            o = self.objs[tkey].get((ns, name))
            if o is not None:
                out.append((R.BY_KEY[tkey], o))
        return out

    def lookup_uid(self, uid):
        ref = self.by_uid.get(uid)
        if ref is None:
            return None
        return self.objs[ref[0]].get((ref[1], ref[2]))

    def namespace_active(self, ns):
        o = self.get(R.NAMESPACES, "", ns)
        if o is None:
            return None
        return o.get("status", {}).get("phase") != "Terminating"

    # -- writes ----------------------------------------------------------

    def commit(self, t, new, old=None):
        """Store new (a fresh dict) replacing old; returns the stored dict.

        new=None removes old. Assigns the next resourceVersion, maintains
        the indexes, records a watch event and tells the listeners.
        """
        with self.lock:
            self.rv += 1
            ref = new if new is not None else old
            m = ref["metadata"]
            key = (m.get("namespace", "") if t.namespaced else "", m["name"])
            if new is not None:
                new["metadata"]["resourceVersion"] = str(self.rv)
                self.objs[t.key][key] = new
                etype = "MODIFIED" if old is not None else "ADDED"
            else:
                self.objs[t.key].pop(key, None)
                etype = "DELETED"
            self._index(t, key, old, new)
            shown = new
            if shown is None:
                shown = dict(old)
                shown["metadata"] = dict(old["metadata"])
                shown["metadata"]["resourceVersion"] = str(self.rv)
            self.log.append(WatchEvent(self.rv, t.key, etype, key[0], shown,
                                       old))
            if len(self.log) > 2 * WATCH_LOG:
                del self.log[:WATCH_LOG]
            for fn in self.listeners:
                fn(t, old, new)
            self.changed.notify_all()
            return new

    def _index(self, t, key, old, new):
        if old is not None:
            uid = old["metadata"].get("uid")
            if uid and (new is None or new["metadata"].get("uid") != uid):
                self.by_uid.pop(uid, None)
            for ref in old["metadata"].get("ownerReferences") or []:
                self.dependents[ref.get("uid")].discard((t.key,) + key)
            if t is R.PODS:
                node = old.get("spec", {}).get("nodeName")
                if node:
                    self.pods_by_node[node].discard(key)
        if new is not None:
            uid = new["metadata"].get("uid")
            if uid:
                self.by_uid[uid] = (t.key,) + key
            for ref in new["metadata"].get("ownerReferences") or []:
                self.dependents[ref.get("uid")].add((t.key,) + key)
            if t is R.PODS:
                node = new.get("spec", {}).get("nodeName")
                if node:
                    self.pods_by_node[node].add(key)

    def compact(self):
        """Forget history: continue tokens and watches that start from an
        earlier resourceVersion get 410 Expired."""
        with self.lock:
            self.rv += 1
            self.compacted_rv = self.rv

    def oldest_watch_rv(self):
        """The oldest resourceVersion a watch can start from."""
        first = self.log[0].rv - 1 if self.log else self.rv
        return max(first, self.compacted_rv)

    def events_after(self, rv):
        """Watch events with a resourceVersion greater than rv."""
        i = bisect.bisect_right(self.log, rv, key=lambda e: e.rv)
        return self.log[i:]
