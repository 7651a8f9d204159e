//! `ppl eval`: claims in, reports out.
//!
//! Exit codes (the report contract): 0 every claim evaluated and none `fail`;
//! 1 every claim evaluated and at least one `fail`; 2 a policy could not be
//! compiled or some input could not be read (the error says where and why).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::batch::{Batch, BatchError, Chunk, LostChunk};
use crate::claim::notes::Notes;
use crate::claim::{
    detect_format, read_claim, read_ndjson, read_x12, Claim, ClaimError, InputFormat, PayerChoice,
    PayerMap, X12Options,
};
use crate::cli::{could_not_run, use_color, EvalFormat, SummaryFormat};
use crate::cli_progress::{Progress, ProgressMode};
use crate::compile::CompiledPolicies;
use crate::eval::Evaluator;
use crate::report::{self, BatchSummary, ClaimReport, ErrorDetail, ErrorRecord, Status};

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
type Evaluated<'p> = (usize, Result<(Claim, ClaimReport<'p>), ErrorRecord>);

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
    /// `--threads N`: workers for NDJSON batches (default: one per core).
    pub threads: Option<usize>,
    /// `--summary` / `--summary-format`: what the batch came to, on standard error.
    pub summary: Option<SummaryFormat>,
    /// `--progress` / `--no-progress`.
    pub progress: ProgressMode,
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
    let mut summary = BatchSummary::default();
    // Its buffers serve every claim read whole (NDJSON streams have their own per chunk).
    let mut evaluator = Evaluator::new();
    for path in options.files {
        let stdin = path == Path::new("-");
        let name = if stdin {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        };
        let opened = match open_input(path, options.fix_output.is_none()) {
            Ok(opened) => opened,
            Err(error) => {
                let _ = writeln!(errors, "error: cannot read `{name}`: {error}");
                unreadable = true;
                continue;
            }
        };
        let text = match opened {
            Opened::Text(text) => text,
            Opened::Ndjson { reader, size } => {
                let format = options.format.unwrap_or(if terminal {
                    EvalFormat::Human
                } else {
                    EvalFormat::Ndjson
                });
                if format != EvalFormat::Human {
                    let stream = Stream {
                        name: &name,
                        format,
                        options,
                        policies: &policies.compiled,
                        notes: notes.as_ref(),
                    };
                    let outcome = stream.run(reader, size, &mut out, &mut summary);
                    failed |= outcome.failed;
                    unreadable |= outcome.unreadable;
                    noted.extend(outcome.noted);
                    if outcome.broken_output {
                        return ExitCode::from(2);
                    }
                    continue;
                }
                // The human report quotes the claim's text: read it whole.
                let mut reader = reader;
                let mut bytes = Vec::new();
                if let Err(error) = reader.read_to_end(&mut bytes) {
                    let _ = writeln!(errors, "error: cannot read `{name}`: {error}");
                    unreadable = true;
                    continue;
                }
                match crate::source::utf8_text(bytes) {
                    Ok(text) => text,
                    Err(error) => {
                        let _ = writeln!(errors, "error: cannot read `{name}`: {error}");
                        unreadable = true;
                        continue;
                    }
                }
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
                Ok(claim) => {
                    match evaluate(&mut evaluator, &claim, &policies.compiled, options.explain) {
                        Ok(report) => Ok((claim, report)),
                        Err(error) => Err(ErrorRecord {
                            input_line: line,
                            error: ErrorDetail {
                                message: error.to_string(),
                                path: error.path(),
                            },
                        }),
                    }
                }
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
                Ok((claim, report)) => {
                    failed |= report.status == Status::Fail;
                    summary.add(claim, report);
                    Ok(report.clone())
                }
                Err(record) => {
                    unreadable = true;
                    summary.add_error();
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
    drop(out);
    match options.summary {
        Some(SummaryFormat::Human) => {
            let _ = errors.write_all(report::render_summary_human(&summary).as_bytes());
        }
        Some(SummaryFormat::Json) => {
            let _ = errors.write_all(report::render_summary_json(&summary).as_bytes());
        }
        None => {}
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

fn evaluate<'p>(
    evaluator: &mut Evaluator,
    claim: &Claim,
    policies: &'p CompiledPolicies,
    explain: bool,
) -> Result<ClaimReport<'p>, crate::eval::EvalError> {
    if explain {
        evaluator.evaluate_explained(claim, policies)
    } else {
        evaluator.evaluate(claim, policies)
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

/// An input, opened: an NDJSON stream to read as it comes, or a whole text.
enum Opened {
    Ndjson {
        reader: Box<dyn std::io::BufRead + Send>,
        /// The input's size in bytes, when it is a file (for the time left).
        size: Option<u64>,
    },
    Text(String),
}

/// Bytes looked at to tell NDJSON from one JSON or YAML claim when the name does not say.
const SNIFF_BYTES: usize = 1 << 20;

/// Opens `path` (`-` for standard input). NDJSON, by its extension or by its
/// first lines, is streamed when `may_stream`; anything else is read whole.
fn open_input(path: &Path, may_stream: bool) -> Result<Opened, String> {
    let stdin = path == Path::new("-");
    let by_name = if stdin {
        None
    } else {
        crate::claim::format_by_name(path)
    };
    if !may_stream || by_name.is_some_and(|format| format != InputFormat::Ndjson) {
        return read_input(path).map(Opened::Text);
    }
    let (mut reader, size): (Box<dyn std::io::BufRead + Send>, Option<u64>) = if stdin {
        (
            Box::new(std::io::BufReader::with_capacity(1 << 18, std::io::stdin())),
            None,
        )
    } else {
        let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
        let size = file.metadata().ok().map(|metadata| metadata.len());
        (
            Box::new(std::io::BufReader::with_capacity(1 << 18, file)),
            size,
        )
    };
    if by_name == Some(InputFormat::Ndjson) {
        return Ok(Opened::Ndjson { reader, size });
    }
    // No telling name: look at the first lines, as `detect_format` would at the whole.
    let mut prefix = Vec::new();
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)
        .map_err(|error| error.to_string())?;
    let complete = prefix.len() < SNIFF_BYTES;
    let sniffed = if complete {
        prefix.as_slice()
    } else {
        // Whole lines only, so a cut line does not decide.
        let end = prefix.iter().rposition(|&b| b == b'\n').unwrap_or(0);
        prefix.get(..end).unwrap_or_default()
    };
    let valid = match std::str::from_utf8(sniffed) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(sniffed.get(..error.valid_up_to()).unwrap_or_default())
            .unwrap_or_default(),
    };
    if detect_format(None, valid) == InputFormat::Ndjson {
        let reader = std::io::Cursor::new(prefix).chain(reader);
        return Ok(Opened::Ndjson {
            reader: Box::new(reader),
            size,
        });
    }
    let mut bytes = prefix;
    reader
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    crate::source::utf8_text(bytes).map(Opened::Text)
}

/// An NDJSON batch evaluated as it streams.
struct Stream<'a> {
    name: &'a str,
    format: EvalFormat,
    options: &'a EvalOptions<'a>,
    policies: &'a CompiledPolicies,
    notes: Option<&'a Notes>,
}

/// What a streamed batch came to.
#[derive(Default)]
struct StreamOutcome {
    failed: bool,
    unreadable: bool,
    /// Claim ids the notes had facts for.
    noted: Vec<String>,
    /// Standard output was closed: stop.
    broken_output: bool,
}

/// One chunk's reports, rendered by its worker.
struct ChunkOutput {
    out: Vec<u8>,
    errors: Vec<u8>,
    summary: BatchSummary,
    claims: u64,
    failed: bool,
    unreadable: bool,
    noted: Vec<String>,
}

impl<'a> Stream<'a> {
    fn run(
        &self,
        reader: Box<dyn std::io::BufRead + Send>,
        size: Option<u64>,
        out: &mut impl Write,
        summary: &mut BatchSummary,
    ) -> StreamOutcome {
        let mut outcome = StreamOutcome::default();
        let mut progress = Progress::new(self.options.progress, self.name, size);
        let batch = Batch::new(self.options.threads);
        let result = crate::batch::run(
            reader,
            batch,
            |chunk| self.evaluate_chunk(chunk),
            |result, bytes| {
                let chunk = match result {
                    Ok(chunk) => chunk,
                    Err(lost) => self.lost(lost),
                };
                outcome.failed |= chunk.failed;
                outcome.unreadable |= chunk.unreadable;
                outcome.noted.extend(chunk.noted);
                summary.merge(chunk.summary);
                progress.advance(chunk.claims, bytes);
                if !chunk.errors.is_empty() {
                    progress.write_above(&chunk.errors);
                }
                out.write_all(&chunk.out)
            },
        );
        let flushed = out.flush();
        progress.finish();
        match result {
            Ok(0) => {
                // An empty batch is almost always the wrong file: say so rather than pass.
                let _ = writeln!(std::io::stderr(), "error: `{}` holds no claims", self.name);
                outcome.unreadable = true;
            }
            Ok(_) => {}
            Err(BatchError::Read(error)) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: cannot read `{}`: {error}",
                    self.name
                );
                outcome.unreadable = true;
            }
            Err(BatchError::Sink(_)) => outcome.broken_output = true,
        }
        outcome.broken_output |= flushed.is_err();
        outcome
    }

    /// Reads, evaluates and renders one chunk's claims (on a worker).
    fn evaluate_chunk(&self, chunk: &Chunk) -> ChunkOutput {
        let mut output = ChunkOutput {
            // A report line is about 1.5 KB: room enough that the buffer rarely grows.
            out: Vec::with_capacity(chunk.len() * 2048),
            errors: Vec::new(),
            summary: BatchSummary::default(),
            claims: 0,
            failed: false,
            unreadable: false,
            noted: Vec::new(),
        };
        // One evaluator's buffers serve the chunk's claims. After a panic they
        // are only stale, and each evaluation clears them first.
        let mut evaluator = Evaluator::new();
        for line in chunk.lines() {
            output.claims += 1;
            let number = line.number;
            let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.evaluate_line(&mut evaluator, line, &mut output.noted, &mut output.summary)
            }))
            .unwrap_or_else(|_| {
                Err(ErrorRecord {
                    input_line: number,
                    error: ErrorDetail {
                        message: "internal error while evaluating this claim (please report this)"
                            .to_owned(),
                        path: String::new(),
                    },
                })
            });
            let result = match evaluated {
                Ok(report) => {
                    output.failed |= report.status == Status::Fail;
                    Ok(report)
                }
                Err(record) => {
                    output.unreadable = true;
                    output.summary.add_error();
                    Err(record)
                }
            };
            self.render(&result, &mut output);
        }
        output
    }

    /// One line's report. The claim stays here: it is large, and moving it out
    /// through the panic guard cost a copy per claim.
    fn evaluate_line(
        &self,
        evaluator: &mut Evaluator,
        line: crate::batch::Line<'_>,
        noted: &mut Vec<String>,
        summary: &mut BatchSummary,
    ) -> Result<ClaimReport<'a>, ErrorRecord> {
        let text = line
            .text
            .map_err(|error| error_record(line.number, std::slice::from_ref(&error)))?;
        let mut claim = crate::claim::read_ndjson_line(text, line.number, line.offset)
            .map_err(|errors| error_record(line.number, &errors))?;
        if let Some(notes) = self.notes {
            match notes.apply(&mut claim) {
                Ok(true) => noted.push(claim.id.value.clone()),
                Ok(false) => {}
                Err(problems) => return Err(error_record(line.number, &problems)),
            }
        }
        match evaluate(evaluator, &claim, self.policies, self.options.explain) {
            Ok(report) => {
                // Counting rules by name costs a hash per finding: only when asked.
                if self.options.summary.is_some() {
                    summary.add(&claim, &report);
                }
                Ok(report)
            }
            Err(error) => Err(ErrorRecord {
                input_line: line.number,
                error: ErrorDetail {
                    message: error.to_string(),
                    path: error.path(),
                },
            }),
        }
    }

    fn render(&self, result: &Result<ClaimReport, ErrorRecord>, output: &mut ChunkOutput) {
        match (self.format, result) {
            (EvalFormat::Json, Ok(report)) => {
                output
                    .out
                    .extend_from_slice(report::render_json(report).as_bytes());
            }
            (EvalFormat::Json | EvalFormat::Human, Err(record)) => {
                let path = if record.error.path.is_empty() {
                    "/"
                } else {
                    &record.error.path
                };
                let _ = writeln!(
                    output.errors,
                    "error: {}:{}: {} (at {path})",
                    self.name, record.input_line, record.error.message
                );
            }
            (_, result) => report::write_ndjson_line(&mut output.out, result),
        }
    }

    /// Error records for the lines of a chunk whose worker failed.
    fn lost(&self, lost: LostChunk) -> ChunkOutput {
        let mut output = ChunkOutput {
            out: Vec::new(),
            errors: Vec::new(),
            summary: BatchSummary::default(),
            claims: 0,
            failed: false,
            unreadable: true,
            noted: Vec::new(),
        };
        for number in lost.line_numbers {
            output.claims += 1;
            output.summary.add_error();
            let record = ErrorRecord {
                input_line: number,
                error: ErrorDetail {
                    message: "internal error while evaluating this claim (please report this)"
                        .to_owned(),
                    path: String::new(),
                },
            };
            self.render(&Err(record), &mut output);
        }
        output
    }
}
