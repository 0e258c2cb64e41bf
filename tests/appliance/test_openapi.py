#!/usr/bin/env python3
"""schemas/openapi.yaml against the code it documents (TAP output).

    test_openapi.py SOURCE_ROOT

Checks that the document parses as OpenAPI 3.1, that every $ref resolves
(inside it, and into config.schema.json, and the refs of the files it reaches),
that every route appliance/tcd-http.c matches is documented and nothing else
is, that every operation has an operationId, a summary and responses, that
every operation but /activate documents 401 and every one 403, that the error
codes and statuses the C code sends appear in the document, and that the
x-permission of every operation is the level route_level() in tcd-http.c
gives it (the e2e tests build their permission matrix from x-permission).

Python 3 standard library + python3-yaml only.
"""
import json
import os
import re
import sys
import urllib.parse

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# libsoup's status names -> numbers, for those tcd-http.c uses
SOUP_STATUS = {
    "OK": 200, "CREATED": 201, "ACCEPTED": 202, "NO_CONTENT": 204,
    "BAD_REQUEST": 400, "UNAUTHORIZED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405, "CONFLICT": 409, "REQUEST_ENTITY_TOO_LARGE": 413,
    "INTERNAL_SERVER_ERROR": 500, "SERVICE_UNAVAILABLE": 503, "PERMANENT_REDIRECT": 308,
}

# the values of x-permission, in the order of TcdLevel (tcd-users.h)
LEVELS = ("none", "user", "operator", "administrator")


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---- the C side ----

def c_function(src, name):
    """The text of a top-level C function definition (GNU style: name at the
    start of a line, body up to the first '}' at the start of a line)."""
    m = re.search(r"^%s\s*\(.*?^\{(.*?)^\}" % re.escape(name), src, re.M | re.S)
    if not m:
        raise Fail("no function %s in tcd-http.c" % name)
    return m.group(1)


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", " ", src)


def if_conditions(body):
    """The condition of every `if (...)`, balancing parentheses."""
    out = []
    for m in re.finditer(r"\bif\s*\(", body):
        depth, i = 1, m.end()
        while i < len(body) and depth:
            if body[i] == "(":
                depth += 1
            elif body[i] == ")":
                depth -= 1
            i += 1
        out.append(body[m.end():i - 1])
    return out


def c_routes(src):
    """[(segments, op, count)]: each `if` of api_handler that tests seg[0]:
    the literal segments it requires ({0: "rules"}, {0: "schema", 1: "config"}),
    and its constraint on the number of segments n ("==" or "<=", count), or
    (None, None) when it has none."""
    body = c_function(src, "api_handler")
    routes = []
    for cond in if_conditions(body):
        segs = {int(i): s for i, s in re.findall(
            r'g_str_equal\s*\(\s*seg\[(\d+)\]\s*,\s*"([^"]+)"\s*\)', cond)}
        if 0 not in segs:
            continue
        m = re.search(r"\bn\s*(==|<=)\s*(\d+)", cond) or re.search(r"(\d+)\s*(==|>=)\s*n\b", cond)
        if m and m.group(1).isdigit():   # "2 >= n" form
            op, count = ("<=" if m.group(2) == ">=" else "=="), int(m.group(1))
        elif m:
            op, count = m.group(1), int(m.group(2))
        else:
            op, count = None, None
        routes.append((segs, op, count))
    return routes


def c_system_actions(src):
    """The literal actions handle_system compares `what` with."""
    body = c_function(src, "handle_system")
    return sorted(set(re.findall(r'g_str(?:cmp0|_equal)\s*\(\s*what\s*,\s*"([^"]+)"\s*\)', body)))


def c_error_codes(src):
    """Every error code string send_error is given, literal or in a ?: """
    codes = set()
    for m in re.finditer(r"\bsend_error\s*\(", src):
        # the arguments, balancing parentheses
        depth, i = 1, m.end()
        while i < len(src) and depth:
            if src[i] == "(":
                depth += 1
            elif src[i] == ")":
                depth -= 1
            i += 1
        args = src[m.end():i - 1]
        if args.lstrip().startswith("SoupServerMessage"):
            continue                    # the prototype and definition
        # code is the third argument: after "msg, STATUS-EXPRESSION,"
        parts = split_args(args)
        if len(parts) >= 3:
            codes.update(re.findall(r'"([a-z_]+)"', parts[2]))
    return codes


def split_args(args):
    parts, depth, cur, in_str = [], 0, "", False
    i = 0
    while i < len(args):
        c = args[i]
        if in_str:
            cur += c
            if c == "\\":
                cur += args[i + 1]
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur += c
        elif c in "([{":
            depth += 1
            cur += c
        elif c in ")]}":
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return [p.strip() for p in parts]


def c_statuses(src):
    return {SOUP_STATUS[s] for s in re.findall(r"SOUP_STATUS_([A-Z_]+)", src) if s in SOUP_STATUS}


# ---- route_level(): the C function itself, evaluated ----
#
# x-permission must say exactly what route_level() in tcd-http.c answers.  A
# Python copy of route_level() kept in this file would drift from the C
# silently (a changed condition with the same literals passes any "same
# strings" guard), so instead the test reads route_level() and evaluates it:
# a tokenizer and a recursive-descent parser for the small C subset the
# function is written in (local `gboolean x = EXPR;`, `if (EXPR) return EXPR;`,
# blocks, `return EXPR;`; expressions with ?:, ||, &&, ==, !=, <, <=, >, >=, !,
# calls of g_str_equal/g_strcmp0/strcmp, seg[i], integer and string literals,
# TCD_LEVEL_*, TRUE, FALSE).  Anything else (another function, a switch, a
# loop, a global) is not guessed at: the test fails and names it, so that
# whoever changes route_level() either keeps to the subset or teaches it here.
# Evaluation short-circuits as C does and refuses to read seg[i] for i >= n
# (a NULL in C).

C_LEVELS = {"TCD_LEVEL_" + name.upper(): i for i, name in enumerate(LEVELS)}
C_CONSTS = dict(C_LEVELS, TRUE=1, FALSE=0)
C_TYPES = {"gboolean", "gint", "guint", "int", "const", "gchar", "TcdLevel"}

C_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<num>\d+)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!?:()\[\],;={}*])
)""", re.X)


def c_tokens(text):
    out, i = [], 0
    text = text.rstrip()
    while i < len(text):
        m = C_TOKEN.match(text, i)
        if not m or m.end() == i:
            raise Fail("route_level: cannot read %r" % text[i:i + 30])
        i = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            val = bytes(val[1:-1], "utf-8").decode("unicode_escape")
        elif kind == "num":
            val = int(val)
        out.append((kind, val))
    return out


class RouteLevel:
    """route_level() of tcd-http.c, parsed once, callable as
    f(method, segments) -> one of LEVELS."""

    def __init__(self, src):
        m = re.search(r"^route_level\s*\(([^)]*)\)\s*^\{(.*?)^\}", src, re.M | re.S)
        if not m:
            raise Fail("no function route_level in tcd-http.c")
        self.params = [re.findall(r"\w+", p)[-1] for p in m.group(1).split(",")]
        if len(self.params) != 3:
            raise Fail("route_level has parameters %s; the test knows (method, seg, n)"
                       % self.params)
        self.toks, self.pos = c_tokens(m.group(2)), 0
        self.body = []
        while self.pos < len(self.toks):
            self.body.append(self.statement())
        self.literals = {v for k, v in self.toks if k == "str"}

    # -- parsing --
    def peek(self, val=None):
        if self.pos >= len(self.toks):
            return None if val is not None else (None, None)
        t = self.toks[self.pos]
        return (t[1] == val and t[0] in ("op", "id")) if val is not None else t

    def take(self, val=None):
        if self.pos >= len(self.toks):
            raise Fail("route_level: unexpected end (expected %r)" % val)
        t = self.toks[self.pos]
        if val is not None and not (t[1] == val and t[0] in ("op", "id")):
            raise Fail("route_level: expected %r, found %r" % (val, t[1]))
        self.pos += 1
        return t

    def statement(self):
        kind, val = self.peek()
        if self.peek("{"):
            self.take("{")
            stmts = []
            while not self.peek("}"):
                stmts.append(self.statement())
            self.take("}")
            return ("block", stmts)
        if self.peek("if"):
            self.take("if")
            self.take("(")
            cond = self.expr()
            self.take(")")
            then = self.statement()
            other = None
            if self.peek("else"):
                self.take("else")
                other = self.statement()
            return ("if", cond, then, other)
        if self.peek("return"):
            self.take("return")
            e = self.expr()
            self.take(";")
            return ("return", e)
        if kind == "id" and val in C_TYPES:
            while self.peek()[0] == "id" and self.peek()[1] in C_TYPES or self.peek("*"):
                self.take()
            name = self.take()
            if name[0] != "id":
                raise Fail("route_level: a declaration of %r" % (name[1],))
            self.take("=")
            e = self.expr()
            self.take(";")
            return ("let", name[1], e)
        raise Fail("route_level: a statement the test does not know, at %r" % (val,))

    def expr(self):
        cond = self.binary(0)
        if self.peek("?"):
            self.take("?")
            a = self.expr()
            self.take(":")
            b = self.expr()
            return ("?", cond, a, b)
        return cond

    BINARY = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def binary(self, level):
        if level == len(self.BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.BINARY[level]:
            op = self.take()[1]
            left = (op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.peek("!"):
            self.take("!")
            return ("!", self.unary())
        return self.postfix()

    def postfix(self):
        kind, val = self.take()
        if kind == "op" and val == "(":
            node = self.expr()
            self.take(")")
        elif kind in ("str", "num"):
            node = ("lit", val)
        elif kind == "id":
            node = ("name", val)
        else:
            raise Fail("route_level: unexpected %r" % (val,))
        while self.peek("(") or self.peek("["):
            if self.peek("("):
                self.take("(")
                args = []
                while not self.peek(")"):
                    args.append(self.expr())
                    if not self.peek(")"):
                        self.take(",")
                self.take(")")
                if node[0] != "name":
                    raise Fail("route_level: a call of something not a function")
                node = ("call", node[1], args)
            else:
                self.take("[")
                idx = self.expr()
                self.take("]")
                node = ("index", node, idx)
        return node

    # -- evaluation --
    def __call__(self, method, segs):
        env = {self.params[0]: method, self.params[1]: list(segs), self.params[2]: len(segs)}
        for st in self.body:
            r = self.run(st, env)
            if r is not None:
                return r
        raise Fail("route_level returns nothing for %s /%s" % (method, "/".join(segs)))

    def run(self, st, env):
        if st[0] == "block":
            for s in st[1]:
                r = self.run(s, env)
                if r is not None:
                    return r
            return None
        if st[0] == "let":
            env[st[1]] = self.ev(st[2], env)
            return None
        if st[0] == "if":
            if self.ev(st[1], env):
                return self.run(st[2], env)
            return self.run(st[3], env) if st[3] else None
        v = self.ev(st[1], env)
        if v not in range(len(LEVELS)):
            raise Fail("route_level returns %r, not a TcdLevel" % (v,))
        return LEVELS[v]

    def ev(self, e, env):
        op = e[0]
        if op == "lit":
            return e[1]
        if op == "name":
            if e[1] in env:
                return env[e[1]]
            if e[1] in C_CONSTS:
                return C_CONSTS[e[1]]
            raise Fail("route_level uses %s, which the test does not know" % e[1])
        if op == "index":
            seq, i = self.ev(e[1], env), self.ev(e[2], env)
            n = env[self.params[2]]
            if not isinstance(seq, list) or not isinstance(i, int):
                raise Fail("route_level indexes something not seg")
            if i >= n:
                raise Fail("route_level reads seg[%d] of a path of %d segment(s) (NULL in C)"
                           % (i, n))
            return seq[i]
        if op == "call":
            args = [self.ev(a, env) for a in e[2]]
            if e[1] == "g_str_equal" and len(args) == 2:
                return int(args[0] == args[1])
            if e[1] in ("g_strcmp0", "strcmp") and len(args) == 2:
                a, b = args
                return 0 if a == b else (-1 if (a or "") < (b or "") else 1)
            raise Fail("route_level calls %s, which the test does not know" % e[1])
        if op == "!":
            return int(not self.ev(e[1], env))
        if op == "?":
            return self.ev(e[2], env) if self.ev(e[1], env) else self.ev(e[3], env)
        if op == "&&":
            return int(bool(self.ev(e[1], env)) and bool(self.ev(e[2], env)))
        if op == "||":
            return int(bool(self.ev(e[1], env)) or bool(self.ev(e[2], env)))
        a, b = self.ev(e[1], env), self.ev(e[2], env)
        return int({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                    ">": a > b, ">=": a >= b}[op])


# ---- the YAML side ----

def load_doc(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        return json.loads(text)
    return yaml.safe_load(text)


def walk_refs(node, where=""):
    """(json pointer of the holder, ref) of every $ref in a document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield where, v
            else:
                yield from walk_refs(v, where + "/" + str(k).replace("~", "~0").replace("/", "~1"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_refs(v, where + "/" + str(i))


def resolve_pointer(doc, pointer):
    pointer = urllib.parse.unquote(pointer)
    if pointer in ("", "/"):
        return doc if pointer == "" else doc.get("")
    check(pointer.startswith("/"), "not a JSON pointer: %r" % pointer)
    node = doc
    for tok in pointer[1:].split("/"):
        tok = tok.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            check(tok.isdigit() and int(tok) < len(node), "no item %s" % tok)
            node = node[int(tok)]
        elif isinstance(node, dict):
            check(tok in node, "no member %r" % tok)
            node = node[tok]
        else:
            raise Fail("cannot descend into %r at %r" % (type(node).__name__, tok))
    return node


class RefChecker:
    """Resolves the refs of a document and, transitively, of the files they
    reach; remembers which failed."""

    def __init__(self, root_path):
        self.docs = {}
        self.root = os.path.realpath(root_path)
        self.local_bad, self.external_bad = [], []
        self.local_n, self.external_n = 0, 0
        self.todo, self.seen = [self.root], set()

    def doc(self, path):
        if path not in self.docs:
            self.docs[path] = load_doc(path)
        return self.docs[path]

    def run(self):
        while self.todo:
            path = self.todo.pop()
            if path in self.seen:
                continue
            self.seen.add(path)
            for where, ref in walk_refs(self.doc(path)):
                self.one(path, where, ref)

    def one(self, path, where, ref):
        target, _, frag = ref.partition("#")
        external = bool(target) or path != self.root
        label = "%s%s: %s" % (os.path.basename(path), where, ref)
        if external:
            self.external_n += 1
        else:
            self.local_n += 1
        bad = self.external_bad if external else self.local_bad
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            bad.append(label + " (an absolute URI: refs stay inside the repository)")
            return
        file = os.path.realpath(os.path.join(os.path.dirname(path), target)) if target else path
        try:
            d = self.doc(file)
        except (OSError, ValueError, yaml.YAMLError) as e:
            bad.append("%s (%s)" % (label, e))
            return
        try:
            resolve_pointer(d, frag)
        except Fail as e:
            bad.append("%s (%s)" % (label, e))
            return
        if file != path:
            self.todo.append(file)


def yaml_paths(doc):
    return list((doc.get("paths") or {}).keys())


def segments(path):
    return [s for s in path.strip("/").split("/") if s]


def operations(doc):
    for path, item in (doc.get("paths") or {}).items():
        for method in METHODS:
            if isinstance(item, dict) and method in item:
                yield path, method, item[method]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    yaml_path = os.path.join(root, "schemas", "openapi.yaml")
    schema_path = os.path.join(root, "schemas", "config.schema.json")
    c_path = os.path.join(root, "appliance", "services", "http", "tcd-http.c")

    tests = []                          # (description, function)
    state = {}

    def add(desc):
        def deco(fn):
            tests.append((desc, fn))
            return fn
        return deco

    # load what we can up front: the number of tests depends on the routes
    try:
        doc = load_doc(yaml_path)
    except Exception as e:          # reported by the first test
        doc, state["yaml_error"] = None, e
    try:
        with open(c_path, encoding="utf-8") as f:
            csrc = strip_comments(f.read())
        routes = c_routes(csrc)
        actions = c_system_actions(csrc)
    except Exception as e:
        csrc, routes, actions, state["c_error"] = None, [], [], e
    route_level = None
    if csrc is not None:
        try:
            route_level = RouteLevel(csrc)
        except Fail as e:
            state["route_level_error"] = e
    try:
        config_schema = load_doc(schema_path)
    except Exception as e:
        config_schema, state["schema_error"] = None, e

    def need_doc():
        check(doc is not None, "openapi.yaml did not parse: %s" % state.get("yaml_error"))

    def need_c():
        check(csrc is not None, "tcd-http.c: %s" % state.get("c_error"))

    @add("openapi.yaml parses as an OpenAPI 3.1 document")
    def _():
        need_doc()
        check(isinstance(doc, dict), "not a mapping")
        check(str(doc.get("openapi", "")).startswith("3.1"), "openapi: %r" % doc.get("openapi"))
        for key in ("info", "paths", "components"):
            check(key in doc, "no %s" % key)
        check(doc["info"].get("title") and doc["info"].get("version"), "info needs title and version")

    refs = RefChecker(yaml_path)
    if doc is not None:
        try:
            refs.run()
        except Exception as e:
            state["ref_error"] = e

    @add("every local $ref resolves")
    def _():
        need_doc()
        check("ref_error" not in state, str(state.get("ref_error")))
        check(refs.local_n > 0, "no local $ref at all")
        check(not refs.local_bad, "unresolved: " + "; ".join(refs.local_bad))

    @add("every $ref into config.schema.json (and the refs it holds) resolves")
    def _():
        need_doc()
        check("ref_error" not in state, str(state.get("ref_error")))
        check(refs.external_n > 0, "no $ref into config.schema.json")
        check(os.path.realpath(schema_path) in refs.docs, "config.schema.json is never referenced")
        check(not refs.external_bad, "unresolved: " + "; ".join(refs.external_bad))

    @add("the API prefix of tcd-http.c is the server URL's path")
    def _():
        need_doc()
        need_c()
        m = re.search(r'#define\s+API\s+"([^"]+)"', csrc)
        check(m, "no #define API in tcd-http.c")
        prefix = m.group(1).rstrip("/")
        servers = doc.get("servers") or []
        check(servers, "no servers")
        for s in servers:
            path = urllib.parse.urlparse(s["url"].replace("{", "").replace("}", "")).path
            check(path.rstrip("/") == prefix, "server %s: path %s, the code serves %s" % (
                s["url"], path, prefix))

    @add("api_handler's routes are found in tcd-http.c")
    def _():
        need_c()
        names = [r[0][0] for r in routes]
        check(len(routes) >= 5, "only %d routes found: %s" % (len(routes), names))
        check("activate" in names, "no activate route found: %s" % names)

    paths = yaml_paths(doc) if isinstance(doc, dict) else []
    path_segs = [segments(p) for p in paths]

    def documented(segs, op, count):
        def ok(ps):
            if any(ps[i:i + 1] != [s] for i, s in segs.items()):
                return False
            return True
        matching = [ps for ps in path_segs if ok(ps)]
        if op == "==":
            need = [count]
        elif op == "<=":
            need = list(range(max(segs) + 1, count + 1))
        else:
            need = []
        check(matching, "no path starts with /%s" % "/".join(segs[i] for i in sorted(segs)))
        for k in need:
            check(any(len(ps) == k for ps in matching),
                  "the code matches %d segment(s) here; no such path documented" % k)

    for segs, op, count in routes:
        route = "/" + "/".join(segs[i] for i in sorted(segs))
        extra = "" if op is None else " (n %s %d)" % (op, count)

        def fn(segs=segs, op=op, count=count):
            need_doc()
            documented(segs, op, count)
        tests.append(("route %s%s is documented" % (route, extra), fn))

    @add("every system action handle_system knows is documented")
    def _():
        need_doc()
        need_c()
        check(actions, "no actions found in handle_system")
        missing = [a for a in actions if "/system/" + a not in paths]
        check(not missing, "undocumented: %s" % missing)

    @add("every documented path is a route the code matches")
    def _():
        need_doc()
        need_c()
        firsts = {r[0][0] for r in routes}
        stray = []
        for p, ps in zip(paths, path_segs):
            if not ps or ps[0] not in firsts:
                stray.append(p)
                continue
            fits = False
            for segs, op, count in routes:
                if any(ps[i:i + 1] != [s] for i, s in segs.items()):
                    continue
                if op == "==" and len(ps) != count or op == "<=" and len(ps) > count:
                    continue
                # /system/{what} goes to handle_system, which knows its actions
                # (/system/audit-log and the like have routes of their own)
                if segs == {0: "system"} and len(ps) == 2 and ps[1] not in actions:
                    continue
                fits = True
            if not fits:
                stray.append(p)
        check(not stray, "not routes of tcd-http.c: %s" % stray)

    @add("the /config/{section} paths are exactly the sections of config.schema.json")
    def _():
        need_doc()
        check(config_schema is not None, "config.schema.json: %s" % state.get("schema_error"))
        sections = set(config_schema["properties"])
        documented_ = {ps[1] for ps in path_segs if len(ps) == 2 and ps[0] == "config"}
        check(documented_ == sections, "missing %s, extra %s" % (
            sorted(sections - documented_), sorted(documented_ - sections)))
        for s in sections:
            item = doc["paths"]["/config/" + s]
            for m in ("get", "put"):
                check(m in item, "/config/%s has no %s" % (s, m))
            body = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            if s == "ports":
                # the section with what is in use (in_use, from_flags): a view
                # whose members are the section's own
                check(body.get("$ref") == "#/components/schemas/PortsView",
                      "/config/ports GET 200 is not #/components/schemas/PortsView")
                view = doc["components"]["schemas"]["PortsView"]["properties"]
                for k in config_schema["properties"]["ports"]["properties"]:
                    check(view.get(k, {}).get("$ref")
                          == "config.schema.json#/properties/ports/properties/" + k,
                          "PortsView.%s is not the section's %s" % (k, k))
                continue
            check(body.get("$ref") == "config.schema.json#/properties/" + s,
                  "/config/%s GET 200 is not config.schema.json#/properties/%s" % (s, s))

    @add("every operation has an operationId, a summary and responses")
    def _():
        need_doc()
        ops = list(operations(doc))
        check(ops, "no operations")
        bad = []
        for path, method, op in ops:
            for key in ("operationId", "summary", "responses"):
                if not op.get(key):
                    bad.append("%s %s: no %s" % (method.upper(), path, key))
            codes = [str(c) for c in (op.get("responses") or {})]
            if not any(c.startswith("2") for c in codes):
                bad.append("%s %s: no 2xx response" % (method.upper(), path))
        check(not bad, "; ".join(bad))

    @add("operationIds are unique")
    def _():
        need_doc()
        ids = [op.get("operationId") for _, _, op in operations(doc)]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        check(not dup, "duplicates: %s" % dup)

    @add("every operation but /activate documents 401; /activate has security: []")
    def _():
        need_doc()
        bad = []
        for path, method, op in operations(doc):
            codes = {str(c) for c in op.get("responses") or {}}
            if path == "/activate":
                if op.get("security") != []:
                    bad.append("%s %s: security is not []" % (method.upper(), path))
            elif "401" not in codes:
                bad.append("%s %s: no 401" % (method.upper(), path))
        check(not bad, "; ".join(bad))

    @add("every operation documents 403 (the login lock and the IP filter answer any request)")
    def _():
        need_doc()
        bad = ["%s %s" % (m.upper(), p) for p, m, op in operations(doc)
               if "403" not in {str(c) for c in op.get("responses") or {}}]
        check(not bad, "no 403: " + "; ".join(bad))

    @add("every operation has x-permission: none, user, operator or administrator")
    def _():
        need_doc()
        bad = ["%s %s: %r" % (m.upper(), p, op.get("x-permission"))
               for p, m, op in operations(doc) if op.get("x-permission") not in LEVELS]
        check(not bad, "; ".join(bad))

    @add("x-permission none goes with security: [] and nothing else does")
    def _():
        need_doc()
        bad = []
        for path, method, op in operations(doc):
            none = op.get("x-permission") == "none"
            if none != (op.get("security") == []):
                bad.append("%s %s: x-permission %s, security %r" % (
                    method.upper(), path, op.get("x-permission"), op.get("security", "(global)")))
        check(not bad, "; ".join(bad))

    @add("route_level() of tcd-http.c is read (the subset of C the test evaluates)")
    def _():
        need_c()
        check(route_level is not None, str(state.get("route_level_error")))
        check(route_level.literals, "route_level compares with no literal: is it read right?")

    @add("the x-permission of every operation is what route_level() answers for it")
    def _():
        need_doc()
        need_c()
        check(route_level is not None, str(state.get("route_level_error")))
        bad, seen = [], set()
        for path, method, op in operations(doc):
            # a path parameter stays "{name}": no literal route_level compares with
            got = route_level(method.upper(), segments(path))
            seen.add(got)
            if op.get("x-permission") != got:
                bad.append("%s %s: x-permission %s, route_level() says %s" % (
                    method.upper(), path, op.get("x-permission"), got))
        check(not bad, "; ".join(bad))
        check(seen == set(LEVELS), "only levels %s occur: is route_level read right?"
              % sorted(seen))

    @add("Digest authentication is the global security scheme")
    def _():
        need_doc()
        schemes = doc["components"].get("securitySchemes") or {}
        digest = [n for n, s in schemes.items()
                  if s.get("type") == "http" and str(s.get("scheme", "")).lower() == "digest"]
        check(digest, "no http digest security scheme")
        glob = doc.get("security") or []
        check(any(set(req) & set(digest) for req in glob), "digest is not required globally")

    @add("the 401 answer documents not_activated")
    def _():
        need_doc()
        check("not_activated" in yaml.safe_dump(doc), "not_activated is never mentioned")

    @add("every error code tcd-http.c sends is in the Error schema")
    def _():
        need_doc()
        need_c()
        codes = c_error_codes(csrc)
        check(len(codes) >= 5, "only found %s" % sorted(codes))
        enum = set(doc["components"]["schemas"]["Error"]["properties"]["error"]
                   ["properties"]["code"]["enum"])
        check(codes <= enum, "missing from the enum: %s" % sorted(codes - enum))
        check(enum <= codes, "in the enum but never sent: %s" % sorted(enum - codes))

    @add("every status tcd-http.c answers with is documented")
    def _():
        need_doc()
        need_c()
        used = c_statuses(csrc)
        documented_ = set()
        for _, _, op in operations(doc):
            documented_ |= {int(c) for c in op.get("responses") or {} if str(c).isdigit()}
        # 405 and 308 (any route, before everything) are documented once each,
        # as reusable responses: with the Allow header, and the redirect to HTTPS
        if "MethodNotAllowed" in (doc["components"].get("responses") or {}):
            documented_.add(405)
        if "RedirectToHttps" in (doc["components"].get("responses") or {}):
            documented_.add(308)
        check(used <= documented_, "undocumented statuses: %s" % sorted(used - documented_))

    # ---- run ----
    print("1..%d" % len(tests))
    failed = 0
    for i, (desc, fn) in enumerate(tests, 1):
        try:
            fn()
            print("ok %d - %s" % (i, desc))
        except Fail as e:
            failed += 1
            print("not ok %d - %s" % (i, desc))
            for line in str(e).splitlines() or [""]:
                print("# " + line)
        except Exception as e:      # a bug or an unexpected document shape
            failed += 1
            print("not ok %d - %s" % (i, desc))
            print("# %s: %s" % (type(e).__name__, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
