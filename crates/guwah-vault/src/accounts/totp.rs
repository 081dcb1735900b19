//! The optional second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits,
//! 30 s, one step of clock skew either way), with ten one-time recovery
//! codes. The secret lives in the account's sealed row; a code is accepted
//! once (its time step must be later than the last accepted one), a
//! recovery code once (only its SHA-256 is kept, and it is removed when
//! used).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

use guwah_core::record::{AuditAction, hex32};

use super::{random, unix_now};
use crate::error::VaultError;
use crate::vault::Vault;

const STEP: u64 = 30;
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;

/// The second factor, as the account's sealed row keeps it.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct TotpSealed {
    /// The 20-byte secret, base32 (RFC 4648, no padding).
    secret: String,
    /// The last time step a code was accepted for.
    last_step: u64,
    /// SHA-256 (hex) of each unused recovery code.
    recovery: Vec<String>,
}

impl Drop for TotpSealed {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.secret.zeroize();
    }
}

/// What a person needs to set up their authenticator app, shown once.
#[derive(Debug)]
pub struct TotpEnrollment {
    /// The secret, base32, to type into an app.
    pub secret: Zeroizing<String>,
    /// The `otpauth://` URI (what a QR code would hold).
    pub uri: Zeroizing<String>,
    /// Ten one-time recovery codes, for when the phone is lost.
    pub recovery_codes: Vec<Zeroizing<String>>,
}

/// Whether a second factor was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Factor {
    /// The account has none.
    NotSet,
    /// A code or recovery code was accepted (the row must be saved).
    Accepted,
    /// It is needed and was not given.
    Missing,
    /// It is wrong, used already, or out of time.
    Wrong,
}

fn totp(secret: &str) -> Result<TOTP, VaultError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|_| VaultError::damaged("second factor", "its secret is not base32"))?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP, bytes)
        .map_err(|e| VaultError::damaged("second factor", e.to_string()))
}

fn code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex32(&Sha256::digest(normal.as_bytes()).into())
}

impl TotpSealed {
    /// Check `given` (a 6-digit code or a recovery code) at `now`.
    pub(super) fn check(&mut self, given: Option<&str>, now: u64) -> Result<Factor, VaultError> {
        let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
            return Ok(Factor::Missing);
        };
        if given.len() == DIGITS && given.bytes().all(|b| b.is_ascii_digit()) {
            let t = totp(&self.secret)?;
            let step = now / STEP;
            for s in [step.saturating_sub(1), step, step + 1] {
                let want = t.generate(s * STEP);
                if s > self.last_step && bool::from(want.as_bytes().ct_eq(given.as_bytes())) {
                    self.last_step = s;
                    return Ok(Factor::Accepted);
                }
            }
            return Ok(Factor::Wrong);
        }
        let h = code_hash(given);
        if let Some(i) = self
            .recovery
            .iter()
            .position(|r| bool::from(r.as_bytes().ct_eq(h.as_bytes())))
        {
            self.recovery.remove(i);
            return Ok(Factor::Accepted);
        }
        Ok(Factor::Wrong)
    }
}

/// Ten characters from an alphabet without look-alikes, as `xxxxx-xxxxx`.
fn recovery_code() -> Result<Zeroizing<String>, VaultError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let raw = random::<10>()?;
    let mut s = Zeroizing::new(String::with_capacity(11));
    for (i, b) in raw.iter().enumerate() {
        if i == 5 {
            s.push('-');
        }
        s.push(ALPHABET[usize::from(*b) % ALPHABET.len()] as char);
    }
    Ok(s)
}

impl Vault {
    /// Set (or replace) `name`'s second factor; returns what the person
    /// needs, once. From then on every sign-in of the account asks for a
    /// code.
    pub fn enable_totp(&self, name: &str, by: &str) -> Result<TotpEnrollment, VaultError> {
        let mut row = self.row_of(name)?;
        let mut sealed = self.open_account(&row)?;
        let raw = random::<20>()?;
        let secret = Zeroizing::new(Secret::Raw(raw.to_vec()).to_encoded().to_string());
        let codes = (0..RECOVERY_CODES)
            .map(|_| recovery_code())
            .collect::<Result<Vec<_>, _>>()?;
        sealed.totp = Some(TotpSealed {
            secret: secret.to_string(),
            last_step: 0,
            recovery: codes.iter().map(|c| code_hash(c)).collect(),
        });
        self.seal_audit(
            AuditAction::CredentialsChanged,
            vec![
                ("account".into(), name.into()),
                ("by".into(), by.into()),
                ("factor".into(), "totp set".into()),
            ],
        )?;
        row.sealed = self.seal_account(&row.key, &sealed)?;
        row.updated_at = unix_now();
        self.accounts.update_account(&row)?;
        let label: String = self
            .origin()
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let uri = Zeroizing::new(format!(
            "otpauth://totp/guwah:{name}?secret={}&issuer=guwah%20{label}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
            secret.as_str()
        ));
        Ok(TotpEnrollment {
            secret,
            uri,
            recovery_codes: codes,
        })
    }

    /// Remove `name`'s second factor.
    pub fn disable_totp(&self, name: &str, by: &str) -> Result<(), VaultError> {
        let mut row = self.row_of(name)?;
        let mut sealed = self.open_account(&row)?;
        sealed.totp = None;
        self.seal_audit(
            AuditAction::CredentialsChanged,
            vec![
                ("account".into(), name.into()),
                ("by".into(), by.into()),
                ("factor".into(), "totp removed".into()),
            ],
        )?;
        row.sealed = self.seal_account(&row.key, &sealed)?;
        row.updated_at = unix_now();
        self.accounts.update_account(&row)?;
        Ok(())
    }

    /// Whether `name` has a second factor.
    pub fn has_totp(&self, name: &str) -> Result<bool, VaultError> {
        let row = self.row_of(name)?;
        Ok(self.open_account(&row)?.totp.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_accepted_once_and_recovery_codes_once() {
        let raw = [9u8; 20];
        let secret = Secret::Raw(raw.to_vec()).to_encoded().to_string();
        let mut t = TotpSealed {
            secret: secret.clone(),
            last_step: 0,
            recovery: vec![code_hash("abcde-fghjk")],
        };
        let now = 1_700_000_000u64;
        let code = totp(&secret).unwrap().generate(now);
        assert_eq!(t.check(None, now).unwrap(), Factor::Missing);
        assert_eq!(t.check(Some("000000"), now).unwrap(), Factor::Wrong);
        assert_eq!(t.check(Some(&code), now).unwrap(), Factor::Accepted);
        assert_eq!(
            t.check(Some(&code), now).unwrap(),
            Factor::Wrong,
            "replayed"
        );
        assert_eq!(t.check(Some("ABCDE FGHJK"), now).unwrap(), Factor::Accepted);
        assert_eq!(
            t.check(Some("abcde-fghjk"), now).unwrap(),
            Factor::Wrong,
            "used"
        );
        // RFC 6238 appendix B, SHA-1: T = 59 s gives 94287082 (8 digits);
        // its last six are the 6-digit code.
        let rfc = TOTP::new(Algorithm::SHA1, 6, 1, 30, b"12345678901234567890".to_vec()).unwrap();
        assert_eq!(rfc.generate(59), "287082");
    }
}
