"""The resource types the simulator serves, and their discovery documents."""

VERBS_RW = ["create", "delete", "deletecollection", "get", "list", "patch",
            "update", "watch"]
VERBS_STATUS = ["get", "patch", "update"]


class ResourceType:
    def __init__(self, group, plural, kind, namespaced, *, short=(),
                 status=False, generation=False, unconditional=True,
                 drop=False, categories=()):
        self.group = group
        self.version = "v1"
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        self.has_status = status
        self.generation = generation
        # AllowUnconditionalUpdate(): PUT without resourceVersion.
        self.unconditional = unconditional
        # Accepted and dropped (events).
        self.drop = drop
        self.categories = list(categories)

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group \
            else self.version

    @property
    def qualified(self):
        """Resource name as errors print it: pods, leases.coordination..."""
        return "%s.%s" % (self.plural, self.group) if self.group \
            else self.plural

    @property
    def key(self):
        return (self.group, self.plural)

    @property
    def list_kind(self):
        return self.kind + "List"

    @property
    def singular(self):
        return self.kind.lower()


TYPES = [
    ResourceType("", "pods", "Pod", True, short=["po"], status=True,
                 categories=["all"]),
    ResourceType("", "nodes", "Node", False, short=["no"], status=True),
    ResourceType("", "namespaces", "Namespace", False, short=["ns"],
                 status=True),
    ResourceType("", "configmaps", "ConfigMap", True, short=["cm"]),
    ResourceType("", "events", "Event", True, short=["ev"], drop=True),
    ResourceType("apps", "daemonsets", "DaemonSet", True, short=["ds"],
                 status=True, generation=True, categories=["all"]),
    ResourceType("apps", "replicasets", "ReplicaSet", True, short=["rs"],
                 status=True, generation=True, categories=["all"]),
    ResourceType("apps", "deployments", "Deployment", True,
                 short=["deploy"], status=True, generation=True,
                 categories=["all"]),
    ResourceType("policy", "poddisruptionbudgets", "PodDisruptionBudget",
                 True, short=["pdb"], status=True, generation=True),
    ResourceType("coordination.k8s.io", "leases", "Lease", True,
                 unconditional=False),
    ResourceType("events.k8s.io", "events", "Event", True, short=["ev"],
                 drop=True),
]

BY_PATH = {(t.group, t.version, t.plural): t for t in TYPES}
BY_KEY = {t.key: t for t in TYPES}
PODS = BY_KEY[("", "pods")]
NODES = BY_KEY[("", "nodes")]
NAMESPACES = BY_KEY[("", "namespaces")]
CONFIGMAPS = BY_KEY[("", "configmaps")]
DAEMONSETS = BY_KEY[("apps", "daemonsets")]
REPLICASETS = BY_KEY[("apps", "replicasets")]
DEPLOYMENTS = BY_KEY[("apps", "deployments")]
PDBS = BY_KEY[("policy", "poddisruptionbudgets")]
LEASES = BY_KEY[("coordination.k8s.io", "leases")]

# Kind (with apiVersion) -> type, for /sim/bulk and ownerReferences.
BY_KIND = {(t.api_version, t.kind): t for t in TYPES
           if t.group != "events.k8s.io"}

GROUPS = ["apps", "policy", "coordination.k8s.io", "events.k8s.io"]


def lookup(group, version, plural):
    return BY_PATH.get((group, version, plural))


def _resource_entry(t):
    e = {"name": t.plural, "singularName": t.singular,
         "namespaced": t.namespaced, "kind": t.kind, "verbs": VERBS_RW}
    if t.short:
        e["shortNames"] = t.short
    if t.categories:
        e["categories"] = t.categories
    return e


def _sub(t, sub, kind, verbs, group=None, version=None):
    e = {"name": "%s/%s" % (t.plural, sub), "singularName": "",
         "namespaced": t.namespaced, "kind": kind, "verbs": verbs}
    if group is not None:
        e["group"] = group
        e["version"] = version
    return e


def resource_list(group, version, with_eviction=True):
    """APIResourceList for /api/v1 or /apis/<group>/<version>."""
    if version != "v1":
        return None
    items = []
    for t in TYPES:
        if t.group != group:
            continue
        items.append(_resource_entry(t))
        if t.has_status:
            items.append(_sub(t, "status", t.kind, VERBS_STATUS))
        if t is PODS and with_eviction:
            # kubectl only evicts when this entry carries group and version.
            items.append(_sub(t, "eviction", "Eviction", ["create"],
                              "policy", "v1"))
    if not items:
        return None
    gv = "%s/%s" % (group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": gv, "resources": items}


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name):
    gv = {"groupVersion": "%s/v1" % name, "version": "v1"}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def api_group_list():
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group(g) for g in GROUPS]}


def api_group(name):
    if name not in GROUPS:
        return None
    g = _group(name)
    g["kind"] = "APIGroup"
    g["apiVersion"] = "v1"
    return g
