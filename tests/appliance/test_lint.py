#!/usr/bin/env python3
"""Rules of the code that a compiler does not check (TAP).

- JSON from anywhere is parsed by tc_json_parse*() (plugins/core/tc-json.c),
  which bounds its nesting before json-glib's recursive parser sees it;
- members and elements are read with the typed accessors of tc-json.h:
  json-glib's own getters log a critical and return NULL/0 for a member of
  another type, which a body from outside reaches (issue 14: {"link": 1});
- the appliance's layers (appliance/README.md): a file includes only headers
  of its own folder and of the layers below it, a service none of another
  service; no include cycle; no file over 1,000 lines unless its first
  comment says why ("stays one file").
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
n = failed = 0


def ok(cond, desc, detail=""):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + f" {n} - {desc}")
    if not cond:
        failed += 1
        for line in detail.splitlines()[:40]:
            print(f"# {line}")


untyped = re.compile(r"\bjson_(object_get_(string|int|double|boolean|array|object)_member"
                     r"(_with_default)?|array_get_(string|int|double|boolean|object|array)_element"
                     r"|parser_load_from_\w+|from_string)\b")
sources = []
for top in ("appliance", "plugins"):
    for d, _, files in os.walk(os.path.join(root, top)):
        sources += [os.path.join(d, f) for f in files if f.endswith(".c")]
for path in sorted(sources):
    rel = os.path.relpath(path, root)
    if rel.endswith("tc-json.c"):
        continue
    hits = []
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        if untyped.search(line):
            hits.append(f"{rel}:{i}: {line.strip()}")
    ok(not hits, f"{rel}: JSON parsed bounded and read through typed accessors",
       "\n".join(hits))

# ---- the layers ----
LAYERS = ["core", "media", "linkage", "services", "daemon"]
app = os.path.join(root, "appliance")
where = {}                              # header name -> folder (relative to appliance/)
for d, _, files in os.walk(app):
    for f in files:
        if f.endswith(".h"):
            where[f] = os.path.relpath(d, app)


def layer(folder):
    return folder.split(os.sep)[0]


include = re.compile(r'^#include "([^"]+)"', re.M)
graph = {}
bad = []
for d, _, files in os.walk(app):
    folder = os.path.relpath(d, app)
    if layer(folder) not in LAYERS:
        continue
    for f in files:
        if not f.endswith((".c", ".h")):
            continue
        text = open(os.path.join(d, f), encoding="utf-8").read()
        graph[f] = []
        for h in include.findall(text):
            if "/" in h:
                # a path would reach round the include directories of the layers
                bad.append(f"appliance/{folder}/{f} includes \"{h}\" by a path")
                continue
            if h == "tcd-service-table.h" and layer(folder) == "services" and folder != "services":
                bad.append(f"appliance/{folder}/{f} includes the daemon's {h}")
            if h not in where:
                continue                # plugins/core, plugins/gst: below everything
            to = where[h]
            graph[f].append(h)
            if to == folder:
                continue
            lf, lt = LAYERS.index(layer(folder)), LAYERS.index(layer(to))
            if lt > lf or (lt == lf and to != "services" and folder != "services"
                           and to != folder) or (lt == lf and folder == "services"
                                                 and to != "services"):
                bad.append(f"appliance/{folder}/{f} includes {h} of appliance/{to}")
ok(not bad, "appliance/: every include goes to the same folder or a layer below "
   "(core < media < linkage < services < daemon; a service never includes another's)",
   "\n".join(bad))


def cycle_from(start):
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, []):
            if nxt == start:
                return path + [nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


cycles = [" -> ".join(c) for c in (cycle_from(h) for h in sorted(graph) if h.endswith(".h")) if c]
ok(not cycles, "appliance/: no include cycle between headers", "\n".join(cycles[:5]))

big = []
for d, _, files in os.walk(app):
    for f in files:
        if f.endswith((".c", ".h")):
            path = os.path.join(d, f)
            text = open(path, encoding="utf-8").read()
            lines = text.count("\n")
            head = text[:text.find("*/") + 2] if "*/" in text else ""
            if lines > 1050 and "stays one file" not in head:
                big.append(f"{os.path.relpath(path, root)}: {lines} lines")
ok(not big, "appliance/: no file over about 1,000 lines (or its first comment says why)",
   "\n".join(big))
print(f"1..{n}")
sys.exit(1 if failed else 0)
