// Hands the header folder that wasmtime-c-api-impl's build script installed (with a
// wasmtime/conf.h matching the enabled features) to the setup script, and gives the shared
// library a soname so the host records "libwasmtime.so" rather than a build path.
fn main() {
    let include = std::env::var("DEP_WASMTIME_C_API_INCLUDE")
        .expect("wasmtime-c-api-impl did not announce its include folder");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/include-path.txt"), include).unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwasmtime.so");
    println!("cargo:rerun-if-changed=build.rs");
}
