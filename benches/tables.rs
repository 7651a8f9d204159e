//! Loading and querying the NCCI PTP table at CMS scale.
//!
//! The requirement: a PTP file of 2,000,000 rows in the CMS layout loads in under 2 s
//! (and under 300 MB; measure that with `examples/load_ptp.rs`). The file is synthetic,
//! written once per run by `ppl::tables::write_sample_ptp` into a temporary file.
//!
//! Run: `cargo bench --bench tables`.

use std::fs::File;
use std::hint::black_box;
use std::io::{self, BufReader, BufWriter};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use ppl::codes::ProcedureCode;
use ppl::tables::{read_ptp, write_sample_ptp, PtpTable};
use ppl::Date;

const ROWS: usize = 2_000_000;

fn sample_file() -> io::Result<tempfile::NamedTempFile> {
    let file = tempfile::NamedTempFile::new()?;
    write_sample_ptp(BufWriter::new(file.as_file()), ROWS)?;
    Ok(file)
}

fn load(path: &std::path::Path) -> Option<PtpTable> {
    let file = File::open(path).ok()?;
    read_ptp(BufReader::with_capacity(1 << 16, file)).ok()
}

/// Queries drawn from the table itself: a hit on each edit's first day (in the file's
/// column order), the same pair reversed, the day before it starts (usually a miss),
/// and a pair that is not in the table.
fn queries(table: &PtpTable) -> Vec<(ProcedureCode, ProcedureCode, Date)> {
    let step = (table.len() / 1024).max(1);
    let mut queries = Vec::new();
    for edit in table.iter().step_by(step).take(1024) {
        queries.push((edit.column_one, edit.column_two, edit.from));
        queries.push((edit.column_two, edit.column_one, edit.from));
        if let Ok(before) = edit.from.yesterday() {
            queries.push((edit.column_one, edit.column_two, before));
        }
        queries.push((edit.column_one, edit.column_one, edit.from));
    }
    queries
}

fn bench_tables(c: &mut Criterion) {
    let file = match sample_file() {
        Ok(file) => file,
        Err(error) => {
            eprintln!("cannot write the sample PTP file: {error}");
            return;
        }
    };
    let bytes = file.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    eprintln!("sample PTP file: {ROWS} rows, {bytes} bytes");

    let mut group = c.benchmark_group("ptp");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("read_ptp_2m_rows", |b| {
        b.iter_batched(
            || (),
            |()| load(black_box(file.path())),
            // Drop the table outside the timed section.
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let Some(table) = load(file.path()) else {
        eprintln!("cannot read the sample PTP file");
        return;
    };
    let queries = queries(&table);
    let mut group = c.benchmark_group("ptp");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("edit_on", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for &(a, b, date) in &queries {
                if table
                    .edit_on(black_box(a), black_box(b), black_box(date))
                    .is_some()
                {
                    found += 1;
                }
            }
            found
        })
    });
    group.finish();
}

criterion_group!(benches, bench_tables);
criterion_main!(benches);
