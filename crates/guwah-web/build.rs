//! Builds `guwah-wasm` for `wasm32-unknown-unknown` with a nested
//! `cargo build` (own target folder under OUT_DIR, clean flags), then writes
//! `verify.html` with the module inlined as base64 into OUT_DIR.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PLACEHOLDER: &str = "@@GUWAH_WASM_BASE64@@";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    for p in [
        "crates/guwah-core/src",
        "crates/guwah-core/Cargo.toml",
        "crates/guwah-wasm/src",
        "crates/guwah-verdict/src",
        "crates/guwah-verdict/Cargo.toml",
        "crates/guwah-tsp/src",
        "crates/guwah-tsp/Cargo.toml",
        "crates/guwah-wasm/Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo::rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo::rerun-if-changed=src/verify.html");
    println!("cargo::rerun-if-changed=build.rs");

    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    check_target_installed(Path::new(&rustc));

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("wasm-target");
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--locked",
            "--release",
            "-p",
            "guwah-wasm",
        ])
        .args(["--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // Small and fast: one codegen unit, fat LTO, no unwinding, no
        // debug info. opt-level 3 rather than "s": SHA-256/512 run about
        // 1.6x faster for ~12% more bytes (measured in Chromium).
        .args(["--config", "profile.release.opt-level=3"])
        .args(["--config", "profile.release.lto=\"fat\""])
        .args(["--config", "profile.release.codegen-units=1"])
        .args(["--config", "profile.release.panic=\"abort\""])
        .args(["--config", "profile.release.debug=false"])
        .args(["--config", "profile.release.strip=true"])
        .args(["--config", "profile.release.incremental=false"]);
    // What verifies a few RFC 3161 tokens and writes one JSON report need
    // not be fast: built for size, it keeps the module about 70 KB smaller
    // (hashing and Ed25519, which run over every byte and item, stay at 3).
    for package in [
        "rsa",
        "num-bigint-dig",
        "p256",
        "p384",
        "primeorder",
        "ecdsa",
        "elliptic-curve",
        "crypto-bigint",
        "der",
        "serde_json",
        "guwah-tsp",
    ] {
        cmd.args([
            "--config",
            &format!("profile.release.package.{package}.opt-level=\"s\""),
        ]);
    }
    // Nothing of the outer build may leak in: its target folder, flags,
    // wrappers (clippy-driver) or the build-script variables cargo sets.
    for (k, _) in env::vars_os() {
        let Some(k) = k.to_str() else { continue };
        let keep = matches!(k, "CARGO_HOME" | "CARGO_MAKEFLAGS")
            || k.starts_with("CARGO_NET_")
            || k.starts_with("CARGO_HTTP_")
            || k.starts_with("CARGO_REGISTRIES_")
            || k.starts_with("CARGO_REGISTRY_");
        if (k.starts_with("CARGO_") && !keep)
            || k.starts_with("RUSTC_")
            || matches!(
                k,
                "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "OPT_LEVEL"
                    | "PROFILE"
                    | "DEBUG"
                    | "NUM_JOBS"
            )
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", "");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {cargo:?}: {e}"));
    if !out.status.success() {
        panic!(
            "building guwah-wasm for {WASM_TARGET} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let wasm_path = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join("guwah_wasm.wasm");
    let wasm =
        fs::read(&wasm_path).unwrap_or_else(|e| panic!("reading {}: {e}", wasm_path.display()));
    fs::write(out_dir.join("guwah_wasm.wasm"), &wasm).expect("write guwah_wasm.wasm");

    let template_path = manifest_dir.join("src/verify.html");
    let template = fs::read_to_string(&template_path).expect("read src/verify.html");
    assert_eq!(
        template.matches(PLACEHOLDER).count(),
        1,
        "src/verify.html must hold {PLACEHOLDER} once"
    );
    let html = template.replace(PLACEHOLDER, &base64(&wasm));
    fs::write(out_dir.join("verify.html"), html).expect("write verify.html");
}

/// Makes sure the wasm32 standard library is there: if it is missing and
/// the toolchain is rustup's, adds it (`rustup target add`, the same
/// download rustup makes for any toolchain component), so that README's
/// first command works on a machine that has only its host target. Fails
/// the build, naming the fix, if that is not possible.
fn check_target_installed(rustc: &Path) {
    if wasm_std_present(rustc) {
        return;
    }
    // Under rustup, RUSTUP_TOOLCHAIN names the toolchain this build runs on.
    let mut add = Command::new("rustup");
    add.args(["target", "add", WASM_TARGET]);
    if let Some(tc) = env::var_os("RUSTUP_TOOLCHAIN") {
        add.arg("--toolchain").arg(tc);
    }
    match add.output() {
        Ok(o) if o.status.success() && wasm_std_present(rustc) => {
            println!(
                "cargo::warning=installed the Rust target {WASM_TARGET} (rustup target add) for the browser verifier"
            );
        }
        Ok(o) => panic!(
            "\n\nguwah-web embeds the browser verifier (guwah-wasm), which needs the Rust target \
             {WASM_TARGET}; `rustup target add {WASM_TARGET}` failed ({}):\n{}\n",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => missing_target(rustc),
    }
}

/// Whether the toolchain of `rustc` has the wasm32 standard library.
fn wasm_std_present(rustc: &Path) -> bool {
    let lib = sysroot(rustc)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib");
    fs::read_dir(&lib)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("libcore"))
        })
        .unwrap_or(false)
}

fn sysroot(rustc: &Path) -> PathBuf {
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| panic!("could not ask {} for its sysroot", rustc.display()))
}

/// Fails the build, naming the fix (no rustup to add the target with).
fn missing_target(rustc: &Path) -> ! {
    panic!(
        "\n\nguwah-web embeds the browser verifier (guwah-wasm), which needs the Rust target \
         {WASM_TARGET}, not installed for this toolchain ({}), and there is no rustup to add it.\n\
         Install the wasm32 standard library for this toolchain (with rustup: \
         rustup target add {WASM_TARGET}).\n\n",
        sysroot(rustc).display()
    );
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}
