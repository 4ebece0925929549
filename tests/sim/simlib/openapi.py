"""Minimal OpenAPI documents.

kubectl (create, apply, replace) asks whether the server supports the
fieldValidation query parameter for a kind: 1.28+ reads /openapi/v3, older
ones /openapi/v2 (protobuf). Both look for the PATCH operation tagged with
the kind's x-kubernetes-group-version-kind and its fieldValidation query
parameter. Saying yes makes kubectl leave validation to the server; the
documents carry no schemas (kubectl 1.20's client-side validation skips
kinds it has no schema for).
"""

import hashlib
import json

from . import resources as R

# kube-openapi answers the protobuf form as application/octet-stream.
V2_PB = "application/octet-stream"
PARAM = {"name": "fieldValidation", "in": "query",
         "schema": {"type": "string", "uniqueItems": True}}


def _gv_path(group):
    return "api/v1" if not group else "apis/%s/v1" % group


def _doc(group):
    paths = {}
    for t in R.TYPES:
        if t.group != group:
            continue
        gvk = {"group": group, "version": "v1", "kind": t.kind}
        base = "/" + _gv_path(group)
        if t.namespaced:
            base += "/namespaces/{namespace}"
        coll = "%s/%s" % (base, t.plural)
        op = {"x-kubernetes-group-version-kind": gvk,
              "parameters": [PARAM], "responses": {}}
        paths[coll] = {"post": dict(op, operationId="create" + t.kind)}
        paths[coll + "/{name}"] = {
            "patch": dict(op, operationId="patch" + t.kind),
            "put": dict(op, operationId="replace" + t.kind)}
    return {"openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.31.0"},
            "paths": paths}


_DOCS = {_gv_path(g): _doc(g) for g in [""] + R.GROUPS}
_HASH = {k: hashlib.sha256(json.dumps(v, sort_keys=True).encode())
         .hexdigest()[:32].upper() for k, v in _DOCS.items()}


def root():
    return {"paths": {k: {"serverRelativeURL": "/openapi/v3/%s?hash=%s"
                          % (k, _HASH[k])} for k in _DOCS}}


def gv(path):
    """The document for 'api/v1' or 'apis/<group>/v1', or None."""
    return _DOCS.get(path)


# -- /openapi/v2 as gnostic's openapi_v2.Document protobuf -----------------

def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _field(num, payload):
    """A length-delimited field (strings and messages)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _v2_paths():
    """(path, gvk) of every PATCH operation."""
    out = []
    for t in R.TYPES:
        base = "/" + _gv_path(t.group)
        if t.namespaced:
            base += "/namespaces/{namespace}"
        out.append(("%s/%s/{name}" % (base, t.plural),
                    {"group": t.group, "version": "v1", "kind": t.kind}))
    return out


def _v2_operation(gvk):
    query = _field(2, "query") + _field(4, "fieldValidation") + \
        _field(6, "string")                     # QueryParameterSubSchema
    param = _field(1, _field(2, _field(3, query)))   # ParametersItem
    yaml = 'group: "%s"\nkind: %s\nversion: %s\n' % (
        gvk["group"], gvk["kind"], gvk["version"])
    ext = _field(1, "x-kubernetes-group-version-kind") + \
        _field(2, _field(2, yaml))               # NamedAny{name, Any.yaml}
    return _field(5, "patch" + gvk["kind"]) + _field(8, param) + \
        _field(13, ext)


def v2_protobuf():
    """Document{swagger, info, paths{path: NamedPathItem{name, PathItem{
    patch: Operation}}}} (field numbers of gnostic's OpenAPIv2.proto)."""
    paths = b"".join(_field(2, _field(1, p) + _field(2, _field(
        8, _v2_operation(gvk)))) for p, gvk in _v2_paths())
    info = _field(1, "Kubernetes") + _field(2, "v1.31.0")
    return _field(1, "2.0") + _field(2, info) + _field(8, paths)


def v2_json():
    return {"swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.31.0"},
            "paths": {p: {"patch": {
                "operationId": "patch" + gvk["kind"],
                "parameters": [{"name": "fieldValidation", "in": "query",
                                "type": "string", "uniqueItems": True}],
                "x-kubernetes-group-version-kind": gvk}}
                for p, gvk in _v2_paths()}}
