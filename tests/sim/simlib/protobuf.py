"""Just enough protobuf to read the DeleteOptions kubectl >= 1.32 sends
(kube-api.md §2.6): "k8s\\0" + runtime.Unknown{typeMeta, raw, ...}."""

MAGIC = b"k8s\x00"


class ProtoError(ValueError):
    pass


def _varint(buf, i):
    shift = 0
    out = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, i
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long")


def fields(buf):
    """[(field number, wire type, value)] of one message."""
    out = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtoError("truncated field %d" % num)
            v = buf[i:i + n]
            i += n
        elif wt == 1:
            v = buf[i:i + 8]
            i += 8
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ProtoError("unsupported wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def delete_options(body):
    """Decode a protobuf-encoded DeleteOptions into its JSON form."""
    if not body.startswith(MAGIC):
        raise ProtoError("missing k8s protobuf magic")
    raw = None
    kind = None
    for num, wt, v in fields(body[len(MAGIC):]):
        if num == 1 and wt == 2:
            for n2, w2, v2 in fields(v):
                if n2 == 2 and w2 == 2:
                    kind = v2.decode("utf-8", "replace")
        elif num == 2 and wt == 2:
            raw = v
    if kind not in (None, "DeleteOptions"):
        raise ProtoError("expected DeleteOptions, got %s" % kind)
    out = {}
    for num, wt, v in fields(raw or b""):
        if num == 1 and wt == 0:
            out["gracePeriodSeconds"] = _signed(v)
        elif num == 2 and wt == 2:
            pre = {}
            for n2, w2, v2 in fields(v):
                if w2 == 2 and n2 in (1, 2):
                    pre["uid" if n2 == 1 else "resourceVersion"] = \
                        v2.decode("utf-8", "replace")
            out["preconditions"] = pre
        elif num == 3 and wt == 0:
            out["orphanDependents"] = bool(v)
        elif num == 4 and wt == 2:
            out["propagationPolicy"] = v.decode("utf-8", "replace")
        elif num == 5 and wt == 2:
            out.setdefault("dryRun", []).append(v.decode("utf-8", "replace"))
    return out
