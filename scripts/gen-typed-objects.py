#!/usr/bin/env python3
"""Generates the guest SDK's typed Kubernetes objects (docs/sdk.md, "Typed objects").

Reads the OpenAPI v2 document of the pinned Kubernetes (scripts/versions.env,
WOP_KUBERNETES_VERSION; the module scripts/setup-kubernetes.sh puts in the Go module cache) and
writes, for the kinds in KINDS and every type they reach (nothing else, to keep modules small):

  sdk/include/wop/types/<group>_<version>.h   structs, in namespace wop::sdk::<group><version>
  sdk/src/types/<group>_<version>.cc          their decodeJson/encodeJson (wop/json_codec.h)

formatted with clang-format-<WOP_LLVM_MAJOR>. Usage:

  scripts/gen-typed-objects.py            # rewrite the committed files
  scripts/gen-typed-objects.py --check    # regenerate into a temp folder, fail if they differ
  scripts/gen-typed-objects.py --spec swagger.json --out DIR

Exit status 77 (ctest's skip) when the spec or clang-format is missing.
"""
import argparse
import filecmp
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
SKIP = 77

# The kinds to generate; everything they reference comes along.
KINDS = [
    "io.k8s.api.core.v1.ConfigMap",
    "io.k8s.api.core.v1.Secret",
    "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.Service",
    "io.k8s.api.core.v1.Pod",
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.events.v1.Event",
    "io.k8s.api.coordination.v1.Lease",
]

# Definition prefix -> (file stem, C++ namespace inside wop::sdk).
PACKAGES = {
    "io.k8s.apimachinery.pkg.apis.meta.v1": ("meta_v1", "metav1"),
    "io.k8s.api.core.v1": ("core_v1", "corev1"),
    "io.k8s.api.apps.v1": ("apps_v1", "appsv1"),
    "io.k8s.api.events.v1": ("events_v1", "eventsv1"),
    "io.k8s.api.coordination.v1": ("coordination_v1", "coordinationv1"),
}

# Definitions that are not structs. Anything else without properties is a string (when the
# schema says so) or free-form json.
SCALARS = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "std::string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "std::string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "std::string",
}

# Required by the schema but null in what the API server returns: an events.k8s.io/v1 Event
# written through core/v1 has no eventTime.
NULLABLE_REQUIRED = {("io.k8s.api.events.v1.Event", "eventTime")}

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

CXX_KEYWORDS = set("""alignas alignof and and_eq asm auto bitand bitor bool break case catch char
char8_t char16_t char32_t class compl concept const consteval constexpr constinit const_cast
continue co_await co_return co_yield decltype default delete do double dynamic_cast else enum
explicit export extern false float for friend goto if inline int long mutable namespace new
noexcept not not_eq nullptr operator or or_eq private protected public register
reinterpret_cast requires return short signed sizeof static static_assert static_cast struct
switch template this thread_local throw true try typedef typeid typename union unsigned using
virtual void volatile wchar_t while xor xor_eq""".split())
# Macros of the C library (wasi-libc's stdio.h defines stdin as a macro): renamed like keywords.
C_MACROS = {"stdin", "stdout", "stderr", "errno", "assert", "unix", "linux"}
RESERVED_MEMBERS = {"unknownFields", "kKind"}


def versions():
    env = {}
    for line in (ROOT / "scripts/versions.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def module_cache():
    if os.environ.get("GOMODCACHE"):
        return pathlib.Path(os.environ["GOMODCACHE"])
    go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if go:
        out = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return pathlib.Path(out.stdout.strip())
    return pathlib.Path(os.environ.get("GOPATH", pathlib.Path.home() / "go")) / "pkg/mod"


def default_spec(version):
    return module_cache() / f"k8s.io/kubernetes@v{version}/api/openapi-spec/swagger.json"


def refs(schema):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                yield value.rsplit("/", 1)[-1]
            else:
                yield from refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from refs(value)


def is_struct(definitions, name):
    return name not in SCALARS and "properties" in definitions[name]


def reachable(definitions):
    seen, stack = set(), list(KINDS)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(refs(definitions[name].get("properties", {})))
    return seen


def package_of(name):
    prefix, short = name.rsplit(".", 1)
    if prefix not in PACKAGES:
        sys.exit(f"gen-typed-objects: {name} is reachable but its package is not in PACKAGES")
    return prefix, short


def member_name(field):
    name = field + "_" if field in CXX_KEYWORDS or field in C_MACROS else field
    if not name.isidentifier() or name in RESERVED_MEMBERS:
        sys.exit(f"gen-typed-objects: field {field!r} has no C++ name")
    return name


class Generator:
    def __init__(self, definitions):
        self.definitions = definitions
        self.types = sorted(n for n in reachable(definitions) if is_struct(definitions, n))
        self.scalars = sorted(n for n in reachable(definitions) if not is_struct(definitions, n))

    def cxx_type(self, schema, package):
        """The C++ type of a property schema, and the packages it needs."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in SCALARS:
                return SCALARS[name], set()
            if not is_struct(self.definitions, name):
                text = self.definitions[name].get("type") == "string"
                return ("std::string" if text else "json"), set()
            prefix, short = package_of(name)
            if prefix == package:
                return short, set()
            return f"{PACKAGES[prefix][1]}::{short}", {prefix}
        kind, fmt = schema.get("type"), schema.get("format")
        if kind == "string":
            return "std::string", set()
        if kind == "boolean":
            return "bool", set()
        if kind == "integer":
            return ("int32_t" if fmt == "int32" else "int64_t"), set()
        if kind == "number":
            return "double", set()
        if kind == "array":
            inner, needs = self.cxx_type(schema["items"], package)
            return f"std::vector<{inner}>", needs
        if kind == "object" and "additionalProperties" in schema:
            inner, needs = self.cxx_type(schema["additionalProperties"], package)
            return f"std::map<std::string, {inner}>", needs
        return "json", set()

    def fields(self, name):
        definition = self.definitions[name]
        required = set(definition.get("required", []))
        is_kind = name in KINDS
        package = package_of(name)[0]
        result = []
        for field, schema in sorted(definition["properties"].items()):
            cxx, needs = self.cxx_type(schema, package)
            plain = (field in required and (name, field) not in NULLABLE_REQUIRED) or (
                is_kind and field == "metadata" and schema.get("$ref", "").endswith(OBJECT_META))
            cxx = cxx if plain else f"std::optional<{cxx}>"
            result.append((field, member_name(field), cxx, needs))
        return result

    def ordered(self, package):
        """The package's structs, each after the ones it holds (std::optional needs them whole)."""
        names = [n for n in self.types if package_of(n)[0] == package]
        done, order, visiting = set(), [], set()

        def visit(name):
            if name in done:
                return
            if name in visiting:
                sys.exit(f"gen-typed-objects: {name} contains itself")
            visiting.add(name)
            for dep in sorted(refs(self.definitions[name]["properties"])):
                if dep in names:
                    visit(dep)
            visiting.discard(name)
            done.add(name)
            order.append(name)

        for name in names:
            visit(name)
        return order

    def header(self, package, version):
        stem, namespace = PACKAGES[package]
        order = self.ordered(package)
        needs = set()
        for name in order:
            for *_, field_needs in self.fields(name):
                needs |= field_needs
        includes = ["wop/json_codec.h"]
        if "IntOrString" in self.body_types(order):
            includes.append("wop/int_or_string.h")
        if any(n in KINDS for n in order):
            includes.append("wop/kind.h")
        includes += sorted(f"wop/types/{PACKAGES[p][0]}.h" for p in needs - {package})
        kinds = [n.rsplit(".", 1)[1] for n in KINDS if package_of(n)[0] == package]
        lines = [self.banner(version),
                 f"//\n// {package}: {len(order)} types"
                 + (f", the kinds {', '.join(kinds)} and what they reference." if kinds else
                    ", those the generated kinds reference."),
                 "#pragma once", "",
                 "#include <cstdint>", "#include <map>", "#include <optional>", "#include <string>",
                 "#include <vector>", ""]
        lines += [f'#include "{i}"' for i in includes]
        lines += ["", f"namespace wop::sdk::{namespace} {{", ""]
        for name in order:
            lines += self.struct(name)
        for name in order:
            short = name.rsplit(".", 1)[1]
            lines.append(f"bool decodeJson(const json& in, {short}& out, DecodeError& error);")
            lines.append(f"void encodeJson(json& out, const {short}& in);")
        lines += ["", f"}}  // namespace wop::sdk::{namespace}", ""]
        return "\n".join(lines)

    def body_types(self, order):
        return " ".join(cxx for n in order for _, _, cxx, _ in self.fields(n))

    def banner(self, version):
        return ("// Generated by scripts/gen-typed-objects.py from the OpenAPI document of Kubernetes\n"
                f"// {version} (api/openapi-spec/swagger.json). Do not edit: change the generator "
                "and run it.")

    def struct(self, name):
        definition = self.definitions[name]
        short = name.rsplit(".", 1)[1]
        lines = []
        description = first_sentence(definition.get("description", ""))
        for line in textwrap.wrap(f"{name}: {description}" if description else name, 96):
            lines.append(f"// {line}")
        lines.append(f"struct {short} {{")
        if name in KINDS:
            gvk = definition["x-kubernetes-group-version-kind"][0]
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            lines.append(f'  static constexpr Kind kKind{{"{api_version}", "{gvk["kind"]}"}};')
        for _, member, cxx, _ in self.fields(name):
            lines.append(f"  {cxx} {member};")
        lines.append("  json unknownFields;  // the fields these types do not know, kept as they "
                     "came")
        lines += ["};", ""]
        return lines

    def source(self, package, version):
        stem, namespace = PACKAGES[package]
        lines = [self.banner(version), f'#include "wop/types/{stem}.h"', "",
                 f"namespace wop::sdk::{namespace} {{", ""]
        for name in self.ordered(package):
            short = name.rsplit(".", 1)[1]
            fields = self.fields(name)
            lines.append(f"bool decodeJson(const json& in, {short}& out, DecodeError& error) {{")
            lines.append('  if (!in.is_object()) return error.expected("object", in);')
            lines.append("  for (auto it = in.begin(); it != in.end(); ++it) {")
            lines.append("    const std::string& key = it.key();")
            lines.append("    bool ok = true;")
            for i, (field, member, _, _) in enumerate(fields):
                keyword = "if" if i == 0 else "} else if"
                lines.append(f'    {keyword} (key == "{field}") {{')
                lines.append(f"      ok = detail::decodeField(*it, out.{member}, error);")
            lines.append("    } else {")
            lines.append("      out.unknownFields[key] = *it;")
            lines.append("    }")
            lines.append("    if (!ok) return error.inField(key);")
            lines.append("  }")
            lines.append("  return true;")
            lines.append("}")
            lines.append("")
            lines.append(f"void encodeJson(json& out, const {short}& in) {{")
            lines.append("  out = detail::unknownFieldsOf(in);")
            for field, member, _, _ in fields:
                lines.append(f'  detail::encodeField(out, "{field}", in.{member});')
            lines.append("}")
            lines.append("")
        lines += [f"}}  // namespace wop::sdk::{namespace}", ""]
        return "\n".join(lines)


def first_sentence(text):
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def clang_format(path, text, llvm_major):
    tool = shutil.which(f"clang-format-{llvm_major}")
    if tool is None:
        print(f"gen-typed-objects: SKIP: clang-format-{llvm_major} is not installed",
              file=sys.stderr)
        sys.exit(SKIP)
    command = [tool, f"--assume-filename={ROOT / path}", f"--style=file:{ROOT / '.clang-format'}"]
    out = subprocess.run(command, input=text, capture_output=True, text=True, check=True)
    return out.stdout


def generate(spec, out_dir, version, llvm_major):
    definitions = json.loads(pathlib.Path(spec).read_text())["definitions"]
    generator = Generator(definitions)
    packages = sorted({package_of(n)[0] for n in generator.types})
    written = []
    for package in packages:
        stem = PACKAGES[package][0]
        for path, text in ((f"sdk/include/wop/types/{stem}.h", generator.header(package, version)),
                           (f"sdk/src/types/{stem}.cc", generator.source(package, version))):
            target = pathlib.Path(out_dir) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(clang_format(path, text, llvm_major))
            written.append(path)
    return written, generator


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", help="swagger.json (default: the pinned Kubernetes' in the Go "
                        "module cache)")
    parser.add_argument("--out", default=str(ROOT),
                        help="where sdk/include/wop/types and sdk/src/types go")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp folder and fail if the committed files differ")
    args = parser.parse_args()
    env = versions()
    version = env["WOP_KUBERNETES_VERSION"]
    spec = pathlib.Path(args.spec) if args.spec else default_spec(version)
    if not spec.is_file():
        print(f"gen-typed-objects: SKIP: no OpenAPI document at {spec} "
              "(scripts/setup-kubernetes.sh downloads the pinned Kubernetes module)", file=sys.stderr)
        return SKIP
    if not args.check:
        written, generator = generate(spec, args.out, version, env["WOP_LLVM_MAJOR"])
        print(f"{len(generator.types)} types in {len(written)} files from {spec}")
        return 0
    with tempfile.TemporaryDirectory() as temp:
        written, generator = generate(spec, temp, version, env["WOP_LLVM_MAJOR"])
        committed = {str(p.relative_to(ROOT)) for d in ("sdk/include/wop/types", "sdk/src/types")
                     for p in (ROOT / d).glob("*") if p.is_file()}
        stale = [p for p in written if not (ROOT / p).is_file()
                 or not filecmp.cmp(ROOT / p, pathlib.Path(temp) / p, shallow=False)]
        stale += sorted(committed - set(written))
    if stale:
        print("generated files differ from scripts/gen-typed-objects.py's output (run it):", file=sys.stderr)
        for path in stale:
            print(f"  {path}", file=sys.stderr)
        return 1
    print(f"all {len(written)} generated files ({len(generator.types)} types) are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
