//! Writes or loads a CMS-layout PTP file, to measure load time and peak memory.
//!
//! ```text
//! cargo run --release --example load_ptp -- generate FILE 2000000
//! cargo run --release --example load_ptp -- load FILE
//! /usr/bin/time -v target/release/examples/load_ptp load FILE   # "Maximum resident set size"
//! ```
//!
//! `generate` writes synthetic rows (`ppl::tables::write_sample_ptp`, the generator the
//! benchmark uses); `load` also reads real CMS files (`ccipra-v…-f1.txt`).

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;
use std::time::Instant;

use ppl::tables::{read_ptp, write_sample_ptp};

const USAGE: &str = "usage: load_ptp generate FILE ROWS | load_ptp load FILE";

fn generate(path: &str, rows: &str) -> Result<(), String> {
    let rows: usize = rows
        .parse()
        .map_err(|_| format!("ROWS must be a whole number, found `{rows}`"))?;
    let file = File::create(path).map_err(|error| format!("cannot create `{path}`: {error}"))?;
    let started = Instant::now();
    write_sample_ptp(BufWriter::new(file), rows)
        .map_err(|error| format!("cannot write `{path}`: {error}"))?;
    println!("wrote {rows} rows to {path} in {:.3?}", started.elapsed());
    Ok(())
}

fn load(path: &str) -> Result<(), String> {
    let file = File::open(path).map_err(|error| format!("cannot open `{path}`: {error}"))?;
    let started = Instant::now();
    let table = read_ptp(BufReader::with_capacity(1 << 16, file)).map_err(|errors| {
        let mut text = format!("cannot read `{path}`:");
        for error in &errors {
            text.push_str(&format!("\n  {error}"));
        }
        text
    })?;
    let elapsed = started.elapsed();
    println!(
        "loaded {} rows ({} distinct pairs) from {path} in {elapsed:.3?}",
        table.len(),
        table.pairs()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["generate", path, rows] => generate(path, rows),
        ["load", path] => load(path),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
