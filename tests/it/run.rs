//! Running the `ppl` binary as a user does, for every CLI test: one place that
//! spawns it, feeds standard input and collects what it printed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What a run of `ppl` printed, and its exit code (-1 when killed by a signal).
/// Standard error is always UTF-8 text; standard output is kept as bytes.
pub struct Output {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Like [`Output`], with standard output checked to be UTF-8 too.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `ppl args` with `NO_COLOR=1`, in `dir` (default: the package root),
/// with `stdin` as standard input (default: empty). Standard input is written
/// from another thread, so a large input cannot deadlock against the output.
pub fn ppl_output(dir: Option<&Path>, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ppl"))
        .args(args)
        .current_dir(dir.unwrap_or(Path::new(env!("CARGO_MANIFEST_DIR"))))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ppl runs");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || {
        // ppl may exit before reading all of it (a bad flag): that is not the test's failure.
        let _ = input.write_all(&bytes);
    });
    let output = child.wait_with_output().expect("ppl finishes");
    writer.join().expect("stdin writer");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// [`ppl_output`], with standard output and error as text.
pub fn ppl_in(dir: Option<&Path>, args: &[&str], stdin: Option<&str>) -> Run {
    let output = ppl_output(dir, args, stdin.map(str::as_bytes));
    Run {
        code: output.code,
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: output.stderr,
    }
}

/// The public X12 samples, read in place at `../shared/samples/x12/` beside the
/// project (never copied into it). CI has them there and sets
/// `PPL_REQUIRE_SHARED=1`, so a missing folder fails the run; on a clone
/// without them (a developer's checkout elsewhere) the tests that need them
/// say so on standard error and are skipped, and every other test still runs.
pub fn shared_samples() -> Option<std::path::PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/x12");
    if folder.is_dir() {
        return Some(folder);
    }
    assert!(
        std::env::var_os("PPL_REQUIRE_SHARED").is_none(),
        "the public X12 samples must be at {} (../shared/samples/x12 from the project root)",
        folder.display()
    );
    // Written to the stream itself: the test harness captures `eprintln!`.
    let _ = writeln!(
        std::io::stderr(),
        "note: {} is missing: skipping a test that reads the public X12 samples",
        folder.display()
    );
    None
}
