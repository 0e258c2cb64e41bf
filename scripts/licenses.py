#!/usr/bin/env python3
"""Writes the open source licenses of what the build uses (manual 10.7) as a C
source holding one JSON document, for GET /api/v1/system/licenses.

The components are the dependencies meson found for this build (its
meson-info/intro-dependencies.json), so the list cannot drift from the build:
for each, the Debian package that ships its pkg-config file and the License
fields of that package's machine-readable copyright file. GStreamer plugins
the pipelines load at run time are listed from the pipelines' element names.

usage: licenses.py OUTPUT.c BUILD_ROOT DIR... (the pipelines, the daemon's sources)
"""
import json
import os
import re
import subprocess
import sys

# needed to build or test, not part of what runs
BUILD_ONLY = {"gstreamer-check-1.0", "gobject-introspection-1.0"}
PROJECT = {"name": "thermocam", "license": "LGPL-2.1-or-later",
           "note": "this software"}


def run(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30,
                              check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


PACKAGE_OF = {}
FIELDS = {}


def find_packages(paths):
    """One dpkg-query for every path (it reads its whole database each time)"""
    paths = [p for p in paths if p and p not in PACKAGE_OF]
    if not paths:
        return
    for line in run(["dpkg-query", "-S"] + paths).splitlines():
        m = re.match(r"^([^:,\s]+)(:[^:\s]+)?: (.*)$", line)
        if m:
            PACKAGE_OF.setdefault(m.group(3), m.group(1))


def package_of(path):
    return PACKAGE_OF.get(path)


def find_fields(packages):
    packages = sorted({p for p in packages if p and p not in FIELDS})
    if not packages:
        return
    out = run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Homepage}\n"] + packages)
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            FIELDS[parts[0]] = {"Version": parts[1], "Homepage": parts[2]}


def licenses_of(package):
    """The License fields of the package's DEP-5 copyright file: the one of
    "Files: *" first, then the others"""
    doc = "/usr/share/doc/%s/copyright" % package
    try:
        with open(doc, encoding="utf-8", errors="replace") as f:
            text = f.read(400000)
    except OSError:
        return []
    main, others = [], []
    for para in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:\s*(.*)$", para, re.M)
        lic = re.search(r"^License:\s*(\S.*)$", para, re.M)
        if not lic:
            continue
        name = lic.group(1).strip()
        if files and files.group(1).strip() == "*":
            main.append(name)
        elif files:
            others.append(name)
    seen, out = set(), []
    for name in main + others:
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def field(package, name):
    return FIELDS.get(package, {}).get(name, "")


def component(name, version, package, kind):
    lic = licenses_of(package) if package else []
    return {
        "name": name,
        "version": version or field(package, "Version"),
        "kind": kind,
        "package": package or "",
        "homepage": field(package, "Homepage"),
        "license": lic[0] if lic else "see the upstream project",
        "licenses": lic,
        "copyright_file": "/usr/share/doc/%s/copyright" % package if package else "",
    }


def libraries(build_root):
    with open(os.path.join(build_root, "meson-info", "intro-dependencies.json")) as f:
        deps = json.load(f)
    found = []
    for d in sorted(deps, key=lambda d: d["name"]):
        name = d["name"]
        if name in BUILD_ONLY or not re.match(r"^[A-Za-z0-9_.+-]+$", name):
            continue
        found.append((name, d.get("version"), run(["pkg-config", "--path", name])))
    find_packages([pc for _, _, pc in found])
    find_fields([package_of(pc) for _, _, pc in found])
    return [component(name, version, package_of(pc), "library") for name, version, pc in found]


def plugins(dirs):
    """The GStreamer plugins of the elements the pipelines and the daemon's
    sources name"""
    names = set()
    for top in dirs:
        for root, _, fns in os.walk(top):
            for fn in sorted(fns):
                if not (fn.endswith(".pipeline") or fn.endswith(".c")):
                    continue
                try:
                    with open(os.path.join(root, fn), encoding="utf-8") as f:
                        text = f.read(400000)
                except OSError:
                    continue
                for m in re.finditer(r'(?:^|!|factory_make \(")\s*([a-z][a-z0-9]+)'
                                     r'(?=[\s!")]|$)', text, re.M):
                    names.add(m.group(1))
                for m in re.finditer(r'"([a-z][a-z0-9]+) (?:name=|!)', text):
                    names.add(m.group(1))
    # one listing: "plugin:  element: description"
    owner = {}
    for line in run(["gst-inspect-1.0"]).splitlines():
        m = re.match(r"^([A-Za-z0-9_-]+):\s+([A-Za-z0-9_-]+):", line)
        if m:
            owner.setdefault(m.group(2), m.group(1))
    plugdir = run(["pkg-config", "--variable=pluginsdir", "gstreamer-1.0"])
    files = {}
    for el in sorted(names):
        if el.startswith("thermal") or el not in owner:
            continue
        path = os.path.join(plugdir, "libgst%s.so" % owner[el])
        files.setdefault(path, []).append(el)
    find_packages(list(files))
    find_fields([package_of(p) for p in files])
    out = []
    for path, elements in sorted(files.items()):
        package = package_of(path)
        c = component(os.path.basename(path), None, package, "gstreamer-plugin")
        c["version"] = field(package, "Version")
        c["elements"] = elements
        out.append(c)
    return out


def main():
    output, build_root = sys.argv[1:3]
    doc = {"project": PROJECT, "components": libraries(build_root) + plugins(sys.argv[3:])}
    text = json.dumps(doc, indent=None, sort_keys=True, ensure_ascii=True)
    lines = ['/* made by scripts/licenses.py at build time: do not edit */',
             '#include <glib.h>',
             'const gchar tcd_licenses_json[] =']
    for i in range(0, len(text), 100):
        chunk = text[i:i + 100].replace("\\", "\\\\").replace('"', '\\"')
        lines.append('  "%s"' % chunk)
    lines[-1] += ";"
    new = "\n".join(lines) + "\n"
    try:
        with open(output, encoding="utf-8") as f:
            if f.read() == new:
                return
    except OSError:
        pass
    with open(output, "w", encoding="utf-8") as f:
        f.write(new)


if __name__ == "__main__":
    main()
