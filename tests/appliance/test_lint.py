#!/usr/bin/env python3
"""Rules of the code that a compiler does not check (TAP).

- JSON from anywhere is parsed by tc_json_parse*() (plugins/core/tc-json.c),
  which bounds its nesting before json-glib's recursive parser sees it;
- members and elements are read with the typed accessors of tc-json.h:
  json-glib's own getters log a critical and return NULL/0 for a member of
  another type, which a body from outside reaches (issue 14: {"link": 1}).
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
print(f"1..{n}")
sys.exit(1 if failed else 0)
