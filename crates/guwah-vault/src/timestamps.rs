//! RFC 3161 timestamps over checkpoints (see `docs/format.md`,
//! "Timestamps"): the TSA configuration in the keyed value `tsa.json`, the
//! tokens in `timestamps/<size>/<tsa name>.tsr` (files of those names in
//! the local folder), and their check in `verify`.
//!
//! The network is not here: callers pass a transport that POSTs a
//! `TimeStampReq` and returns the body of the answer. Every answer is
//! parsed and fully verified (imprint, nonce, signature, chain to the TSA's
//! configured roots at the token's time) *before* it is stored, under the
//! writer lock; a rejected answer leaves nothing behind.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use guwah_tsp::{Token, Trust, TspError};
use serde::{Deserialize, Serialize};

use crate::append::Writer;
use crate::error::VaultError;
use crate::vault::Vault;
use crate::verify::{Problem, VerifyReport};

/// The TSA configuration's key (plaintext: it holds only public URLs and
/// certificates).
pub const TSA_FILE: &str = "tsa.json";
/// The key prefix (a folder in the local vault) of stored tokens.
pub const TIMESTAMPS_DIR: &str = "timestamps";

/// One configured time-stamping authority.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TsaConfig {
    /// Its name in the vault: `[a-z0-9][a-z0-9.-]*`, at most 64 bytes (also
    /// the token's file name).
    pub name: String,
    /// Where requests are POSTed (`http://` or `https://`).
    pub url: String,
    /// Trusted certificates, PEM: self-issued ones are roots, the others
    /// chain links (intermediates, or the TSA certificate itself).
    pub roots: String,
}

impl TsaConfig {
    /// The trust store its certificates make.
    pub fn trust(&self) -> Result<Trust, TspError> {
        let mut t = Trust::new();
        t.add_chain(self.roots.as_bytes())?;
        Ok(t)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TsaFile {
    version: u32,
    tsas: Vec<TsaConfig>,
}

/// POST a DER `TimeStampReq` to a URL and return the response body (the
/// caller's HTTP client; it enforces timeouts, size limit and content type).
pub type TsaTransport<'a> = dyn Fn(&str, &[u8]) -> Result<Vec<u8>, String> + Send + Sync + 'a;

/// A transport that can be kept in options (`ExportOptions::timestamp`).
#[derive(Clone)]
pub struct SharedTransport(
    /// The transport.
    pub std::sync::Arc<TsaTransport<'static>>,
);

impl std::fmt::Debug for SharedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedTransport(..)")
    }
}

/// What one TSA did with one request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StampOutcome {
    /// The TSA's name.
    pub tsa: String,
    /// The checkpoint stamped.
    pub checkpoint_size: u64,
    /// Where the token was stored (relative to the vault), if it was.
    pub stored: Option<String>,
    /// The token's time, if it verified.
    pub gen_time: Option<String>,
    /// Its accuracy, if stated.
    pub accuracy: Option<String>,
    /// The TSA certificate's subject.
    pub tsa_certificate: Option<String>,
    /// Why nothing was stored, as one line.
    pub error: Option<String>,
}

fn check_tsa_name(name: &str) -> Result<(), VaultError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(VaultError::BadArgument {
            what: format!("TSA name {name:?}"),
            why: "use lowercase letters, digits, '.' and '-' (at most 64), starting with a letter or digit".into(),
        })
    }
}

/// `token from <TSA>: <what is wrong>`, in the checkpoint's words.
pub(crate) fn token_error(tsa: &str, e: &TspError) -> String {
    match e {
        TspError::ImprintMismatch => {
            format!("token from {tsa}: message imprint does not match the checkpoint")
        }
        e => format!("token from {tsa}: {e}"),
    }
}

/// The key of a stored token: `timestamps/<size>/<tsa>.tsr`.
fn token_key(size: u64, tsa: &str) -> String {
    format!("{TIMESTAMPS_DIR}/{size}/{tsa}.tsr")
}

/// `(size, tsa name)` of a token key, if it is one (canonical size, valid
/// name, `.tsr`).
fn parse_token_key(key: &str) -> Option<(u64, &str)> {
    let rest = key.strip_prefix(TIMESTAMPS_DIR)?.strip_prefix('/')?;
    let (size, file) = rest.split_once('/')?;
    let n: u64 = size.parse().ok()?;
    let name = file.strip_suffix(".tsr")?;
    (n.to_string() == size && check_tsa_name(name).is_ok()).then_some((n, name))
}

impl Vault {
    /// The configured TSAs (none if `tsa.json` does not exist).
    pub fn tsas(&self) -> Result<Vec<TsaConfig>, VaultError> {
        let Some(text) = self.keyed.get(TSA_FILE)? else {
            return Ok(Vec::new());
        };
        let file: TsaFile = serde_json::from_slice(&text)
            .map_err(|e| VaultError::damaged(TSA_FILE, e.to_string()))?;
        if file.version != 1 {
            return Err(VaultError::damaged(
                TSA_FILE,
                format!("version {} is not known to this guwah", file.version),
            ));
        }
        Ok(file.tsas)
    }

    /// Add (or replace) a TSA: its name, URL, and the certificates that
    /// anchor its chain (PEM or DER; at least one self-issued root).
    pub fn add_tsa(&self, name: &str, url: &str, certs: &[u8]) -> Result<TsaConfig, VaultError> {
        check_tsa_name(name)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
            return Err(VaultError::BadArgument {
                what: format!("TSA URL {url:?}"),
                why: "must be an http:// or https:// URL".into(),
            });
        }
        let bad = |why: String| VaultError::BadArgument {
            what: "--root".into(),
            why,
        };
        let ders = guwah_tsp::certificates_der(certs).map_err(|e| bad(e.to_string()))?;
        let mut pem = String::new();
        for d in &ders {
            pem.push_str("-----BEGIN CERTIFICATE-----\n");
            let b = B64.encode(d);
            for chunk in b.as_bytes().chunks(64) {
                pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
        }
        let config = TsaConfig {
            name: name.into(),
            url: url.into(),
            roots: pem,
        };
        let roots = Trust::new()
            .add_chain(config.roots.as_bytes())
            .map_err(|e| bad(e.to_string()))?;
        if roots == 0 {
            return Err(bad(
                "no self-issued (root) certificate among those given".into()
            ));
        }
        let w = self.writer()?;
        let mut tsas = self.tsas()?;
        tsas.retain(|t| t.name != name);
        tsas.push(config.clone());
        let file = TsaFile { version: 1, tsas };
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|e| VaultError::damaged(TSA_FILE, e.to_string()))?;
        json.push(b'\n');
        w.put(TSA_FILE, &json)?;
        Ok(config)
    }

    /// Stamp the latest checkpoint with each of `tsas` through `transport`,
    /// under the writer lock. Each answer is verified before it is stored;
    /// one failing TSA does not stop the others. Errors only if there is no
    /// checkpoint yet or another writer holds the lock.
    pub fn timestamp(
        &self,
        tsas: &[TsaConfig],
        transport: &TsaTransport<'_>,
    ) -> Result<Vec<StampOutcome>, VaultError> {
        let w = self.writer()?;
        let head = w.head().ok_or_else(|| VaultError::BadArgument {
            what: "timestamp".into(),
            why: "the vault has no checkpoint yet; add something first".into(),
        })?;
        self.stamp_checkpoint(&w, head.checkpoint.size, &head.note, tsas, transport)
    }

    /// Stamp the checkpoint `note` (of tree size `size`); tokens are stored
    /// through `w`, the writer lock held.
    pub(crate) fn stamp_checkpoint(
        &self,
        w: &Writer<'_>,
        size: u64,
        note: &[u8],
        tsas: &[TsaConfig],
        transport: &TsaTransport<'_>,
    ) -> Result<Vec<StampOutcome>, VaultError> {
        let data = guwah_tsp::stamped_bytes(note)
            .ok_or_else(|| VaultError::damaged("log/checkpoint", "not a signed note"))?;
        let mut out = Vec::new();
        for tsa in tsas {
            let mut o = StampOutcome {
                tsa: tsa.name.clone(),
                checkpoint_size: size,
                stored: None,
                gen_time: None,
                accuracy: None,
                tsa_certificate: None,
                error: None,
            };
            match self.stamp_one(w, size, data, tsa, transport) {
                Ok((path, v)) => {
                    o.stored = Some(path);
                    o.gen_time = Some(v.gen_time.to_string());
                    o.accuracy = v.accuracy.map(|a| a.to_string());
                    o.tsa_certificate = Some(v.tsa);
                }
                Err(e) => o.error = Some(e),
            }
            out.push(o);
        }
        Ok(out)
    }

    fn stamp_one(
        &self,
        w: &Writer<'_>,
        size: u64,
        data: &[u8],
        tsa: &TsaConfig,
        transport: &TsaTransport<'_>,
    ) -> Result<(String, guwah_tsp::Verified), String> {
        let name = &tsa.name;
        check_tsa_name(name).map_err(|e| e.to_string())?;
        let trust = tsa
            .trust()
            .map_err(|e| format!("TSA {name}: its configured certificates: {e}"))?;
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| format!("random generator: {e}"))?;
        let req = guwah_tsp::request(data, nonce);
        let body = transport(&tsa.url, &req.der).map_err(|e| format!("TSA {name}: {e}"))?;
        let token = Token::parse(&body).map_err(|e| token_error(name, &e))?;
        let v = token
            .verify(data, Some(&req.nonce), &trust)
            .map_err(|e| token_error(name, &e))?;
        let key = token_key(size, name);
        w.put(&key, &body).map_err(|e| e.to_string())?;
        Ok((key, v))
    }

    /// The stored tokens for the checkpoint of tree size `size`, by TSA
    /// name, sorted.
    pub fn timestamp_tokens(&self, size: u64) -> Result<Vec<(String, Vec<u8>)>, VaultError> {
        let prefix = format!("{TIMESTAMPS_DIR}/{size}/");
        let mut out = Vec::new();
        for key in self.keyed.list(&prefix)? {
            let Some((_, name)) = parse_token_key(&key) else {
                continue;
            };
            // Listed a moment ago; gone now only if deleted meanwhile.
            if let Some(bytes) = self.keyed.get(&key)? {
                out.push((name.to_owned(), bytes));
            }
        }
        out.sort();
        Ok(out)
    }

    /// `verify`'s check of every stored token: over its checkpoint, and
    /// (when its TSA is configured) signed by a certificate chaining to the
    /// TSA's roots at the token's time.
    pub(crate) fn verify_timestamps(&self, report: &mut VerifyReport) -> Result<(), VaultError> {
        let mut sizes: Vec<u64> = self
            .keyed
            .list(&format!("{TIMESTAMPS_DIR}/"))?
            .iter()
            .filter_map(|k| parse_token_key(k).map(|(n, _)| n))
            .collect();
        if sizes.is_empty() {
            return Ok(());
        }
        sizes.sort_unstable();
        sizes.dedup();
        let tsas = match self.tsas() {
            Ok(t) => t,
            Err(e) => {
                report.problems.push(Problem {
                    thing: TSA_FILE.into(),
                    what: e.to_string(),
                });
                Vec::new()
            }
        };
        for size in sizes {
            let note = self.checkpoints.history(size)?;
            for (name, bytes) in self.timestamp_tokens(size)? {
                let thing = token_key(size, &name);
                let Some(note) = &note else {
                    report.problems.push(Problem {
                        thing,
                        what: format!("there is no checkpoint of size {size} to stamp"),
                    });
                    continue;
                };
                let Some(data) = guwah_tsp::stamped_bytes(note) else {
                    continue; // the checkpoint check reports the note itself
                };
                let trust = tsas
                    .iter()
                    .find(|t| t.name == name)
                    .map(TsaConfig::trust)
                    .transpose();
                let result = Token::parse(&bytes).and_then(|tok| {
                    let trust = trust.clone()?.unwrap_or_default();
                    tok.verify(data, None, &trust)
                });
                match result {
                    Ok(_) => {}
                    Err(TspError::NoRoots) => report.notes.push(format!(
                        "{thing}: over checkpoint {size}, but not checked against a root (no TSA named {name} is configured)"
                    )),
                    Err(e) => report.problems.push(Problem {
                        thing,
                        what: token_error(&name, &e),
                    }),
                }
            }
        }
        Ok(())
    }
}
