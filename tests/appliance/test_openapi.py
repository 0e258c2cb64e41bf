#!/usr/bin/env python3
"""schemas/openapi.yaml against the daemon it documents (TAP output).

    test_openapi.py SOURCE_ROOT THERMOCAMD

Checks that the document parses as OpenAPI 3.1, that every $ref resolves
(inside it, and into config.schema.json, and the refs of the files it reaches),
that every route of the daemon's route table (`THERMOCAMD --print-routes`) is
documented and nothing else is, that the x-permission of every operation is
the level of its route in that table (the e2e tests build their permission
matrix from x-permission), that every operation has an operationId, a summary
and responses, that every operation but /activate documents 401 and every one
403, and that the error codes and statuses the C code of
appliance/services/http/ sends appear in the document.

Python 3 standard library + python3-yaml only.
"""
import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# libsoup's status names -> numbers, for those the HTTP service uses
SOUP_STATUS = {
    "OK": 200, "CREATED": 201, "ACCEPTED": 202, "NO_CONTENT": 204,
    "BAD_REQUEST": 400, "UNAUTHORIZED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405, "CONFLICT": 409, "REQUEST_ENTITY_TOO_LARGE": 413,
    "INTERNAL_SERVER_ERROR": 500, "SERVICE_UNAVAILABLE": 503, "PERMANENT_REDIRECT": 308,
}

# the values of x-permission and of the route table's levels, in the order of
# TcdLevel (tcd-users.h)
LEVELS = ("none", "user", "operator", "administrator")
# the remote permissions (manual 10.13.1; TcdPermission, tcd-users.h) a route
# needs beside its level (x-remote-permission), "none": the level alone
PERMISSIONS = ("none", "live_view", "playback", "parameters", "log_status", "maintenance",
               "capture", "alarm_output", "serial")
# (METHOD, path) -> permission, from --print-routes
ROUTE_PERMISSIONS = {}


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---- the daemon's routes ----

def daemon_routes(exe):
    """[(METHOD, path, level)] of `thermocamd --print-routes`."""
    out = subprocess.run([exe, "--print-routes"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Fail("%s --print-routes: exit %d: %s" % (exe, out.returncode, out.stderr.strip()))
    routes = json.loads(out.stdout)
    check(isinstance(routes, list), "--print-routes does not print a list")
    for r in routes:
        check(isinstance(r, dict) and set(r) == {"method", "path", "level", "permission"},
              "a route is not {method, path, level, permission}: %r" % (r,))
        ROUTE_PERMISSIONS[(r["method"], r["path"])] = r["permission"]
    return [(r["method"], r["path"], r["level"]) for r in routes]


def daemon_events(exe):
    """[type] of `thermocamd --print-events`, the one list of event types."""
    out = subprocess.run([exe, "--print-events"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Fail("%s --print-events: exit %d: %s" % (exe, out.returncode, out.stderr.strip()))
    types = json.loads(out.stdout)
    check(isinstance(types, list) and types, "--print-events does not print a list")
    for t in types:
        check(isinstance(t, dict) and set(t) == {"type", "doc"} and t["doc"],
              "an event type is not {type, doc}: %r" % (t,))
    return [t["type"] for t in types]


def is_param(seg):
    return len(seg) >= 2 and seg[0] == "{" and seg[-1] == "}"


def pattern_fits(pattern, path):
    """Whether the route pattern's segments take the documented path's: a
    literal the same literal, a {named} segment any one (a documented literal
    such as /config/device, or a {parameter})."""
    return len(pattern) == len(path) and all(
        is_param(p) or p == s for p, s in zip(pattern, path))


def specificity(pattern):
    """As the router picks between patterns: a literal further left wins."""
    return tuple(0 if is_param(p) else 1 for p in pattern)


# ---- the C side: what the handlers send ----

def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", " ", src)


def c_table_codes(src):
    """The error codes of the GError table of tcd-http-reply.c."""
    m = re.search(r"\berror_table\s*\[\s*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if not m:
        raise Fail("no error_table in the sources of appliance/services/http")
    return set(re.findall(r'"([a-z_]+)"', m.group(1)))


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



# ---- the YAML side ----


class StrictLoader(yaml.SafeLoader):
    """YAML whose mappings may not name a key twice (a loader keeps the last
    silently: a merge that doubled a member went unseen)"""


def _strict_mapping(loader, node, deep=False):
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} twice in one mapping", k.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _strict_mapping)


def _strict_object(pairs):
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"the member(s) {twice} twice in one object")
    return dict(pairs)


def load_doc(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        return json.loads(text, object_pairs_hook=_strict_object)
    return yaml.load(text, Loader=StrictLoader)


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


def is_page(item):
    """A path item of the web page: its own servers, at the daemon's root
    (outside the API's prefix)"""
    servers = item.get("servers") if isinstance(item, dict) else None
    return bool(servers) and all(
        urllib.parse.urlparse(s.get("url", "").replace("{", "").replace("}", "")).path.rstrip("/")
        == "" for s in servers)


def operations(doc, page=False):
    """The API's operations (or, with @page, the web page's)"""
    for path, item in (doc.get("paths") or {}).items():
        if is_page(item) != page:
            continue
        for method in METHODS:
            if isinstance(item, dict) and method in item:
                yield path, method, item[method]



def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    exe = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "build", "appliance", "thermocamd")
    yaml_path = os.path.join(root, "schemas", "openapi.yaml")
    schema_path = os.path.join(root, "schemas", "config.schema.json")
    c_dir = os.path.join(root, "appliance", "services", "http")

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
        routes = daemon_routes(exe)
    except Exception as e:
        routes, state["routes_error"] = [], e
    try:
        csrc = ""
        for f in sorted(glob.glob(os.path.join(c_dir, "*.[ch]"))):
            with open(f, encoding="utf-8") as fh:
                csrc += strip_comments(fh.read())
        check(csrc, "no sources in %s" % c_dir)
    except Exception as e:
        csrc, state["c_error"] = None, e
    try:
        config_schema = load_doc(schema_path)
    except Exception as e:
        config_schema, state["schema_error"] = None, e

    def need_doc():
        check(doc is not None, "openapi.yaml did not parse: %s" % state.get("yaml_error"))

    def need_routes():
        check(routes, "thermocamd --print-routes: %s" % state.get("routes_error", "no routes"))

    def need_c():
        check(csrc is not None, "appliance/services/http: %s" % state.get("c_error"))

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

    @add("thermocamd --print-routes prints the route table")
    def _():
        need_routes()
        check(len(routes) >= 5, "only %d routes: %s" % (len(routes), routes))
        check(("POST", "/api/v1/activate", "none") in routes,
              "no POST /api/v1/activate of level none: %s" % routes)
        bad = [r for r in routes if r[0] != r[0].upper() or r[0].lower() not in METHODS
               or r[2] not in LEVELS or not r[1].startswith("/")]
        check(not bad, "odd rows: %s" % bad)
        dup = sorted({r[:2] for r in routes if [x[:2] for x in routes].count(r[:2]) > 1})
        check(not dup, "a method and path twice: %s" % dup)
        check({r[2] for r in routes} == set(LEVELS), "only levels %s occur"
              % sorted({r[2] for r in routes}))

    # the server URL's path is the routes' prefix; the table's paths below it
    prefix = ""
    if isinstance(doc, dict) and doc.get("servers"):
        prefix = urllib.parse.urlparse(
            doc["servers"][0]["url"].replace("{", "").replace("}", "")).path.rstrip("/")

    @add("every route is under the server URL's path")
    def _():
        need_doc()
        need_routes()
        servers = doc.get("servers") or []
        check(servers, "no servers")
        for s in servers:
            path = urllib.parse.urlparse(s["url"].replace("{", "").replace("}", "")).path
            check(path.rstrip("/") == prefix, "servers differ: %s" % [x["url"] for x in servers])
        outside = [r[1] for r in routes if not r[1].startswith(prefix + "/")]
        check(prefix and not outside, "not under %r: %s" % (prefix, outside))

    ops = list(operations(doc)) if isinstance(doc, dict) else []
    table = [(m, segments(p[len(prefix):] if p.startswith(prefix + "/") else p), lvl)
             for m, p, lvl in routes]

    for method, path, level in routes:
        pat = segments(path[len(prefix):]) if path.startswith(prefix + "/") else segments(path)

        def fn(method=method, path=path, level=level, pat=pat):
            need_doc()
            docs = [(p, op) for p, m, op in ops
                    if m.upper() == method and pattern_fits(pat, segments(p))]
            check(docs, "not documented: no %s operation of a path %s fits" % (method, path))
        tests.append(("%s %s (%s) is documented" % (method, path, level), fn))

    def route_of(method, path):
        """The route the daemon takes for a documented path: the most
        specific pattern that fits it, and its row for the method."""
        ps = segments(path)
        fits = [t for t in table if pattern_fits(t[1], ps)]
        if not fits:
            return None, "no route's path fits"
        best = max(specificity(t[1]) for t in fits)
        rows = [t for t in fits if specificity(t[1]) == best]
        pattern = rows[0][1]
        rows = [t for t in rows if t[1] == pattern and t[0] == method.upper()]
        if not rows:
            return None, "/%s has no %s" % ("/".join(pattern), method.upper())
        return rows[0], None

    @add("every documented operation is a route of the daemon")
    def _():
        need_doc()
        need_routes()
        check(ops, "no operations")
        stray = []
        for path, method, op in ops:
            row, why = route_of(method, path)
            if not row:
                stray.append("%s %s (%s)" % (method.upper(), path, why))
        check(not stray, "not routes of thermocamd: %s" % "; ".join(stray))

    @add("the x-permission of every operation is its route's level")
    def _():
        need_doc()
        need_routes()
        bad = []
        for path, method, op in ops:
            row, _ = route_of(method, path)
            if row and op.get("x-permission") != row[2]:
                bad.append("%s %s: x-permission %s, the route table says %s" % (
                    method.upper(), path, op.get("x-permission"), row[2]))
        check(not bad, "; ".join(bad))

    @add("every route names its permission (HTTP_ROUTE_P), one of %s" % ", ".join(PERMISSIONS))
    def _():
        need_routes()
        bad = ["%s %s: %s" % (m, p, v) for (m, p), v in sorted(ROUTE_PERMISSIONS.items())
               if v not in PERMISSIONS]
        check(not bad, "rows without a permission (HTTP_ROUTE: say it with HTTP_ROUTE_P) or "
              "an unknown one: %s" % "; ".join(bad))
        # a user can hold live view only (manual 10.13.1): a route of level user
        # needs live_view or nothing
        bad = ["%s %s" % r[:2] for r in routes
               if r[2] in ("none", "user") and ROUTE_PERMISSIONS[r[:2]] not in ("none", "live_view")]
        check(not bad, "routes a user reaches that need a permission a user cannot hold: %s" % bad)
        for perm in PERMISSIONS[1:]:
            if perm != "serial" or any(v == "serial" for v in ROUTE_PERMISSIONS.values()):
                check(any(v == perm for v in ROUTE_PERMISSIONS.values()),
                      "no route needs %s" % perm)

    @add("the x-remote-permission of every operation is its route's permission")
    def _():
        need_doc()
        need_routes()
        bad = []
        for path, method, op in ops:
            row, _ = route_of(method, path)
            if not row:
                continue
            full = prefix + "/" + "/".join(row[1]) if row[1] else prefix
            want = ROUTE_PERMISSIONS.get((row[0], full))
            if op.get("x-remote-permission") != want:
                bad.append("%s %s: x-remote-permission %s, the route table says %s" % (
                    method.upper(), path, op.get("x-remote-permission"), want))
        check(not bad, "; ".join(bad))

    @add("the /config/{section} paths are exactly the sections of config.schema.json")
    def _():
        need_doc()
        check(config_schema is not None, "config.schema.json: %s" % state.get("schema_error"))
        sections = set(config_schema["properties"])
        documented_ = {ps[1] for ps in map(segments, yaml_paths(doc)) if len(ps) == 2 and ps[0] == "config"}
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
            # a WebSocket's success is 101 Switching Protocols
            if not any(c.startswith("2") or c == "101" for c in codes):
                bad.append("%s %s: no 2xx (or 101) response" % (method.upper(), path))
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

    @add("every error code appliance/services/http sends is in the Error schema")
    def _():
        need_doc()
        need_c()
        codes = c_error_codes(csrc) | c_table_codes(csrc)
        check(len(codes) >= 5, "only found %s" % sorted(codes))
        enum = set(doc["components"]["schemas"]["Error"]["properties"]["error"]
                   ["properties"]["code"]["enum"])
        check(codes <= enum, "missing from the enum: %s" % sorted(codes - enum))
        check(enum <= codes, "in the enum but never sent: %s" % sorted(enum - codes))

    @add("every status appliance/services/http answers with is documented")
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

    @add("the web page (/, its own servers at the root): GET and HEAD with no credentials, "
         "no route of the API")
    def _():
        need_doc()
        need_routes()
        page = [op for op in operations(doc, page=True) if op[0] != "/metrics"]
        check([p for p, _, _ in page] == ["/", "/"], "the page's paths: %s" % [p for p, _, _ in page])
        check(sorted(m for _, m, _ in page) == ["get", "head"], "methods %s" % [m for _, m, _ in page])
        for path, method, op in page:
            check(op.get("x-permission") == "none" and op.get("security") == [],
                  "%s %s: x-permission none and security [] (no login)" % (method.upper(), path))
            check(op.get("operationId") and op.get("summary") and "200" in op.get("responses", {}),
                  "%s %s: operationId, summary, 200" % (method.upper(), path))
        check(not [r for r in routes if not r[1].startswith(prefix + "/")],
              "a route of the API outside %s" % prefix)

    @add("/metrics (Prometheus, at the root too): GET only, level user, by the bearer token "
         "or an account, 401 and 404 (off) documented")
    def _():
        need_doc()
        item = (doc.get("paths") or {}).get("/metrics")
        check(item and is_page(item), "/metrics is not documented at the root")
        check([m for m in METHODS if m in item] == ["get"], "methods: %s" % [m for m in METHODS if m in item])
        op = item["get"]
        check(op.get("x-permission") == "user", "x-permission %s" % op.get("x-permission"))
        schemes = doc["components"].get("securitySchemes") or {}
        bearer = [n for n, s in schemes.items() if str(s.get("scheme", "")).lower() == "bearer"]
        check(bearer and any(set(r) & set(bearer) for r in op.get("security") or []),
              "no bearer security on /metrics")
        check({"200", "401", "404"} <= set(op.get("responses", {})), "responses %s" % list(op.get("responses", {})))

    @add("GET /events documents every event type of thermocamd --print-events, and no other")
    def _():
        need_doc()
        types = daemon_events(exe)
        op = doc["paths"]["/events"]["get"]
        text = op.get("description", "")
        listed = set(re.findall(r"^- `([a-z_]+)` \(schema", text, re.M))
        check(set(types) == listed, "the daemon's %s, the document's %s" % (types, sorted(listed)))
        hello = ": thermocamd events: " + ", ".join(types)
        check(hello in text, "the stream's first comment is not documented as %r" % hello)
        check(all(t in op.get("summary", "") for t in types), "the summary lacks a type")

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

