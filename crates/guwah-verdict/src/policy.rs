//! What the verifier trusts and asks for: [`Policy`], and [`PolicyInput`],
//! the same inputs as the user gives them (key text, file bytes), parsed
//! by one function for `verify-bundle` and `verify.html` alike.

use guwah_core::bundle::Disclosure;
use guwah_core::note::{CosignatureVerifier, Verifier};

/// What a package is checked against.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Log keys the verifier trusts (`--trust`); empty: the package's own
    /// key is used, and the verdict is at best untrusted.
    pub trusted: Vec<Verifier>,
    /// Witness keys whose cosignatures count (`--witness`).
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have validly cosigned the checkpoint
    /// (`--min-witnesses`); 0 with no witnesses: no witness policy.
    pub min_witnesses: usize,
    /// TSA certificates (`--tsa-root`), DER, one each: the self-issued ones
    /// are trust anchors, the others links of a chain to them. A
    /// certificate that does not parse is ignored ([`PolicyInput::parse`]
    /// refuses them).
    pub tsa_roots: Vec<Vec<u8>>,
    /// Disclosures to check against the package (`--disclosure`), each with
    /// the name its failures are given (the file's name).
    pub disclosures: Vec<(String, Disclosure)>,
}

impl Policy {
    /// Whether a witness policy applies.
    pub fn has_witness_policy(&self) -> bool {
        !self.witnesses.is_empty() || self.min_witnesses > 0
    }

    /// The TSA trust store of [`Policy::tsa_roots`].
    pub fn tsa_trust(&self) -> guwah_tsp::Trust {
        let mut trust = guwah_tsp::Trust::new();
        for der in &self.tsa_roots {
            // Refused at input already; a hand-built policy's bad
            // certificate anchors nothing.
            let _ = trust.add_chain(der);
        }
        trust
    }
}

/// A file the user gave, by name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct InputFile {
    /// Its name, as failures will show it (the file name, not a full path).
    pub name: String,
    /// Its bytes (base64 in JSON).
    #[serde(deserialize_with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

fn base64_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    use base64::Engine as _;
    let s: String = serde::Deserialize::deserialize(d)?;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(serde::de::Error::custom)
}

/// The policy as the user gives it: keys as text, files as bytes. The CLI
/// builds it from its flags; `verify.html` sends it as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyInput {
    /// Log keys (C2SP vkeys), one each.
    pub trusted: Vec<String>,
    /// Witness cosignature keys (vkeys of type 0x04), one each.
    pub witnesses: Vec<String>,
    /// The minimum of valid witness cosignatures; `None`: all of them.
    pub min_witnesses: Option<usize>,
    /// TSA certificate files, PEM or DER (roots, and intermediates beside them).
    pub tsa_roots: Vec<InputFile>,
    /// Disclosure files (`guwah disclose --out`).
    pub disclosures: Vec<InputFile>,
}

/// Why a [`PolicyInput`] cannot be used: the input named, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A trusted key that is not a log key.
    #[error("log key {key:?}: not a log key: {why}")]
    TrustedKey {
        /// The text given.
        key: String,
        /// Why.
        why: String,
    },
    /// A witness key that is not a cosignature key.
    #[error("witness key {key:?}: not a witness cosignature key (type 0x04): {why}")]
    WitnessKey {
        /// The text given.
        key: String,
        /// Why.
        why: String,
    },
    /// A minimum of witnesses with no witness keys to count.
    #[error(
        "a minimum of {min} witness cosignature(s) needs the witnesses' keys: give at least one witness key"
    )]
    MinWithoutWitnesses {
        /// The minimum asked for.
        min: usize,
    },
    /// A TSA certificate file that does not parse.
    #[error("TSA certificate file {file}: {why}")]
    TsaRoot {
        /// Its name.
        file: String,
        /// Why.
        why: String,
    },
    /// A disclosure file that does not parse.
    #[error("{file}: not a disclosure file: {why}")]
    Disclosure {
        /// Its name.
        file: String,
        /// Why.
        why: String,
    },
}

/// The keys in a text box: one per line, blank lines and `#` comments
/// skipped, each trimmed.
pub fn key_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

impl PolicyInput {
    /// Every input parsed strictly; the first one that does not parse is
    /// the error.
    pub fn parse(&self) -> Result<Policy, PolicyError> {
        let mut p = Policy::default();
        for k in &self.trusted {
            let k = k.trim();
            p.trusted
                .push(Verifier::from_vkey(k).map_err(|e| PolicyError::TrustedKey {
                    key: k.to_owned(),
                    why: e.to_string(),
                })?);
        }
        for k in &self.witnesses {
            let k = k.trim();
            p.witnesses
                .push(
                    CosignatureVerifier::from_vkey(k).map_err(|e| PolicyError::WitnessKey {
                        key: k.to_owned(),
                        why: e.to_string(),
                    })?,
                );
        }
        p.min_witnesses = match (self.min_witnesses, p.witnesses.len()) {
            (None, n) => n,
            (Some(0), _) => 0,
            (Some(min), 0) => return Err(PolicyError::MinWithoutWitnesses { min }),
            // More than the keys given is not refused: it cannot be met,
            // and the verdict says so (as `guwah verify` does).
            (Some(min), _) => min,
        };
        for f in &self.tsa_roots {
            let bad = |why: String| PolicyError::TsaRoot {
                file: f.name.clone(),
                why,
            };
            let ders = guwah_tsp::certificates_der(&f.bytes).map_err(|e| bad(e.to_string()))?;
            let mut check = guwah_tsp::Trust::new();
            for der in ders {
                check.add_chain(&der).map_err(|e| bad(e.to_string()))?;
                p.tsa_roots.push(der);
            }
        }
        for f in &self.disclosures {
            let d = Disclosure::parse(&f.bytes).map_err(|e| PolicyError::Disclosure {
                file: f.name.clone(),
                why: e.to_string(),
            })?;
            p.disclosures.push((f.name.clone(), d));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guwah_core::note::{CosignatureSigner, Signer};

    fn log_key() -> String {
        Signer::generate("example.org/log", [1; 32])
            .unwrap()
            .verifier()
            .to_vkey()
    }

    fn witness_key(name: &str, seed: u8) -> String {
        CosignatureSigner::generate(name, [seed; 32])
            .unwrap()
            .verifier()
            .to_vkey()
    }

    #[test]
    fn keys_text_skips_blanks_and_comments() {
        assert_eq!(
            key_lines("  a \n\n# note\nb\n"),
            vec!["a".to_owned(), "b".to_owned()]
        );
    }

    #[test]
    fn every_bad_input_is_named() {
        let ok = PolicyInput {
            trusted: vec![log_key()],
            witnesses: vec![witness_key("w1.example", 2), witness_key("w2.example", 3)],
            min_witnesses: Some(1),
            ..PolicyInput::default()
        };
        let p = ok.parse().unwrap();
        assert_eq!(
            (p.trusted.len(), p.witnesses.len(), p.min_witnesses),
            (1, 2, 1)
        );
        assert!(p.has_witness_policy());
        // No minimum: all of them.
        let all = PolicyInput {
            min_witnesses: None,
            ..ok.clone()
        };
        assert_eq!(all.parse().unwrap().min_witnesses, 2);
        for (input, want) in [
            (
                PolicyInput {
                    trusted: vec!["not a key".into()],
                    ..PolicyInput::default()
                },
                "log key \"not a key\": not a log key",
            ),
            (
                PolicyInput {
                    witnesses: vec![log_key()],
                    ..PolicyInput::default()
                },
                "not a witness cosignature key (type 0x04)",
            ),
            (
                PolicyInput {
                    min_witnesses: Some(1),
                    ..PolicyInput::default()
                },
                "needs the witnesses' keys",
            ),
            (
                PolicyInput {
                    tsa_roots: vec![InputFile {
                        name: "root.pem".into(),
                        bytes: b"not a certificate".to_vec(),
                    }],
                    ..PolicyInput::default()
                },
                "TSA certificate file root.pem: ",
            ),
            (
                PolicyInput {
                    disclosures: vec![InputFile {
                        name: "d.txt".into(),
                        bytes: b"guwah/disclosure/v1\n".to_vec(),
                    }],
                    ..PolicyInput::default()
                },
                "d.txt: not a disclosure file: ",
            ),
        ] {
            let e = input.parse().unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        // A minimum of 0 is no policy at all, even without keys.
        let none = PolicyInput {
            min_witnesses: Some(0),
            ..PolicyInput::default()
        };
        assert!(!none.parse().unwrap().has_witness_policy());
    }

    #[test]
    fn policy_input_from_json() {
        let j = format!(
            r#"{{"trusted":["{}"],"min_witnesses":null,"disclosures":[{{"name":"d","bytes":"eA=="}}]}}"#,
            log_key()
        );
        let input: PolicyInput = serde_json::from_str(&j).unwrap();
        assert_eq!(input.disclosures[0].bytes, b"x");
        assert!(serde_json::from_str::<PolicyInput>(r#"{"trust":[]}"#).is_err());
    }
}
