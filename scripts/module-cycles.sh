#!/usr/bin/env bash
# Fails if two parts of one module refer to each other, directly or round a loop: top-level
# modules (`crate::run` ↔ `crate::report`), and the files and folders inside every module
# (`report/tables.rs` ↔ `report/charts.rs`). A module's root (`mod.rs`, `lib.rs`) and its own
# children may refer to each other; a name the root re-exports (`pub use child::Name`) counts
# as a reference to that child. Paths are read from `use` lines and expressions alike
# (`crate::…`, `super::…`, `self::…`, brace groups), with comments and strings left out.
# Usage: scripts/module-cycles.sh [-v]   (-v prints every edge)
set -euo pipefail
cd "$(dirname "$0")/../src"
exec python3 - "$@" <<'PY'
import os, re, sys

verbose = "-v" in sys.argv[1:]

def strip(text):
    """The source without comments, string and char literals (braces kept balanced)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i): depth, i = depth + 1, i + 2
                elif text.startswith("*/", i): depth, i = depth - 1, i + 2
                else: i += 1
        elif re.match(r'b?r#*"', text[i:i + 8]):
            m = re.match(r'b?r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:]):
            i += re.match(r"'(\\.[^']*|[^\\'])'", text[i:]).end()
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)

def module_of(path):
    parts = path[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts

def expand(prefix, body):
    """`a::{b, c::{d, e}}` → a::b, a::c::d, a::c::e (body without the outer braces)."""
    items, depth, start = [], 0, 0
    for k, ch in enumerate(body + ","):
        if ch == "{": depth += 1
        elif ch == "}": depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:k].strip()); start = k + 1
    paths = []
    for item in filter(None, items):
        m = re.match(r"([\w:]*?)::\{(.*)\}$", item, re.S)
        if m: paths += expand(prefix + m.group(1).split("::"), m.group(2))
        else: paths.append(prefix + [p for p in item.split(" as ")[0].strip().split("::") if p])
    return paths

PATH = re.compile(r"\b(crate|super|self)((?:::\w+)*)(?:::\{)?")

def references(text, here):
    """Absolute module paths `text` (a file of module `here`) refers to, inline modules
    (`mod tests { … }`) resolved to their own place."""
    refs, stack, depth = [], [], 0
    token = re.compile(r"\bmod\s+(\w+)\s*\{|[{}]|" + PATH.pattern)
    for m in token.finditer(text):
        s = m.group(0)
        if s.startswith("mod"):
            stack.append((depth, m.group(1))); depth += 1; continue
        if s == "{": depth += 1; continue
        if s == "}":
            depth -= 1
            if stack and stack[-1][0] == depth: stack.pop()
            continue
        module = here + [name for _, name in stack]
        head, rest = m.group(2), [p for p in m.group(3).split("::") if p]
        base = [] if head == "crate" else list(module)
        if head == "super":
            base = base[:-1]
            while rest and rest[0] == "super": base, rest = base[:-1], rest[1:]
        if s.endswith("{"):
            end, d = m.end(), 1
            while d:
                d += {"{": 1, "}": -1}.get(text[end], 0); end += 1
            refs += expand(base + rest, text[m.end():end - 1])
        else:
            refs.append(base + rest)
    return refs

files = {}
for root, _, names in os.walk("."):
    for name in names:
        if name.endswith(".rs"):
            path = os.path.normpath(os.path.join(root, name))
            files[path] = strip(open(path).read())

modules = {tuple(module_of(p)) for p in files}
reexports = {}  # (module, name) -> child unit
for path, text in files.items():
    if os.path.basename(path) in ("mod.rs", "lib.rs"):
        here = module_of(path)
        for m in re.finditer(r"pub(?:\([\w:]+\))?\s+use\s+([^;]+);", text):
            for p in expand([], m.group(1)):
                if p and p[0] not in ("crate", "super") and tuple(here + p[:1]) in modules:
                    reexports[(tuple(here), p[-1])] = p[0]

edges = set()
for path, text in files.items():
    here = module_of(path)
    if os.path.basename(path) == "main.rs":
        continue
    for target in references(text, here):
        k = 0
        while k < min(len(here), len(target)) and here[k] == target[k]: k += 1
        parent = tuple(here[:k])
        if k >= len(here) or k >= len(target):
            continue  # a module's root and its own children may refer to each other
        source, dest = here[k], target[k]
        if tuple(here[:k + 1]) not in modules: continue
        if (parent, dest) in reexports and tuple(target[:k + 1]) not in modules:
            dest = reexports[(parent, dest)]
        if tuple(target[:k + 1]) in modules or tuple(list(parent) + [dest]) in modules:
            if source != dest:
                edges.add(("::".join(parent) or "crate", source, dest))

def sccs(nodes, succ):
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
        for w in succ.get(v, ()):
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in nodes:
        if v not in index: visit(v)
    return out

bad = 0
for parent in sorted({e[0] for e in edges}):
    succ = {}
    for p, a, b in sorted(edges):
        if p == parent: succ.setdefault(a, []).append(b)
    if verbose:
        for a in sorted(succ): print(f"{parent}: {a} -> {' '.join(succ[a])}")
    nodes = sorted(set(succ) | {b for v in succ.values() for b in v})
    for comp in sccs(nodes, succ):
        bad += 1
        loop = [f"{a} -> {b}" for a in comp for b in succ.get(a, ()) if b in comp]
        print(f"import cycle inside {parent}: {', '.join(loop)}", file=sys.stderr)
if bad:
    sys.exit(1)
print(f"no cycles: {len(edges)} references between sibling modules, none refers back")
PY
