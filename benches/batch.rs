//! A batch of NDJSON claims, stage by stage: read (text → claim model), evaluate
//! (the shipped policies, and the floor's policies with no rules), write (report →
//! NDJSON line), and all three through `ppl::batch::run` on one worker.
//!
//! The claims come from `ppl::corpus::write_sample_corpus` (10,000 claims, about
//! 1.15 KB each, one line in 1,000 invalid JSON), generated in memory in the setup.
//! Every stage reports claims a second (criterion's elements/s).
//!
//! It runs with mimalloc, the `ppl` binary's allocator. Run: `cargo bench --bench batch`.
//! The whole-process figures (1 million claims, `ppl eval` against its floor) are commands
//! in `docs/performance.md`.

// A benchmark that cannot build its input should stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ppl::batch::{Batch, Chunk};
use ppl::claim::{read_ndjson_line, Claim};
use ppl::compile::CompiledPolicies;
use ppl::report::{write_ndjson_line, ClaimReport, ErrorRecord};

/// The allocator of the `ppl` binary, so the stages cost here what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLAIMS: usize = 10_000;

fn corpus() -> Vec<u8> {
    let mut bytes = Vec::new();
    ppl::corpus::write_sample_corpus(&mut bytes, CLAIMS, 1_000).expect("corpus");
    bytes
}

fn shipped() -> CompiledPolicies {
    ppl::compile::compile(&ppl::check::check(ppl::check::Workspace::embedded()))
        .expect("the shipped policies compile")
}

/// The shipped payers with no rules: reading and writing alone.
fn floor() -> CompiledPolicies {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/floor-policies");
    let checked = ppl::check::check_paths(&[folder]).expect("the floor policies load");
    ppl::compile::compile(&checked).expect("the floor policies compile")
}

fn lines(bytes: &[u8]) -> Vec<(usize, usize, &str)> {
    let text = std::str::from_utf8(bytes).expect("the corpus is UTF-8");
    let mut offset = 0;
    text.split_inclusive('\n')
        .enumerate()
        .map(|(index, line)| {
            let start = offset;
            offset += line.len();
            (index + 1, start, line.trim_end_matches('\n'))
        })
        .collect()
}

fn evaluate_all<'p>(claims: &[Claim], policies: &'p CompiledPolicies) -> Vec<ClaimReport<'p>> {
    claims
        .iter()
        .filter_map(|claim| ppl::eval::evaluate(claim, policies).ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let bytes = corpus();
    let lines = lines(&bytes);
    let claims: Vec<Claim> = lines
        .iter()
        .filter_map(|&(number, offset, text)| read_ndjson_line(text, number, offset).ok())
        .collect();
    let (shipped, floor) = (shipped(), floor());
    let results: Vec<Result<ClaimReport, ErrorRecord>> = evaluate_all(&claims, &shipped)
        .into_iter()
        .map(Ok)
        .collect();

    let mut group = c.benchmark_group("batch");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));

    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function(
        format!("read/{}-claims-{}-bytes", lines.len(), bytes.len()),
        |b| {
            b.iter(|| {
                for &(number, offset, text) in &lines {
                    let _ = black_box(read_ndjson_line(black_box(text), number, offset));
                }
            })
        },
    );

    group.throughput(Throughput::Elements(claims.len() as u64));
    group.bench_function(format!("evaluate/shipped/{}-claims", claims.len()), |b| {
        b.iter(|| black_box(evaluate_all(black_box(&claims), &shipped)))
    });
    group.bench_function(format!("evaluate/floor/{}-claims", claims.len()), |b| {
        b.iter(|| black_box(evaluate_all(black_box(&claims), &floor)))
    });

    group.throughput(Throughput::Elements(results.len() as u64));
    group.bench_function(format!("write/{}-reports", results.len()), |b| {
        let mut out = Vec::with_capacity(bytes.len() * 2);
        b.iter(|| {
            out.clear();
            for result in &results {
                write_ndjson_line(&mut out, black_box(result));
            }
            black_box(out.len())
        })
    });

    group.throughput(Throughput::Elements(lines.len() as u64));
    for (name, policies) in [("shipped", &shipped), ("floor", &floor)] {
        group.bench_function(
            format!("pipeline-1-thread/{name}/{}-claims", lines.len()),
            |b| {
                b.iter(|| {
                    let mut written = 0usize;
                    let work = |chunk: &Chunk| {
                        let mut out = Vec::new();
                        for line in chunk.lines() {
                            let result = line
                                .text
                                .map_err(|e| vec![e])
                                .and_then(|text| read_ndjson_line(text, line.number, line.offset))
                                .ok()
                                .and_then(|claim| ppl::eval::evaluate(&claim, policies).ok());
                            if let Some(report) = result {
                                write_ndjson_line(&mut out, &Ok(report));
                            }
                        }
                        out
                    };
                    ppl::batch::run(&bytes[..], Batch::new(Some(1)), work, |out, _| {
                        written += out.map_or(0, |out| out.len());
                        Ok::<(), ()>(())
                    })
                    .expect("the batch runs");
                    black_box(written)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
