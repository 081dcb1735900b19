//! The boundary around decoders: a decoder that panics or runs too long
//! gives an error, never takes its caller down.
//!
//! Image decoders are third-party code fed outside input; a panic in one
//! (e.g. `tiff` on tiled planar images, image-rs/image-tiff#403) must not
//! abort a whole `guwah add`. [`run`] decodes on a worker thread, catches
//! its panic, and stops waiting at a deadline. A thread cannot be killed,
//! so a decode past its deadline runs on detached until it ends (bounded
//! in memory by the decoder's own limits); at most [`MAX_RUNNING`] decoder
//! threads exist at once, so stragglers cannot pile up.
//!
//! This needs unwinding panics: the workspace's profiles keep
//! `panic = "unwind"`, and a build with `panic = "abort"` (such as a fuzzer
//! build, which wants to see panics) stops at the first one instead.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::PdqError;

/// Most decoder threads alive at once, counting ones past their deadline.
pub const MAX_RUNNING: usize = 4;

/// The name of every decoder thread.
const THREAD_NAME: &str = "guwah-pdq-decode";

/// Stack of a decoder thread (the main thread's usual size).
const STACK: usize = 8 * 1024 * 1024;

/// Decoder threads alive now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// A place in a count of running threads, given back when dropped
/// (unwinding or not).
struct Slot(&'static AtomicUsize);

impl Slot {
    fn take(count: &'static AtomicUsize, max: usize) -> Option<Slot> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Run `f` on a decoder thread: its result, or [`PdqError::Panicked`] if
/// it panicked, or [`PdqError::TimedOut`] if it has not finished within
/// `limit`.
pub(crate) fn run<T, F>(limit: Duration, f: F) -> Result<T, PdqError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, PdqError> + Send + 'static,
{
    run_counted(&RUNNING, MAX_RUNNING, limit, f)
}

/// [`run`], with at most `max` threads counted in `count` (a parameter so
/// that tests can fill their own count).
fn run_counted<T, F>(
    count: &'static AtomicUsize,
    max: usize,
    limit: Duration,
    f: F,
) -> Result<T, PdqError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, PdqError> + Send + 'static,
{
    let Some(slot) = Slot::take(count, max) else {
        return Err(PdqError::Busy(max));
    };
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .stack_size(STACK)
        .spawn(move || {
            let r = catch(f);
            drop(slot); // before the answer, so a caller never sees a stale count
            // Nobody may be listening any more (past the deadline).
            let _ = tx.send(r);
        })?;
    match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(PdqError::TimedOut(limit)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(PdqError::Panicked(
            "the decoder thread ended without a result".into(),
        )),
    }
}

/// Keep the panic hook from printing panics on decoder threads: they are
/// caught and come back as [`PdqError::Panicked`] with their message, so
/// the raw report (and backtrace) would only alarm. Panics anywhere else
/// go to the hook in place before. For a binary to call once at start; a
/// library should leave its process's hook alone.
pub fn quiet_decoder_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(THREAD_NAME) {
                previous(info);
            }
        }));
    });
}

/// Run `f` here, turning a panic into [`PdqError::Panicked`].
pub(crate) fn catch<T>(f: impl FnOnce() -> Result<T, PdqError>) -> Result<T, PdqError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(PdqError::Panicked(message(&*p))))
}

/// A panic's message, when it has one.
fn message(payload: &(dyn Any + Send)) -> String {
    let s = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn results_pass_through_and_panics_become_errors() {
        let ok = run(Duration::from_secs(10), || Ok(7));
        assert_eq!(ok.unwrap(), 7);
        let err = run::<(), _>(Duration::from_secs(10), || {
            Err(PdqError::Decode("bad".into()))
        });
        assert!(matches!(err, Err(PdqError::Decode(_))), "{err:?}");
        let boom = run::<(), _>(Duration::from_secs(10), || panic!("decoder bug {}", 42));
        match boom {
            Err(PdqError::Panicked(m)) => assert_eq!(m, "decoder bug 42"),
            other => panic!("{other:?}"),
        }
        let here = catch::<()>(|| panic!("static message"));
        assert!(matches!(here, Err(PdqError::Panicked(m)) if m == "static message"));
    }

    #[test]
    fn a_slow_decoder_is_abandoned_at_its_deadline() {
        let start = Instant::now();
        let r = run(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        });
        assert!(matches!(r, Err(PdqError::TimedOut(_))), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(
            r.unwrap_err().to_string().contains("0.1 s"),
            "the message names the limit"
        );
    }

    #[test]
    fn stragglers_are_capped_and_their_places_come_back() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        for _ in 0..2 {
            let wait = wait.clone();
            let r = run_counted(&COUNT, 2, Duration::ZERO, move || {
                let _ = wait.lock().unwrap().recv();
                Ok(())
            });
            assert!(matches!(r, Err(PdqError::TimedOut(_))), "{r:?}");
        }
        let r = run_counted(&COUNT, 2, Duration::from_secs(10), || Ok(()));
        assert!(matches!(r, Err(PdqError::Busy(2))), "{r:?}");
        drop(release); // both stuck decoders finish
        let start = Instant::now();
        while COUNT.load(Ordering::Acquire) > 0 {
            assert!(start.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(5));
        }
        let r = run_counted(&COUNT, 2, Duration::from_secs(10), || Ok(1));
        assert_eq!(r.unwrap(), 1);
        let r = run_counted::<(), _>(&COUNT, 2, Duration::from_secs(10), || panic!("x"));
        assert!(matches!(r, Err(PdqError::Panicked(_))));
        assert_eq!(
            COUNT.load(Ordering::Acquire),
            0,
            "a panic gives its place back"
        );
    }
}
