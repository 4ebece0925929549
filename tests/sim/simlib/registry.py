"""What the API server does to objects: defaults, validation, optimistic
concurrency, status subresources, graceful deletion, lists and eviction.
"""

import base64
import copy
import json
import random
import re
import time

from . import errors
from . import patch as P
from . import resources as R
from .store import new_uid, now_rfc3339

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                   r"[a-z0-9])?)*$")
_NAME_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case "
             "alphanumeric characters, '-' or '.', and must start and end "
             "with an alphanumeric character (e.g. 'example.com', regex used "
             "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"
             "([-a-z0-9]*[a-z0-9])?)*')")
OPTIMISTIC = ("the object has been modified; please apply your changes to "
              "the latest version and try again")
MIRROR = "kubernetes.io/config.mirror"
PDB_CAUSE = "DisruptionBudget"
MAX_DISRUPTED = 2000


def rand_suffix(n=5):
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789")
                   for _ in range(n))


def pod_phase(pod):
    return pod.get("status", {}).get("phase", "")


def pod_terminal(pod):
    return pod_phase(pod) in ("Succeeded", "Failed")


def pod_deleting(obj):
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def pod_ready(pod):
    for c in pod.get("status", {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def is_mirror(pod):
    return MIRROR in (pod.get("metadata", {}).get("annotations") or {})


def spec_of(obj):
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "kind", "apiVersion")}


class Registry:
    """Object semantics on top of a Store. Call with store.lock held or
    not: every public method takes the lock itself."""

    def __init__(self, store, max_grace=2.0):
        self.store = store
        self.max_grace = max_grace
        # Set by the controllers: bring PDB status up to date first.
        self.sync_pdbs = lambda ns: None

    # -- helpers ---------------------------------------------------------

    def _check_ns(self, t, ns, creating):
        if not t.namespaced:
            return
        active = self.store.namespace_active(ns)
        if active is None:
            raise errors.namespace_not_found(ns)
        if creating and not active:
            raise errors.forbidden_raw(
                t.qualified, t.group, t.plural, "",
                "unable to create new content in namespace %s because it is "
                "being terminated" % ns)

    def must_get(self, t, ns, name):
        o = self.store.get(t, ns, name)
        if o is None:
            raise errors.not_found(t, name)
        return o

    # -- create ----------------------------------------------------------

    def create(self, t, ns, body, dry_run=False):
        obj = self._decode_new(t, ns, body)
        with self.store.lock:
            self._check_ns(t, ns, True)
            m = obj["metadata"]
            if not m.get("name") and m.get("generateName"):
                m["name"] = m["generateName"] + rand_suffix()
            self._validate_meta(t, obj)
            if self.store.get(t, ns, m["name"]) is not None:
                raise errors.already_exists(t, m["name"])
            self._prepare_create(t, obj)
            self._validate(t, obj, None)
            if dry_run or t.drop:
                obj["metadata"].setdefault("resourceVersion", "0")
                return obj
            return self.store.commit(t, obj)

    def _decode_new(self, t, ns, body):
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a "
                                     "JSON object")
        obj = copy.deepcopy(body)
        av = obj.get("apiVersion")
        if av and av != t.api_version:
            raise errors.bad_request(
                "the API version in the data (%s) does not match the "
                "expected API version (%s)" % (av, t.api_version))
        kind = obj.get("kind")
        if kind and kind != t.kind:
            raise errors.bad_request(
                "%s in version \"%s\" cannot be handled as a %s: the kind "
                "in the data does not match" % (kind, t.version, t.kind))
        obj["kind"] = t.kind
        obj["apiVersion"] = t.api_version
        m = obj.setdefault("metadata", {})
        if not isinstance(m, dict):
            raise errors.bad_request("metadata must be an object")
        if t.namespaced:
            if m.get("namespace") and m["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the "
                    "namespace sent on the request")
            m["namespace"] = ns
        else:
            m.pop("namespace", None)
        return obj

    def _validate_meta(self, t, obj):
        name = obj["metadata"].get("name")
        if not name:
            raise errors.invalid(t, "", [("metadata.name", None,
                                          "name or generateName is "
                                          "required")])
        if len(name) > 253 or not _NAME.match(name):
            raise errors.invalid(t, name, [("metadata.name", '"%s"' % name,
                                            _NAME_MSG)])

    def _prepare_create(self, t, obj):
        m = obj["metadata"]
        for k in ("resourceVersion", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "managedFields",
                  "selfLink"):
            m.pop(k, None)
        m["uid"] = new_uid()
        m["creationTimestamp"] = now_rfc3339()
        if t.generation:
            m["generation"] = 1
        prep = _CREATE.get(t.key)
        if prep:
            prep(obj)

    def _validate(self, t, obj, old):
        fn = _VALIDATE.get(t.key)
        if fn:
            fn(t, obj, old)

    # -- update / patch --------------------------------------------------

    def update(self, t, ns, name, body, status_only=False, dry_run=False):
        new = self._decode_new(t, ns, body)
        bname = new["metadata"].get("name")
        if bname and bname != name:
            raise errors.bad_request(
                "the name of the object (%s) does not match the name on the "
                "URL (%s)" % (bname, name))
        new["metadata"]["name"] = name
        with self.store.lock:
            self._check_ns(t, ns, False)
            old = self.must_get(t, ns, name)
            rv = new["metadata"].get("resourceVersion")
            if not rv:
                if not t.unconditional:
                    raise errors.invalid(
                        t, name, [("metadata.resourceVersion", "0x0",
                                   "must be specified for an update")],
                        by_kind=False)
            elif rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(t, name, OPTIMISTIC)
            return self._replace(t, old, new, status_only, dry_run)

    def patch(self, t, ns, name, ctype, body, status_only=False,
              dry_run=False):
        with self.store.lock:
            self._check_ns(t, ns, False)
            old = self.must_get(t, ns, name)
            new = P.apply(ctype, old, body)
            rv = (new.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(t, name, OPTIMISTIC)
            new = self._decode_new(t, ns, new)
            if new["metadata"].get("name") != name:
                raise errors.bad_request("metadata.name cannot be changed "
                                         "by a patch")
            return self._replace(t, old, new, status_only, dry_run)

    def _replace(self, t, old, new, status_only, dry_run):
        om = old["metadata"]
        nm = new["metadata"]
        if nm.get("uid") and nm["uid"] != om["uid"]:
            raise errors.conflict(
                t, om["name"], "Precondition failed: UID in precondition: "
                "%s, UID in object meta: %s" % (om["uid"], nm["uid"]))
        if status_only:
            status = new.get("status")
            new = copy.deepcopy(old)
            if status is not None:
                new["status"] = status
            else:
                new.pop("status", None)
        else:
            if t.has_status:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            for k in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation"):
                if k in om:
                    nm[k] = om[k]
                else:
                    nm.pop(k, None)
            nm.pop("managedFields", None)
            if t.generation and spec_of(new) != spec_of(old):
                nm["generation"] = om.get("generation", 1) + 1
        self._validate(t, new, old)
        if new == old:
            return old
        if dry_run:
            return new
        if pod_deleting(new) and not new["metadata"].get("finalizers") \
                and self._grace_over(new):
            self.store.commit(t, None, old)
            return new
        return self.store.commit(t, new, old)

    def _grace_over(self, obj):
        return not obj["metadata"].get("deletionGracePeriodSeconds")

    # -- delete ----------------------------------------------------------

    def delete(self, t, ns, name, opts=None, dry_run=False):
        """Returns (object, removed): the object as it is after the call."""
        opts = opts or {}
        with self.store.lock:
            self._check_ns(t, ns, False)
            old = self.must_get(t, ns, name)
            self._preconditions(t, old, opts.get("preconditions") or {})
            if t is R.NAMESPACES:
                return self._delete_namespace(old, dry_run)
            grace = self._grace(t, old, opts.get("gracePeriodSeconds"))
            fins = old["metadata"].get("finalizers")
            if grace == 0 and not fins:
                if not dry_run:
                    self.store.commit(t, None, old)
                    self._orphan_or_collect(old, opts)
                return old, True
            if pod_deleting(old):
                cur = old["metadata"].get("deletionGracePeriodSeconds", 0)
                if grace is None or grace >= cur:
                    return old, False
            new = copy.deepcopy(old)
            m = new["metadata"]
            m["deletionTimestamp"] = now_rfc3339(time.time() + (grace or 0))
            m["deletionGracePeriodSeconds"] = grace or 0
            if dry_run:
                return new, False
            self._orphan_or_collect(old, opts)
            return self.store.commit(t, new, old), False

    def _orphan_or_collect(self, owner, opts):
        """Background propagation: dependents go too, unless Orphan."""
        pol = opts.get("propagationPolicy")
        if pol == "Orphan" or opts.get("orphanDependents"):
            return
        for dt, dep in self.store.by_owner(owner["metadata"]["uid"]):
            if pod_deleting(dep):
                continue
            dm = dep["metadata"]
            self.delete(dt, dm.get("namespace", ""), dm["name"])

    def _grace(self, t, obj, requested):
        """None means immediate; pods get graceful deletion."""
        if t is not R.PODS:
            return 0
        spec = obj.get("spec", {})
        if not spec.get("nodeName") or pod_terminal(obj):
            return 0
        if requested is None:
            requested = spec.get("terminationGracePeriodSeconds", 30)
        try:
            g = int(requested)
        except (TypeError, ValueError):
            raise errors.bad_request("gracePeriodSeconds must be an "
                                     "integer") from None
        return max(g, 0)

    def _preconditions(self, t, obj, pre):
        m = obj["metadata"]
        uid = pre.get("uid")
        if uid and uid != m.get("uid"):
            raise errors.conflict(
                t, m["name"], "Precondition failed: UID in precondition: %s, "
                "UID in object meta: %s" % (uid, m.get("uid")))
        rv = pre.get("resourceVersion")
        if rv and rv != m.get("resourceVersion"):
            raise errors.conflict(
                t, m["name"], "Precondition failed: ResourceVersion in "
                "precondition: %s, ResourceVersion in object meta: %s"
                % (rv, m.get("resourceVersion")))

    def _delete_namespace(self, old, dry_run):
        if old.get("status", {}).get("phase") == "Terminating":
            return old, False
        new = copy.deepcopy(old)
        new["metadata"]["deletionTimestamp"] = now_rfc3339()
        new["status"] = {"phase": "Terminating"}
        if dry_run:
            return new, False
        return self.store.commit(R.NAMESPACES, new, old), False

    def remove_now(self, t, obj):
        """Final removal (kubelet done, finalizers gone)."""
        with self.store.lock:
            m = obj["metadata"]
            cur = self.store.get(t, m.get("namespace", ""), m["name"])
            if cur is not None and cur["metadata"]["uid"] == m["uid"]:
                self.store.commit(t, None, cur)

    # -- list ------------------------------------------------------------

    def list(self, t, ns, lsel, fsel, limit=0, cont=None):
        """(items, list metadata) with limit/continue pagination."""
        start = None
        with self.store.lock:
            if cont:
                start, token_rv = _decode_continue(cont)
                if token_rv < self.store.compacted_rv:
                    raise errors.expired(
                        "The provided continue parameter is too old to "
                        "display a consistent list result. You can start a "
                        "new list without the continue parameter.")
            node = fsel.value_of("spec.nodeName") if t is R.PODS else None
            if node is not None:
                cands = [p for p in self.store.pods_on(node)
                         if ns is None or p["metadata"]["namespace"] == ns]
            else:
                cands = self.store.items(t, ns)
            list_rv = self.store.rv
        filtered = not lsel.empty() or fsel.terms
        out = []
        remaining = 0
        more_key = None
        for o in cands:
            m = o["metadata"]
            key = [m.get("namespace", ""), m["name"]]
            if start is not None and key <= start:
                continue
            if not lsel.matches(m.get("labels")) or not fsel.matches(o):
                continue
            if limit and len(out) >= limit:
                remaining += 1
                continue
            out.append(o)
            more_key = key
        lm = {"resourceVersion": str(list_rv)}
        if limit and remaining:
            lm["continue"] = _encode_continue(more_key, list_rv)
            if not filtered:
                lm["remainingItemCount"] = remaining
        return out, lm

    # -- eviction (kube-api.md §3.2) -------------------------------------

    def evict(self, ns, name, body, dry_run=False):
        body = body if isinstance(body, dict) else {}
        av = body.get("apiVersion")
        if av not in (None, "policy/v1", "policy/v1beta1"):
            raise errors.bad_request("unsupported Eviction apiVersion %r"
                                     % av)
        if (body.get("metadata") or {}).get("name") != name:
            raise errors.bad_request("name in URL does not match name in "
                                     "Eviction object")
        opts = body.get("deleteOptions") or {}
        dry_run = dry_run or "All" in (opts.get("dryRun") or [])
        with self.store.lock:
            if self.store.namespace_active(ns) is False:
                # NamespaceLifecycle admission rejects before the handler.
                err = errors.forbidden(
                    R.PODS, name, "unable to create new content in "
                    "namespace %s because it is being terminated" % ns)
                err.details["causes"] = [{
                    "reason": "NamespaceTerminating",
                    "message": "namespace %s is being terminated" % ns,
                    "field": "metadata.namespace"}]
                raise err
            pod = self.must_get(R.PODS, ns, name)
            if pod_phase(pod) in ("Succeeded", "Failed", "Pending") \
                    or pod_deleting(pod):
                self._evict_delete(pod, opts, dry_run)
                return
            self.sync_pdbs(ns)
            pdbs = self.pdbs_for(pod)
            if len(pdbs) > 1:
                raise errors.ApiError(
                    500, "", "This pod has more than one PodDisruptionBudget, "
                    "which the eviction subresource does not support.")
            if not pdbs:
                self._evict_delete(pod, opts, dry_run)
                return
            pdb = pdbs[0]
            if not pod_ready(pod) and self._unhealthy_ok(pdb):
                self._evict_delete(pod, opts, dry_run)
                return
            self._check_and_decrement(pod, pdb, dry_run)
            self._evict_delete(pod, opts, dry_run)

    def pdbs_for(self, pod):
        """PDBs whose selector matches the pod; an empty selector matches
        nothing here (unlike in the disruption controller)."""
        from . import selectors as S
        m = pod["metadata"]
        out = []
        for pdb in self.store.items(R.PDBS, m["namespace"]):
            sel = S.from_label_selector(pdb.get("spec", {}).get("selector"))
            if sel is None or sel.empty() or not sel.matches(
                    m.get("labels")):
                continue
            out.append(pdb)
        return out

    @staticmethod
    def _unhealthy_ok(pdb):
        if pdb.get("spec", {}).get("unhealthyPodEvictionPolicy") == \
                "AlwaysAllow":
            return True
        st = pdb.get("status", {})
        desired = st.get("desiredHealthy", 0)
        return st.get("currentHealthy", 0) >= desired and desired > 0

    def _check_and_decrement(self, pod, pdb, dry_run):
        st = pdb.get("status", {})
        name = pdb["metadata"]["name"]
        if st.get("observedGeneration", 0) < pdb["metadata"].get(
                "generation", 1):
            raise errors.too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption "
                "budget.", 10,
                [{"reason": PDB_CAUSE, "message": "The disruption budget %s "
                  "is still being processed by the server." % name}])
        allowed = st.get("disruptionsAllowed", 0)
        if allowed < 0:
            raise errors.forbidden_raw("poddisruptionbudget.policy", "policy",
                                       "poddisruptionbudget", name,
                                       "pdb disruptions allowed is negative")
        if len(st.get("disruptedPods") or {}) > MAX_DISRUPTED:
            raise errors.forbidden_raw(
                "poddisruptionbudget.policy", "policy", "poddisruptionbudget",
                name, "DisruptedPods map too big - too many evictions not "
                "confirmed by PDB controller")
        if allowed == 0:
            raise errors.too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption "
                "budget.", 0,
                [{"reason": PDB_CAUSE, "message": "The disruption budget %s "
                  "needs %d healthy pods and has %d currently"
                  % (name, st.get("desiredHealthy", 0),
                     st.get("currentHealthy", 0))}])
        if dry_run:
            return
        new = copy.deepcopy(pdb)
        nst = new.setdefault("status", {})
        nst["disruptionsAllowed"] = allowed - 1
        if nst["disruptionsAllowed"] == 0:
            set_condition(nst, "DisruptionAllowed", "False",
                          "InsufficientPods", "",
                          new["metadata"].get("generation", 1))
        dp = nst.setdefault("disruptedPods", {})
        dp[pod["metadata"]["name"]] = now_rfc3339()
        self.store.commit(R.PDBS, new, pdb)

    def _evict_delete(self, pod, opts, dry_run):
        m = pod["metadata"]
        if dry_run:
            return
        if not pod_deleting(pod) and not pod_terminal(pod):
            new = copy.deepcopy(pod)
            set_condition(new.setdefault("status", {}), "DisruptionTarget",
                          "True", "EvictionByEvictionAPI",
                          "Eviction API: evicting", None)
            pod = self.store.commit(R.PODS, new, pod)
        self.delete(R.PODS, m["namespace"], m["name"], opts)


def set_condition(status, ctype, value, reason, message, observed_gen):
    """Set a condition; lastTransitionTime moves only when status flips."""
    conds = status.setdefault("conditions", [])
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != value:
                c["lastTransitionTime"] = now_rfc3339()
            c["status"] = value
            c["reason"] = reason
            c["message"] = message
            if observed_gen is not None:
                c["observedGeneration"] = observed_gen
            return
    c = {"type": ctype, "status": value, "reason": reason,
         "message": message, "lastTransitionTime": now_rfc3339()}
    if observed_gen is not None:
        c["observedGeneration"] = observed_gen
    conds.append(c)


def _encode_continue(key, rv):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        d = json.loads(base64.urlsafe_b64decode(tok + pad))
        start = d["start"]
        rv = int(d["rv"])
        if d.get("v") != "meta.k8s.io/v1" or not isinstance(start, list):
            raise ValueError("version")
    except (ValueError, KeyError, TypeError):
        raise errors.bad_request("continue key is not valid: %s"
                                 % tok) from None
    return start, rv


# -- per-type strategies ---------------------------------------------------

_DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
     "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
     "effect": "NoExecute", "tolerationSeconds": 300},
]


def _create_pod(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    for c in spec.get("containers") or []:
        if isinstance(c, dict):
            img = c.get("image", "")
            c.setdefault("imagePullPolicy",
                         "Always" if img.endswith(":latest") or
                         ":" not in img.rsplit("/", 1)[-1] else
                         "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
    tols = spec.setdefault("tolerations", [])
    for d in _DEFAULT_TOLERATIONS:
        if not any(t.get("key") == d["key"] and t.get("effect") == d["effect"]
                   for t in tols if isinstance(t, dict)):
            tols.append(dict(d))
    obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _create_namespace(obj):
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}
    labels = obj["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def _create_pdb(obj):
    obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0,
                     "desiredHealthy": 0, "expectedPods": 0}


def _create_workload(obj):
    obj["status"] = {}
    spec = obj.setdefault("spec", {})
    if obj["kind"] != "DaemonSet":
        spec.setdefault("replicas", 1)


_CREATE = {
    R.PODS.key: _create_pod,
    R.NAMESPACES.key: _create_namespace,
    R.PDBS.key: _create_pdb,
    R.REPLICASETS.key: _create_workload,
    R.DAEMONSETS.key: _create_workload,
    R.DEPLOYMENTS.key: _create_workload,
}


def _validate_pod(t, obj, old):
    name = obj["metadata"]["name"]
    cs = obj.get("spec", {}).get("containers")
    if not isinstance(cs, list) or not cs:
        raise errors.invalid(t, name, [("spec.containers", None, "")])
    for i, c in enumerate(cs):
        if not isinstance(c, dict) or not c.get("name"):
            raise errors.invalid(t, name, [("spec.containers[%d].name" % i,
                                            None, "")])
        if not c.get("image"):
            raise errors.invalid(t, name, [("spec.containers[%d].image" % i,
                                            None, "")])
    if old is not None:
        was = old.get("spec", {}).get("nodeName")
        now = obj.get("spec", {}).get("nodeName")
        if was and now != was:
            raise errors.invalid(t, name, [(
                "spec", "core.PodSpec{...}", "pod updates may not change "
                "fields other than `spec.containers[*].image`, "
                "`spec.activeDeadlineSeconds`, `spec.tolerations` (only "
                "additions to existing tolerations) or "
                "`spec.terminationGracePeriodSeconds`")])


def _int_or_percent(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return v >= 0
    return isinstance(v, str) and re.match(r"^[0-9]+%$", v) is not None


def _validate_pdb(t, obj, old):
    name = obj["metadata"]["name"]
    spec = obj.get("spec", {})
    if "minAvailable" in spec and "maxUnavailable" in spec:
        raise errors.invalid(t, name, [(
            "spec", "policy.PodDisruptionBudgetSpec{...}",
            "minAvailable and maxUnavailable cannot be both set")])
    for k in ("minAvailable", "maxUnavailable"):
        if k in spec and not _int_or_percent(spec[k]):
            raise errors.invalid(t, name, [("spec.%s" % k,
                                            json.dumps(spec[k]),
                                            "must be a non-negative integer "
                                            "or a percentage")])
    pol = spec.get("unhealthyPodEvictionPolicy")
    if pol is not None and pol not in ("IfHealthyBudget", "AlwaysAllow"):
        raise errors.invalid(t, name, [(
            "spec.unhealthyPodEvictionPolicy", '"%s"' % pol,
            'supported values: "AlwaysAllow", "IfHealthyBudget"')])


def _validate_lease(t, obj, old):
    spec = obj.get("spec") or {}
    name = obj["metadata"]["name"]
    d = spec.get("leaseDurationSeconds")
    if d is not None and (not isinstance(d, int) or d <= 0):
        raise errors.invalid(t, name, [("spec.leaseDurationSeconds", str(d),
                                        "must be greater than 0")])
    tr = spec.get("leaseTransitions")
    if tr is not None and (not isinstance(tr, int) or tr < 0):
        raise errors.invalid(t, name, [("spec.leaseTransitions", str(tr),
                                        "must be greater than or equal to "
                                        "0")])
    for k in ("acquireTime", "renewTime"):
        v = spec.get(k)
        if v is not None and not re.match(
                r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                str(v)):
            raise errors.bad_request(
                'Lease in version "v1" cannot be handled as a Lease: '
                'parsing time "%s" as "2006-01-02T15:04:05.000000Z07:00": '
                "cannot parse" % v)


def _validate_workload(t, obj, old):
    spec = obj.get("spec", {})
    name = obj["metadata"]["name"]
    sel = spec.get("selector")
    if not isinstance(sel, dict) or not (sel.get("matchLabels")
                                         or sel.get("matchExpressions")):
        raise errors.invalid(t, name, [("spec.selector", None, "")])
    tmpl = spec.get("template")
    if not isinstance(tmpl, dict) or not (tmpl.get("spec") or {}).get(
            "containers"):
        raise errors.invalid(t, name, [("spec.template.spec.containers",
                                        None, "")])
    r = spec.get("replicas", 1)
    if not isinstance(r, int) or isinstance(r, bool) or r < 0:
        raise errors.invalid(t, name, [("spec.replicas", str(r),
                                        "must be greater than or equal to "
                                        "0")])


_VALIDATE = {
    R.PODS.key: _validate_pod,
    R.PDBS.key: _validate_pdb,
    R.LEASES.key: _validate_lease,
    R.REPLICASETS.key: _validate_workload,
    R.DAEMONSETS.key: _validate_workload,
    R.DEPLOYMENTS.key: _validate_workload,
}

