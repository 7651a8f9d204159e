//! Writes a synthetic NDJSON claim corpus, to measure `ppl diff` on a large batch.
//!
//! ```text
//! cargo run --release --example claim_corpus -- FILE 1000000 [BAD_EVERY]
//! ```
//!
//! The claims come from `ppl::corpus::write_sample_corpus` (deterministic, all synthetic);
//! with `BAD_EVERY` (default 100000), every BAD_EVERY-th line is not valid JSON.

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: claim_corpus FILE COUNT [BAD_EVERY]";

fn run(args: &[String]) -> Result<(), String> {
    let (Some(path), Some(count)) = (args.first(), args.get(1)) else {
        return Err(USAGE.to_owned());
    };
    let count: usize = count
        .parse()
        .map_err(|_| format!("COUNT must be a whole number, found `{count}`"))?;
    let bad_every: usize = match args.get(2) {
        Some(text) => text
            .parse()
            .map_err(|_| format!("BAD_EVERY must be a whole number, found `{text}`"))?,
        None => 100_000,
    };
    let file = File::create(path).map_err(|error| format!("cannot create `{path}`: {error}"))?;
    let started = Instant::now();
    ppl::corpus::write_sample_corpus(BufWriter::new(file), count, bad_every)
        .map_err(|error| format!("cannot write `{path}`: {error}"))?;
    println!(
        "wrote {count} claims to {path} in {:.3?}",
        started.elapsed()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
