#!/usr/bin/env python3
"""Checks of iprofmem's machine-readable views, for test/e2e/test_views*.sh.

Standard library only.  Every command prints one line per problem found
(nothing when all is well) and exits 0 when it printed nothing, 1 otherwise;
2 for a usage error.  The "print" commands print what they extract instead.

  json FILE [--procs N] [--merged] [--expect]
        FILE parses as JSON and has iprofmem's schema (version 1): the keys
        and types of the processes, functions and paths, paths that refer
        to functions and parents that exist, memory_mb that matches
        memory_bytes, page multiples, calls <= total_calls, self <= memory.
        --procs N: exactly N processes.  --merged: one process, pid 0 and
        an empty cmdline (the output of a run without --per-process).
        --expect: the rows and call paths of the views target, exact, from
        the environment: VIEWS_SRC (its source path), VIEWS_FUNCS (lines
        "NAME PAGES CALLS TOTAL SELF PEAK LINE") and VIEWS_PATHS (lines
        "A;B;C PAGES CALLS TOTAL SELF PEAK"); and, per function, the sums
        over its paths equal its own numbers (no recursion in views).
  csv CSVFILE JSONFILE
        CSVFILE parses as CSV with the documented header and holds the
        same rows, with the same numbers, as the JSON output JSONFILE.
  table-json TABLEFILE JSONFILE
        The flat table in TABLEFILE and the JSON functions of a merged run
        agree: same keys in the same order, same calls, and the table's
        MB column is %10.4g of memory_bytes / 2^20.
  svg FILE
        FILE parses as XML, its root is an SVG element, and it is
        self-contained: no script element, no on* event attribute, no
        foreignObject, no href (or xlink:href) but to "#fragment", no
        url(...) but to "#fragment", no @import.
  titles FILE     print the text of every <title>, one per line
  texts FILE      print the text of every <text>, one per line
  polylines FILE  print the number of points of every <polyline>
"""
import csv
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

PAGE = 4096
MB = 1 << 20
FUNC_KEYS = ["file", "line", "name", "memory_bytes", "memory_mb", "calls",
             "total_calls", "self_bytes", "peak_bytes", "outer_bytes",
             "outer_calls"]
PATH_KEYS = ["id", "parent", "function", "memory_bytes", "calls",
             "total_calls", "self_bytes", "peak_bytes", "outer_bytes",
             "outer_calls", "inclusive_self_bytes"]
CSV_HEADER = ["pid", "file", "line", "function", "memory_bytes", "memory_mb",
              "calls", "total_calls", "self_bytes", "peak_bytes",
              "outer_bytes", "outer_calls"]
SVG_NS = "{http://www.w3.org/2000/svg}"

problems = []


def problem(msg):
    problems.append(msg)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v))


def check_keys(obj, keys, what):
    if not isinstance(obj, dict):
        problem(f"{what}: not an object: {obj!r:.80}")
        return False
    if list(obj.keys()) != keys:
        problem(f"{what}: keys {list(obj.keys())}, want {keys}")
        return False
    return True


def check_function(f, what):
    if not check_keys(f, FUNC_KEYS, what):
        return False
    ok = True
    for k in ("file", "name"):
        if not isinstance(f[k], str) or not f[k]:
            problem(f"{what}: {k} is not a non-empty string: {f[k]!r}")
            ok = False
    for k in ("line", "memory_bytes", "calls", "total_calls", "self_bytes",
              "peak_bytes", "outer_bytes", "outer_calls"):
        if not is_int(f[k]) or f[k] < 0:
            problem(f"{what}: {k} is not a whole number >= 0: {f[k]!r}")
            ok = False
    if not is_num(f["memory_mb"]):
        problem(f"{what}: memory_mb is not a number: {f['memory_mb']!r}")
        ok = False
    if not ok:
        return False
    name = f"{what} ({f['name']})"
    if abs(f["memory_mb"] - f["memory_bytes"] / MB) > 1e-6:
        problem(f"{name}: memory_mb {f['memory_mb']} is not "
                f"memory_bytes/2^20 = {f['memory_bytes'] / MB}")
    for k in ("memory_bytes", "self_bytes", "peak_bytes"):
        if f[k] % PAGE:
            problem(f"{name}: {k} {f[k]} is not a multiple of {PAGE}")
    if f["memory_bytes"] <= 0 or f["calls"] <= 0:
        problem(f"{name}: a listed function without memory or calls")
    if f["calls"] > f["total_calls"]:
        problem(f"{name}: calls {f['calls']} > total_calls {f['total_calls']}")
    if f["self_bytes"] > f["memory_bytes"]:
        problem(f"{name}: self_bytes {f['self_bytes']} > memory_bytes "
                f"{f['memory_bytes']}")
    return True


def check_path(p, what, nfuncs):
    if not check_keys(p, PATH_KEYS, what):
        return False
    ok = True
    for k in ("id", "function", "memory_bytes", "calls", "total_calls",
              "self_bytes", "peak_bytes", "outer_bytes", "outer_calls",
              "inclusive_self_bytes"):
        if not is_int(p[k]) or p[k] < 0:
            problem(f"{what}: {k} is not a whole number >= 0: {p[k]!r}")
            ok = False
    if p["parent"] is not None and (not is_int(p["parent"]) or p["parent"] < 0):
        problem(f"{what}: parent is neither null nor an id: {p['parent']!r}")
        ok = False
    if ok and p["function"] >= nfuncs:
        problem(f"{what}: function {p['function']} is not an index into "
                f"the {nfuncs} functions")
        ok = False
    if ok:
        for k in ("memory_bytes", "self_bytes", "peak_bytes"):
            if p[k] % PAGE:
                problem(f"{what}: {k} {p[k]} is not a multiple of {PAGE}")
        if p["calls"] > p["total_calls"]:
            problem(f"{what}: calls {p['calls']} > total_calls "
                    f"{p['total_calls']}")
    return ok


def load_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        problem(f"{path}: does not parse as JSON: {e}")
        return None


def check_process(proc, pi):
    what = f"processes[{pi}]"
    if not check_keys(proc, ["pid", "cmdline", "functions", "paths"], what):
        return None
    if not is_int(proc["pid"]) or proc["pid"] < 0:
        problem(f"{what}: pid is not a whole number: {proc['pid']!r}")
    if not isinstance(proc["cmdline"], str):
        problem(f"{what}: cmdline is not a string: {proc['cmdline']!r}")
    if not isinstance(proc["functions"], list) or not isinstance(proc["paths"], list):
        problem(f"{what}: functions or paths is not an array")
        return None
    funcs = proc["functions"]
    good_funcs = all([check_function(f, f"{what}.functions[{i}]")
                      for i, f in enumerate(funcs)])
    keys = [(f.get("file"), f.get("line"), f.get("name")) for f in funcs
            if isinstance(f, dict)]
    if len(set(keys)) != len(keys):
        problem(f"{what}: a function key appears twice")
    paths = proc["paths"]
    good_paths = all([check_path(p, f"{what}.paths[{i}]", len(funcs))
                      for i, p in enumerate(paths)])
    if not (good_funcs and good_paths):
        return None
    ids = {}
    for i, p in enumerate(paths):
        if p["id"] in ids:
            problem(f"{what}.paths[{i}]: id {p['id']} appears twice")
        ids[p["id"]] = p
    for i, p in enumerate(paths):
        seen = set()
        q = p
        while q["parent"] is not None:
            if q["parent"] not in ids:
                problem(f"{what}.paths[{i}]: parent {q['parent']} is no path's id")
                break
            if q["id"] in seen:
                problem(f"{what}.paths[{i}]: the parents make a cycle")
                break
            seen.add(q["id"])
            q = ids[q["parent"]]
    return funcs, paths, ids


def chain(p, funcs, ids):
    names = []
    while True:
        names.append(funcs[p["function"]]["name"])
        if p["parent"] is None or p["parent"] not in ids:
            break
        p = ids[p["parent"]]
        if len(names) > 1000:
            break
    return ";".join(reversed(names))


def expect_views(funcs, paths, ids, what):
    src = os.environ.get("VIEWS_SRC", "")
    by_key = {(f["file"], f["line"], f["name"]): f for f in funcs}
    for line in os.environ.get("VIEWS_FUNCS", "").splitlines():
        if not line.strip():
            continue
        name, pages, calls, total, self_, peak, decl = line.split()
        f = by_key.get((src, int(decl), name))
        if f is None:
            problem(f"{what}: no function {src}:{decl}:{name}")
            continue
        want = {"memory_bytes": int(pages) * PAGE, "calls": int(calls),
                "total_calls": int(total), "self_bytes": int(self_) * PAGE,
                "peak_bytes": int(peak) * PAGE}
        for k, v in want.items():
            if f[k] != v:
                problem(f"{what}: {name}: {k} {f[k]}, want {v}")
    by_chain = {}
    for p in paths:
        by_chain.setdefault(chain(p, funcs, ids), []).append(p)
    for line in os.environ.get("VIEWS_PATHS", "").splitlines():
        if not line.strip():
            continue
        stack, pages, calls, total, self_, peak = line.split()
        got = by_chain.get(stack, [])
        if len(got) != 1:
            problem(f"{what}: {len(got)} paths {stack}, want 1")
            continue
        p = got[0]
        # no caller here frees what its callees touched: what grew along
        # the path (the flame graph's width) is its memory
        want = {"memory_bytes": int(pages) * PAGE, "calls": int(calls),
                "total_calls": int(total), "self_bytes": int(self_) * PAGE,
                "peak_bytes": int(peak) * PAGE,
                "inclusive_self_bytes": int(pages) * PAGE}
        for k, v in want.items():
            if p[k] != v:
                problem(f"{what}: path {stack}: {k} {p[k]}, want {v}")
        f = funcs[p["function"]]
        if f["file"] != src:
            problem(f"{what}: path {stack}: function file {f['file']}, want {src}")
    # No recursion in views: a function's numbers are the sums over its
    # paths, and every call is an outer one.
    for i, f in enumerate(funcs):
        if (f["outer_bytes"], f["outer_calls"]) != (f["memory_bytes"], f["calls"]):
            problem(f"{what}: {f['name']}: outer {f['outer_bytes']} bytes "
                    f"{f['outer_calls']} calls, not its memory and calls")
        mine = [p for p in paths if p["function"] == i]
        for k in ("memory_bytes", "calls", "self_bytes"):
            s = sum(p[k] for p in mine)
            if s != f[k]:
                problem(f"{what}: {f['name']}: {k} {f[k]}, but its paths sum "
                        f"to {s} ({len(mine)} paths)")
        if mine and max(p["peak_bytes"] for p in mine) != f["peak_bytes"]:
            problem(f"{what}: {f['name']}: peak_bytes {f['peak_bytes']} is not "
                    f"the largest of its paths'")


def cmd_json(args):
    path, nprocs, merged, expect = args[0], None, False, False
    rest = args[1:]
    while rest:
        a = rest.pop(0)
        if a == "--procs":
            nprocs = int(rest.pop(0))
        elif a == "--merged":
            merged = True
        elif a == "--expect":
            expect = True
        else:
            print(f"views_check json: unknown argument {a}")
            sys.exit(2)
    d = load_json(path)
    if d is None:
        return
    if not check_keys(d, ["format", "version", "processes"], "top level"):
        return
    if d["format"] != "iprofmem":
        problem(f'format is {d["format"]!r}, want "iprofmem"')
    if not is_int(d["version"]) or d["version"] != 1:
        problem(f'version is {d["version"]!r}, want 1')
    procs = d["processes"]
    if not isinstance(procs, list):
        problem("processes is not an array")
        return
    if merged:
        nprocs = 1
    if nprocs is not None and len(procs) != nprocs:
        problem(f"{len(procs)} processes, want {nprocs}")
    for pi, proc in enumerate(procs):
        r = check_process(proc, pi)
        if merged and isinstance(proc, dict) and (proc.get("pid") != 0
                                                  or proc.get("cmdline") != ""):
            problem(f"processes[{pi}]: pid {proc.get('pid')!r}, cmdline "
                    f"{proc.get('cmdline')!r}; want 0 and \"\" without --per-process")
        if r and expect:
            expect_views(*r, f"processes[{pi}]")


def cmd_csv(args):
    csv_path, json_path = args
    d = load_json(json_path)
    try:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        problem(f"{csv_path}: {e}")
        return
    if text and not text.endswith("\n"):
        problem("the CSV does not end with a newline")
    try:
        rows = list(csv.reader(text.splitlines(keepends=True), strict=True))
    except csv.Error as e:
        problem(f"{csv_path}: does not parse as CSV: {e}")
        return
    if not rows or rows[0] != CSV_HEADER:
        problem(f"CSV header {rows[0] if rows else None}, want {CSV_HEADER}")
        return
    if d is None:
        return
    want = []
    for proc in d["processes"]:
        for f in proc["functions"]:
            want.append([proc["pid"], f["file"], f["line"], f["name"],
                         f["memory_bytes"], f["memory_mb"], f["calls"],
                         f["total_calls"], f["self_bytes"], f["peak_bytes"],
                         f["outer_bytes"], f["outer_calls"]])
    got = rows[1:]
    if len(got) != len(want):
        problem(f"{len(got)} CSV rows, {len(want)} JSON functions")
    conv = [int, str, int, str, int, float, int, int, int, int, int, int]
    for i, (g, w) in enumerate(zip(got, want)):
        if len(g) != len(CSV_HEADER):
            problem(f"CSV row {i + 2}: {len(g)} fields, want {len(CSV_HEADER)}")
            continue
        try:
            vals = [c(x) for c, x in zip(conv, g)]
        except ValueError as e:
            problem(f"CSV row {i + 2}: {e}")
            continue
        if vals != w:
            problem(f"CSV row {i + 2}: {vals}, JSON says {w}")


def cmd_table_json(args):
    table_path, json_path = args
    d = load_json(json_path)
    if d is None:
        return
    with open(table_path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    rows = [l for l in lines if re.match(r"^ *[0-9][0-9.e+-]*  +[0-9]+  \S", l)]
    funcs = d["processes"][0]["functions"] if d["processes"] else []
    if len(rows) != len(funcs):
        problem(f"{len(rows)} table rows, {len(funcs)} JSON functions")
    for r, f in zip(rows, funcs):
        want = "%10.4g  %7d  %s:%d:%s" % (f["memory_bytes"] / MB, f["calls"],
                                          f["file"], f["line"], f["name"])
        if r != want:
            problem(f"table row '{r}', JSON gives '{want}'")


def parse_svg(path):
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        problem(f"{path}: does not parse as XML: {e}")
        return None


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def cmd_svg(args):
    root = parse_svg(args[0])
    if root is None:
        return
    if root.tag != SVG_NS + "svg":
        problem(f"root element {root.tag}, want {SVG_NS}svg")
    url = re.compile(r"url\(\s*['\"]?([^)'\"]*)")
    for el in root.iter():
        name = local(el.tag)
        if name.lower() == "script":
            problem("a <script> element")
        if name.lower() == "foreignobject":
            problem("a <foreignObject> element")
        for k, v in el.attrib.items():
            attr = local(k).lower()
            if attr.startswith("on"):
                problem(f"<{name}> has an event attribute {attr}")
            if attr == "href" and not v.startswith("#"):
                problem(f"<{name}> refers outside: {k}={v!r}")
            for m in url.finditer(v):
                if not m.group(1).startswith("#"):
                    problem(f"<{name}> {attr} refers outside: url({m.group(1)})")
        if name == "style" and el.text:
            if "@import" in el.text:
                problem("<style> has an @import")
            for m in url.finditer(el.text):
                if not m.group(1).startswith("#"):
                    problem(f"<style> refers outside: url({m.group(1)})")


def cmd_print(args, what):
    root = parse_svg(args[0])
    if root is None:
        return
    for el in root.iter():
        if local(el.tag) != what:
            continue
        if what == "polyline":
            pts = re.findall(r"-?[0-9.]+\s*,\s*-?[0-9.]+", el.get("points", ""))
            print(len(pts))
        else:
            print("".join(el.itertext()))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "json":
        cmd_json(args)
    elif cmd == "csv":
        cmd_csv(args)
    elif cmd == "table-json":
        cmd_table_json(args)
    elif cmd == "svg":
        cmd_svg(args)
    elif cmd == "titles":
        cmd_print(args, "title")
    elif cmd == "texts":
        cmd_print(args, "text")
    elif cmd == "polylines":
        cmd_print(args, "polyline")
    else:
        print(f"views_check: unknown command {cmd}")
        sys.exit(2)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
