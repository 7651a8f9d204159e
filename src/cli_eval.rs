//! `ppl eval`: claims in, reports out.
//!
//! Exit codes (the report contract): 0 every claim evaluated and none `fail`;
//! 1 every claim evaluated and at least one `fail`; 2 a policy could not be
//! compiled or some input could not be read (the error says where and why).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::claim::notes::Notes;
use crate::claim::{
    detect_format, read_claim, read_ndjson, read_x12, Claim, ClaimError, InputFormat, PayerChoice,
    PayerMap, X12Options,
};
use crate::cli::{could_not_run, use_color, EvalFormat};
use crate::compile::CompiledPolicies;
use crate::report::{self, ClaimReport, ErrorDetail, ErrorRecord, Status};

/// The compiled policies, and their sources for the human report.
pub(crate) struct Policies {
    pub(crate) compiled: CompiledPolicies,
    pub(crate) checked: crate::check::Checked,
}

/// Checks and compiles the policies of `folder`, or the built-in ones.
pub(crate) fn load_policies(folder: Option<&Path>) -> Result<Policies, String> {
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

fn read_input(path: &Path) -> Result<String, String> {
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|error| error.to_string())?;
        bytes
    } else {
        std::fs::read(path).map_err(|error| error.to_string())?
    };
    crate::source::utf8_text(bytes)
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

/// One input claim (by input line) and its report, or why it has none.
type Evaluated = (usize, Result<(Claim, ClaimReport), ErrorRecord>);

/// What `ppl eval` was asked to do.
pub struct EvalOptions<'a> {
    pub files: &'a [PathBuf],
    pub policies: Option<&'a Path>,
    pub format: Option<EvalFormat>,
    /// `--explain`: say how each rule was applied.
    pub explain: bool,
    /// `--fix -o FILE`: where to write the claim with its fixes applied.
    pub fix_output: Option<&'a Path>,
    /// `--payer ID`: the policy for every claim of an 837P input.
    pub payer: Option<&'a str>,
    /// `--payer-map FILE`: 837P payer ids to policy ids.
    pub payer_map: Option<&'a Path>,
    /// `--notes FILE`: facts merged into the claims by claim id.
    pub notes: Option<&'a Path>,
}

/// Reads `--payer-map` and `--notes`, or says why they cannot be used.
fn read_side_files(options: &EvalOptions<'_>) -> Result<(Option<PayerMap>, Option<Notes>), String> {
    let payer_map = match options.payer_map {
        Some(path) => {
            let name = path.display().to_string();
            let text =
                read_input(path).map_err(|error| format!("cannot read `{name}`: {error}"))?;
            Some(PayerMap::read(&name, &text)?)
        }
        None => None,
    };
    let notes = match options.notes {
        Some(path) => {
            let name = path.display().to_string();
            let text =
                read_input(path).map_err(|error| format!("cannot read `{name}`: {error}"))?;
            let notes = Notes::read(&name, Some(path), &text).map_err(|errors| {
                let lines: Vec<String> =
                    errors.iter().map(|error| describe(&name, error)).collect();
                format!("the notes cannot be read:\n{}", lines.join("\n"))
            })?;
            Some(notes)
        }
        None => None,
    };
    Ok((payer_map, notes))
}

pub fn eval_command(options: &EvalOptions<'_>) -> ExitCode {
    if options.fix_output.is_some() && options.files.len() != 1 {
        return could_not_run("`--fix` writes one claim file: give exactly one FILE");
    }
    let (payer_map, notes) = match read_side_files(options) {
        Ok(files) => files,
        Err(message) => return could_not_run(message),
    };
    let x12_options = X12Options {
        payer: match (options.payer, &payer_map) {
            (Some(payer), _) => PayerChoice::Flag(payer),
            (None, Some(map)) => PayerChoice::Map(map),
            (None, None) => PayerChoice::None,
        },
    };
    let mut noted: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let policies = match load_policies(options.policies) {
        Ok(policies) => policies,
        Err(message) => return could_not_run(message),
    };
    let terminal = std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    let mut errors = std::io::stderr().lock();
    let mut unreadable = false;
    let mut failed = false;
    for path in options.files {
        let stdin = path == Path::new("-");
        let name = if stdin {
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
        let input = detect_format(if stdin { None } else { Some(path) }, &text);
        if input == InputFormat::X12 && options.fix_output.is_some() {
            return could_not_run(format!(
                "`--fix` rewrites YAML and JSON claims; `{name}` is an 837P file, which it cannot edit"
            ));
        }
        let format = options.format.unwrap_or(match (terminal, input) {
            (true, _) => EvalFormat::Human,
            (false, InputFormat::Ndjson | InputFormat::X12) => EvalFormat::Ndjson,
            (false, _) => EvalFormat::Json,
        });
        // Every claim of the input, read and evaluated, in input order.
        let mut results: Vec<Evaluated> = Vec::new();
        let mut read: Vec<(usize, Result<Claim, Vec<ClaimError>>)> = match input {
            InputFormat::Ndjson => read_ndjson(&text),
            InputFormat::X12 => match read_x12(&text, &x12_options) {
                Ok(read) => read,
                Err(error) => {
                    let _ = writeln!(errors, "error: {}", describe(&name, &error));
                    unreadable = true;
                    continue;
                }
            },
            _ => vec![(1, read_claim(&text, input))],
        };
        if let Some(notes) = &notes {
            for (_, result) in &mut read {
                if let Ok(claim) = result {
                    match notes.apply(claim) {
                        Ok(true) => {
                            noted.insert(claim.id.value.clone());
                        }
                        Ok(false) => {}
                        Err(problems) => *result = Err(problems),
                    }
                }
            }
        }
        if read.is_empty() {
            // An empty batch is almost always the wrong file: say so rather than pass.
            let _ = writeln!(errors, "error: `{name}` holds no claims");
            unreadable = true;
            continue;
        }
        for (line, claim) in read {
            let result = match claim {
                Ok(claim) => match evaluate(&claim, &policies.compiled, options.explain) {
                    Ok(report) => Ok((claim, report)),
                    Err(error) => Err(ErrorRecord {
                        input_line: line,
                        error: ErrorDetail {
                            message: error.to_string(),
                            path: error.path(),
                        },
                    }),
                },
                Err(claim_errors) => {
                    // A batch's error records carry the problem in NDJSON output.
                    let batch_output = input == InputFormat::X12 && format == EvalFormat::Ndjson;
                    if input != InputFormat::Ndjson && !batch_output {
                        for error in &claim_errors {
                            let _ = writeln!(errors, "error: {}", describe(&name, error));
                        }
                    }
                    Err(error_record(line, &claim_errors))
                }
            };
            results.push((line, result));
        }
        if let Some(target) = options.fix_output {
            if let Err(message) = write_fixed(&text, input, &mut results, target) {
                return could_not_run(message);
            }
        }
        for (line, result) in &results {
            let result = match result {
                Ok((_, report)) => {
                    failed |= report.status == Status::Fail;
                    Ok(report.clone())
                }
                Err(record) => {
                    unreadable = true;
                    if format != EvalFormat::Ndjson && input == InputFormat::Ndjson {
                        let _ = writeln!(
                            errors,
                            "error: {name}:{line}: {} (at {})",
                            record.error.message,
                            if record.error.path.is_empty() {
                                "/"
                            } else {
                                &record.error.path
                            }
                        );
                    } else if input != InputFormat::Ndjson && record.error.path == "/payer" {
                        let _ = writeln!(
                            errors,
                            "error: {name}: {} (at {})",
                            record.error.message, record.error.path
                        );
                    }
                    Err(record.clone())
                }
            };
            let rendered = match (format, &result) {
                (EvalFormat::Ndjson, result) => format!("{}\n", report::render_ndjson_line(result)),
                (EvalFormat::Json, Ok(report)) => report::render_json(report),
                (EvalFormat::Human, Ok(report)) => {
                    let claim = report::ClaimSource {
                        name: &name,
                        text: &text,
                    };
                    let sources = report::PolicySources::new(&policies.checked.workspace.sources);
                    let width = if use_color() { 100 } else { 80 };
                    let mut text =
                        report::render_human(report, &claim, &sources, use_color(), width);
                    text.push_str(&report::render_explanation(report));
                    text
                }
                (_, Err(_)) => continue,
            };
            if out.write_all(rendered.as_bytes()).is_err() {
                return ExitCode::from(2);
            }
        }
    }
    if let Some(notes) = &notes {
        for id in notes.claim_ids().filter(|id| !noted.contains(*id)) {
            let _ = writeln!(
                errors,
                "warning: the notes give facts for claim `{id}`, and no input holds a claim with that id"
            );
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

/// Applies every machine-applicable fix and writes the claim text to `target`;
/// each fix in the reports says whether it was applied.
fn write_fixed(
    text: &str,
    input: InputFormat,
    results: &mut [Evaluated],
    target: &Path,
) -> Result<(), String> {
    let mut edits = Vec::new();
    for (_, result) in results.iter_mut() {
        if let Ok((claim, report)) = result {
            edits.extend(crate::fix::fixes(text, claim, report, input));
        }
    }
    let fixed = crate::fix::apply(text, edits);
    // The written claim must read back: never hand a biller a broken file.
    let reads_back = match input {
        InputFormat::Ndjson => read_ndjson(&fixed).len() == read_ndjson(text).len(),
        _ => read_claim(&fixed, input).is_ok() || read_claim(text, input).is_err(),
    };
    if !reads_back {
        return Err(
            "the fixed claim would not read back; nothing was written (please report this)"
                .to_owned(),
        );
    }
    std::fs::write(target, fixed)
        .map_err(|error| format!("cannot write `{}`: {error}", target.display()))
}

fn evaluate(
    claim: &Claim,
    policies: &CompiledPolicies,
    explain: bool,
) -> Result<ClaimReport, crate::eval::EvalError> {
    if explain {
        crate::eval::evaluate_explained(claim, policies)
    } else {
        crate::eval::evaluate(claim, policies)
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
