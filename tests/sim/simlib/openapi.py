"""Minimal OpenAPI v3 documents.

kubectl (create, apply, replace) asks /openapi/v3 whether the server
supports the fieldValidation query parameter for a kind: it looks for the
PATCH operation tagged with the kind's x-kubernetes-group-version-kind and
its fieldValidation parameter. Saying yes makes kubectl leave validation
to the server instead of downloading full schemas (which are not served).
"""

import hashlib
import json

from . import resources as R

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
