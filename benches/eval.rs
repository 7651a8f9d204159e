//! Evaluating one claim against the shipped Medicare Part B policy.
//!
//! The requirement: evaluating one compiled 4-line claim against the Medicare policy, with
//! a PTP table of 10,000 rows, takes under 2 µs (median). Only `ppl::eval::evaluate` is in
//! the timed loop of `evaluate/...` (`..._reused_evaluator`: `Evaluator::evaluate`, its
//! buffers kept from one iteration to the next, as a batch worker keeps them); reading the claim (`read_claim`) and rendering the
//! report (`render_json`) are timed separately, so the figures show where the time goes.
//!
//! Setup, outside every timed loop: `policies/` (with `lib/` and `data/`) is copied into a
//! temporary folder, and its PTP sample file is replaced by a 10,000-row file in the CMS
//! layout: rows written by `ppl::tables::write_sample_ptp`, then the shipped sample's own
//! data rows (97530/97535, 97140/97530 and the other therapy pairs the claim meets),
//! appended in the same layout. The folder is checked and compiled once. The claims are
//! synthetic (no real patient).
//!
//! Run: `cargo bench --bench eval`.

// A benchmark that cannot build its input should stop loudly.
#![allow(clippy::expect_used)]

use std::fs;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ppl::claim::{read_claim, Claim, InputFormat};
use ppl::codes::ProcedureCode;
use ppl::compile::{CompiledPolicies, RuleCheck};

/// Rows in the PTP table the policy reads.
const PTP_ROWS: usize = 10_000;

/// The PTP file `policies/lib/ncci.ppl` names, relative to `policies/`.
const PTP_FILE: &str = "data/ptp-practitioner-sample.txt";

/// Four timed lines on one date, an OT plan of care. It fires the KX rule on the three GO
/// lines (OT allowed amount above the threshold, no KX), the discipline rule on the GP line,
/// and the 8-minute rule on 97140; the 97530/97535 and 97140/97530 edits are found and
/// bypassed by the 59 on 97530.
const CLAIM: &str = r#"# Synthetic claim (no real patient) for benches/eval.rs.
id: CLM-2026-BENCH-0001
payer: medicare-part-b
date_of_service: 2026-03-02
place_of_service: "11"
member: { id: M-000042, birth_date: 1951-07-14 }
provider: { npi: "1234567893", discipline: OT, role: therapist, credential: OTR/L }
diagnoses: ["I69.351", "R26.89", "M62.81"]
lines:
  - { code: "97535", modifiers: ["GO"], units: 2, minutes: 30, charge: 96.00, diagnosis_pointers: [1] }
  - { code: "97530", modifiers: ["GO", "59"], units: 1, minutes: 15, charge: 52.00, diagnosis_pointers: [1, 2] }
  - { code: "97110", modifiers: ["GP"], units: 1, minutes: 10, charge: 40.00, diagnosis_pointers: [3] }
  - { code: "97140", modifiers: ["GO"], units: 1, minutes: 8, charge: 38.00, diagnosis_pointers: [2] }
documentation:
  objective: Train the patient to dress the upper body with a reacher and dressing stick
  functional_goals: ["Patient will dress the upper body independently within three sessions"]
  performance: Needed moderate verbal cues for sequencing
  progress: Up from maximal to moderate cues since the last visit
  activities:
    - { code: "97535", description: Upper-body dressing with adaptive equipment, minutes: 30 }
    - { code: "97530", description: Functional transfers, minutes: 15 }
    - { code: "97110", description: Shoulder strengthening, minutes: 10 }
    - { code: "97140", description: Soft-tissue mobilisation, minutes: 8 }
  caregiver_trained: false
  total_timed_minutes: 63
  total_treatment_minutes: 70
  plan_of_care: { established: 2026-02-10, certified: 2026-02-12, through: 2026-05-10 }
  visits_since_progress_report: 4
history:
  visits_this_year: 12
  therapy_allowed_ytd: { pt_slp: 640.00, ot: 2610.40 }
"#;

/// The same visit billed cleanly: GO and KX on every line, and units the minutes support
/// (97110 and 97140 at 15 minutes each). No finding fires: the difference from [`CLAIM`]
/// is the cost of building findings.
const CLEAN_CLAIM: &str = r#"# Synthetic claim (no real patient) for benches/eval.rs: no finding fires.
id: CLM-2026-BENCH-0002
payer: medicare-part-b
date_of_service: 2026-03-02
place_of_service: "11"
member: { id: M-000042, birth_date: 1951-07-14 }
provider: { npi: "1234567893", discipline: OT, role: therapist, credential: OTR/L }
diagnoses: ["I69.351", "R26.89", "M62.81"]
lines:
  - { code: "97535", modifiers: ["GO", "KX"], units: 2, minutes: 30, charge: 96.00, diagnosis_pointers: [1] }
  - { code: "97530", modifiers: ["GO", "59", "KX"], units: 1, minutes: 15, charge: 52.00, diagnosis_pointers: [1, 2] }
  - { code: "97110", modifiers: ["GO", "KX"], units: 1, minutes: 15, charge: 40.00, diagnosis_pointers: [3] }
  - { code: "97140", modifiers: ["GO", "KX"], units: 1, minutes: 15, charge: 38.00, diagnosis_pointers: [2] }
documentation:
  objective: Train the patient to dress the upper body with a reacher and dressing stick
  functional_goals: ["Patient will dress the upper body independently within three sessions"]
  performance: Needed moderate verbal cues for sequencing
  progress: Up from maximal to moderate cues since the last visit
  activities:
    - { code: "97535", description: Upper-body dressing with adaptive equipment, minutes: 30 }
    - { code: "97530", description: Functional transfers, minutes: 15 }
    - { code: "97110", description: Shoulder strengthening, minutes: 15 }
    - { code: "97140", description: Soft-tissue mobilisation, minutes: 15 }
  caregiver_trained: false
  total_timed_minutes: 75
  total_treatment_minutes: 80
  plan_of_care: { established: 2026-02-10, certified: 2026-02-12, through: 2026-05-10 }
  visits_since_progress_report: 4
history:
  visits_this_year: 12
  therapy_allowed_ytd: { pt_slp: 640.00, ot: 2610.40 }
"#;

fn copy_folder(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_folder(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Whether a line of a CMS PTP file is a data row: seven tab-separated fields, the first
/// a five-character procedure code.
fn is_data_row(line: &str) -> bool {
    let mut fields = line.split('\t');
    let first_is_code = fields
        .next()
        .is_some_and(|first| first.len() == 5 && first.bytes().all(|b| b.is_ascii_alphanumeric()));
    first_is_code && fields.count() == 6
}

/// `policies/` in a temporary folder, with a PTP file of [`PTP_ROWS`] rows: generated
/// rows, then the shipped sample's data rows.
fn policy_folder() -> io::Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let policies = dir.path().join("policies");
    copy_folder(Path::new("policies"), &policies)?;
    let shipped = fs::read_to_string(Path::new("policies").join(PTP_FILE))?;
    let rows: Vec<&str> = shipped
        .split_inclusive('\n')
        .filter(|line| is_data_row(line.trim_end_matches(['\r', '\n'])))
        .collect();
    let mut text = Vec::new();
    ppl::tables::write_sample_ptp(&mut text, PTP_ROWS - rows.len())?;
    for row in rows {
        text.extend_from_slice(row.trim_end_matches(['\r', '\n']).as_bytes());
        text.extend_from_slice(b"\r\n");
    }
    fs::write(policies.join(PTP_FILE), text)?;
    Ok((dir, policies))
}

fn compiled(folder: &Path) -> CompiledPolicies {
    let checked = ppl::check::check_paths(&[folder.to_path_buf()]).expect("policies readable");
    assert!(
        !checked.has_errors(),
        "the policies with the 10,000-row PTP table do not check"
    );
    ppl::compile::compile(&checked).expect("policies compile")
}

/// Asserts the Medicare PTP table has [`PTP_ROWS`] rows and the edits the claim meets.
fn assert_table(policies: &CompiledPolicies, claim: &Claim) {
    let policy = policies
        .payers
        .get("medicare-part-b")
        .expect("the Medicare policy");
    let date = claim
        .date_of_service
        .as_ref()
        .expect("a date of service")
        .value;
    let tables: Vec<_> = policy
        .rules
        .iter()
        .filter_map(|rule| match &rule.check {
            RuleCheck::Pairing { table, .. } => table.on(date),
            _ => None,
        })
        .collect();
    assert!(!tables.is_empty(), "no PTP rule in force on {date}");
    let code = |text: &str| ProcedureCode::parse(text).expect("a procedure code");
    for table in tables {
        assert_eq!(table.len(), PTP_ROWS, "PTP rows");
        for (a, b) in [("97530", "97535"), ("97140", "97530")] {
            assert!(
                table.edit_on(code(a), code(b), date).is_some(),
                "no {a}/{b} edit in force on {date}"
            );
        }
    }
}

fn bench_eval(c: &mut Criterion) {
    let (_dir, folder) = policy_folder().expect("cannot build the policy folder");
    let policies = compiled(&folder);
    let claim = read_claim(CLAIM, InputFormat::Yaml).expect("the claim reads");
    let clean = read_claim(CLEAN_CLAIM, InputFormat::Yaml).expect("the clean claim reads");
    assert_table(&policies, &claim);
    let report = ppl::eval::evaluate(&claim, &policies).expect("the claim evaluates");
    let clean_report = ppl::eval::evaluate(&clean, &policies).expect("the clean claim evaluates");
    eprintln!(
        "claim: {} lines, {} findings; clean claim: {} findings",
        claim.lines.len(),
        report.findings.len(),
        clean_report.findings.len()
    );
    assert_eq!(claim.lines.len(), 4, "a 4-line claim");

    let mut group = c.benchmark_group("evaluate");
    group
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("medicare_4_lines_ptp_10k", |b| {
        b.iter(|| ppl::eval::evaluate(black_box(&claim), black_box(&policies)))
    });
    group.bench_function("medicare_4_lines_ptp_10k_no_findings", |b| {
        b.iter(|| ppl::eval::evaluate(black_box(&clean), black_box(&policies)))
    });
    // As a batch worker evaluates: one `Evaluator` whose buffers serve claim after claim.
    let mut evaluator = ppl::eval::Evaluator::new();
    group.bench_function("medicare_4_lines_ptp_10k_reused_evaluator", |b| {
        b.iter(|| evaluator.evaluate(black_box(&claim), black_box(&policies)))
    });
    group.finish();

    let mut group = c.benchmark_group("claim");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("read_claim_yaml_4_lines", |b| {
        b.iter(|| read_claim(black_box(CLAIM), InputFormat::Yaml))
    });
    group.bench_function("render_json_5_findings", |b| {
        b.iter(|| ppl::report::render_json(black_box(&report)))
    });
    group.finish();
}

criterion_group!(benches, bench_eval);
criterion_main!(benches);
