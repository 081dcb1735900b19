//! guwah's browser verifier: `verify.html`, one self-contained page (HTML,
//! CSS, JavaScript and the `guwah-wasm` module inlined as base64) that
//! checks an evidence package entirely in the browser, with no network.
//!
//! The build script compiles `guwah-wasm` for `wasm32-unknown-unknown`
//! (`rustup target add wasm32-unknown-unknown` if the build says it is
//! missing) and writes the finished page into the build's `OUT_DIR`.

/// The Content-Security-Policy of the page (also in its `<meta>` tag): no
/// network of any kind; inline script and style, WebAssembly compilation,
/// and workers from `blob:` URLs (the hashing workers) only.
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline' 'wasm-unsafe-eval'; \
style-src 'unsafe-inline'; worker-src blob:; img-src data:; base-uri 'none'; form-action 'none'";

/// The complete `verify.html` page, as written into every package and
/// served by `guwah verifier serve`.
pub fn verify_html() -> &'static str {
    include_str!(concat!(env!("OUT_DIR"), "/verify.html"))
}

/// The WebAssembly module embedded in the page (for tests and size checks).
pub fn wasm_module() -> &'static [u8] {
    include_bytes!(concat!(env!("OUT_DIR"), "/guwah_wasm.wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_self_contained() {
        let html = verify_html();
        assert!(html.starts_with("<!doctype html>"));
        assert!(!html.contains("@@GUWAH_WASM_BASE64@@"));
        assert!(html.contains(CSP), "the meta CSP must be the served one");
        // No way out to the network: no remote URL anywhere in the page.
        for bad in [
            "http://",
            "https://",
            "//cdn",
            "fetch(",
            "XMLHttpRequest",
            "WebSocket",
            "src=\"http",
        ] {
            assert!(!html.contains(bad), "verify.html contains {bad:?}");
        }
    }

    #[test]
    fn wasm_module_is_wasm() {
        let w = wasm_module();
        assert_eq!(&w[..4], b"\0asm");
        // About 0.6 MB for the package checks, 0.4 MB more for RFC 3161
        // tokens (RSA, P-256 and P-384 signatures, DER) and serde's JSON.
        assert!(w.len() < 1_100_000, "wasm module grew to {} bytes", w.len());
    }
}
