//! Reading X12 837P files: `read_x12` on a large generated file, against the
//! evaluator's pace on the same claims.
//!
//! The requirement: reading runs at least as fast as the evaluator consumes. The
//! file is generated in setup, deterministically: one interchange, one
//! transaction set, `CLAIMS` synthetic therapy claims (a subscriber loop, CLM,
//! HI with two diagnoses, REF*G1, 2310B with a taxonomy, four service lines with
//! modifiers, pointers and DTP*472), one segment a line. `read/…` times
//! `read_x12` over the whole file (claims/s = CLAIMS / time; MB/s from the
//! throughput); `evaluate/…` times `ppl::eval::evaluate` on every claim read
//! from the same file, against the shipped policies compiled once.
//!
//! It runs with mimalloc, the `ppl` binary's allocator, as `benches/batch.rs` does.
//!
//! Run: `cargo bench --bench x12`.

// A benchmark that cannot build its input should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ppl::claim::{read_x12, Claim, PayerChoice, X12Options};

/// The allocator of the `ppl` binary, so reading and evaluating cost here what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Claims in the generated file.
const CLAIMS: usize = 10_000;

const LINES: [(&str, &str, u32, &str); 4] = [
    ("97535", "GO", 2, "1"),
    ("97530", "GO:59", 1, "1:2"),
    ("97110", "GO", 1, "2"),
    ("97140", "GO:XU", 1, "1"),
];

/// A deterministic 837P file of `claims` claims.
fn generate(claims: usize) -> String {
    let mut segments: Vec<String> = vec![
        "GS*HC*SYNSUBMIT*SYNRECV*20260601*1200*1*X*005010X222A1".into(),
        "ST*837*0001*005010X222A1".into(),
        "BHT*0019*00*BENCH*20260601*1200*CH".into(),
        "NM1*41*2*SYNTHETIC THERAPY GROUP*****46*SYNSUBMIT".into(),
        "NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*SYNRECV".into(),
        "HL*1**20*1".into(),
        "PRV*BI*PXC*261QR0400X".into(),
        "NM1*85*2*SYNTHETIC THERAPY GROUP*****XX*1245319599".into(),
        "N3*1 EXAMPLE WAY".into(),
        "N4*SPRINGFIELD*IL*627010000".into(),
        "REF*EI*000000000".into(),
    ];
    for claim in 0..claims {
        let day = 1 + claim % 28;
        segments.push(format!("HL*{}*1*22*0", claim + 2));
        segments.push("SBR*P*18*******MB".into());
        segments.push(format!("NM1*IL*1*DOE*JAN****MI*SYN{claim:08}"));
        segments.push("DMG*D8*19510714*F".into());
        segments.push("NM1*PR*2*SYNTHETIC PAYER*****PI*SYNMCR01".into());
        segments.push(format!("CLM*BENCH-{claim:08}*226***11:B:1*Y*A*Y*Y"));
        segments.push(format!("REF*G1*PA-{claim:08}"));
        segments.push("HI*ABK:I69351*ABF:R2689".into());
        segments.push("NM1*82*1*SMITH*ALEX****XX*1234567893".into());
        segments.push("PRV*PE*PXC*225X00000X".into());
        for (index, (code, modifiers, units, pointers)) in LINES.iter().enumerate() {
            segments.push(format!("LX*{}", index + 1));
            segments.push(format!(
                "SV1*HC:{code}:{modifiers}*{}*UN*{units}***{pointers}",
                48 * units
            ));
            segments.push(format!("DTP*472*D8*202603{day:02}"));
        }
    }
    segments.push(format!("SE*{}*0001", segments.len()));
    segments.push("GE*1*1".into());
    segments.push("IEA*1*000000001".into());
    let isa = "ISA*00*          *00*          *ZZ*SYNSUBMIT      *ZZ*SYNRECV        *260601*1200*^*00501*000000001*0*T*:~\n";
    let mut text = String::from(isa);
    for segment in segments {
        text.push_str(&segment);
        text.push_str("~\n");
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = generate(CLAIMS);
    let options = X12Options {
        payer: PayerChoice::Flag("medicare-part-b"),
    };
    let claims: Vec<Claim> = read_x12(&text, &options)
        .expect("the generated file reads")
        .into_iter()
        .map(|(_, claim)| claim.expect("every generated claim reads"))
        .collect();
    assert_eq!(claims.len(), CLAIMS);
    let policies =
        ppl::compile::compile(&ppl::check::check(ppl::check::Workspace::embedded())).unwrap();

    let mut group = c.benchmark_group("x12");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(format!("read/{CLAIMS}-claims-{}-bytes", text.len()), |b| {
        b.iter(|| read_x12(black_box(&text), &options).unwrap().len())
    });
    group.throughput(Throughput::Elements(CLAIMS as u64));
    group.bench_function(format!("evaluate/{CLAIMS}-claims"), |b| {
        b.iter(|| {
            claims
                .iter()
                .filter(|claim| ppl::eval::evaluate(black_box(claim), &policies).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
