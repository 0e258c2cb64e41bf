#!/usr/bin/env python3
"""A bounded fuzz of every JSON route of thermocamd (issue 14).

Every PUT and POST route with a JSON body in schemas/openapi.yaml gets, from
its schema (config.schema.json for the configuration): a value of every wrong
type at every field (nested objects, array items), bodies of the wrong type,
nesting far past the limit at the root and in fields, long strings, bodies
over the size limit, broken encodings (invalid UTF-8, UTF-16, NUL, lone
surrogates, numbers out of range).  The daemon runs under
G_DEBUG=fatal-criticals (a critical ends it); each answer must be a 4xx with
the JSON error shape, and at the end nothing may have changed: the
configuration, the rules, the accounts.  Bounded: at most MAX_REQUESTS
requests and MAX_SECONDS seconds.
"""
import hashlib
import json
import os
import re
import socket
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from daemon import PASSWORD, Daemon, Tap, read_answer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_REQUESTS = 40000
MAX_SECONDS = 150
USER, USER_PW = "fuzzuser", "Fuzz#User2026"

t = Tap()
api = yaml.safe_load(open(os.path.join(ROOT, "schemas", "openapi.yaml")))
config_schema = json.load(open(os.path.join(ROOT, "schemas", "config.schema.json")))
docs = {"openapi": api, "config.schema.json": config_schema}


def pointer(doc, ptr):
    node = doc
    for part in [p for p in ptr.split("/") if p]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(schema, base="openapi", seen=0):
    """@schema with its $ref (and that of allOf members) followed"""
    if seen > 20 or not isinstance(schema, dict):
        return schema, base
    if "$ref" in schema:
        ref = schema["$ref"]
        doc, _, ptr = ref.partition("#")
        target = doc or base
        return resolve(pointer(docs[target], ptr), target, seen + 1)
    return schema, base


def types_of(schema):
    ty = schema.get("type")
    if ty is None:
        if "properties" in schema:
            return {"object"}
        if "items" in schema:
            return {"array"}
        if "enum" in schema:
            return {type_name(v) for v in schema["enum"]}
        return None
    return set(ty) if isinstance(ty, list) else {ty}


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


CANDIDATES = [None, True, 0, -1, 1.5, 1e308, "", "x", "\u0000", "é" * 5, [], [1], ["x"], {},
              {"a": 1}, 99999999999999999999]


def wrong_values(schema):
    """values of another type than @schema allows"""
    allowed = types_of(schema)
    if allowed is None:
        return []
    if "number" in allowed:
        allowed |= {"integer"}
    out = []
    for v in CANDIDATES:
        name = type_name(v)
        if v == 99999999999999999999:
            name = "number"         # beyond int64: JSON readers make it a double
        if name in allowed or (name == "number" and "integer" in allowed and v == int(v)
                               and abs(v) < 2 ** 53):
            continue
        out.append(v)
    return out


def fields(schema, base, path=(), depth=0):
    """(path, schema) of every field under @schema, array items as index 0"""
    schema, base = resolve(schema, base)
    if depth > 5 or not isinstance(schema, dict):
        return
    for sub in schema.get("allOf", []):
        yield from fields(sub, base, path, depth + 1)
    for name, sub in (schema.get("properties") or {}).items():
        sub_r, sub_base = resolve(sub, base)
        yield path + (name,), sub_r
        yield from fields(sub_r, sub_base, path + (name,), depth + 1)
    items = schema.get("items")
    if isinstance(items, dict):
        it, it_base = resolve(items, base)
        yield path + (0,), it
        yield from fields(it, it_base, path + (0,), depth + 1)


def build(path, value):
    """the smallest document with @value at @path"""
    for key in reversed(path):
        value = [value] if key == 0 else {key: value}
    return value


# ---- the daemon ----
d = Daemon().start()
d.activate()
d.post("users", {"name": USER, "password": USER_PW, "level": "user"})
d.post("rules", {"name": "fuzz", "type": "point", "points": [[0.5, 0.5]]})
rules = d.get("rules")[1]
rule_id = rules[0]["id"] if isinstance(rules, list) and rules else 1
nonce = [None]
nc = [0]


def new_nonce():
    s = socket.create_connection(("127.0.0.1", d.http), timeout=10)
    s.sendall(b"GET /api/v1/device HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    head, _ = read_answer(s)
    s.close()
    nonce[0] = re.search(rb'nonce="([^"]+)"', head).group(1).decode()
    nc[0] = 0


def send(method, path, body, ctype="application/json"):
    """(status, body bytes) of one request with Digest credentials"""
    for attempt in range(2):
        if nonce[0] is None:
            new_nonce()
        nc[0] += 1
        md5 = lambda x: hashlib.md5(x.encode()).hexdigest()  # noqa: E731
        ha1 = md5(f"admin:thermocam:{PASSWORD}")
        ncs = f"{nc[0]:08x}"
        resp = md5(f"{ha1}:{nonce[0]}:{ncs}:f0:auth:{md5(f'{method}:{path}')}")
        auth = (f'Digest username="admin", realm="thermocam", nonce="{nonce[0]}", uri="{path}", '
                f'qop=auth, nc={ncs}, cnonce="f0", response="{resp}"')
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n").encode()
        s = socket.create_connection(("127.0.0.1", d.http), timeout=20)
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            h, b = read_answer(s)
        except (ConnectionResetError, socket.timeout):
            h, b = b"", b""
        s.close()
        if not h.startswith(b"HTTP/"):
            return 0, b""
        st = int(h.split()[1])
        if st == 401 and b"stale=true" in h and attempt == 0:
            nonce[0] = None
            continue
        return st, b


# ---- the routes and their cases ----
routes = []
for p, ops in api["paths"].items():
    for m in ("put", "post"):
        op = ops.get(m)
        if not op or "application/json" not in op.get("requestBody", {}).get("content", {}):
            continue
        if p == "/activate":
            continue                # the device is active: 409 for anything (checked above)
        schema = op["requestBody"]["content"]["application/json"].get("schema", {})
        url = "/api/v1" + p.replace("{id}", str(rule_id)).replace("{name}", USER)
        routes.append((m.upper(), url, schema, op["requestBody"].get("required", False)))
t.ok(len(routes) >= 30, f"{len(routes)} JSON routes from openapi.yaml")

before = {k: d.get(k)[1] for k in ("config", "rules", "users")}


def cases(schema, required):
    root, base = resolve(schema)
    for v in wrong_values(root) or [1, "x", None, []]:
        yield "root " + json.dumps(v)[:20], json.dumps(v).encode()
    seen = set()
    for path, sub in fields(schema, "openapi"):
        key = (path, json.dumps(sub, sort_keys=True)[:200])
        if key in seen:
            continue
        seen.add(key)
        for v in wrong_values(sub):
            yield ".".join(map(str, path)) + " = " + json.dumps(v)[:20], \
                json.dumps(build(path, v)).encode()
        if len(path) == 1:
            deep = "[" * 40 + "]" * 40
            yield ".".join(map(str, path)) + " nested 40", \
                json.dumps(build(path, 0)).encode().replace(b"0", deep.encode(), 1)
    # depth, size and encodings, whatever the schema
    yield "75,000 nested arrays", b"[" * 75000 + b"]" * 75000
    yield "20,000 nested objects", b'{"a":' * 20000 + b"0" + b"}" * 20000
    yield "unclosed 1000", b"[" * 1000
    yield "a 100 KB string", json.dumps({"name": "n" * 100000}).encode()
    yield "over the body limit", b'{"a": "' + b"y" * 300000 + b'"}'
    yield "invalid UTF-8", b'{"name": "\xc3\x28\xff"}'
    yield "UTF-16", '{"name": "x"}'.encode("utf-16")
    yield "a NUL byte", b'{"name": "a\x00b"}'
    yield "a lone surrogate", b'{"name": "\\ud800"}'
    yield "1e400", b'{"name": 1e400}'
    yield "a huge integer", b'{"name": 123456789012345678901234567890}'
    yield "duplicate keys", b'{"name": 1, "name": "x"}'
    yield "trailing garbage", b'{} {}'
    if required:
        yield "empty", b""


sent = 0
bad = []
start = time.time()
for method, url, schema, required in routes:
    for what, body in cases(schema, required):
        if sent >= MAX_REQUESTS or time.time() - start > MAX_SECONDS:
            break
        st, b = send(method, url, body)
        sent += 1
        shape = False
        try:
            j = json.loads(b)
            shape = isinstance(j, dict) and set(j.get("error", {})) == {"code", "message", "field"}
        except ValueError:
            pass
        if not (400 <= st < 500 and shape):
            bad.append(f"{method} {url} {what}: {st} {b[:120]!r}")
        if not d.alive():
            bad.append(f"the daemon died at {method} {url} {what}")
            break
    if not d.alive():
        break

t.ok(sent >= 1000, f"{sent} requests in {time.time() - start:.0f} s "
     f"(at most {MAX_REQUESTS} / {MAX_SECONDS} s)")
t.ok(d.alive(), "the daemon is alive (under G_DEBUG=fatal-criticals)", d.lines[-20:])
t.ok(not bad, f"every answer is a 4xx with the error shape ({len(bad)} not)", "\n".join(bad[:40]))
after = {k: d.get(k)[1] for k in ("config", "rules", "users")}
for k in before:
    t.ok(after[k] == before[k], f"nothing changed: {k}",
         json.dumps([before[k], after[k]])[:2000] if after[k] != before[k] else None)
noisy = [x for x in d.lines if "CRITICAL" in x or "WARNING" in x]
t.ok(not noisy, "no warning or critical in the daemon's log", "\n".join(noisy[:20]))
d.stop()
t.done()
