//! Witnessing the vault's log (C2SP tlog-witness, client side): the
//! configured witnesses, sending them the latest checkpoint with a
//! consistency proof, keeping their cosignatures on the checkpoint, and the
//! checks `verify` makes of them.
//!
//! The keyed value `witnesses.json` (`VAULT/witnesses.json` in the local
//! folder) lists the witnesses:
//!
//! ```json
//! {"witnesses": [{"name": "w1", "url": "http://127.0.0.1:7380", "vkey": "witness.example+1234abcd+BA...", "last_size": 12}]}
//! ```
//!
//! `url` is the witness's submission prefix (`/add-checkpoint` is appended);
//! `last_size` is the tree size this witness last cosigned for us (0 at
//! first). Cosignatures are kept by appending their signature lines to the
//! checkpoint note: `log/checkpoint` (by compare-and-swap) and
//! `log/checkpoints/<size>` keep the same body with more signature lines.
//! Both, and the witness list, are written under the writer lock.
//! The network is the caller's: it passes a transport function.

use base64::Engine as _;
use guwah_core::merkle::Hash;
use guwah_core::note::{CosignatureVerifier, Note};
use guwah_core::witness::{self, AddCheckpointRequest};
use serde::{Deserialize, Serialize};

use crate::append::Writer;
use crate::error::VaultError;
use crate::log::Head;
use crate::vault::Vault;
use crate::verify::{Problem, VerifyReport};

const WITNESSES_FILE: &str = "witnesses.json";

/// One configured witness.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WitnessConfig {
    /// A local name for it.
    pub name: String,
    /// Its submission prefix URL.
    pub url: String,
    /// Its cosignature verifier key (vkey, type 0x04).
    pub vkey: String,
    /// The tree size it last cosigned for this log.
    #[serde(default)]
    pub last_size: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct WitnessesFile {
    witnesses: Vec<WitnessConfig>,
}

/// What one witness answered, as `guwah log witness` reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WitnessOutcome {
    /// The witness's local name.
    pub name: String,
    /// Whether a valid cosignature was obtained and kept.
    pub ok: bool,
    /// The last HTTP status, if any.
    pub status: Option<u16>,
    /// What happened, in one line.
    pub message: String,
    /// True when the refusal shows that the log forked or rolled back.
    pub fork: bool,
}

/// What asking the witnesses gave: the verified cosignature lines, what
/// each witness did, and what was learned of each witness's size.
pub(crate) type Asked = (Vec<String>, Vec<WitnessOutcome>, Vec<WitnessConfig>);

/// Sends one request: `(url, body) -> (status, body)`, or a transport error.
pub type Transport<'a> = dyn Fn(&str, &[u8]) -> Result<(u16, Vec<u8>), String> + 'a;

fn decode_hashes(v: &[String]) -> Result<Vec<Hash>, VaultError> {
    v.iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| VaultError::damaged("log", "a proof hash is not 32 bytes of base64"))
        })
        .collect()
}

fn one_line(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]);
    s.trim().replace('\n', " ")
}

impl Vault {
    /// The configured witnesses (none if `witnesses.json` does not exist).
    pub fn witnesses(&self) -> Result<Vec<WitnessConfig>, VaultError> {
        match self.keyed.get(WITNESSES_FILE)? {
            Some(b) => serde_json::from_slice::<WitnessesFile>(&b)
                .map(|f| f.witnesses)
                .map_err(|e| VaultError::damaged(WITNESSES_FILE, e.to_string())),
            None => Ok(Vec::new()),
        }
    }

    fn save_witnesses(&self, w: &Writer<'_>, list: &[WitnessConfig]) -> Result<(), VaultError> {
        let bytes = serde_json::to_vec_pretty(&WitnessesFile {
            witnesses: list.to_vec(),
        })
        .map_err(|e| VaultError::damaged(WITNESSES_FILE, e.to_string()))?;
        w.put(WITNESSES_FILE, &bytes)
    }

    /// Adds (or replaces, by name) a witness: a local name, its submission
    /// URL (`http://` or `https://`) and its cosignature vkey.
    pub fn add_witness(&self, name: &str, url: &str, vkey: &str) -> Result<(), VaultError> {
        let bad = |what: &str, why: String| VaultError::BadArgument {
            what: what.into(),
            why,
        };
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(bad("witness name", "1 to 100 printable characters".into()));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return Err(bad(
                "witness URL",
                format!("{url:?} is not an http:// or https:// URL"),
            ));
        }
        let key = CosignatureVerifier::from_vkey(vkey.trim()).map_err(|e| {
            bad(
                "witness key",
                format!("not a cosignature (type 0x04) vkey: {e}"),
            )
        })?;
        let w = self.writer()?;
        let mut all = self.witnesses()?;
        all.retain(|c| c.name != name);
        all.push(WitnessConfig {
            name: name.into(),
            url: url.trim_end_matches('/').into(),
            vkey: key.to_vkey(),
            last_size: 0,
        });
        self.save_witnesses(&w, &all)
    }

    /// Sends the latest checkpoint to every configured witness with a
    /// consistency proof from the size it last cosigned (retrying once with
    /// the size a 409 names), checks each returned cosignature with the
    /// witness's key, and keeps the valid ones on the checkpoint.
    pub fn witness_checkpoint(
        &self,
        transport: &Transport<'_>,
    ) -> Result<Vec<WitnessOutcome>, VaultError> {
        let head = self.head()?.ok_or_else(|| VaultError::BadArgument {
            what: "log".into(),
            why: "the log is empty: add something first".into(),
        })?;
        let (lines, outcomes, configs) = self.ask_witnesses(&head, transport)?;
        let mut w = self.writer()?;
        self.keep_cosignatures(&mut w, &head, &lines)?;
        self.save_witness_sizes(&w, &configs)?;
        Ok(outcomes)
    }

    /// Ask every configured witness to cosign `head`: see [`Asked`]. The verified
    /// cosignature lines, what each witness did, and what was learned of
    /// each witness's size. Stores nothing.
    pub(crate) fn ask_witnesses(
        &self,
        head: &Head,
        transport: &Transport<'_>,
    ) -> Result<Asked, VaultError> {
        let mut configs = self.witnesses()?;
        if configs.is_empty() {
            return Err(VaultError::BadArgument {
                what: "witnesses".into(),
                why: "none configured; add one with `guwah log witness --add NAME URL VKEY`".into(),
            });
        }
        let size = head.checkpoint.size;
        let text = Note::parse(&head.note)
            .map_err(|e| VaultError::damaged("log/checkpoint", e.to_string()))?
            .text;
        let log = self.log();
        let mut lines = Vec::new();
        let mut outcomes = Vec::new();
        for cfg in &mut configs {
            let key = match CosignatureVerifier::from_vkey(&cfg.vkey) {
                Ok(k) => k,
                Err(e) => {
                    outcomes.push(WitnessOutcome {
                        name: cfg.name.clone(),
                        ok: false,
                        status: None,
                        message: format!("bad key in {WITNESSES_FILE}: {e}"),
                        fork: false,
                    });
                    continue;
                }
            };
            let url = format!("{}/add-checkpoint", cfg.url.trim_end_matches('/'));
            let mut old = if cfg.last_size <= size {
                cfg.last_size
            } else {
                0
            };
            let mut retried = false;
            let outcome = loop {
                let proof = if old == 0 || old == size {
                    Vec::new()
                } else {
                    decode_hashes(&log.consistency(old, size)?.hashes)?
                };
                let body = AddCheckpointRequest::encode(old, &proof, &head.note);
                let fail = |status: Option<u16>, message: String, fork: bool| WitnessOutcome {
                    name: cfg.name.clone(),
                    ok: false,
                    status,
                    message,
                    fork,
                };
                let (status, resp) = match transport(&url, &body) {
                    Ok(r) => r,
                    Err(e) => break fail(None, format!("{url}: {e}"), false),
                };
                match status {
                    200 => match witness::verify_cosignatures(&text, &resp, &key) {
                        Ok(l) => {
                            lines.extend(l);
                            cfg.last_size = size;
                            break WitnessOutcome {
                                name: cfg.name.clone(),
                                ok: true,
                                status: Some(200),
                                message: format!("cosigned tree size {size}"),
                                fork: false,
                            };
                        }
                        Err(e) => break fail(Some(200), e.to_string(), false),
                    },
                    409 => match witness::parse_size_body(&resp) {
                        Some(n) if n > size => {
                            cfg.last_size = n;
                            break fail(
                                Some(409),
                                format!(
                                    "the witness has already cosigned tree size {n} of this log, larger than ours ({size}): the log was rolled back or forked"
                                ),
                                true,
                            );
                        }
                        Some(n) if n != old && !retried => {
                            old = n;
                            cfg.last_size = n;
                            retried = true;
                            continue;
                        }
                        Some(n) => {
                            break fail(
                                Some(409),
                                format!(
                                    "the witness keeps answering that it last cosigned size {n}"
                                ),
                                false,
                            );
                        }
                        None => {
                            break fail(
                                Some(409),
                                format!(
                                    "REFUSED: the witness already cosigned a different tree of size {size}: this log has forked ({})",
                                    one_line(&resp)
                                ),
                                true,
                            );
                        }
                    },
                    422 => {
                        break fail(
                            Some(422),
                            format!(
                                "REFUSED: the checkpoint is not consistent with the one the witness cosigned at size {old}: this log has forked or was rewritten ({})",
                                one_line(&resp)
                            ),
                            true,
                        );
                    }
                    s => break fail(Some(s), format!("refused: {}", one_line(&resp)), false),
                }
            };
            outcomes.push(outcome);
        }
        Ok((lines, outcomes, configs))
    }

    /// Keep cosignature `lines` of `head`: on log/checkpoint if it is still
    /// that checkpoint (compare-and-swap), and on log/checkpoints/<size>,
    /// through `w`, the writer lock held. Returns the note as now stored
    /// for that size.
    pub(crate) fn keep_cosignatures(
        &self,
        w: &mut Writer<'_>,
        head: &Head,
        lines: &[String],
    ) -> Result<Vec<u8>, VaultError> {
        let size = head.checkpoint.size;
        let stored = self.checkpoints.history(size)?.unwrap_or(head.note.clone());
        if lines.is_empty() {
            return Ok(stored);
        }
        let current = w
            .head()
            .filter(|c| c.checkpoint == head.checkpoint)
            .map(|c| c.note.clone());
        if let Some(cur) = current {
            let new_latest = witness::add_signature_lines(&cur, lines)
                .map_err(|e| VaultError::damaged("log/checkpoint", e.to_string()))?;
            w.replace_checkpoint(new_latest.clone())?;
            Ok(new_latest)
        } else {
            let new_hist = witness::add_signature_lines(&stored, lines)
                .map_err(|e| VaultError::damaged("log/checkpoint", e.to_string()))?;
            w.replace_history(&head.checkpoint, &new_hist)?;
            Ok(new_hist)
        }
    }

    /// Keep what was learned of each witness's size.
    pub(crate) fn save_witness_sizes(
        &self,
        w: &Writer<'_>,
        configs: &[WitnessConfig],
    ) -> Result<(), VaultError> {
        let mut saved = self.witnesses()?;
        for s in &mut saved {
            if let Some(c) = configs
                .iter()
                .find(|c| c.name == s.name && c.vkey == s.vkey)
            {
                s.last_size = c.last_size;
            }
        }
        self.save_witnesses(w, &saved)
    }

    /// The witness policy of `guwah verify --witness ... --min-witnesses K`:
    /// the latest checkpoint must carry at least `min` valid cosignatures by
    /// these keys, and no cosignature line by one of them may fail.
    /// Problems are added to `report`.
    pub fn check_witness_policy(
        &self,
        witnesses: &[CosignatureVerifier],
        min: usize,
        report: &mut VerifyReport,
    ) -> Result<(), VaultError> {
        let note = self.checkpoints.latest()?.unwrap_or_default();
        let check = witness::check_witnesses(&note, witnesses);
        for what in check.problems(min) {
            report.problems.push(Problem {
                thing: "log/checkpoint".into(),
                what,
            });
        }
        if check.problems(min).is_empty() && !witnesses.is_empty() {
            let names: Vec<&str> = check.valid.iter().map(|(n, _)| n.as_str()).collect();
            report.notes.push(format!(
                "log/checkpoint: cosigned by {} witness(es): {}",
                names.len(),
                names.join(", ")
            ));
        }
        Ok(())
    }
}

/// Called by `verify` on the latest checkpoint: every cosignature line by a
/// witness configured in `witnesses.json` must verify (a failing one means a
/// forged cosignature or a fork); the count is noted.
pub(crate) fn verify_hook(vault: &Vault, latest: Option<&[u8]>, report: &mut VerifyReport) {
    let Some(note) = latest else { return };
    let configs = match vault.witnesses() {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(Problem {
                thing: WITNESSES_FILE.into(),
                what: e.to_string(),
            });
            return;
        }
    };
    let keys: Vec<CosignatureVerifier> = configs
        .iter()
        .filter_map(|c| CosignatureVerifier::from_vkey(&c.vkey).ok())
        .collect();
    if keys.is_empty() {
        return;
    }
    let check = witness::check_witnesses(note, &keys);
    for what in check.problems(0) {
        report.problems.push(Problem {
            thing: "log/checkpoint".into(),
            what,
        });
    }
    report.notes.push(format!(
        "log/checkpoint: cosigned by {} of {} configured witness(es)",
        check.valid.len(),
        keys.len()
    ));
}
