//! Progress of a batch on standard error: claims done, claims a second, and the
//! time left when the input's size is known.
//!
//! On a terminal it is an `indicatif` bar (redrawn at most 20 times a second,
//! cleared at the end). `--progress` when standard error is not a terminal (a
//! log file, CI) writes a plain line every few seconds instead, since a bar's
//! redraws would fill the log. Nothing is written otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `--progress` / `--no-progress` / neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when standard error is a terminal, else nothing.
    Auto,
    /// A bar on a terminal, plain lines elsewhere.
    Always,
    Never,
}

/// Plain lines at most this often.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    shown: Shown,
    claims: u64,
    bytes: u64,
    total_bytes: Option<u64>,
    started: Instant,
    name: String,
}

enum Shown {
    Bar(ProgressBar),
    Plain { last: Instant },
    Hidden,
}

impl Progress {
    /// Progress through `name`, of `total_bytes` when known.
    pub fn new(mode: ProgressMode, name: &str, total_bytes: Option<u64>) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let started = Instant::now();
        let shown = match (mode, terminal) {
            (ProgressMode::Never, _) | (ProgressMode::Auto, false) => Shown::Hidden,
            (ProgressMode::Always, false) => Shown::Plain { last: started },
            (_, true) => Shown::Bar(bar(total_bytes)),
        };
        Progress {
            shown,
            claims: 0,
            bytes: 0,
            total_bytes,
            started,
            name: name.to_owned(),
        }
    }

    /// `claims` more claims done, covering `bytes` more of the input.
    pub fn advance(&mut self, claims: u64, bytes: u64) {
        self.claims += claims;
        self.bytes += bytes;
        match &mut self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => {
                bar.set_message(format!(
                    "{} claims, {} claims/s",
                    self.claims,
                    rate(self.claims, self.started.elapsed())
                ));
                bar.set_position(self.bytes);
            }
            Shown::Plain { last } => {
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    let line = self.plain_line();
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }
    }

    /// Writes `text` to standard error without tearing the bar.
    pub fn write_above(&self, text: &[u8]) {
        let write = || {
            let _ = std::io::stderr().write_all(text);
        };
        match &self.shown {
            Shown::Bar(bar) => bar.suspend(write),
            _ => write(),
        }
    }

    fn plain_line(&self) -> String {
        let elapsed = self.started.elapsed();
        let mut line = format!(
            "progress: {}: {} claims, {} claims/s",
            self.name,
            self.claims,
            rate(self.claims, elapsed)
        );
        if let Some(total) = self.total_bytes.filter(|total| *total > 0) {
            let done = self.bytes.min(total) as f64 / total as f64;
            line.push_str(&format!(", {:.0}% of the input", done * 100.0));
            if done > 0.0 {
                let left = elapsed.as_secs_f64() * (1.0 - done) / done;
                line.push_str(&format!(", about {left:.0} s left"));
            }
        }
        line
    }

    /// Clears the bar and, when progress was shown, says how the batch went.
    pub fn finish(self) {
        let elapsed = self.started.elapsed();
        let done = format!(
            "{}: {} claims in {:.1} s, {} claims/s",
            self.name,
            self.claims,
            elapsed.as_secs_f64(),
            rate(self.claims, elapsed)
        );
        match self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => {
                bar.finish_and_clear();
                let _ = writeln!(std::io::stderr(), "{done}");
            }
            Shown::Plain { .. } => {
                let _ = writeln!(std::io::stderr(), "done: {done}");
            }
        }
    }
}

fn bar(total_bytes: Option<u64>) -> ProgressBar {
    let target = ProgressDrawTarget::stderr();
    match total_bytes {
        Some(total) => {
            let bar = ProgressBar::with_draw_target(Some(total), target);
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{wide_bar}] {percent}%, {eta} left")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, target);
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}, {elapsed}") {
                bar.set_style(style);
            }
            bar
        }
    }
}

/// Claims a second, rounded.
fn rate(claims: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        (claims as f64 / seconds).round() as u64
    } else {
        0
    }
}
