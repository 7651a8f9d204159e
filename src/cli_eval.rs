//! `ppl eval`: claims in, reports out.
//!
//! Exit codes (the report contract): 0 every claim evaluated and none `fail`;
//! 1 every claim evaluated and at least one `fail`; 2 a policy could not be
//! compiled or some input could not be read (the error says where and why).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::claim::{detect_format, read_claim, read_ndjson, ClaimError, InputFormat};
use crate::cli::{could_not_run, use_color, EvalFormat};
use crate::compile::CompiledPolicies;
use crate::report::{self, ClaimReport, ErrorDetail, ErrorRecord, Status};

/// The compiled policies, and their sources for the human report.
struct Policies {
    compiled: CompiledPolicies,
    checked: crate::check::Checked,
}

fn load_policies(folder: Option<&Path>) -> Result<Policies, String> {
    let workspace = match folder {
        Some(folder) => {
            crate::check::Workspace::load(&[folder.to_path_buf()]).map_err(|e| e.to_string())?
        }
        None => crate::check::Workspace::embedded(),
    };
    let checked = crate::check::check(workspace);
    if checked.has_errors() {
        let rendered = crate::diagnostics::render_human(
            &checked.diagnostics,
            &checked.workspace.sources,
            false,
            100,
        );
        return Err(format!(
            "the policies do not check (run `ppl check`):\n{rendered}"
        ));
    }
    let compiled = crate::compile::compile(&checked).map_err(|e| e.to_string())?;
    Ok(Policies { compiled, checked })
}

fn read_input(path: &Path) -> std::io::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// `FILE:LINE:COLUMN: message (at /path)`.
fn describe(name: &str, error: &ClaimError) -> String {
    let place = match (error.line, error.column) {
        (Some(line), Some(column)) => format!("{name}:{line}:{column}"),
        _ => name.to_owned(),
    };
    let path = if error.path.is_empty() {
        "/"
    } else {
        error.path.as_str()
    };
    format!("{place}: {} (at {path})", error.message)
}

pub fn eval_command(
    files: &[PathBuf],
    policies: Option<&Path>,
    format: Option<EvalFormat>,
) -> ExitCode {
    let policies = match load_policies(policies) {
        Ok(policies) => policies,
        Err(message) => return could_not_run(message),
    };
    let terminal = std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    let mut errors = std::io::stderr().lock();
    let mut unreadable = false;
    let mut failed = false;
    for path in files {
        let name = if path == Path::new("-") {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        };
        let text = match read_input(path) {
            Ok(text) => text,
            Err(error) => {
                let _ = writeln!(errors, "error: cannot read `{name}`: {error}");
                unreadable = true;
                continue;
            }
        };
        let input = detect_format(
            if path == Path::new("-") {
                None
            } else {
                Some(path)
            },
            &text,
        );
        let format = format.unwrap_or(match (terminal, input) {
            (true, _) => EvalFormat::Human,
            (false, InputFormat::Ndjson) => EvalFormat::Ndjson,
            (false, _) => EvalFormat::Json,
        });
        let results: Vec<(usize, Result<ClaimReport, ErrorRecord>)> = match input {
            InputFormat::Ndjson => {
                read_ndjson(&text)
                    .into_iter()
                    .map(|(line, claim)| {
                        let result =
                            match claim {
                                Ok(claim) => crate::eval::evaluate(&claim, &policies.compiled)
                                    .map_err(|error| ErrorRecord {
                                        input_line: line,
                                        error: ErrorDetail {
                                            message: error.to_string(),
                                            path: error.path(),
                                        },
                                    }),
                                Err(claim_errors) => Err(error_record(line, &claim_errors)),
                            };
                        (line, result)
                    })
                    .collect()
            }
            _ => match read_claim(&text, input) {
                Ok(claim) => match crate::eval::evaluate(&claim, &policies.compiled) {
                    Ok(report) => vec![(1, Ok(report))],
                    Err(error) => {
                        let _ = writeln!(errors, "error: {name}: {error} (at {})", error.path());
                        unreadable = true;
                        continue;
                    }
                },
                Err(claim_errors) => {
                    for error in &claim_errors {
                        let _ = writeln!(errors, "error: {}", describe(&name, error));
                    }
                    unreadable = true;
                    continue;
                }
            },
        };
        for (line, result) in &results {
            match result {
                Ok(report) => failed |= report.status == Status::Fail,
                Err(record) => {
                    unreadable = true;
                    if format != EvalFormat::Ndjson {
                        let _ = writeln!(
                            errors,
                            "error: {name}:{line}: {} (at {})",
                            record.error.message, record.error.path
                        );
                    }
                }
            }
            let rendered = match (format, result) {
                (EvalFormat::Ndjson, result) => format!("{}\n", report::render_ndjson_line(result)),
                (EvalFormat::Json, Ok(report)) => report::render_json(report),
                (EvalFormat::Human, Ok(report)) => {
                    let claim = report::ClaimSource {
                        name: &name,
                        text: &text,
                    };
                    let sources = report::PolicySources::new(&policies.checked.workspace.sources);
                    report::render_human(
                        report,
                        &claim,
                        &sources,
                        use_color(),
                        if use_color() { 100 } else { 80 },
                    )
                }
                (_, Err(_)) => continue,
            };
            if out.write_all(rendered.as_bytes()).is_err() {
                return ExitCode::from(2);
            }
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn error_record(line: usize, errors: &[ClaimError]) -> ErrorRecord {
    let first = errors.first();
    let more = errors.len().saturating_sub(1);
    let message = first.map_or_else(
        || "the line could not be read".to_owned(),
        |e| e.message.clone(),
    );
    ErrorRecord {
        input_line: line,
        error: ErrorDetail {
            message: if more > 0 {
                format!("{message} (and {more} more)")
            } else {
                message
            },
            path: first.map_or_else(String::new, |e| e.path.clone()),
        },
    }
}
