#!/usr/bin/env python3
"""The SDK as an outside project sees it: `cmake --install` of the SDK component into a
temporary prefix, then examples/out-of-tree configured, built and tested as a project of its
own (one find_package(WopSdk) line), with the same compilers as this build.

usage: out_of_tree_test.py SOURCE_DIR BUILD_DIR CXX_COMPILER MAKE_PROGRAM
"""
import pathlib
import subprocess
import sys
import tempfile


def run(*command: str) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def main() -> int:
    source, build, cxx, make_program = sys.argv[1:5]
    with tempfile.TemporaryDirectory(prefix="wop-out-of-tree-") as tmp:
        prefix = pathlib.Path(tmp) / "prefix"
        project = pathlib.Path(tmp) / "build"
        run("cmake", "--install", build, "--component", "sdk", "--prefix", str(prefix))
        for installed in ["include/wop/sdk.h", "include/wop/testing/fake_host.h",
                          "include/wop_abi.h", "lib/cmake/WopSdk/WopSdkConfig.cmake",
                          "lib/libwop_sdk_testing.a", "lib/libwop_sdk_native.a",
                          "lib/wasm32-wasi/wop-sdk/glue.o"]:
            if not (prefix / installed).exists():
                print(f"FAIL: the install has no {installed}")
                return 1
        run("cmake", "-S", f"{source}/examples/out-of-tree", "-B", str(project), "-G", "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={make_program}", f"-DCMAKE_CXX_COMPILER={cxx}",
            f"-DCMAKE_PREFIX_PATH={prefix}")
        run("cmake", "--build", str(project))
        run("ctest", "--test-dir", str(project), "--output-on-failure")
        module = (project / "wasm" / "greeter.wasm").read_bytes()
        if not module.startswith(b"\0asm") or b"wop_abi_version_1" not in module:
            print("FAIL: greeter.wasm is not a module of ABI version 1")
            return 1
        print(f"greeter.wasm: {len(module)} bytes; its unit tests passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
