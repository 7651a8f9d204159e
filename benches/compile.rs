//! How long it takes to turn the shipped policies into the compiled form:
//! reading, parsing, checking (including the NCCI sample data files) and compiling.
//!
//! `cargo bench --bench compile`

// A benchmark that cannot read its input should stop loudly.
#![allow(clippy::expect_used)]

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

fn shipped_policies(c: &mut Criterion) {
    let paths = [PathBuf::from("policies")];
    c.bench_function("check+compile policies/", |b| {
        b.iter(|| {
            let checked = ppl::check::check_paths(&paths).expect("policies/ is readable");
            ppl::compile::compile(&checked).expect("policies/ compile")
        })
    });
    let texts: Vec<String> = ppl::check::Workspace::load(&paths)
        .expect("policies/ is readable")
        .files
        .iter()
        .map(|file| std::fs::read_to_string(&file.path).expect("readable"))
        .collect();
    c.bench_function("parse policies/", |b| {
        b.iter(|| {
            let mut sources = ppl::source::SourceMap::new();
            for text in &texts {
                let id = sources.add("policy.ppl", text.clone());
                std::hint::black_box(ppl::syntax::parse(text, id));
            }
        })
    });
}

criterion_group!(benches, shipped_policies);
criterion_main!(benches);
