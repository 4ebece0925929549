"""PATCH bodies: strategic merge patch, JSON merge patch, JSON patch.

The strategic merge patch knows the merge keys of the fields the core
types use (conditions by type, containers by name, ...); every other list
is replaced, as for a field without a patch strategy.
"""

import copy

from . import errors

# Field name -> merge key for lists of objects with patchStrategy=merge.
MERGE_KEYS = {
    "conditions": "type",
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ownerReferences": "uid",
    "imagePullSecrets": "name",
    "addresses": "type",
    "podIPs": "ip",
    "hostIPs": "ip",
}
# Primitive lists with patchStrategy=merge: union of values.
MERGE_PRIMITIVE = {"finalizers"}


def _rejected(detail):
    return errors.ApiError(
        422, "Invalid",
        "the server rejected our request due to an error in our request: %s"
        % detail)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch; returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge(target, patch):
    """Apply a strategic merge patch (subset) to target; returns new value."""
    if not isinstance(patch, dict):
        raise _rejected("a strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch)


def _smp_map(target, patch):
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items()
                if not k.startswith("$")}
    if directive == "delete":
        return None
    if directive is not None:
        raise _rejected("unknown patch directive %r" % directive)
    out = copy.deepcopy(target)
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k == "$retainKeys":
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list) and isinstance(v, list):
                out[field] = [x for x in out[field] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
            continue
        out[k] = _smp_value(k, out.get(k), v)
        if out[k] is None:
            out.pop(k)
    keep = patch.get("$retainKeys")
    if isinstance(keep, list):
        out = {k: v for k, v in out.items() if k in keep}
    return out


def _smp_value(field, cur, v):
    if isinstance(v, dict):
        return _smp_map(cur if isinstance(cur, dict) else {}, v)
    if isinstance(v, list):
        if field in MERGE_KEYS and isinstance(cur, list):
            return _smp_list(MERGE_KEYS[field], cur, v)
        if field in MERGE_PRIMITIVE and isinstance(cur, list):
            out = list(cur)
            for x in v:
                if x not in out:
                    out.append(x)
            return out
        return [_strip_directives(x) for x in v]
    return copy.deepcopy(v)


def _strip_directives(v):
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items()
                if not k.startswith("$")}
    return copy.deepcopy(v)


def _smp_list(key, cur, patch):
    if any(isinstance(e, dict) and e.get("$patch") == "replace"
           for e in patch):
        return [_strip_directives(e) for e in patch
                if not (isinstance(e, dict) and e.get("$patch"))]
    out = copy.deepcopy(cur)
    for e in patch:
        if not isinstance(e, dict) or key not in e:
            raise _rejected("map: %s does not contain declared merge key: %s"
                            % (e, key))
        idx = next((i for i, x in enumerate(out)
                    if isinstance(x, dict) and x.get(key) == e[key]), None)
        if e.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_strip_directives(e))
        else:
            merged = _smp_map(out[idx], e)
            out[idx] = merged
    return out


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise _rejected("JSON pointer %r must start with '/'" % path)
    return [p.replace("~1", "/").replace("~0", "~")
            for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise _rejected("missing key %r in path" % p)
            cur = cur[p]
        elif isinstance(cur, list):
            cur = cur[_index(cur, p, False)]
        else:
            raise _rejected("path goes through a scalar at %r" % p)
    return cur


def _index(lst, p, for_add):
    if p == "-" and for_add:
        return len(lst)
    try:
        i = int(p)
    except ValueError:
        raise _rejected("bad array index %r" % p) from None
    limit = len(lst) if for_add else len(lst) - 1
    if i < 0 or i > limit:
        raise _rejected("array index %d out of bounds" % i)
    return i


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, True), value)
    else:
        raise _rejected("cannot add to a scalar")
    return doc


def _remove(doc, parts):
    if not parts:
        raise _rejected("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _rejected("unable to remove nonexistent key: %s" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, False))
    raise _rejected("cannot remove from a scalar")


def json_patch(target, ops):
    """RFC 6902 JSON patch; returns a new document."""
    if not isinstance(ops, list):
        raise _rejected("a JSON patch must be a JSON array")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise _rejected("bad JSON patch operation %r" % (op,))
        kind = op["op"]
        parts = _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _walk(doc, parts)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            val = copy.deepcopy(_walk(doc, src))
            if kind == "move":
                _remove(doc, src)
            doc = _add(doc, parts, val)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise _rejected("testing value %s failed" % op["path"])
        else:
            raise _rejected("unexpected kind: %s" % kind)
    return doc


PATCH_TYPES = {
    "application/strategic-merge-patch+json": strategic_merge,
    "application/merge-patch+json": merge_patch,
    "application/json-patch+json": json_patch,
}


def apply(content_type, target, body):
    """Apply a PATCH body of content_type to target (a dict)."""
    fn = PATCH_TYPES.get(content_type)
    if fn is None:
        raise errors.unsupported_media(
            ["application/json-patch+json", "application/merge-patch+json",
             "application/strategic-merge-patch+json"])
    out = fn(target, body)
    if not isinstance(out, dict):
        raise _rejected("the patch did not produce an object")
    return out
