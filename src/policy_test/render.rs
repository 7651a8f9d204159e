//! `ppl test`'s console output: each test's result (with what was expected
//! and what came out, for a failure), a summary line, and the coverage table.

use std::fmt::Write as _;

use super::{severity_word, status_word, Outcome, SuiteReport};

/// The whole report as a person reads it. `coverage_min` adds the verdict on
/// the minimum.
pub fn human(report: &SuiteReport, coverage_min: Option<f64>) -> String {
    let mut out = String::new();
    results(&mut out, report);
    summary(&mut out, report);
    coverage(&mut out, report, coverage_min);
    out
}

fn results(out: &mut String, report: &SuiteReport) {
    for file in &report.files {
        let name = file.path.display();
        let _ = writeln!(out, "{name}");
        for problem in &file.problems {
            let _ = writeln!(out, "  ERROR {problem}");
        }
        for test in &file.tests {
            match &test.outcome {
                Outcome::Passed => {
                    let _ = writeln!(out, "  PASS  {}", test.name);
                }
                Outcome::Error(problems) => {
                    let _ = writeln!(out, "  ERROR {} (line {})", test.name, test.place.line);
                    for problem in problems {
                        let _ = writeln!(out, "        {problem}");
                    }
                }
                Outcome::Failed(failure) => {
                    let _ = writeln!(out, "  FAIL  {} (line {})", test.name, test.place.line);
                    for mismatch in &failure.mismatches {
                        let place = format!("{}:{}", mismatch.place.line, mismatch.place.column);
                        let _ = writeln!(out, "        {place:<7} expected {}", mismatch.expected);
                        let _ = writeln!(out, "        {:<7} got      {}", "", mismatch.actual);
                    }
                    let _ = writeln!(
                        out,
                        "        the claim came out {}, with {}",
                        status_word(failure.status),
                        if failure.findings.is_empty() {
                            "no findings".to_owned()
                        } else {
                            let count = failure.findings.len();
                            format!("{count} finding{}:", plural(count))
                        }
                    );
                    for finding in &failure.findings {
                        let place = finding
                            .line
                            .map_or_else(|| "claim ".to_owned(), |l| format!("line {l}"));
                        let _ = writeln!(
                            out,
                            "          {place}  {:<12} {}: {}",
                            severity_word(finding.severity),
                            finding.rule,
                            finding.message
                        );
                    }
                }
            }
        }
    }
}

fn summary(out: &mut String, report: &SuiteReport) {
    let counts = report.counts();
    let files = report.files.len();
    let _ = write!(
        out,
        "\n{} test{} in {files} file{}: {} passed, {} failed, {} could not run",
        counts.tests,
        plural(counts.tests),
        plural(files),
        counts.passed,
        counts.failed,
        counts.errors,
    );
    if counts.unreadable_files > 0 {
        let _ = write!(
            out,
            "; {} test file{} could not be read",
            counts.unreadable_files,
            plural(counts.unreadable_files)
        );
    }
    out.push('\n');
}

fn coverage(out: &mut String, report: &SuiteReport, coverage_min: Option<f64>) {
    let coverage = &report.coverage;
    if coverage.payers.is_empty() {
        let _ = writeln!(out, "\ncoverage: no claim was evaluated");
        return;
    }
    let _ = writeln!(
        out,
        "\ncoverage (a rule is covered when a test saw it fire and a test saw it pass):"
    );
    let width = coverage
        .payers
        .iter()
        .map(|p| p.payer.len())
        .max()
        .unwrap_or(0)
        .max("overall".len());
    let _ = writeln!(
        out,
        "  {:<width$}  {:>5}  {:>5}  {:>5}  {:>6}  {:>7}  {:>6}",
        "payer", "tests", "rules", "fired", "passed", "covered", "%"
    );
    let mut total = (0, 0, 0);
    for payer in &coverage.payers {
        let fired = payer.rules.iter().filter(|r| r.fired > 0).count();
        let passed = payer.rules.iter().filter(|r| r.passed > 0).count();
        let ratio = payer.ratio();
        total = (total.0 + payer.tests, total.1 + fired, total.2 + passed);
        let _ = writeln!(
            out,
            "  {:<width$}  {:>5}  {:>5}  {:>5}  {:>6}  {:>7}  {:>6}",
            payer.payer,
            payer.tests,
            ratio.rules,
            fired,
            passed,
            ratio.covered,
            ratio.percent_text()
        );
    }
    let overall = coverage.overall();
    let _ = writeln!(
        out,
        "  {:<width$}  {:>5}  {:>5}  {:>5}  {:>6}  {:>7}  {:>6}",
        "overall",
        total.0,
        overall.rules,
        total.1,
        total.2,
        overall.covered,
        overall.percent_text()
    );
    let uncovered: Vec<String> = coverage
        .payers
        .iter()
        .flat_map(|payer| {
            payer.rules.iter().filter(|r| !r.covered()).map(move |r| {
                let missing = match (r.fired > 0, r.passed > 0) {
                    (false, false) => "no test saw it fire or pass",
                    (false, true) => "no test saw it fire",
                    _ => "no test saw it pass",
                };
                format!("  {}  {}: {missing}", payer.payer, r.rule)
            })
        })
        .collect();
    if !uncovered.is_empty() {
        let _ = writeln!(out, "rules not covered:");
        for line in uncovered {
            let _ = writeln!(out, "{line}");
        }
    }
    if !coverage.untested_payers.is_empty() {
        let _ = writeln!(
            out,
            "payers no test evaluated a claim against (not counted): {}",
            coverage.untested_payers.join(", ")
        );
    }
    if let Some(min) = coverage_min {
        let below = coverage.below(min);
        if below.is_empty() {
            let _ = writeln!(out, "every payer reaches the minimum coverage of {min}%");
        } else {
            let names: Vec<String> = below
                .iter()
                .map(|p| format!("{} {}", p.payer, p.ratio().percent_text()))
                .collect();
            let _ = writeln!(
                out,
                "coverage below the minimum of {min}%: {}",
                names.join(", ")
            );
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
