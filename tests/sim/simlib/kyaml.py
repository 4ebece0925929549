"""The YAML subset Kubernetes files use: kubeconfigs and static pod manifests.

Block mappings and sequences, plain/single/double-quoted scalars, literal
and folded block scalars, flow collections, comments and several documents.
Not supported (rejected with YamlError): anchors, aliases, complex keys.
Scalars resolve by the YAML 1.2 core schema. JSON is accepted as it is YAML.
"""

import json
import re


class YamlError(ValueError):
    def __init__(self, line, msg):
        super().__init__("line %d: %s" % (line, msg))
        self.line = line


_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def resolve_plain(s):
    """The value of a plain (unquoted) scalar."""
    if s in ("", "~", "null", "Null", "NULL"):
        return None
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if _INT.match(s):
        return int(s)
    if _HEX.match(s):
        return int(s, 16)
    if _OCT.match(s):
        return int(s[2:], 8)
    if _FLOAT.match(s) and any(c.isdigit() for c in s):
        return float(s)
    if s in (".inf", "+.inf", ".Inf", "+.Inf"):
        return float("inf")
    if s in ("-.inf", "-.Inf"):
        return float("-inf")
    if s in (".nan", ".NaN", ".NAN"):
        return float("nan")
    return s


_ESC = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n",
        "v": "\v", "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"',
        "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
        "P": "\u2029"}
_HEXLEN = {"x": 2, "u": 4, "U": 8}


def _dquote(text, i, lineno):
    """Parse a double-quoted scalar starting at text[i] == '"'."""
    out = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= len(text):
                break
            e = text[i + 1]
            if e in _HEXLEN:
                n = _HEXLEN[e]
                digits = text[i + 2:i + 2 + n]
                if len(digits) != n or not re.match(r"^[0-9a-fA-F]+$",
                                                    digits):
                    raise YamlError(lineno, "bad escape \\%s" % e)
                out.append(chr(int(digits, 16)))
                i += 2 + n
                continue
            if e == "\n":
                i += 2
                while i < len(text) and text[i] in " \t":
                    i += 1
                continue
            if e not in _ESC:
                raise YamlError(lineno, "bad escape \\%s" % e)
            out.append(_ESC[e])
            i += 2
            continue
        if c == "\n":
            # Line folding inside a multi-line quoted scalar.
            while out and out[-1] in " \t":
                out.pop()
            j = i + 1
            breaks = 0
            while j < len(text) and text[j] in " \t\n":
                if text[j] == "\n":
                    breaks += 1
                j += 1
            out.append("\n" * breaks if breaks else " ")
            i = j
            continue
        out.append(c)
        i += 1
    raise YamlError(lineno, "unterminated double-quoted scalar")


def _squote(text, i, lineno):
    out = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "'":
            if text[i + 1:i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\n":
            while out and out[-1] in " \t":
                out.pop()
            j = i + 1
            while j < len(text) and text[j] in " \t":
                j += 1
            out.append(" ")
            i = j
            continue
        out.append(c)
        i += 1
    raise YamlError(lineno, "unterminated single-quoted scalar")


class _Flow:
    """Parser for flow collections: [a, b], {k: v}, nested."""

    def __init__(self, text, lineno):
        self.t = text
        self.i = 0
        self.line = lineno

    def ws(self):
        while self.i < len(self.t) and self.t[self.i] in " \t\n\r":
            self.i += 1

    def value(self):
        self.ws()
        if self.i >= len(self.t):
            raise YamlError(self.line, "unexpected end of flow collection")
        c = self.t[self.i]
        if c == "[":
            return self.seq()
        if c == "{":
            return self.map()
        if c == '"':
            v, self.i = _dquote(self.t, self.i, self.line)
            return v
        if c == "'":
            v, self.i = _squote(self.t, self.i, self.line)
            return v
        if c in "&*!":
            raise YamlError(self.line, "anchors, aliases and tags are not "
                            "supported")
        start = self.i
        while self.i < len(self.t):
            c = self.t[self.i]
            if c in ",[]{}":
                break
            if c == ":" and (self.i + 1 >= len(self.t)
                             or self.t[self.i + 1] in " \t\n,]}"):
                break
            self.i += 1
        return resolve_plain(self.t[start:self.i].strip())

    def seq(self):
        self.i += 1
        out = []
        while True:
            self.ws()
            if self.i < len(self.t) and self.t[self.i] == "]":
                self.i += 1
                return out
            out.append(self.value())
            self.ws()
            if self.i < len(self.t) and self.t[self.i] == ",":
                self.i += 1
                continue
            if self.i < len(self.t) and self.t[self.i] == "]":
                continue
            raise YamlError(self.line, "expected ',' or ']' in flow sequence")

    def map(self):
        self.i += 1
        out = {}
        while True:
            self.ws()
            if self.i < len(self.t) and self.t[self.i] == "}":
                self.i += 1
                return out
            key = self.value()
            self.ws()
            val = None
            if self.i < len(self.t) and self.t[self.i] == ":":
                self.i += 1
                self.ws()
                if self.i < len(self.t) and self.t[self.i] in ",}":
                    val = None
                else:
                    val = self.value()
            if key is not None and not isinstance(key, (str, int, float,
                                                        bool)):
                raise YamlError(self.line, "complex keys are not supported")
            out[_key(key)] = val
            self.ws()
            if self.i < len(self.t) and self.t[self.i] == ",":
                self.i += 1
                continue
            if self.i < len(self.t) and self.t[self.i] == "}":
                continue
            raise YamlError(self.line, "expected ',' or '}' in flow mapping")


def _key(k):
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    return k if isinstance(k, str) else str(k)


def _strip_comment(line):
    """Drop a '#' comment that is outside quotes and after whitespace."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
            continue
        if c in "\"'" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _split_key(content):
    """(key, rest) when content is 'key: rest' / 'key:', else None."""
    if content[:1] in "\"'":
        try:
            if content[0] == '"':
                key, end = _dquote(content, 0, 0)
            else:
                key, end = _squote(content, 0, 0)
        except YamlError:
            return None
        rest = content[end:].lstrip(" \t")
        if rest.startswith(":") and (len(rest) == 1 or rest[1] in " \t"):
            return key, rest[1:].strip()
        return None
    if content[:1] in "[{":
        return None
    depth = 0
    for i, c in enumerate(content):
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == ":" and depth <= 0 and (i + 1 == len(content)
                                          or content[i + 1] in " \t"):
            key = content[:i].rstrip()
            if key.startswith("? "):
                raise YamlError(0, "complex keys are not supported")
            return _key(resolve_plain(key)), content[i + 1:].strip()
    return None


class _Block:
    def __init__(self, text):
        self.raw = text.split("\n")
        self.lines = []   # (lineno, indent, content) for significant lines
        for n, raw in enumerate(self.raw):
            if "\t" in raw[:len(raw) - len(raw.lstrip())]:
                raise YamlError(n + 1, "tabs are not allowed in indentation")
            stripped = _strip_comment(raw)
            if not stripped.strip():
                continue
            indent = len(stripped) - len(stripped.lstrip(" "))
            self.lines.append([n + 1, indent, stripped[indent:]])
        self.pos = 0

    def peek(self):
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def parse(self):
        if not self.lines:
            return None
        v = self.node(self.lines[0][1])
        if self.peek() is not None:
            raise YamlError(self.peek()[0], "unexpected content")
        return v

    def node(self, indent):
        ln = self.peek()
        if ln is None or ln[1] < indent:
            return None
        content = ln[2]
        if content == "-" or content.startswith("- "):
            return self.seq(ln[1])
        kv = _split_key(content)
        if kv is not None:
            return self.map(ln[1])
        self.pos += 1
        return self.inline(content, ln, ln[1])

    def nested(self, indent, allow_seq_same):
        """Value on the lines after 'key:' or '-'."""
        ln = self.peek()
        if ln is None:
            return None
        if ln[1] > indent:
            return self.node(ln[1])
        if allow_seq_same and ln[1] == indent and (
                ln[2] == "-" or ln[2].startswith("- ")):
            return self.seq(indent)
        return None

    def map(self, indent):
        out = {}
        while True:
            ln = self.peek()
            if ln is None or ln[1] < indent:
                return out
            if ln[1] > indent:
                raise YamlError(ln[0], "bad indentation of a mapping entry")
            kv = _split_key(ln[2])
            if kv is None:
                raise YamlError(ln[0], "expected 'key: value'")
            key, rest = kv
            if key in out:
                raise YamlError(ln[0], "duplicate key %r" % key)
            self.pos += 1
            if rest == "":
                out[key] = self.nested(indent, True)
            else:
                out[key] = self.inline(rest, ln, indent)

    def seq(self, indent):
        out = []
        while True:
            ln = self.peek()
            if ln is None or ln[1] < indent:
                return out
            if ln[1] > indent or not (ln[2] == "-" or ln[2].startswith("- ")):
                if ln[1] == indent:
                    return out
                raise YamlError(ln[0], "bad indentation of a sequence entry")
            if ln[2] == "-":
                self.pos += 1
                out.append(self.nested(indent, False))
                continue
            body = ln[2][2:]
            lead = len(body) - len(body.lstrip(" "))
            body = body.lstrip(" ")
            # Re-read the rest of the line as a node indented past the dash.
            ln[1] = indent + 2 + lead
            ln[2] = body
            out.append(self.node(ln[1]))

    def inline(self, rest, ln, indent):
        if rest[:1] in "&*!":
            raise YamlError(ln[0], "anchors, aliases and tags are not "
                            "supported")
        if rest[:1] in "|>":
            return self.block_scalar(rest, ln, indent)
        if rest[:1] in "[{":
            return self.flow(rest, ln, indent)
        if rest[:1] in "\"'":
            return self.quoted(rest, ln, indent)
        parts = [rest]
        while True:
            nxt = self.peek()
            if nxt is None or nxt[1] <= indent:
                break
            if _split_key(nxt[2]) is not None or nxt[2].startswith("- "):
                raise YamlError(nxt[0], "mapping values are not allowed "
                                "here (bad indentation?)")
            parts.append(nxt[2])
            self.pos += 1
        return resolve_plain(" ".join(p.strip() for p in parts))

    def quoted(self, rest, ln, indent):
        text = rest
        while True:
            try:
                if text[0] == '"':
                    v, end = _dquote(text, 0, ln[0])
                else:
                    v, end = _squote(text, 0, ln[0])
            except YamlError:
                nxt = self.peek()
                if nxt is None or nxt[1] <= indent:
                    raise
                text += "\n" + nxt[2]
                self.pos += 1
                continue
            if text[end:].strip():
                raise YamlError(ln[0], "unexpected text after quoted scalar")
            return v

    def flow(self, rest, ln, indent):
        text = rest
        while True:
            try:
                f = _Flow(text, ln[0])
                v = f.value()
                f.ws()
                if f.i != len(f.t):
                    raise YamlError(ln[0], "unexpected text after flow "
                                    "collection")
                return v
            except YamlError:
                nxt = self.peek()
                if nxt is None or nxt[1] <= indent:
                    raise
                text += "\n" + nxt[2]
                self.pos += 1

    def block_scalar(self, header, ln, indent):
        m = re.match(r"^([|>])([-+]?)([1-9]?)([-+]?)\s*$", header)
        if not m:
            raise YamlError(ln[0], "bad block scalar header %r" % header)
        style = m.group(1)
        chomp = m.group(2) or m.group(4)
        explicit = int(m.group(3)) if m.group(3) else 0
        # Take raw lines after the header line.
        start = ln[0]
        body = []
        block_indent = indent + explicit if explicit else None
        n = start
        while n < len(self.raw):
            raw = self.raw[n]
            if raw.strip() == "":
                body.append("")
                n += 1
                continue
            ind = len(raw) - len(raw.lstrip(" "))
            if block_indent is None:
                if ind <= indent:
                    break
                block_indent = ind
            if ind < block_indent:
                break
            body.append(raw[block_indent:])
            n += 1
        while self.pos < len(self.lines) and self.lines[self.pos][0] <= n:
            self.pos += 1
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        if not body:
            return "\n" * trailing if chomp == "+" else ""
        text = _fold(body) if style == ">" else "\n".join(body)
        if chomp == "-":
            return text
        if chomp == "+":
            return text + "\n" * (1 + trailing)
        return text + "\n"


def _fold(lines):
    out = ""
    prev_blank = True
    for line in lines:
        if line == "":
            out += "\n"
            prev_blank = True
            continue
        if line[:1] in " \t":
            out += ("\n" if out and not out.endswith("\n") else "") + line
            prev_blank = True
            continue
        if out and not prev_blank:
            out += " "
        out += line
        prev_blank = False
    return out


def _documents(text):
    docs = []
    cur = []
    for line in text.split("\n"):
        if re.match(r"^---(\s|$)", line):
            docs.append("\n".join(cur))
            rest = line[3:].strip()
            cur = [rest] if rest and not rest.startswith("#") else []
            continue
        if re.match(r"^\.\.\.(\s|$)", line):
            docs.append("\n".join(cur))
            cur = []
            continue
        if line.startswith("%"):
            continue
        cur.append(line)
    docs.append("\n".join(cur))
    return docs


def load_all(text):
    """Every non-empty document of text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.lstrip("\ufeff")
    out = []
    for doc in _documents(text):
        if not doc.strip():
            continue
        s = doc.strip()
        if s[:1] in "{[":
            try:
                out.append(json.loads(s))
                continue
            except ValueError:
                pass
        v = _Block(doc).parse()
        if v is not None:
            out.append(v)
    return out


def load(text):
    """The first document of text (None when there is none)."""
    docs = load_all(text)
    return docs[0] if docs else None


_SAFE = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./:=@+-]*$")


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    if _SAFE.match(s) and resolve_plain(s) == s and not s.endswith(":"):
        return s
    return json.dumps(s)


def dump(obj, indent=0):
    """Block-style YAML for dicts, lists and scalars."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return pad + "{}\n"
        out = []
        for k, v in obj.items():
            key = _scalar(str(k))
            if isinstance(v, (dict, list)) and v:
                sub = dump(v, indent + 2 if isinstance(v, dict) else indent)
                out.append("%s%s:\n%s" % (pad, key, sub))
            else:
                out.append("%s%s: %s\n" % (pad, key, _inline(v)))
        return "".join(out)
    if isinstance(obj, list):
        if not obj:
            return pad + "[]\n"
        out = []
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                sub = dump(v, indent + 2)
                out.append("%s- %s" % (pad, sub[indent + 2:]))
            else:
                out.append("%s- %s\n" % (pad, _inline(v)))
        return "".join(out)
    return pad + _scalar(obj) + "\n"


def _inline(v):
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return _scalar(v)
