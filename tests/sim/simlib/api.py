"""The API server's request handling: one Core holds the cluster state and
answers requests that a listener (HTTPS, or a front end through the core
socket) has already authenticated."""

import json
import logging
import time
import urllib.parse

from . import errors
from . import faults as F
from . import health
from . import kyaml
from . import openapi
from . import protobuf
from . import resources as R
from . import selectors as S
from . import tables
from .controllers import Controllers
from .registry import Registry
from .store import Store

log = logging.getLogger("kubesim")
ADMIN_GROUPS = ("system:masters", "kubeadm:cluster-admins")
# RBAC-lite: who may touch resources. Everyone authenticated may read
# discovery; anonymous users only get health and /version.
ALLOWED_GROUPS = {"system:masters", "kubeadm:cluster-admins", "system:nodes"}
ALLOWED_USERS = {"system:kube-controller-manager", "system:kube-scheduler",
                 "system:kube-proxy"}
VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
         "DELETE": "delete"}
JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
ANON = "system:anonymous"


class User:
    def __init__(self, name, groups=(), uid="", authn="anonymous"):
        self.name = name
        self.groups = list(groups)
        self.uid = uid
        self.authn = authn      # x509, token, anonymous or invalid

    @classmethod
    def anonymous(cls):
        return cls(ANON, ["system:unauthenticated"])

    @property
    def anon(self):
        return self.name == ANON


class Request:
    def __init__(self, method, target, headers, body=b"", user=None,
                 frontend="kubesim", local_failing=()):
        self.method = method
        path, _, raw = target.partition("?")
        self.target = target
        self.path = urllib.parse.unquote(path) or "/"
        self.query = urllib.parse.parse_qs(raw, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.user = user or User.anonymous()
        self.frontend = frontend
        self.local_failing = set(local_failing)

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[-1] if v else default

    def ctype(self):
        return self.headers.get("content-type", "").split(";")[0].strip()

    def wants_table(self):
        return "as=Table" in self.headers.get("accept", "")


class Response:
    def __init__(self, code, body=b"", ctype=JSON, headers=(), stream=None,
                 action=None):
        self.code = code
        self.body = body
        self.ctype = ctype
        self.headers = list(headers)
        self.stream = stream
        self.action = action    # "cut": close the connection, no answer


def dumps(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def ok(obj, code=200):
    return Response(code, dumps(obj))


def fail(err):
    return Response(err.code, dumps(err.status()), headers=err.headers())


def text(code, body):
    return Response(code, body.encode(), "text/plain; charset=utf-8",
                    [("X-Content-Type-Options", "nosniff")])


def not_found_path():
    return fail(errors.ApiError(404, "NotFound", "the server could not find "
                                "the requested resource", {}))


class Core:
    def __init__(self, version_minor=31, git_version=None, max_grace=2.0,
                 pod_start_delay=0.2, controller_interval=0.05,
                 node_grace=40.0, compaction_interval=300.0,
                 authorization="RBAC", anonymous_auth=True):
        self.store = Store()
        self.registry = Registry(self.store, max_grace)
        self.ctl = Controllers(self.store, self.registry, pod_start_delay,
                               max_grace, controller_interval, node_grace,
                               compaction_interval)
        self.faults = F.Faults()
        self.reqlog = F.RequestLog()
        self.minor = str(version_minor)
        self.git_version = git_version or "v1.%s.0" % self.minor
        self.authorization = authorization
        self.anonymous_auth = anonymous_auth
        self.server_address = "127.0.0.1:6443"
        self.shutting_down = False
        self.started = time.time()
        for ns in ("default", "kube-system", "kube-public",
                   "kube-node-lease"):
            self.registry.create(R.NAMESPACES, "", {"metadata": {"name": ns}})

    def start(self):
        self.ctl.start()

    def stop(self):
        self.ctl.stop()

    # -- entry point ------------------------------------------------------

    def handle(self, req):
        """Answer one request. Never raises."""
        started = time.time()
        if req.path.startswith("/sim/") or req.path == "/sim":
            return self._guard(lambda: self._admin(req))
        d = self.faults.decide(req.frontend, req.target)
        if d.latency:
            time.sleep(d.latency)
        if d.action == "stop":
            self.faults.wait_cleared(3600)
            resp = Response(0, action="cut")
        elif d.action == "cut":
            resp = Response(0, action="cut")
        elif d.error is not None:
            resp = fail(d.error)
        else:
            resp = self._guard(lambda: self._route(req))
        self.reqlog.add(req.method, req.target, resp.code, req.frontend,
                        req.user.name, started)
        return resp

    @staticmethod
    def _guard(fn):
        try:
            return fn()
        except errors.ApiError as e:
            return fail(e)
        except Exception as e:  # a simulator bug: say so, keep serving
            log.exception("internal error")
            return fail(errors.ApiError(
                500, "InternalError", "Internal error occurred: kubesim: "
                "%s: %s" % (type(e).__name__, e)))

    # -- routing ------------------------------------------------------------

    def _route(self, req):
        if req.user.authn == "invalid":
            raise errors.unauthorized()
        if req.user.anon and not self.anonymous_auth:
            raise errors.unauthorized()
        p = req.path.rstrip("/") or "/"
        head = p.split("/")[1] if p != "/" else ""
        if head in ("livez", "readyz", "healthz"):
            return self._health(req, head, p[len(head) + 2:])
        if p == "/version":
            return ok(self._version())
        parts = p.strip("/").split("/")
        resource = (parts[0] == "api" and len(parts) > 2) or \
            (parts[0] == "apis" and len(parts) > 3)
        if req.user.anon and not resource:
            # system:discovery is bound to system:authenticated only.
            raise errors.forbidden(None, "", 'User "%s" cannot %s path "%s"'
                                   % (ANON, req.method.lower(), req.path))
        if parts[0] == "openapi":
            return self._openapi(req, parts[1:])
        if parts[0] == "api":
            return self._api(req, "", parts[1:])
        if parts[0] == "apis":
            return self._apis(req, parts[1:])
        return not_found_path()

    @staticmethod
    def _openapi(req, rest):
        if rest == ["v2"]:
            if "protobuf" in req.headers.get("accept", ""):
                return Response(200, openapi.v2_protobuf(), openapi.V2_PB)
            return ok(openapi.v2_json())
        if rest == ["v3"]:
            return ok(openapi.root())
        if rest[:1] == ["v3"]:
            doc = openapi.gv("/".join(rest[1:]))
            if doc is not None:
                return ok(doc)
        return not_found_path()

    def _version(self):
        return {"major": "1", "minor": self.minor,
                "emulationMajor": "1", "emulationMinor": self.minor,
                "minCompatibilityMajor": "1",
                "minCompatibilityMinor": str(int(self.minor) - 1),
                "gitVersion": self.git_version,
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.23.6", "compiler": "gc",
                "platform": "linux/amd64"}

    def failing_checks(self, frontend, local=()):
        failing, shutdown = self.faults.failing_checks(frontend)
        failing |= set(local)
        if shutdown or self.shutting_down:
            failing.add("shutdown")
        return failing

    def _health(self, req, kind, sub):
        if req.method != "GET":
            raise errors.method_not_allowed()
        failing = self.failing_checks(req.frontend, req.local_failing)
        code, body = health.render(kind, sub, req.query, failing)
        return text(code, body)

    def _api(self, req, group, rest):
        if not rest:
            return ok(R.api_versions(self.server_address))
        if len(rest) == 1:
            rl = R.resource_list(group, rest[0])
            return ok(rl) if rl else not_found_path()
        return self._resource(req, group, rest[0], rest[1:])

    def _apis(self, req, rest):
        if not rest:
            return ok(R.api_group_list())
        if len(rest) == 1:
            g = R.api_group(rest[0])
            return ok(g) if g else not_found_path()
        if len(rest) == 2:
            rl = R.resource_list(rest[0], rest[1])
            return ok(rl) if rl else not_found_path()
        return self._resource(req, rest[0], rest[1], rest[2:])

    def _resource(self, req, group, version, rest):
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in (
                "status", "finalize"):
            ns = rest[1]
            rest = rest[2:]
        t = R.lookup(group, version, rest[0])
        if t is None or len(rest) > 3:
            return not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if (t.namespaced and name is not None and ns is None) or \
                (not t.namespaced and ns is not None):
            return not_found_path()
        if sub is not None and not (sub == "status" and t.has_status) and \
                not (sub == "eviction" and t is R.PODS) and \
                not (sub == "finalize" and t is R.NAMESPACES):
            return not_found_path()
        verb = VERBS.get(req.method)
        if verb is None:
            raise errors.method_not_allowed()
        if name is None and verb == "get":
            verb = "watch" if req.q("watch") in ("1", "true") else "list"
        if name is None and verb == "delete":
            verb = "deletecollection"
        self._authorize(req.user, verb, t, ns, name, sub)
        return self._dispatch(req, t, ns, name, sub, verb)

    def _authorize(self, user, verb, t, ns, name, sub):
        if self.authorization == "AlwaysAllow":
            return
        if user.name in ALLOWED_USERS or ALLOWED_GROUPS & set(user.groups):
            return
        res = t.plural + ("/" + sub if sub else "")
        scope = ('in the namespace "%s"' % ns) if ns is not None \
            else "at the cluster scope"
        raise errors.forbidden(t, name or "", 'User "%s" cannot %s resource '
                               '"%s" in API group "%s" %s'
                               % (user.name, verb, res, t.group, scope))

    def _dispatch(self, req, t, ns, name, sub, verb):
        dry = "All" in req.query.get("dryRun", [])
        reg = self.registry
        if verb == "list":
            return self._list(req, t, ns)
        if verb == "watch":
            return self._watch(req, t, ns)
        if verb == "get":
            if sub is not None and sub != "status":
                raise errors.method_not_allowed()
            obj = reg.must_get(t, ns, name) if not t.drop else None
            if obj is None:
                raise errors.not_found(t, name)
            if req.wants_table():
                return ok(tables.table(t, [obj], {
                    "resourceVersion": obj["metadata"]["resourceVersion"]}))
            return ok(obj)
        if verb == "create":
            return self._create(req, t, ns, name, sub, dry)
        if verb == "update":
            if sub not in (None, "status"):
                raise errors.method_not_allowed()
            return ok(reg.update(t, ns or "", name, self._body(req), sub ==
                                 "status", dry))
        if verb == "patch":
            if sub not in (None, "status"):
                raise errors.method_not_allowed()
            body = self._json_body(req)
            return ok(reg.patch(t, ns or "", name, req.ctype(), body,
                                sub == "status", dry))
        if verb == "delete":
            return self._delete(req, t, ns, name, dry)
        return self._delete_collection(req, t, ns, dry)

    # -- verbs ------------------------------------------------------------

    def _create(self, req, t, ns, name, sub, dry):
        body = self._body(req)
        if sub == "eviction":
            self.registry.evict(ns, name, body, dry)
            return ok({"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Success", "code": 201}, 201)
        if name is not None:
            raise errors.method_not_allowed()
        obj = self.registry.create(t, ns or "", body, dry)
        return ok(obj, 201)

    def _delete(self, req, t, ns, name, dry):
        opts = self._delete_options(req)
        obj, removed = self.registry.delete(t, ns or "", name, opts, dry)
        if t in (R.PODS, R.NAMESPACES) or not removed:
            return ok(obj)
        det = {"name": name, "kind": t.plural,
               "uid": obj["metadata"].get("uid")}
        if t.group:
            det["group"] = t.group
        return ok({"kind": "Status", "apiVersion": "v1", "metadata": {},
                   "status": "Success", "details": det})

    def _delete_collection(self, req, t, ns, dry):
        opts = self._delete_options(req)
        items, _ = self.registry.list(t, ns, S.parse_labels(
            req.q("labelSelector")), S.parse_fields(req.q("fieldSelector"),
                                                    t.plural))
        out = []
        for o in items:
            try:
                obj, _ = self.registry.delete(
                    t, o["metadata"].get("namespace", ""),
                    o["metadata"]["name"], opts, dry)
                out.append(obj)
            except errors.ApiError:
                continue
        return ok({"kind": t.list_kind, "apiVersion": t.api_version,
                   "metadata": {"resourceVersion": str(self.store.rv)},
                   "items": out})

    def _delete_options(self, req):
        opts = {}
        if req.body:
            if req.ctype() == PROTOBUF:
                try:
                    opts = protobuf.delete_options(req.body)
                except protobuf.ProtoError as e:
                    raise errors.bad_request(str(e)) from None
            else:
                opts = self._body(req) or {}
                if not isinstance(opts, dict):
                    raise errors.bad_request("DeleteOptions must be an "
                                             "object")
        g = req.q("gracePeriodSeconds")
        if g is not None:
            try:
                opts["gracePeriodSeconds"] = int(g)
            except ValueError:
                raise errors.bad_request("gracePeriodSeconds must be an "
                                         "integer") from None
        if req.q("propagationPolicy"):
            opts["propagationPolicy"] = req.q("propagationPolicy")
        return opts

    def _list(self, req, t, ns):
        lsel = S.parse_labels(req.q("labelSelector"))
        fsel = S.parse_fields(req.q("fieldSelector"), t.plural)
        try:
            limit = int(req.q("limit") or 0)
        except ValueError:
            raise errors.bad_request("limit must be an integer") from None
        if t.drop:
            items, lm = [], {"resourceVersion": str(self.store.rv)}
        else:
            items, lm = self.registry.list(t, ns, lsel, fsel, max(limit, 0),
                                           req.q("continue"))
        if req.wants_table():
            return ok(tables.table(t, items, lm))
        return ok({"kind": t.list_kind, "apiVersion": t.api_version,
                   "metadata": lm, "items": items})

    def _watch(self, req, t, ns):
        from . import watch
        return watch.start(self, req, t, ns)

    # -- bodies -------------------------------------------------------------

    def _body(self, req):
        if not req.body:
            return None
        ct = req.ctype()
        if ct in ("application/yaml", "application/x-yaml"):
            try:
                return kyaml.load(req.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise errors.bad_request("yaml: %s" % e) from None
        if ct not in (JSON, "", "*/*"):
            raise errors.unsupported_media([JSON, "application/yaml",
                                            PROTOBUF])
        return self._json(req.body)

    def _json_body(self, req):
        return self._json(req.body or b"null")

    @staticmethod
    def _json(raw):
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise errors.bad_request("couldn't get version/kind; json parse "
                                     "error: %s" % e) from None

    # -- /sim admin ----------------------------------------------------------

    def _admin(self, req):
        u = req.user
        if u.authn != "x509" or not set(ADMIN_GROUPS) & set(u.groups):
            raise errors.forbidden(None, "", 'User "%s" cannot %s path "%s"'
                                   % (u.name, req.method.lower(), req.path))
        key = (req.method, req.path.rstrip("/"))
        fn = {
            ("GET", "/sim/faults"): lambda: ok(self.faults.show()),
            ("POST", "/sim/faults"): lambda: self._set_faults(req),
            ("DELETE", "/sim/faults"): lambda: self._clear_faults(),
            ("GET", "/sim/requests"): lambda: self._requests(req),
            ("DELETE", "/sim/requests"): lambda: self._clear_requests(),
            ("POST", "/sim/bulk"): lambda: self._bulk(req),
            ("GET", "/sim/controllers"): lambda: ok(self.ctl.enabled),
            ("POST", "/sim/controllers"): lambda: self._controllers(req),
            ("POST", "/sim/compact"): lambda: self._compact(),
        }.get(key)
        if fn is None:
            return not_found_path()
        return fn()

    def _set_faults(self, req):
        self.faults.set(self._json_body(req))
        return ok(self.faults.show())

    def _clear_faults(self):
        self.faults.clear()
        return ok({})

    def _requests(self, req):
        try:
            since = int(req.q("since") or 0)
        except ValueError:
            raise errors.bad_request("since must be an integer") from None
        items = self.reqlog.since(since)
        return ok({"items": items, "seq": self.reqlog.seq})

    def _clear_requests(self):
        self.reqlog.clear()
        return ok({"seq": self.reqlog.seq})

    def _compact(self):
        self.store.compact()
        return ok({"compactedResourceVersion": str(self.store.compacted_rv)})

    def _controllers(self, req):
        body = self._json_body(req)
        if not isinstance(body, dict) or not all(
                k in self.ctl.enabled and isinstance(v, bool)
                for k, v in body.items()):
            raise errors.bad_request("expected {name: true|false} with names "
                                     "from %s" % ", ".join(self.ctl.enabled))
        with self.store.lock:
            self.ctl.enabled.update(body)
            self.ctl.dirty_pdb_ns.update(
                ns["metadata"]["name"] for ns in
                self.store.items(R.NAMESPACES))
            for t in (R.REPLICASETS, R.DAEMONSETS, R.DEPLOYMENTS):
                self.ctl.dirty_owners.update(
                    o["metadata"]["uid"] for o in self.store.items(t))
        self.ctl.wake.set()
        return ok(self.ctl.enabled)

    def _bulk(self, req):
        body = self._json_body(req)
        items = body.get("items") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise errors.bad_request('expected {"items": [objects]}')
        created = 0
        errs = []
        for i, obj in enumerate(items):
            try:
                if not isinstance(obj, dict):
                    raise errors.bad_request("item is not an object")
                t = R.BY_KIND.get((obj.get("apiVersion"), obj.get("kind")))
                if t is None:
                    raise errors.bad_request("unknown kind %s/%s" % (
                        obj.get("apiVersion"), obj.get("kind")))
                ns = (obj.get("metadata") or {}).get("namespace") or \
                    ("default" if t.namespaced else "")
                self.registry.create(t, ns, obj)
                created += 1
            except errors.ApiError as e:
                errs.append({"index": i, "message": str(e)})
        return ok({"created": created, "errors": errs}, 201 if not errs
                  else 207)

