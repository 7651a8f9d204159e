//! `ppl test`: policy tests written by compliance staff, without Rust.
//!
//! ```text
//! test files (YAML) ── read ──▶ TestCase (claim + expectations, each with its place)
//!                   ── run ───▶ claim evaluated (with explanation) ▶ compared ▶ TestReport
//!                   ── coverage: per rule, did some test see it fire, and some see it pass
//! ```
//!
//! A test file is a YAML list of tests; the format is described in
//! `docs/testing-policies.md`. Reading is pure (text → tests); [`run`] does
//! the I/O: it finds the test files, reads the claim files they name, and
//! evaluates every claim with [`crate::eval::evaluate_explained`], whose
//! verdicts per rule are what coverage counts. One bad test file or claim
//! never stops the others: it is reported as an error (exit 2) beside them.

mod coverage;
pub mod junit;
mod read;
pub mod render;

use std::path::{Path, PathBuf};

pub use coverage::{Coverage, PayerCoverage, RuleCoverage};
pub use read::{read_tests, FileError};

use crate::claim::{detect_format, read_claim, Claim, InputFormat};
use crate::compile::CompiledPolicies;
use crate::report::{ClaimReport, FindingSeverity, Status};

/// The folder `ppl test` reads when given none.
pub const DEFAULT_DIR: &str = "tests/policy";

/// 1-based line and column in a test file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub line: usize,
    pub column: usize,
}

/// A value read from a test file, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub place: Place,
}

/// One test: a claim and what must come out of evaluating it.
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    /// The test file.
    pub file: PathBuf,
    pub place: Place,
    pub claim: ClaimInput,
    pub expect: Expect,
}

/// Where a test's claim comes from.
#[derive(Clone, Debug)]
pub enum ClaimInput {
    /// Written in the test file under `claim:`: the claim, or its problems.
    Inline(Box<Result<Claim, Vec<FileError>>>),
    /// `claim_file:`, resolved against the test file's folder.
    File { path: PathBuf, place: Place },
}

/// What a test expects. Every part is optional, but a test expects something.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    pub status: Option<Located<Status>>,
    /// Each must match a finding: same rule and severity (and line, when given).
    pub fires: Vec<Located<FiresExpectation>>,
    /// Rule ids that must give no finding at all, of any severity, on any line.
    pub does_not_fire: Vec<Located<String>>,
    /// (line index from 0, units supported; `None` when none can be told).
    pub units_supported: Vec<Located<(usize, Option<u32>)>>,
}

impl Expect {
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.fires.is_empty()
            && self.does_not_fire.is_empty()
            && self.units_supported.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiresExpectation {
    pub rule: String,
    pub severity: FindingSeverity,
    /// 0-based line index; `None`: any line, or the whole claim.
    pub line: Option<usize>,
}

/// Everything one run found.
#[derive(Clone, Debug)]
pub struct SuiteReport {
    pub files: Vec<FileReport>,
    pub coverage: Coverage,
}

/// One test file's tests, or why none of them ran.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub tests: Vec<TestReport>,
    /// The file could not be read or is malformed: `FILE:LINE:COLUMN: message`.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct TestReport {
    pub name: String,
    pub place: Place,
    pub outcome: Outcome,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// The test could not run (its claim unreadable, an unknown rule id…):
    /// each message says where and why.
    Error(Vec<String>),
}

/// What did not come out as expected, and what did.
#[derive(Clone, Debug)]
pub struct Failure {
    pub mismatches: Vec<Mismatch>,
    pub status: Status,
    pub findings: Vec<FindingSummary>,
}

/// One expectation not met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Where the expectation is written in the test file.
    pub place: Place,
    /// What was expected, as written (`status fail`, `fires ncci.mue deny on line 0`).
    pub expected: String,
    /// What the evaluation gave instead.
    pub actual: String,
}

/// A finding, as much as a test failure shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingSummary {
    pub rule: String,
    pub severity: FindingSeverity,
    pub line: Option<usize>,
    pub message: String,
}

/// Counts of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tests: usize,
    pub passed: usize,
    pub failed: usize,
    /// Tests that could not run.
    pub errors: usize,
    /// Test files that could not be read (none of their tests ran).
    pub unreadable_files: usize,
}

impl SuiteReport {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for file in &self.files {
            if !file.problems.is_empty() {
                counts.unreadable_files += 1;
            }
            for test in &file.tests {
                counts.tests += 1;
                match test.outcome {
                    Outcome::Passed => counts.passed += 1,
                    Outcome::Failed(_) => counts.failed += 1,
                    Outcome::Error(_) => counts.errors += 1,
                }
            }
        }
        counts
    }

    /// 0 every test passed (and every payer's coverage reached `coverage_min`);
    /// 1 a test failed or coverage is below the minimum; 2 something could not run.
    pub fn exit_code(&self, coverage_min: Option<f64>) -> u8 {
        let counts = self.counts();
        if counts.errors > 0 || counts.unreadable_files > 0 {
            2
        } else if counts.failed > 0
            || coverage_min.is_some_and(|min| !self.coverage.below(min).is_empty())
        {
            1
        } else {
            0
        }
    }
}

/// The test files under `paths` (folders searched recursively for `.yaml` and
/// `.yml` files; files named directly are taken whatever their extension), in
/// a stable order. An error when a path cannot be read or no test file is found.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
        if metadata.is_dir() {
            let before = found.len();
            walk(path, &mut found)?;
            if let Some(new) = found.get_mut(before..) {
                new.sort();
            }
        } else {
            found.push(path.clone());
        }
    }
    if found.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(format!(
            "no test files (`.yaml`, `.yml`) in {}",
            names.join(", ")
        ));
    }
    Ok(found)
}

fn walk(folder: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let files = crate::files::files_under(folder, &["yaml", "yml"])
        .map_err(|walk| format!("cannot read `{}`: {}", walk.path.display(), walk.error))?;
    found.extend(files);
    Ok(())
}

/// Finds the test files under `paths` and runs every test against `policies`.
/// `Err` only when no test file could be found at all.
pub fn run(paths: &[PathBuf], policies: &CompiledPolicies) -> Result<SuiteReport, String> {
    let files = discover(paths)?;
    let mut coverage = coverage::Collector::default();
    let reports = files
        .into_iter()
        .map(|path| run_file(path, policies, &mut coverage))
        .collect();
    Ok(SuiteReport {
        files: reports,
        coverage: coverage.finish(policies),
    })
}

fn run_file(
    path: PathBuf,
    policies: &CompiledPolicies,
    coverage: &mut coverage::Collector,
) -> FileReport {
    let name = path.display().to_string();
    let text = match std::fs::read(&path)
        .map_err(|error| error.to_string())
        .and_then(crate::source::utf8_text)
    {
        Ok(text) => text,
        Err(error) => {
            return FileReport {
                path,
                tests: Vec::new(),
                problems: vec![format!("{name}: cannot read: {error}")],
            }
        }
    };
    let tests = match read_tests(&text, &path) {
        Ok(tests) => tests,
        Err(errors) => {
            return FileReport {
                problems: errors
                    .iter()
                    .map(|e| format!("{name}:{}:{}: {}", e.place.line, e.place.column, e.message))
                    .collect(),
                path,
                tests: Vec::new(),
            }
        }
    };
    let tests = tests
        .iter()
        .map(|test| TestReport {
            name: test.name.clone(),
            place: test.place,
            outcome: run_test(test, &name, policies, coverage),
        })
        .collect();
    FileReport {
        path,
        tests,
        problems: Vec::new(),
    }
}

fn run_test(
    test: &TestCase,
    file: &str,
    policies: &CompiledPolicies,
    coverage: &mut coverage::Collector,
) -> Outcome {
    let at = |place: Place| format!("{file}:{}:{}", place.line, place.column);
    let claim = match load_claim(&test.claim, file) {
        Ok(claim) => claim,
        Err(errors) => return Outcome::Error(errors),
    };
    let report = match crate::eval::evaluate_explained(&claim, policies) {
        Ok(report) => report,
        Err(error) => {
            let place = match &test.claim {
                ClaimInput::File { place, .. } => *place,
                ClaimInput::Inline(_) => test.place,
            };
            return Outcome::Error(vec![format!(
                "{}: the claim cannot be evaluated: {error} (at claim `{}`)",
                at(place),
                error.path()
            )]);
        }
    };
    // Expectations about rules the payer does not have, or lines the claim
    // does not have, would pass or fail for the wrong reason: refuse them.
    let mut problems = Vec::new();
    let rules: Vec<&str> = policies
        .payers
        .get(report.payer)
        .map(|policy| policy.rules.iter().map(|r| &*r.id).collect())
        .unwrap_or_default();
    let mut check_rule = |rule: &str, place: Place| {
        if !rules.contains(&rule) {
            let hint = crate::diagnostics::did_you_mean(rule, rules.iter().copied())
                .map(|hint| format!("; {hint}"))
                .unwrap_or_default();
            problems.push(format!(
                "{}: payer `{}` has no rule `{rule}`{hint}",
                at(place),
                report.payer
            ));
        }
    };
    for fires in &test.expect.fires {
        check_rule(&fires.value.rule, fires.place);
    }
    for rule in &test.expect.does_not_fire {
        check_rule(&rule.value, rule.place);
    }
    let lines = claim.lines.len();
    let line_numbers = test
        .expect
        .fires
        .iter()
        .filter_map(|f| f.value.line.map(|line| (line, f.place)))
        .chain(
            test.expect
                .units_supported
                .iter()
                .map(|u| (u.value.0, u.place)),
        );
    for (line, place) in line_numbers {
        if line >= lines {
            problems.push(format!(
                "{}: the claim has no line {line} (it has {lines} line{}, counted from 0)",
                at(place),
                if lines == 1 { "" } else { "s" }
            ));
        }
    }
    if !problems.is_empty() {
        return Outcome::Error(problems);
    }
    coverage.record(&report);
    let mismatches = compare(&test.expect, &report);
    if mismatches.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed(Failure {
            mismatches,
            status: report.status,
            findings: report
                .findings
                .iter()
                .map(|f| FindingSummary {
                    rule: f.rule.id.to_string(),
                    severity: f.severity,
                    line: f.line,
                    message: f.message.clone(),
                })
                .collect(),
        })
    }
}

/// The claim of a test, or its problems as `FILE:LINE:COLUMN: message`.
fn load_claim(input: &ClaimInput, file: &str) -> Result<Claim, Vec<String>> {
    match input {
        ClaimInput::Inline(inline) => match inline.as_ref() {
            Ok(claim) => Ok(claim.clone()),
            Err(errors) => Err(errors
                .iter()
                .map(|e| format!("{file}:{}:{}: {}", e.place.line, e.place.column, e.message))
                .collect()),
        },
        ClaimInput::File { path, place } => {
            let name = path.display().to_string();
            let text = std::fs::read(path)
                .map_err(|error| error.to_string())
                .and_then(crate::source::utf8_text)
                .map_err(|error| {
                    vec![format!(
                        "{file}:{}:{}: cannot read the claim file `{name}`: {error}",
                        place.line, place.column
                    )]
                })?;
            let format = detect_format(Some(path), &text);
            if format == InputFormat::Ndjson {
                return Err(vec![format!(
                    "{file}:{}:{}: `{name}` is an NDJSON batch; a test's claim file holds one claim (YAML or JSON)",
                    place.line, place.column
                )]);
            }
            read_claim(&text, format).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| match (e.line, e.column) {
                        (Some(line), Some(column)) => {
                            format!("{name}:{line}:{column}: {} (at `{}`)", e.message, e.path)
                        }
                        _ => format!("{name}: {} (at `{}`)", e.message, e.path),
                    })
                    .collect()
            })
        }
    }
}

/// Every expectation the report does not meet.
fn compare(expect: &Expect, report: &ClaimReport) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if let Some(status) = &expect.status {
        if status.value != report.status {
            mismatches.push(Mismatch {
                place: status.place,
                expected: format!("status {}", status_word(status.value)),
                actual: format!("status {}", status_word(report.status)),
            });
        }
    }
    for fires in &expect.fires {
        let wanted = &fires.value;
        let matched = report.findings.iter().any(|f| {
            *f.rule.id == *wanted.rule
                && f.severity == wanted.severity
                && wanted.line.is_none_or(|line| f.line == Some(line))
        });
        if !matched {
            let on_line = wanted
                .line
                .map(|line| format!(" on line {line}"))
                .unwrap_or_default();
            mismatches.push(Mismatch {
                place: fires.place,
                expected: format!(
                    "fires {} {}{on_line}",
                    wanted.rule,
                    severity_word(wanted.severity)
                ),
                actual: findings_of(report, &wanted.rule),
            });
        }
    }
    for rule in &expect.does_not_fire {
        if report.findings.iter().any(|f| *f.rule.id == *rule.value) {
            mismatches.push(Mismatch {
                place: rule.place,
                expected: format!("does not fire {}", rule.value),
                actual: findings_of(report, &rule.value),
            });
        }
    }
    for units in &expect.units_supported {
        let (line, expected) = units.value;
        let actual = report.lines.get(line).and_then(|l| l.units_supported);
        if actual != expected {
            let show = |units: Option<u32>| {
                units.map_or_else(|| "none (cannot be told)".to_owned(), |u| u.to_string())
            };
            mismatches.push(Mismatch {
                place: units.place,
                expected: format!("units supported on line {line}: {}", show(expected)),
                actual: format!("units supported on line {line}: {}", show(actual)),
            });
        }
    }
    mismatches
}

/// What a rule gave in a report: `it gave deny on line 0, undetermined on the
/// claim`, or `it gave no finding`.
fn findings_of(report: &ClaimReport, rule: &str) -> String {
    let given: Vec<String> = report
        .findings
        .iter()
        .filter(|f| &*f.rule.id == rule)
        .map(|f| {
            let place = f
                .line
                .map_or_else(|| "on the claim".to_owned(), |l| format!("on line {l}"));
            format!("{} {place}", severity_word(f.severity))
        })
        .collect();
    if given.is_empty() {
        "it gave no finding".to_owned()
    } else {
        format!("it gave {}", given.join(", "))
    }
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Incomplete => "incomplete",
        Status::Fail => "fail",
    }
}

pub fn severity_word(severity: FindingSeverity) -> &'static str {
    match severity {
        FindingSeverity::Deny => "deny",
        FindingSeverity::Undetermined => "undetermined",
        FindingSeverity::Warn => "warn",
        FindingSeverity::Info => "info",
    }
}
