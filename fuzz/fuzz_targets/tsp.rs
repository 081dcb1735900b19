//! RFC 3161 parsers: TimeStampResp / TimeStampToken, and the verification
//! path over whatever parses (certificates, signed attributes, chain).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = guwah_tsp::Token::parse(data) {
        let _ = token.info.gen_time.to_string();
        let mut trust = guwah_tsp::Trust::new();
        // Any certificate in the input may serve as its own root.
        if let Ok(certs) = guwah_tsp::certificates_der(data) {
            for c in certs {
                let _ = trust.add_chain(&c);
            }
        }
        let _ = token.verify(b"hello", token.info.nonce.as_deref(), &trust);
    }
    let _ = guwah_tsp::certificates_der(data);
    let _ = guwah_tsp::Trust::new().add_chain(data);
});
