//! Running peer commands and `guwah` as child processes: wall time, exit
//! status and the child's own peak resident set size.
//!
//! Peak RSS comes from `wait4(2)`, which returns the `rusage` of exactly the
//! child it reaps (unlike `getrusage(RUSAGE_CHILDREN)`, which reports the
//! largest of all children ever waited for).

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A command line to run, kept printable for the "commands used" section.
#[derive(Debug, Clone)]
pub struct Cmd {
    /// The program (a path or a name looked up in `PATH`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables; values of names containing
    /// `PASSPHRASE` are masked when printed.
    pub env: Vec<(String, String)>,
}

impl Cmd {
    /// A command with no arguments yet.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Append an argument.
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.args.push(a.as_ref().to_string_lossy().into_owned());
        self
    }

    /// Set an environment variable for the child.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.env {
            let v = if k.contains("PASSPHRASE") { "***" } else { v };
            write!(f, "{k}={} ", shell_quote(v))?;
        }
        write!(f, "{}", shell_quote(&self.program.to_string_lossy()))?;
        for a in &self.args {
            write!(f, " {}", shell_quote(a))?;
        }
        Ok(())
    }
}

/// What one run of a child cost.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Wall time from spawn to reaping.
    pub wall: Duration,
    /// The child's peak resident set size, in bytes.
    pub max_rss: u64,
    /// User plus system CPU time of the child and the descendants it reaped.
    pub cpu: Duration,
}

/// Run `cmd` to completion with stdout discarded and stderr kept in
/// `stderr_log`; fail with the stderr text if it does not exit 0.
pub fn run(cmd: &Cmd, stderr_log: &Path) -> Result<Outcome, String> {
    let err_file = File::create(stderr_log)
        .map_err(|e| format!("cannot create {}: {e}", stderr_log.display()))?;
    let mut c = Command::new(&cmd.program);
    c.args(&cmd.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file);
    for (k, v) in &cmd.env {
        c.env(k, v);
    }
    let start = Instant::now();
    let child = c.spawn().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            format!(
                "`{}` was not found: it is needed as a benchmark peer; install it or put it on PATH",
                cmd.program.display()
            )
        } else {
            format!("cannot start `{cmd}`: {e}")
        }
    })?;
    let (status, max_rss, cpu) =
        wait_with_rusage(child.id()).map_err(|e| format!("waiting for `{cmd}`: {e}"))?;
    let wall = start.elapsed();
    // The child is reaped; dropping the handle only closes our pipe ends.
    drop(child);
    if !status.success() {
        let text = std::fs::read_to_string(stderr_log).unwrap_or_default();
        return Err(format!("`{cmd}` failed ({status}): {}", text.trim()));
    }
    Ok(Outcome { wall, max_rss, cpu })
}

/// Reap child `pid` with `wait4(2)`: its exit status, peak RSS in bytes and
/// CPU time (user + system, including the descendants it waited for).
#[allow(unsafe_code)]
fn wait_with_rusage(pid: u32) -> io::Result<(ExitStatus, u64, Duration)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers, for which all-zero
    // bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, spawned above and not yet reaped
        // (std never waits for a `Child` on its own); `status` and `usage`
        // are live, exclusively borrowed locals that wait4 only writes to.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // Linux reports ru_maxrss in KiB.
    let max_rss = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    Ok((ExitStatus::from_raw(status), max_rss, cpu))
}
