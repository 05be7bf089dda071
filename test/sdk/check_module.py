#!/usr/bin/env python3
"""Checks that SDK-built operator modules fit the host: the ABI v1 exports, and imports only
from "wop" and the WASI functions the host's shim provides. Prints each module's size, imports
and exports. Usage: check_module.py [--require-export NAME]... module.wasm...
"""
import sys

WASI = "wasi_snapshot_preview1"
WASI_PROVIDED = {
    "fd_write", "fd_close", "fd_seek", "fd_fdstat_get", "proc_exit", "environ_get",
    "environ_sizes_get", "args_get", "args_sizes_get", "clock_time_get", "random_get",
    "sched_yield",
}
WOP_IMPORTS = {"log", "config_get", "declare", "cache_read", "api_call", "reconcile_done",
               "emit_key"}
REQUIRED_EXPORTS = ["wop_abi_version_1", "wop_alloc", "wop_init", "wop_reconcile",
                    "wop_on_complete", "memory"]


def leb(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def name(data, pos):
    length, pos = leb(data, pos)
    return data[pos:pos + length].decode(), pos + length


def sections(data):
    if data[:8] != b"\0asm\1\0\0\0":
        raise ValueError("not a wasm v1 module")
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, pos = leb(data, pos + 1)
        yield sid, data[pos:pos + size]
        pos += size


def imports_exports(data):
    imports, exports = [], []
    for sid, body in sections(data):
        if sid == 2:
            count, pos = leb(body, 0)
            for _ in range(count):
                module, pos = name(body, pos)
                field, pos = name(body, pos)
                kind = body[pos]
                pos += 1
                if kind == 0:
                    _, pos = leb(body, pos)
                elif kind == 1:
                    pos += 1
                    flags, pos = leb(body, pos)
                    _, pos = leb(body, pos)
                    if flags & 1:
                        _, pos = leb(body, pos)
                elif kind == 2:
                    flags, pos = leb(body, pos)
                    _, pos = leb(body, pos)
                    if flags & 1:
                        _, pos = leb(body, pos)
                elif kind == 3:
                    pos += 2
                imports.append((module, field, kind))
        elif sid == 7:
            count, pos = leb(body, 0)
            for _ in range(count):
                field, pos = name(body, pos)
                pos += 1
                _, pos = leb(body, pos)
                exports.append(field)
    return imports, exports


def main(argv):
    required = list(REQUIRED_EXPORTS)
    paths = []
    it = iter(argv)
    for arg in it:
        if arg == "--require-export":
            required.append(next(it))
        else:
            paths.append(arg)
    failures = 0
    for path in paths:
        data = open(path, "rb").read()
        imports, exports = imports_exports(data)
        problems = [f"missing export {e}" for e in required if e not in exports]
        for module, field, _ in imports:
            if module == "wop" and field in WOP_IMPORTS:
                continue
            if module == WASI and field in WASI_PROVIDED:
                continue
            problems.append(f"unsupported import {module}.{field}")
        print(f"{path}: {len(data)} bytes")
        print("  imports: " + ", ".join(f"{m}.{f}" for m, f, _ in imports))
        print("  exports: " + ", ".join(exports))
        for problem in problems:
            print("  FAIL: " + problem)
        failures += len(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
