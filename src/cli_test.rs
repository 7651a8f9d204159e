//! `ppl test`: run the policy tests under the given folders (default
//! `tests/policy/`), print each result and the coverage table.
//!
//! Exit codes: 0 every test passed (and every payer under test reaches
//! `--coverage-min`); 1 a test failed, or coverage is below the minimum;
//! 2 something could not run (a test file or claim unreadable or malformed,
//! policies with errors).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::could_not_run;
use crate::policy_test;

pub struct TestOptions<'a> {
    pub paths: &'a [PathBuf],
    pub policies: Option<&'a Path>,
    pub coverage_min: Option<f64>,
    pub junit: Option<&'a Path>,
}

pub fn test_command(options: &TestOptions<'_>) -> ExitCode {
    let policies = match crate::cli_eval::load_policies(options.policies) {
        Ok(policies) => policies,
        Err(message) => return could_not_run(message),
    };
    let default = [PathBuf::from(policy_test::DEFAULT_DIR)];
    let paths = if options.paths.is_empty() {
        &default[..]
    } else {
        options.paths
    };
    let report = match policy_test::run(paths, &policies.compiled) {
        Ok(report) => report,
        Err(message) => return could_not_run(message),
    };
    if let Some(target) = options.junit {
        if let Err(error) = std::fs::write(target, policy_test::junit::render(&report)) {
            return could_not_run(format!("cannot write `{}`: {error}", target.display()));
        }
    }
    let rendered = policy_test::render::human(&report, options.coverage_min);
    if std::io::stdout()
        .lock()
        .write_all(rendered.as_bytes())
        .is_err()
    {
        return ExitCode::from(2);
    }
    ExitCode::from(report.exit_code(options.coverage_min))
}

/// `--coverage-min`: a percentage from 0 to 100.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let text = text.strip_suffix('%').unwrap_or(text);
    match text.parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}
