#!/usr/bin/env python3
"""The Rust SDK speaks the ABI of abi/wop_abi.h: every constant of the header is in
sdk-rust/src/abi.rs with the same value, every host function is imported under its name from
module "wop", and operator! exports the header's marker. The header is the source of truth;
this test is what keeps the Rust copy honest.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = (ROOT / "abi" / "wop_abi.h").read_text()
ABI_RS = (ROOT / "sdk-rust" / "src" / "abi.rs").read_text()
GLUE_RS = (ROOT / "sdk-rust" / "src" / "glue.rs").read_text()
NOT_VALUES = {"WOP_ABI_H", "WOP_HOST_FUNCTION_NAMES"}  # include guard; checked apart below


def number(text):
    """A C constant expression of integer literals, e.g. (7ll * 24 * 3600 * 1000)."""
    text = re.sub(r"(\d+)(?:ull|ll|u|l)\b", r"\1", text.strip(), flags=re.I)
    if not re.fullmatch(r"[\d\s()*+-]+", text):
        return None
    return eval(text)  # digits, spaces, parentheses and * + - only


def header_constants():
    constants = {}
    for name, value in re.findall(r"^#define (WOP_\w+)[ \t]+(.+?)\s*(?:/\*.*)?$", HEADER, re.M):
        if name in NOT_VALUES or "(" in name:
            continue
        constants[name] = value.strip('"') if value.startswith('"') else number(value)
    for body in re.findall(r"enum\s*\{(.*?)\};", HEADER, re.S):
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        for name, value in re.findall(r"(WOP_\w+)\s*=\s*(-?\d+)", body):
            constants[name] = int(value)
    return constants


def rust_constants():
    constants = {}
    for name, ty, value in re.findall(r"pub const (WOP_\w+): ([^=]+) = (.+);", ABI_RS):
        constants[name] = value.strip('"') if ty.strip() == "&str" else number(value)
    return constants


def main():
    problems = []
    header, rust = header_constants(), rust_constants()
    for name, value in sorted(header.items()):
        if value is None:
            problems.append(f"cannot read the value of {name} in wop_abi.h")
        elif name not in rust:
            problems.append(f"{name} is missing from sdk-rust/src/abi.rs")
        elif rust[name] != value:
            problems.append(f"{name}: wop_abi.h says {value!r}, abi.rs says {rust[name]!r}")
    for name in sorted(set(rust) - set(header)):
        problems.append(f"abi.rs defines {name}, which wop_abi.h does not")
    functions = re.search(r"#define WOP_HOST_FUNCTION_NAMES\s*\\?\s*(.*?)\n\n", HEADER, re.S).group(1)
    imported = set(re.findall(r'#\[link_name = "(\w+)"\]', ABI_RS))
    for name in re.findall(r'"(\w+)"', functions):
        if name not in imported:
            problems.append(f"host function {name} is not imported by abi.rs")
    if 'wasm_import_module = "wop"' not in ABI_RS:
        problems.append('abi.rs does not import from module "wop"')
    if f'#[export_name = "{header["WOP_ABI_MARKER"]}"]' not in GLUE_RS:
        problems.append(f"glue.rs does not export the marker {header['WOP_ABI_MARKER']}")
    if problems:
        sys.exit("the Rust SDK differs from abi/wop_abi.h:\n  " + "\n  ".join(problems))
    print(f"{len(header)} constants, {len(imported)} imports and the marker match wop_abi.h")


if __name__ == "__main__":
    main()
