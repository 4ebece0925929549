"""metav1.Status errors with the messages the real kube-apiserver sends.

Constructors follow k8s.io/apimachinery/pkg/api/errors (kube-api.md §4.1).
"""


class ApiError(Exception):
    """An API failure that goes out as a Status object."""

    def __init__(self, code, reason, message, details=None, retry_after=0):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = dict(details or {})
        self.retry_after = retry_after
        if retry_after > 0:
            self.details["retryAfterSeconds"] = retry_after

    def status(self):
        """The Status object, with fields in the real server's order."""
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {},
              "status": "Failure", "message": self.message}
        if self.reason:
            st["reason"] = self.reason
        if self.details:
            st["details"] = self.details
        st["code"] = self.code
        return st

    def headers(self):
        # responsewriters sets Retry-After iff retryAfterSeconds > 0.
        if self.retry_after > 0:
            return [("Retry-After", str(self.retry_after))]
        return []


def _details(rt, name):
    d = {}
    if name:
        d["name"] = name
    if rt is not None:
        if rt.group:
            d["group"] = rt.group
        d["kind"] = rt.plural
    return d


def not_found(rt, name):
    return ApiError(404, "NotFound",
                    '%s "%s" not found' % (rt.qualified, name),
                    _details(rt, name))


def namespace_not_found(ns):
    return ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                    {"name": ns, "kind": "namespaces"})


def already_exists(rt, name):
    return ApiError(409, "AlreadyExists",
                    '%s "%s" already exists' % (rt.qualified, name),
                    _details(rt, name))


def conflict(rt, name, why=None):
    if why is None:
        why = ("the object has been modified; please apply your changes "
               "to the latest version and try again")
    return ApiError(409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": %s'
                    % (rt.qualified, name, why), _details(rt, name))


def invalid(rt, name, causes, by_kind=True):
    """422 Invalid. causes: list of (field, value_repr or None, detail).

    Validation names the kind ('Pod "x" is invalid', 'Lease.coordination...')
    while the storage layer's resourceVersion check names the resource
    ('leases.coordination.k8s.io "x" is invalid'), as the real server does.
    """
    parts = []
    out = []
    for field, value, detail in causes:
        if value is None:
            parts.append("%s: Required value: %s" % (field, detail))
            out.append({"reason": "FieldValueRequired",
                        "message": "Required value: " + detail,
                        "field": field})
        else:
            parts.append("%s: Invalid value: %s: %s" % (field, value, detail))
            out.append({"reason": "FieldValueInvalid",
                        "message": "Invalid value: %s: %s" % (value, detail),
                        "field": field})
    msg = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    if by_kind:
        what = rt.kind + ("." + rt.group if rt.group else "")
        det = {"name": name, "kind": rt.kind}
        if rt.group:
            det["group"] = rt.group
    else:
        what = rt.qualified
        det = _details(rt, name)
    det["causes"] = out
    return ApiError(422, "Invalid",
                    '%s "%s" is invalid: %s' % (what, name, msg), det)


def forbidden(rt, name, why):
    res = rt.qualified if rt is not None else ""
    if not res:
        msg = "forbidden: %s" % why
    elif not name:
        msg = "%s is forbidden: %s" % (res, why)
    else:
        msg = '%s "%s" is forbidden: %s' % (res, name, why)
    return ApiError(403, "Forbidden", msg, _details(rt, name))


def forbidden_raw(qualified, group, kind, name, why):
    """Forbidden for a resource that is not in the type table."""
    msg = '%s "%s" is forbidden: %s' % (qualified, name, why)
    det = {"name": name, "kind": kind}
    if group:
        det["group"] = group
    return ApiError(403, "Forbidden", msg, det)


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


def method_not_allowed(msg="the server does not allow this method on "
                       "the requested resource"):
    return ApiError(405, "MethodNotAllowed", msg)


def unsupported_media(accepted):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: " + ", ".join(accepted))


def too_many_requests(msg, retry_after=0, causes=None):
    err = ApiError(429, "TooManyRequests", msg, retry_after=retry_after)
    if causes:
        err.details["causes"] = causes
    return err


def expired(msg):
    return ApiError(410, "Expired", msg)


def service_unavailable(
        msg="the server is currently unable to handle the request"):
    return ApiError(503, "ServiceUnavailable", msg)


def for_code(code, retry_after=0):
    """A Status for an injected fault, worded like the real one."""
    table = {
        400: ("BadRequest", "injected fault: bad request"),
        401: ("Unauthorized", "Unauthorized"),
        403: ("Forbidden", "forbidden: injected fault"),
        404: ("NotFound", "the server could not find the requested resource"),
        409: ("Conflict", "Operation cannot be fulfilled: injected fault"),
        410: ("Expired", "too old resource version: injected fault"),
        429: ("TooManyRequests",
              "Too many requests, please try again later."),
        500: ("InternalError", "Internal error occurred: injected fault"),
        502: ("", "injected fault: bad gateway"),
        503: ("ServiceUnavailable",
              "the server is currently unable to handle the request"),
        504: ("Timeout", "Timeout: injected fault"),
    }
    reason, msg = table.get(code, ("", "injected fault"))
    return ApiError(code, reason, msg, retry_after=retry_after)
