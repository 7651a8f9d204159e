//! The commands: `ppl check`, `ppl fmt`, `ppl explain`, `ppl doc` (`eval`, `test` and `diff`
//! have their own modules).
//!
//! Exit codes: 0 clean, 1 problems found, 2 could not run.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check;
use crate::cli_progress::ProgressMode;
use crate::diagnostics::{self, DiagnosticCode};

#[derive(Parser, Debug)]
#[command(
    name = "ppl",
    version,
    about = "A declarative payer-policy engine for outpatient therapy claims"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check policy files and report every problem, with where and how to fix it.
    Check {
        /// Policy files or folders (searched for `.ppl` files). Default: `policies`.
        paths: Vec<PathBuf>,
        /// `human` (miette's report) or `json` (versioned, with byte offsets and line/column).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors (exit 1), for CI.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Rewrite policy files in the one canonical layout (comments are kept).
    Fmt {
        /// Policy files or folders. Default: `policies`.
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that are not formatted and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Evaluate claims: what the payer will deny, why, where, and the fix.
    Eval {
        /// Claim files (YAML or JSON, one claim each; NDJSON, one claim a line; X12 837P, a batch);
        /// `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Policy files or folders to use instead of the policies built into ppl.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// `human` (miette's report; the default on a terminal), `json` (one object per claim) or
        /// `ndjson` (one line per claim; the default for NDJSON input when not on a terminal).
        #[arg(long, value_enum)]
        format: Option<EvalFormat>,
        /// Show, for each rule that applied, what it looked at and why it fired or did not.
        #[arg(long)]
        explain: bool,
        /// Write the claim with every machine-applicable fix applied (to the file `-o` names).
        #[arg(long, requires = "output")]
        fix: bool,
        /// Where `--fix` writes the fixed claim.
        #[arg(short = 'o', long = "output", requires = "fix")]
        output: Option<PathBuf>,
        /// For 837P input: apply this payer policy to every claim (a file bound for one payer).
        #[arg(long, value_name = "ID", conflicts_with = "payer_map")]
        payer: Option<String>,
        /// For 837P input: a YAML file mapping payer ids (NM1*PR NM109) to payer policy ids.
        #[arg(long, value_name = "FILE")]
        payer_map: Option<PathBuf>,
        /// Minutes, session notes, history and authorization details, keyed by claim id and line
        /// number (YAML/JSON, or NDJSON with `claim_id`), merged into the claims.
        #[arg(long, value_name = "FILE")]
        notes: Option<PathBuf>,
        /// Threads evaluating an NDJSON batch (default: one per core). The output is the same
        /// for any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        /// After the reports, print on standard error what the batch came to: claims by status,
        /// the rules that fired most, and the charges on denied lines.
        #[arg(long)]
        summary: bool,
        /// The summary as `human` text or versioned `json` (implies `--summary`).
        #[arg(long, value_enum, value_name = "FORMAT")]
        summary_format: Option<SummaryFormat>,
        /// Show the batch's progress on standard error even when it is not a terminal
        /// (a plain line every few seconds). Default: a progress bar on a terminal only.
        #[arg(long, overrides_with = "no_progress")]
        progress: bool,
        /// Never show progress.
        #[arg(long, overrides_with = "progress")]
        no_progress: bool,
    },
    /// Run the policy tests (YAML: a claim and what must come out) and report rule coverage.
    Test {
        /// Test files or folders (searched recursively for `.yaml` files). Default: `tests/policy`.
        paths: Vec<PathBuf>,
        /// Policy files or folders to use instead of the policies built into ppl.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Fail (exit 1) when a payer under test has less rule coverage than this percentage.
        #[arg(long, value_name = "PERCENT", value_parser = crate::cli_test::parse_percent)]
        coverage_min: Option<f64>,
        /// Also write the results as JUnit XML to FILE, for CI.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Render a payer's policy as a Markdown page for billers.
    Doc {
        /// The payer policy's id (`medicare-part-b`).
        payer: String,
        /// Policy files or folders to use instead of the policies built into ppl.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Show only what is in force on this date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_as_of)]
        as_of: Option<crate::Date>,
        /// Write the page to this file instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Compare two policy sets on a claim corpus: every claim whose status or findings change.
    Diff {
        /// The old policies: a folder, or a git revision of `policies/` (`HEAD~1`, `main:policies`).
        old: String,
        /// The new policies: a folder, or a git revision of `policies/`.
        new: String,
        /// The claims: an NDJSON file (one claim a line), a YAML/JSON claim file, or a folder of them.
        claims: PathBuf,
        /// `human` (a summary, then each changed claim) or `json` (versioned).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Explain a diagnostic code (`ppl explain E0101`).
    Explain {
        /// The code (`E0101`) or its name (`unknown-field`).
        code: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    Human,
    Json,
    Ndjson,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check_command(paths, format, deny_warnings),
        Command::Fmt { paths, check } => fmt_command(paths, check),
        Command::Eval {
            files,
            policies,
            format,
            explain,
            fix: _,
            output,
            payer,
            payer_map,
            notes,
            threads,
            summary,
            summary_format,
            progress,
            no_progress,
        } => crate::cli_eval::eval_command(&crate::cli_eval::EvalOptions {
            files: &files,
            policies: policies.as_deref(),
            format,
            explain,
            fix_output: output.as_deref(),
            payer: payer.as_deref(),
            payer_map: payer_map.as_deref(),
            notes: notes.as_deref(),
            threads: threads.map(usize::from),
            summary: summary_format.or(summary.then_some(SummaryFormat::Human)),
            progress: match (progress, no_progress) {
                (true, _) => ProgressMode::Always,
                (_, true) => ProgressMode::Never,
                _ => ProgressMode::Auto,
            },
        }),
        Command::Test {
            paths,
            policies,
            coverage_min,
            junit,
        } => crate::cli_test::test_command(&crate::cli_test::TestOptions {
            paths: &paths,
            policies: policies.as_deref(),
            coverage_min,
            junit: junit.as_deref(),
        }),
        Command::Doc {
            payer,
            policies,
            as_of,
            output,
        } => doc_command(&payer, policies.as_deref(), as_of, output.as_deref()),
        Command::Diff {
            old,
            new,
            claims,
            format,
        } => crate::cli_diff::diff_command(&old, &new, &claims, format),
        Command::Explain { code } => explain_command(&code),
    }
}

fn parse_as_of(text: &str) -> Result<crate::Date, String> {
    crate::syntax::parse_date(text).ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)"))
}

fn doc_command(
    payer: &str,
    policies: Option<&std::path::Path>,
    as_of: Option<crate::Date>,
    output: Option<&std::path::Path>,
) -> ExitCode {
    let loaded = match crate::cli_eval::load_policies(policies) {
        Ok(loaded) => loaded,
        Err(message) => return could_not_run(message),
    };
    let page = match crate::doc::render(&loaded.checked, &loaded.compiled, payer, as_of) {
        Ok(page) => page,
        Err(error) => return could_not_run(error),
    };
    let written = match output {
        Some(path) => std::fs::write(path, page)
            .map_err(|error| format!("cannot write `{}`: {error}", path.display())),
        None => std::io::stdout()
            .lock()
            .write_all(page.as_bytes())
            .map_err(|error| error.to_string()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => could_not_run(message),
    }
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("policies")]
    } else {
        paths
    }
}

/// Colour only for a terminal, and never when `NO_COLOR` is set.
pub(crate) fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub(crate) fn could_not_run(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(2)
}

fn check_command(paths: Vec<PathBuf>, format: Format, deny_warnings: bool) -> ExitCode {
    let checked = match check::check_paths(&default_paths(paths)) {
        Ok(checked) => checked,
        Err(error) => return could_not_run(error),
    };
    let files = checked.workspace.files.len();
    let diagnostics = &checked.diagnostics;
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Human => {
            let width = if use_color() { 100 } else { 80 };
            let rendered = diagnostics::render_human(
                diagnostics,
                &checked.workspace.sources,
                use_color(),
                width,
            );
            write!(out, "{rendered}").and_then(|()| {
                writeln!(
                    out,
                    "checked {files} file{}: {errors} error{}, {warnings} warning{}",
                    plural(files),
                    plural(errors),
                    plural(warnings)
                )
            })
        }
        Format::Json => {
            let report = diagnostics::render_json(diagnostics, &checked.workspace.sources, files);
            serde_json::to_writer_pretty(&mut out, &report)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
    };
    if written.is_err() {
        return ExitCode::from(2);
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

fn fmt_command(paths: Vec<PathBuf>, check_only: bool) -> ExitCode {
    let workspace = match check::Workspace::load(&default_paths(paths)) {
        Ok(workspace) => workspace,
        Err(error) => return could_not_run(error),
    };
    let mut unformatted = Vec::new();
    let mut failed = false;
    for file in &workspace.files {
        let text = workspace.sources.text(file.id);
        match crate::format::format(text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check_only {
                    unformatted.push(file.path.clone());
                } else if let Err(error) = std::fs::write(&file.path, formatted) {
                    let _ = writeln!(
                        std::io::stderr(),
                        "error: cannot write `{}`: {error}",
                        file.path.display()
                    );
                    failed = true;
                }
            }
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: `{}` was not formatted: {error} (run `ppl check` to see why)",
                    file.path.display()
                );
                failed = true;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    for path in &unformatted {
        let _ = writeln!(out, "not formatted: {}", path.display());
    }
    if failed {
        ExitCode::from(2)
    } else if !unformatted.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn explain_command(code: &str) -> ExitCode {
    match DiagnosticCode::lookup(code) {
        Some(code) => {
            let _ = write!(std::io::stdout(), "{}", code.page());
            ExitCode::SUCCESS
        }
        None => {
            let known = DiagnosticCode::ALL.iter().map(|code| code.id());
            let hint = diagnostics::did_you_mean(&code.to_ascii_uppercase(), known)
                .map(|hint| format!("; {hint}"))
                .unwrap_or_default();
            could_not_run(format!("`{code}` is not a ppl diagnostic code{hint} (codes are listed in docs/diagnostics/)"))
        }
    }
}
