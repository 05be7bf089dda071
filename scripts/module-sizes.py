#!/usr/bin/env python3
"""Sizes of operator modules, side by side: file size, code, data and name sections, initial
linear memory, imports, exports and mutable globals. docs/sdk-rust.md quotes its output for
the C++ and the Rust ring.

  scripts/module-sizes.py build/wasm/ring.wasm build/wasm/ring-rust.wasm [--markdown]
"""
import argparse
import os
import sys

SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
                 6: "global", 7: "export", 8: "start", 9: "elem", 10: "code", 11: "data", 12: "datacount"}


class Reader:
    def __init__(self, data, pos=0, end=None):
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self):
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def name(self):
        n = self.uleb()
        s = self.data[self.pos:self.pos + n].decode("utf-8", "replace")
        self.pos += n
        return s

    def limits(self):
        flags = self.byte()
        minimum = self.uleb()
        maximum = self.uleb() if flags & 1 else None
        return minimum, maximum

    def skip_init_expr(self):
        while self.byte() != 0x0B:
            pass


def inspect(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\0asm\1\0\0\0":
        sys.exit(f"{path}: not a wasm module")
    r = Reader(data, 8)
    info = {"path": path, "bytes": len(data), "sections": {}, "imports": [], "exports": [],
            "mutable_globals": 0, "memory_pages": None}
    while r.pos < len(data):
        section_id = r.byte()
        size = r.uleb()
        start = r.pos
        name = SECTION_NAMES.get(section_id, str(section_id))
        if section_id == 0:
            name = "custom:" + Reader(data, start).name()
        info["sections"][name] = info["sections"].get(name, 0) + size
        s = Reader(data, start, start + size)
        if section_id == 2:
            for _ in range(s.uleb()):
                module, field, kind = s.name(), s.name(), s.byte()
                info["imports"].append(f"{module}.{field}")
                if kind == 0:
                    s.uleb()
                elif kind == 1:
                    s.byte()
                    s.limits()
                elif kind == 2:
                    s.limits()
                else:
                    s.byte()
                    s.byte()
        elif section_id == 5 and s.uleb():
            info["memory_pages"] = s.limits()[0]
        elif section_id == 6:
            for _ in range(s.uleb()):
                s.byte()
                info["mutable_globals"] += s.byte()
                s.skip_init_expr()
        elif section_id == 7:
            for _ in range(s.uleb()):
                field, kind = s.name(), s.byte()
                s.uleb()
                if kind == 0:
                    info["exports"].append(field)
        r.pos = start + size
    return info


def kib(n):
    return f"{n / 1024:.1f} KiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--markdown", action="store_true", help="one table row per module")
    args = parser.parse_args()
    modules = [inspect(p) for p in args.modules]
    if args.markdown:
        print("| module | file | code | data | name section | initial memory | imports | mutable globals |")
        print("|---|---|---|---|---|---|---|---|")
        for m in modules:
            sec = m["sections"]
            print(f"| {os.path.basename(m['path'])} | {m['bytes']:,} B ({kib(m['bytes'])}) | {kib(sec.get('code', 0))} "
                  f"| {kib(sec.get('data', 0))} | {kib(sec.get('custom:name', 0))} "
                  f"| {m['memory_pages']} pages ({kib((m['memory_pages'] or 0) * 65536)}) | {len(m['imports'])} "
                  f"| {m['mutable_globals']} |")
        return
    for m in modules:
        print(f"{m['path']}: {m['bytes']} bytes, initial memory {m['memory_pages']} pages, "
              f"{m['mutable_globals']} mutable globals")
        print("  sections: " + ", ".join(f"{k} {v}" for k, v in m["sections"].items()))
        print("  imports: " + " ".join(m["imports"]))
        print("  exports: " + " ".join(m["exports"]))


if __name__ == "__main__":
    main()
