//! What every handler shares: the vault, the spool, the one write gate,
//! and the sign-in throttles.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guwah_vault::{ItemSummary, Spool, Vault};

use super::TeamConfig;
use super::error::{ApiError, ApiResult};

/// The server's shared state (cheap to clone).
#[derive(Clone)]
pub struct TeamState {
    /// The vault served.
    pub vault: Arc<Vault>,
    /// Uploads in progress.
    pub spool: Arc<Spool>,
    /// How the server runs.
    pub config: Arc<TeamConfig>,
    /// The vault has one writer: writes from every request queue here.
    gate: Arc<Mutex<()>>,
    /// Sign-in failures per account name.
    pub(crate) login_failures: Arc<Throttle>,
    /// Sign-in attempts per client address.
    pub(crate) login_attempts: Arc<Throttle>,
    /// Uploads created per account.
    pub(crate) upload_creations: Arc<Throttle>,
    /// Every item's summary, as of a tree size: listing and searching read
    /// this, not the whole log each time.
    items: Arc<Mutex<Option<Summaries>>>,
    /// Items' details at one tree size (bounded): reads do not change
    /// them, and a write empties it.
    details: Arc<Mutex<Details>>,
    /// Who each credential was, for a second (see [`PRINCIPAL_TTL`]).
    principals: Arc<Mutex<HashMap<String, (Instant, guwah_vault::Principal)>>>,
    /// When each (account, item) preview was last sealed as an event.
    previews: Arc<Mutex<HashMap<(String, String), Instant>>>,
    /// Full-text search over every item's file name, tags and note, in
    /// memory only.
    search: Arc<Search>,
}

/// The search index and how many of the item summaries it holds (they
/// are in log order and only ever grow, so new ones are a tail).
pub(crate) struct Search {
    index: guwah_search::SearchIndex,
    indexed: Mutex<usize>,
}

impl Search {
    /// Index the summaries not yet indexed.
    pub(crate) fn catch_up(&self, all: &[ItemSummary]) -> ApiResult<()> {
        let mut indexed = self.indexed.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() <= *indexed {
            return Ok(());
        }
        let docs = all[*indexed..].iter().map(|it| guwah_search::Doc {
            key: it.leaf_index,
            texts: [
                it.filename.clone().unwrap_or_default(),
                it.tags.join(" "),
                it.note.clone().unwrap_or_default(),
            ]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect(),
        });
        self.index
            .add(docs)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        *indexed = all.len();
        Ok(())
    }

    /// The leaf indexes of the items matching `text`, best first.
    pub(crate) fn find(&self, text: &str, all: &[ItemSummary]) -> ApiResult<Vec<u64>> {
        self.catch_up(all)?;
        let hits = self
            .index
            .search(text, all.len().max(1))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(hits.into_iter().map(|h| h.key).collect())
    }
}

/// An account's previews of one item within this time are one custody
/// event: a media player asks for many ranges of the same original.
pub const PREVIEW_RECORD_SPAN: Duration = Duration::from_secs(600);

/// How long a checked credential is trusted without asking the database
/// again. The server's own sign-outs and account changes take effect at
/// once (they empty the cache); a `guwah user disable` run beside the
/// server takes effect within this time.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(1);

/// An item's details, inclusion proof and the checkpoint it is against.
pub(crate) type Detail = (
    guwah_vault::ItemDetails,
    guwah_vault::InclusionProof,
    Vec<u8>,
);

#[derive(Default)]
struct Details {
    size: u64,
    map: std::collections::HashMap<String, Arc<Detail>>,
}

/// Details kept at most.
const MAX_DETAILS: usize = 10_000;

/// Every item's summary as of a tree size.
type Summaries = (u64, Arc<Vec<ItemSummary>>);

impl TeamState {
    /// The state for `vault`, with its spool in `config.spool_dir`.
    pub fn new(vault: Vault, config: TeamConfig) -> Result<Self, guwah_vault::VaultError> {
        let spool = vault.spool(config.spool_dir.clone())?;
        Ok(TeamState {
            vault: Arc::new(vault),
            spool: Arc::new(spool),
            config: Arc::new(config),
            gate: Arc::new(Mutex::new(())),
            // Ten wrong passwords for one account in 15 minutes, then wait:
            // slow enough against guessing, and a lockout that ends.
            login_failures: Arc::new(Throttle::new(10, Duration::from_secs(15 * 60))),
            // Thirty attempts a minute from one address, whatever the name.
            login_attempts: Arc::new(Throttle::new(30, Duration::from_secs(60))),
            upload_creations: Arc::new(Throttle::new(120, Duration::from_secs(60))),
            items: Arc::new(Mutex::new(None)),
            details: Arc::new(Mutex::new(Details::default())),
            principals: Arc::new(Mutex::new(HashMap::new())),
            previews: Arc::new(Mutex::new(HashMap::new())),
            search: Arc::new(Search {
                index: guwah_search::SearchIndex::new().map_err(|e| {
                    guwah_vault::VaultError::Io {
                        path: "the search index (in memory)".into(),
                        source: std::io::Error::other(e),
                    }
                })?,
                indexed: Mutex::new(0),
            }),
        })
    }

    /// The principal `key` (a credential's hash) was less than
    /// [`PRINCIPAL_TTL`] ago.
    pub(crate) fn cached_principal(&self, key: &str) -> Option<guwah_vault::Principal> {
        let map = self.principals.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < PRINCIPAL_TTL)
            .map(|(_, p)| p.clone())
    }

    /// Remember who `key` is.
    pub(crate) fn remember_principal(&self, key: String, p: guwah_vault::Principal) {
        let mut map = self.principals.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, (at, _)| at.elapsed() < PRINCIPAL_TTL);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        map.insert(key, (Instant::now(), p));
    }

    /// Whether `account`'s preview of `item` now is to be sealed as a
    /// custody event (none was in the last [`PREVIEW_RECORD_SPAN`]); if so,
    /// it is counted as sealed from now.
    pub(crate) fn preview_to_record(&self, account: &str, item: &str) -> bool {
        let now = Instant::now();
        let mut map = self.previews.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, at| now.duration_since(*at) < PREVIEW_RECORD_SPAN);
        }
        let key = (account.to_owned(), item.to_owned());
        match map.get(&key) {
            Some(at) if now.duration_since(*at) < PREVIEW_RECORD_SPAN => false,
            _ => {
                map.insert(key, now);
                true
            }
        }
    }

    /// Forget that `account` previewed `item` (its event was not sealed).
    pub(crate) fn preview_not_recorded(&self, account: &str, item: &str) {
        self.previews
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(account.to_owned(), item.to_owned()));
    }

    /// Forget every remembered principal (after a sign-out or an account
    /// change).
    pub(crate) fn forget_principals(&self) {
        self.principals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Index every item for search (at start); how many there are.
    pub fn build_search(&self) -> ApiResult<usize> {
        let all = self.item_cache().get(&self.vault)?;
        self.search.catch_up(&all)?;
        Ok(all.len())
    }

    /// The search index, for a blocking closure.
    pub(crate) fn search(&self) -> Arc<Search> {
        Arc::clone(&self.search)
    }

    /// A handle on the item details, for a blocking closure.
    pub(crate) fn detail_cache(&self) -> DetailCache {
        DetailCache(Arc::clone(&self.details))
    }

    /// A handle on the item summaries, for a blocking closure.
    pub(crate) fn item_cache(&self) -> ItemCache {
        ItemCache(Arc::clone(&self.items))
    }

    /// Run `f` on a blocking thread with the vault (reads).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let vault = Arc::clone(&self.vault);
        tokio::task::spawn_blocking(move || f(&vault)).await?
    }

    /// Run `f` on a blocking thread holding the write gate (writes). A
    /// vault writer held elsewhere (an export's events, a `guwah` command
    /// on the same vault) is waited for, a few seconds at most.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl Fn(&Vault) -> Result<T, ApiError> + Send + 'static,
    ) -> ApiResult<T> {
        let vault = Arc::clone(&self.vault);
        let gate = Arc::clone(&self.gate);
        tokio::task::spawn_blocking(move || {
            let _held = gate.lock().unwrap_or_else(|p| p.into_inner());
            let deadline = Instant::now() + LOCK_WAIT;
            loop {
                match f(&vault) {
                    Err(e) if e.is_locked() && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    other => return other,
                }
            }
        })
        .await?
    }
}

/// How long a write waits for a vault writer held elsewhere.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Run `f` until it does not fail for a writer held elsewhere, waiting
/// [`LOCK_WAIT`] at most (on a blocking thread).
pub(crate) fn when_unlocked<T>(
    mut f: impl FnMut() -> Result<T, guwah_vault::VaultError>,
) -> Result<T, guwah_vault::VaultError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match f() {
            Err(guwah_vault::VaultError::Locked(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Items' details at the committed size.
pub(crate) struct DetailCache(Arc<Mutex<Details>>);

impl DetailCache {
    /// Item `id`'s details (a full id), its inclusion proof and checkpoint
    /// (blocking).
    pub(crate) fn get(&self, vault: &Vault, id: &str) -> ApiResult<Arc<Detail>> {
        let size = vault.size()?;
        {
            let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if c.size != size {
                c.map.clear();
                c.size = size;
            }
            if let Some(d) = c.map.get(id) {
                return Ok(Arc::clone(d));
            }
        }
        let details = vault.show(id)?;
        let proof = vault.inclusion_proof(id)?;
        let note = vault.checkpoint_note(Some(proof.tree_size))?;
        let d = Arc::new((details, proof, note));
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if c.size == size && c.map.len() < MAX_DETAILS {
            c.map.insert(id.to_owned(), Arc::clone(&d));
        }
        Ok(d)
    }
}

/// Every item's summary, rebuilt when the log has grown.
pub(crate) struct ItemCache(Arc<Mutex<Option<Summaries>>>);

impl ItemCache {
    /// The summaries as of the committed size (blocking).
    pub(crate) fn get(&self, vault: &Vault) -> ApiResult<Arc<Vec<ItemSummary>>> {
        let size = vault.size()?;
        if let Some((at, items)) = &*self.0.lock().unwrap_or_else(|p| p.into_inner())
            && *at == size
        {
            return Ok(Arc::clone(items));
        }
        // Built outside the lock; a list read past `size` is only newer,
        // and is rebuilt at the next request.
        let items = Arc::new(vault.list()?);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((size, Arc::clone(&items)));
        Ok(items)
    }
}

/// At most `max` events per key in a sliding `window`; the keys kept are
/// bounded, so a flood of distinct keys cannot fill memory.
pub(crate) struct Throttle {
    max: usize,
    window: Duration,
    events: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Distinct keys remembered; past it the oldest windows are dropped.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    pub(crate) fn new(max: usize, window: Duration) -> Self {
        Throttle {
            max,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when `key` is at its limit.
    pub(crate) fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = events.get_mut(key) else {
            return Ok(());
        };
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.max {
            let oldest = times[0];
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    /// Count one event for `key`.
    pub(crate) fn record(&self, key: &str) {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() >= MAX_KEYS && !events.contains_key(key) {
            let window = self.window;
            events.retain(|_, t| t.last().is_some_and(|l| now.duration_since(*l) < window));
            if events.len() >= MAX_KEYS {
                events.clear();
            }
        }
        let times = events.entry(key.to_owned()).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        times.push(now);
    }

    /// Forget `key` (a successful sign-in clears its failures).
    pub(crate) fn clear(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// 429 with `Retry-After`.
pub(crate) fn too_many(what: &str, wait: u64) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        format!("too many {what}; try again in {wait} s"),
    )
    .with_header(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(wait),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_per_key() {
        let t = Throttle::new(2, Duration::from_secs(60));
        t.record("a");
        assert!(t.check("a").is_ok());
        t.record("a");
        assert!(t.check("a").unwrap_err() >= 1);
        assert!(t.check("b").is_ok());
        t.clear("a");
        assert!(t.check("a").is_ok());
    }
}
