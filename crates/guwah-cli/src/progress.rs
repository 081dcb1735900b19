//! Progress bars on standard error, only when it is a terminal and the user
//! did not ask for quiet.

use std::io::IsTerminal;

use guwah_vault::AddProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-count progress bar, hidden when not wanted.
pub fn bytes_bar(quiet: bool, total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target(quiet));
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:12} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// A byte counter with a rate, for work whose total is not known up front
/// (reading a bag: its files are found while they are read), hidden when
/// not wanted.
pub fn bytes_counter(quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target(quiet));
    bar.set_style(
        ProgressStyle::with_template("{msg:12} {spinner} {bytes} {binary_bytes_per_sec} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar
}

/// The bar of an `add`: drawn only once the plan shows work worth one (more
/// than 64 MiB, or more than `min_files` files when given).
pub struct AddBar {
    quiet: bool,
    min_files: Option<u64>,
    bar: Option<ProgressBar>,
}

impl AddBar {
    /// No bar yet; `update` decides on `Planned`.
    pub fn new(quiet: bool, min_files: Option<u64>) -> AddBar {
        AddBar {
            quiet,
            min_files,
            bar: None,
        }
    }

    /// Follow one step of the add.
    pub fn update(&mut self, p: AddProgress) {
        match p {
            AddProgress::Planned { files, bytes } => {
                if bytes > 64 << 20 || self.min_files.is_some_and(|m| files > m) {
                    self.bar = Some(bytes_bar(self.quiet, bytes, "sealing"));
                }
            }
            AddProgress::Bytes(n) => {
                if let Some(b) = &self.bar {
                    b.inc(n)
                }
            }
            AddProgress::File(_) => {}
            AddProgress::Sealing => {
                if let Some(b) = &self.bar {
                    b.set_message("committing")
                }
            }
        }
    }

    /// Clear the bar once the add is done.
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

fn target(quiet: bool) -> ProgressDrawTarget {
    if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}
