//! `ppl diff OLD NEW CLAIMS`: a claim corpus evaluated under two policy sets.
//!
//! OLD and NEW are each a folder of policies, or else a git revision: `REV`
//! means `REV:policies` (the `policies/` folder of that commit), and anything
//! with a colon (`main:policies`, `v1.2:other/dir`) is taken as the tree to
//! read. The revision's files are written to a temporary folder with `git`.
//!
//! The corpus is streamed: NDJSON is read a line at a time in chunks, each
//! chunk's claims are evaluated under both sets on every core, and only the
//! claims that change are kept. Exit 0 when it ran, whatever it found; 2 when
//! a policy set or the corpus could not be read at all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::batch::{Batch, BatchError};
use crate::claim::{detect_format, read_claim, read_ndjson_line, Claim, ClaimError, InputFormat};
use crate::cli::{could_not_run, Format};
use crate::compile::CompiledPolicies;
use crate::diff::{self, DiffInputs, DiffSummary, Unreadable};

/// Claims of YAML/JSON files evaluated together (NDJSON streams through
/// [`crate::batch`]): enough to keep every core busy.
const CHUNK: usize = 4096;

pub fn diff_command(old: &str, new: &str, claims: &Path, format: Format) -> ExitCode {
    let old_set = match PolicySet::resolve(old) {
        Ok(set) => set,
        Err(message) => return could_not_run(format!("OLD: {message}")),
    };
    let new_set = match PolicySet::resolve(new) {
        Ok(set) => set,
        Err(message) => return could_not_run(format!("NEW: {message}")),
    };
    let old_policies = match crate::cli_eval::load_policies(Some(old_set.folder())) {
        Ok(policies) => policies.compiled,
        Err(message) => return could_not_run(format!("OLD `{old}`: {message}")),
    };
    let new_policies = match crate::cli_eval::load_policies(Some(new_set.folder())) {
        Ok(policies) => policies.compiled,
        Err(message) => return could_not_run(format!("NEW `{new}`: {message}")),
    };
    let sides = Sides {
        old: &old_policies,
        new: &new_policies,
    };
    let mut summary = DiffSummary::default();
    if let Err(message) = run_corpus(claims, &sides, &mut summary) {
        return could_not_run(message);
    }
    let claims_name = claims.display().to_string();
    let inputs = DiffInputs {
        old,
        new,
        claims: &claims_name,
    };
    let rendered = match format {
        Format::Human => diff::render_human(&summary, &inputs),
        Format::Json => diff::render_json(&summary, &inputs),
    };
    if std::io::stdout()
        .lock()
        .write_all(rendered.as_bytes())
        .is_err()
    {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// The policies of one side: a folder given, or a revision written out.
enum PolicySet {
    Folder(PathBuf),
    /// Removed when dropped.
    Revision(tempfile::TempDir),
}

impl PolicySet {
    fn resolve(spec: &str) -> Result<Self, String> {
        let path = Path::new(spec);
        if path.exists() {
            return Ok(PolicySet::Folder(path.to_owned()));
        }
        let tree = if spec.contains(':') {
            spec.to_owned()
        } else {
            format!("{spec}:policies")
        };
        let listing = git(&["ls-tree", "-r", "-z", "--name-only", &tree]).map_err(|error| {
            format!("`{spec}` is neither a folder nor a git revision with a `policies/` folder ({error})")
        })?;
        let dir = tempfile::Builder::new()
            .prefix("ppl-diff-")
            .tempdir()
            .map_err(|error| format!("cannot make a temporary folder: {error}"))?;
        let names: Vec<&[u8]> = listing
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Err(format!("`{tree}` holds no files"));
        }
        for name in names {
            let name = std::str::from_utf8(name)
                .map_err(|_| format!("`{tree}` has a file name that is not UTF-8"))?;
            let separator = if tree.ends_with(':') { "" } else { "/" };
            let bytes = git(&["cat-file", "blob", &format!("{tree}{separator}{name}")])?;
            let target = dir.path().join(name);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|error| format!("cannot write `{}`: {error}", parent.display()))?;
            }
            std::fs::write(&target, bytes)
                .map_err(|error| format!("cannot write `{}`: {error}", target.display()))?;
        }
        Ok(PolicySet::Revision(dir))
    }

    fn folder(&self) -> &Path {
        match self {
            PolicySet::Folder(path) => path,
            PolicySet::Revision(dir) => dir.path(),
        }
    }
}

/// Runs `git ARGS` in the current folder: its standard output, or why it failed.
fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("git {}: {}", args.join(" "), stderr.trim()))
    }
}

struct Sides<'p> {
    old: &'p CompiledPolicies,
    new: &'p CompiledPolicies,
}

/// One claim to evaluate: where it came from, and the claim read (or why not).
struct Input {
    source: String,
    claim: Box<Result<Claim, Vec<ClaimError>>>,
}

/// Evaluated and compared: the change (if any), or the reason it could not be.
type Outcome = Result<Option<diff::ClaimChange>, Unreadable>;

fn evaluate(input: Input, sides: &Sides<'_>) -> Outcome {
    let read = *input.claim;
    let claim = match read {
        Ok(claim) => claim,
        Err(errors) => return Err(unreadable(&input.source, &errors)),
    };
    let old = crate::eval::evaluate(&claim, sides.old);
    let new = crate::eval::evaluate(&claim, sides.new);
    if let (Err(old_error), Err(new_error)) = (&old, &new) {
        if old_error == new_error {
            return Err(Unreadable {
                source: input.source,
                message: format!("neither policy set can evaluate it: {old_error}"),
                path: old_error.path(),
            });
        }
    }
    Ok(diff::compare(&claim, &input.source, &old, &new))
}

fn unreadable(source: &str, errors: &[ClaimError]) -> Unreadable {
    let first = errors.first();
    let more = errors.len().saturating_sub(1);
    let mut message = first.map_or_else(
        || "the claim could not be read".to_owned(),
        |e| e.message.clone(),
    );
    if more > 0 {
        message.push_str(&format!(" (and {more} more)"));
    }
    // `FILE:LINE:COLUMN`; an NDJSON source already ends with its line.
    let place = first
        .and_then(|e| e.line.zip(e.column))
        .map(|(line, column)| {
            if source.ends_with(&format!(":{line}")) {
                format!(":{column}")
            } else {
                format!(":{line}:{column}")
            }
        })
        .unwrap_or_default();
    Unreadable {
        source: format!("{source}{place}"),
        message,
        path: first.map_or_else(String::new, |e| e.path.clone()),
    }
}

/// Evaluates a chunk of claims on every core, keeping input order.
fn evaluate_chunk(inputs: Vec<Input>, sides: &Sides<'_>, summary: &mut DiffSummary) {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 64);
    let per_thread = inputs.len().div_ceil(threads).max(1);
    let mut parts: Vec<Vec<Input>> = Vec::new();
    let mut inputs = inputs.into_iter().peekable();
    while inputs.peek().is_some() {
        parts.push(inputs.by_ref().take(per_thread).collect());
    }
    let results: Vec<Vec<Outcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(|input| evaluate(input, sides))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                // A worker that panicked lost its claims: say so for each rather than drop them.
                handle.join().unwrap_or_else(|_| {
                    vec![Err(Unreadable {
                        source: "<worker>".to_owned(),
                        message:
                            "internal error while evaluating a chunk of claims (please report this)"
                                .to_owned(),
                        path: String::new(),
                    })]
                })
            })
            .collect()
    });
    add_outcomes(summary, results.into_iter().flatten());
}

fn add_outcomes(summary: &mut DiffSummary, outcomes: impl IntoIterator<Item = Outcome>) {
    for outcome in outcomes {
        match outcome {
            Ok(change) => summary.add(change),
            Err(error) => summary.add_error(error),
        }
    }
}

/// Reads the corpus (a file or a folder) and adds every claim to `summary`.
fn run_corpus(path: &Path, sides: &Sides<'_>, summary: &mut DiffSummary) -> Result<(), String> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    let files = if metadata.is_dir() {
        let mut files = Vec::new();
        collect_claim_files(path, &mut files)?;
        if files.is_empty() {
            return Err(format!(
                "`{}` holds no claim files (.ndjson, .jsonl, .json, .yaml, .yml)",
                path.display()
            ));
        }
        files
    } else {
        vec![path.to_owned()]
    };
    let mut pending = Vec::new();
    for file in &files {
        run_file(file, sides, summary, &mut pending)?;
    }
    evaluate_chunk(pending, sides, summary);
    if summary.claims == 0 && summary.errors.is_empty() {
        return Err(format!("`{}` holds no claims", path.display()));
    }
    Ok(())
}

fn collect_claim_files(folder: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let found = crate::files::files_under(folder, &["ndjson", "jsonl", "json", "yaml", "yml"])
        .map_err(|walk| format!("cannot read `{}`: {}", walk.path.display(), walk.error))?;
    files.extend(found);
    Ok(())
}

fn is_ndjson_name(path: &Path) -> bool {
    crate::files::has_extension(path, &["ndjson", "jsonl"])
}

/// Adds one file's claims to `pending`, evaluating each full chunk.
fn run_file(
    path: &Path,
    sides: &Sides<'_>,
    summary: &mut DiffSummary,
    pending: &mut Vec<Input>,
) -> Result<(), String> {
    let name = path.display().to_string();
    let cannot = |error: std::io::Error| format!("cannot read `{name}`: {error}");
    if is_ndjson_name(path) {
        // Streamed in chunks on every core; what is pending goes first, to keep input order.
        evaluate_chunk(std::mem::take(pending), sides, summary);
        let file = std::fs::File::open(path).map_err(cannot)?;
        let reader = std::io::BufReader::with_capacity(1 << 18, file);
        let work = |chunk: &crate::batch::Chunk| -> Vec<Outcome> {
            chunk
                .lines()
                .map(|line| {
                    let read = line
                        .text
                        .map_err(|error| vec![error])
                        .and_then(|text| read_ndjson_line(text, line.number, line.offset));
                    evaluate(
                        Input {
                            source: format!("{name}:{}", line.number),
                            claim: Box::new(read),
                        },
                        sides,
                    )
                })
                .collect()
        };
        let sink = |outcomes: Result<Vec<Outcome>, crate::batch::LostChunk>, _| {
            match outcomes {
                Ok(outcomes) => add_outcomes(summary, outcomes),
                Err(lost) => {
                    for number in lost.line_numbers {
                        summary.add_error(Unreadable {
                            source: format!("{name}:{number}"),
                            message:
                                "internal error while evaluating this claim (please report this)"
                                    .to_owned(),
                            path: String::new(),
                        });
                    }
                }
            }
            Ok::<(), std::convert::Infallible>(())
        };
        return match crate::batch::run(reader, Batch::new(None), work, sink) {
            Ok(_) => Ok(()),
            Err(BatchError::Read(error)) => Err(cannot(error)),
            Err(BatchError::Sink(never)) => match never {},
        };
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    let text = match crate::source::utf8_text(bytes) {
        Ok(text) => text,
        Err(reason) => {
            summary.add_error(Unreadable {
                source: name,
                message: reason,
                path: String::new(),
            });
            return Ok(());
        }
    };
    match detect_format(Some(path), &text) {
        InputFormat::Ndjson => {
            for (number, claim) in crate::claim::read_ndjson(&text) {
                pending.push(Input {
                    source: format!("{name}:{number}"),
                    claim: Box::new(claim),
                });
            }
        }
        format => pending.push(Input {
            source: name,
            claim: Box::new(read_claim(&text, format)),
        }),
    }
    if pending.len() >= CHUNK {
        evaluate_chunk(std::mem::take(pending), sides, summary);
    }
    Ok(())
}
