"""Label and field selectors, as the API server parses and applies them."""

import re

from . import errors

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                  r"[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}"
                  r"[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


class Requirement:
    """One label requirement: key op values (op: = != in notin exists !)."""

    def __init__(self, key, op, values=()):
        self.key = key
        self.op = op
        self.values = tuple(values)

    def matches(self, labels):
        has = self.key in labels
        val = labels.get(self.key)
        if self.op in ("=", "==", "in"):
            return has and val in self.values
        if self.op in ("!=", "notin"):
            return not has or val not in self.values
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("gt", "lt"):
            if not has:
                return False
            try:
                n = int(val)
            except ValueError:
                return False
            lim = int(self.values[0])
            return n > lim if self.op == "gt" else n < lim
        return False


class LabelSelector:
    """A conjunction of requirements. nothing=True matches no object."""

    def __init__(self, reqs=(), nothing=False):
        self.reqs = list(reqs)
        self.nothing = nothing

    def empty(self):
        return not self.nothing and not self.reqs

    def matches(self, labels):
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.reqs)


def _bad(sel, why):
    return errors.bad_request("unable to parse requirement: %s" % why
                              if sel is None else
                              "unable to parse requirement: %s: %s"
                              % (why, sel))


def _check_key(key):
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise errors.bad_request(
            'unable to parse requirement: <nil>: Invalid value: "%s": name '
            "part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character" % key)


def _check_value(v):
    if len(v) > 63 or not _VALUE.match(v):
        raise errors.bad_request(
            'unable to parse requirement: <nil>: Invalid value: "%s": a valid '
            "label must be an empty string or consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character" % v)


def _split_top(s):
    """Split on commas that are not inside parentheses."""
    parts = []
    depth = 0
    cur = ""
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += c
    parts.append(cur)
    return parts


_SET = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\((.*)\)\s*$")
_OP = re.compile(r"^\s*([^!=<>\s]+)\s*(==|!=|=|>|<)\s*(.*?)\s*$")


def parse_labels(s):
    """Parse the string form (?labelSelector=...) into a LabelSelector."""
    s = (s or "").strip()
    if not s:
        return LabelSelector()
    reqs = []
    for part in _split_top(s):
        if not part.strip():
            raise _bad(None, "found '', expected: !, identifier, or 'end of "
                       "string'")
        reqs.append(_parse_req(part))
    return LabelSelector(reqs)


def _parse_req(part):
    m = _SET.match(part)
    if m:
        key, op, vals = m.group(1), m.group(2), m.group(3)
        _check_key(key)
        values = [v.strip() for v in vals.split(",")]
        if op == "in" and values == [""]:
            raise _bad(part, "for 'in', 'notin' operators, values set can't "
                       "be empty")
        for v in values:
            _check_value(v)
        return Requirement(key, op, values)
    p = part.strip()
    if p.startswith("!"):
        key = p[1:].strip()
        _check_key(key)
        return Requirement(key, "!")
    m = _OP.match(part)
    if m:
        key, op, val = m.group(1), m.group(2), m.group(3)
        _check_key(key)
        if op in (">", "<"):
            if not re.match(r"^-?[0-9]+$", val):
                raise _bad(part, "for 'Gt', 'Lt' operators, the value must "
                           "be an integer")
            return Requirement(key, "gt" if op == ">" else "lt", [val])
        _check_value(val)
        return Requirement(key, op, [val])
    if re.match(r"^\s*\S+\s*$", part):
        _check_key(p)
        return Requirement(p, "exists")
    raise _bad(part, "found '%s', expected: ',' or 'end of string'" % p)


def from_label_selector(obj):
    """metav1.LabelSelector (dict) -> LabelSelector; None matches nothing."""
    if obj is None:
        return LabelSelector(nothing=True)
    reqs = []
    for k, v in sorted((obj.get("matchLabels") or {}).items()):
        reqs.append(Requirement(k, "=", [str(v)]))
    for e in obj.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists",
              "DoesNotExist": "!"}.get(e.get("operator"))
        if op is None:
            return None
        reqs.append(Requirement(e.get("key", ""), op,
                                [str(x) for x in e.get("values") or []]))
    return LabelSelector(reqs)


# Field selectors: the fields each resource supports (its field label
# conversion funcs), besides metadata.name and metadata.namespace.
FIELDS = {
    "pods": {
        "spec.nodeName": lambda o: o.get("spec", {}).get("nodeName", ""),
        "spec.restartPolicy":
            lambda o: o.get("spec", {}).get("restartPolicy", ""),
        "spec.schedulerName":
            lambda o: o.get("spec", {}).get("schedulerName", ""),
        "spec.serviceAccountName":
            lambda o: o.get("spec", {}).get("serviceAccountName", ""),
        "spec.hostNetwork":
            lambda o: "true" if o.get("spec", {}).get("hostNetwork")
            else "false",
        "status.phase": lambda o: o.get("status", {}).get("phase", ""),
        "status.podIP": lambda o: o.get("status", {}).get("podIP", ""),
        "status.nominatedNodeName":
            lambda o: o.get("status", {}).get("nominatedNodeName", ""),
    },
    "nodes": {
        "spec.unschedulable":
            lambda o: "true" if o.get("spec", {}).get("unschedulable")
            else "false",
    },
    "namespaces": {
        "status.phase": lambda o: o.get("status", {}).get("phase", ""),
    },
    "events": {
        "involvedObject.kind":
            lambda o: o.get("involvedObject", {}).get("kind", ""),
        "involvedObject.name":
            lambda o: o.get("involvedObject", {}).get("name", ""),
        "involvedObject.namespace":
            lambda o: o.get("involvedObject", {}).get("namespace", ""),
        "reason": lambda o: o.get("reason", ""),
        "type": lambda o: o.get("type", ""),
    },
}

_COMMON = {
    "metadata.name": lambda o: o.get("metadata", {}).get("name", ""),
    "metadata.namespace":
        lambda o: o.get("metadata", {}).get("namespace", ""),
}


class FieldSelector:
    def __init__(self, terms):
        self.terms = terms   # list of (field, getter, op, value)

    def value_of(self, field):
        """The required value of an '=' term on field, else None."""
        for f, _, op, v in self.terms:
            if f == field and op == "=":
                return v
        return None

    def matches(self, obj):
        for _, get, op, v in self.terms:
            have = get(obj)
            if (have == v) != (op == "="):
                return False
        return True


def parse_fields(s, plural):
    """Parse ?fieldSelector=... for resource plural."""
    s = (s or "").strip()
    if not s:
        return FieldSelector([])
    supported = dict(_COMMON)
    supported.update(FIELDS.get(plural, {}))
    terms = []
    for part in s.split(","):
        m = re.match(r"^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise errors.bad_request(
                "invalid selector: '%s'; can't understand '%s'" % (s, part))
        field, op, val = m.group(1), m.group(2), m.group(3)
        if field not in supported:
            raise errors.bad_request("field label not supported: %s"
                                     % field)
        terms.append((field, supported[field], "!=" if op == "!=" else "=",
                      val))
    return FieldSelector(terms)
