//! Claims: the YAML, JSON and NDJSON readers of the claim contract
//! (`shared/spec/claim-v1.md`) and the one model they produce.
//!
//! ```text
//! YAML text  ── saphyr-parser events ──┐
//!                                      ├→ spanned tree → decode (every field checked) → Claim
//! JSON text  ── strict JSON reader  ───┘
//! NDJSON     ── one JSON text a line, offsets into the whole batch
//! X12 837P   ── segments → envelope → HL/2300/2400 loops → Claim (x12/), a batch
//! ```
//!
//! `--notes` facts (minutes, the session note, history) merge into claims of
//! any format through [`notes`].
//!
//! Every value keeps its JSON pointer and byte range ([`ClaimSpan`]); every
//! problem is a [`ClaimError`] at its place, and a claim reports all of its
//! problems, not the first.

mod decode;
mod json;
mod model;
pub mod notes;
pub(crate) mod tree;
mod x12;
mod yaml;

pub use model::*;
pub use x12::{looks_like_x12, read_x12, PayerChoice, PayerEntry, PayerMap, X12Options};

use std::fmt;
use std::path::Path;

use bumpalo::Bump;

/// The text formats a claim can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputFormat {
    Yaml,
    Json,
    /// One JSON claim a line, for batches.
    Ndjson,
    /// An X12 837P file (005010X222A1): a batch of claims.
    X12,
}

/// The format a file's extension names, if it names one.
pub fn format_by_name(path: &Path) -> Option<InputFormat> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "yaml" | "yml" => Some(InputFormat::Yaml),
        "json" => Some(InputFormat::Json),
        "ndjson" | "jsonl" => Some(InputFormat::Ndjson),
        "837" | "x12" | "edi" => Some(InputFormat::X12),
        _ => None,
    }
}

/// Tells the format by the path's extension (`.yaml`/`.yml`, `.json`,
/// `.ndjson`/`.jsonl`, `.837`/`.x12`/`.edi`, in any case) or, for `-` and other
/// extensions, by the content: text starting with `ISA` (after a byte-order
/// mark and whitespace) is X12; a first non-blank character `{` with more than
/// one non-blank line, each starting with `{`, is NDJSON; another `{` is JSON;
/// anything else YAML.
pub fn detect_format(path: Option<&Path>, text: &str) -> InputFormat {
    if let Some(format) = path.and_then(format_by_name) {
        return format;
    }
    if looks_like_x12(text) {
        return InputFormat::X12;
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .map(str::trim_start)
        .filter(|line| !line.trim_end().is_empty());
    let Some(first) = lines.next() else {
        return InputFormat::Yaml;
    };
    if !first.starts_with('{') {
        return InputFormat::Yaml;
    }
    let mut more = 0usize;
    for line in lines {
        if !line.starts_with('{') {
            return InputFormat::Json;
        }
        more += 1;
    }
    if more > 0 {
        InputFormat::Ndjson
    } else {
        InputFormat::Json
    }
}

/// A problem with the claim input, at its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimError {
    /// Lowercase, no trailing period, codes and field names in backticks; never
    /// free text from the claim.
    pub message: String,
    /// JSON pointer of the value (or, for a missing field, of the object it is
    /// missing from); `""` for the root.
    pub path: String,
    /// 1-based line in the input text.
    pub line: Option<usize>,
    /// 1-based column, counted in characters, in the input text.
    pub column: Option<usize>,
    /// Byte offsets into the input text (into the whole batch for NDJSON).
    pub start: Option<usize>,
    pub end: Option<usize>,
}

impl ClaimError {
    fn new(message: impl Into<String>, path: impl Into<String>, start: usize, end: usize) -> Self {
        Self {
            message: message.into(),
            path: path.into(),
            line: None,
            column: None,
            start: Some(start),
            end: Some(end),
        }
    }
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "{line}:{column}: ")?;
        }
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            write!(f, " (at `{}`)", self.path)?;
        }
        Ok(())
    }
}

impl std::error::Error for ClaimError {}

impl From<tree::SyntaxError> for ClaimError {
    fn from(error: tree::SyntaxError) -> Self {
        Self::new(error.message, error.path, error.start, error.end)
    }
}

/// One claim from a YAML or JSON text: the claim, or every problem found, each
/// with its place. [`InputFormat::Ndjson`] reads the text as one JSON claim.
/// An X12 file is a batch: [`read_x12`] reads it; here it is an error.
pub fn read_claim(text: &str, format: InputFormat) -> Result<Claim, Vec<ClaimError>> {
    let arena = Bump::new();
    let tree = match format {
        InputFormat::Yaml => yaml::parse(text, &arena),
        InputFormat::Json | InputFormat::Ndjson => json::parse(text, 0, &arena),
        InputFormat::X12 => {
            return Err(vec![ClaimError {
                message: "an X12 837P file is a batch of claims: read it with `read_x12`"
                    .to_owned(),
                path: String::new(),
                line: None,
                column: None,
                start: None,
                end: None,
            }])
        }
    };
    let result = tree
        .map_err(|error| vec![ClaimError::from(error)])
        .and_then(|root| decode::decode(&root));
    result.map_err(|mut errors| {
        let index = LineIndex::new(text);
        for error in &mut errors {
            index.place(text, error);
        }
        errors
    })
}

/// The spanned tree of a YAML text that holds claims inside other data
/// (`ppl test` files): every value with its byte range, or the syntax error
/// with its line and column. The tree lives in `arena`.
pub(crate) fn read_yaml_tree<'a>(
    text: &'a str,
    arena: &'a Bump,
) -> Result<tree::Node<'a>, ClaimError> {
    yaml::parse(text, arena).map_err(|error| {
        let mut error = ClaimError::from(error);
        LineIndex::new(text).place(text, &mut error);
        error
    })
}

/// A claim from a value of a tree [`read_yaml_tree`] read from `text`. Paths
/// are relative to the claim; lines, columns and byte offsets are in `text`.
pub(crate) fn decode_claim_node(text: &str, node: &tree::Node) -> Result<Claim, Vec<ClaimError>> {
    decode::decode(node).map_err(|mut errors| {
        let index = LineIndex::new(text);
        for error in &mut errors {
            index.place(text, error);
        }
        errors
    })
}

/// 1-based line and column of byte `at` in `text`.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut error = ClaimError::new(String::new(), String::new(), at, at);
    LineIndex::new(text).place(text, &mut error);
    (error.line.unwrap_or(1), error.column.unwrap_or(1))
}

/// NDJSON: one result per non-blank line, in order, with its 1-based line
/// number. A bad line never stops the batch or shifts another; byte offsets are
/// offsets into the whole text.
pub fn read_ndjson(text: &str) -> Vec<(usize, Result<Claim, Vec<ClaimError>>)> {
    let mut results = Vec::new();
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line
            .trim_start_matches('\u{feff}')
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
        {
            continue;
        }
        let number = index + 1;
        results.push((number, read_ndjson_line(line, number, start)));
    }
    results
}

/// One line of an NDJSON batch (without its line end): `number` is its 1-based
/// line number and `offset` the byte offset of its start in the batch, so a
/// reader that streams a batch line by line reports the same places as
/// [`read_ndjson`].
pub fn read_ndjson_line(
    line: &str,
    number: usize,
    offset: usize,
) -> Result<Claim, Vec<ClaimError>> {
    // Each thread keeps one arena for the trees of the lines it reads: after the
    // first claims it has room for any claim, so a tree costs no allocation.
    thread_local! {
        static ARENA: std::cell::RefCell<Bump> = std::cell::RefCell::new(Bump::new());
    }
    let decoded = ARENA.with(|arena| match arena.try_borrow_mut() {
        Ok(mut arena) => {
            arena.reset();
            decode_ndjson_line(line, offset, &arena)
        }
        // Not reached (reading a line does not read another); a fresh arena if so.
        Err(_) => decode_ndjson_line(line, offset, &Bump::new()),
    });
    decoded.map_err(|mut errors| {
        for error in &mut errors {
            error.line = Some(number);
            error.column = error
                .start
                .map(|at| column(line, at.saturating_sub(offset)));
        }
        errors
    })
}

fn decode_ndjson_line(line: &str, offset: usize, arena: &Bump) -> Result<Claim, Vec<ClaimError>> {
    json::parse(line, offset, arena)
        .map_err(|error| vec![ClaimError::from(error)])
        .and_then(|root| decode::decode(&root))
}

/// 1-based column (in characters) of byte `at` in `line`.
fn column(line: &str, at: usize) -> usize {
    let before = line.get(..at).map_or(at, |before| before.chars().count());
    before + 1
}

/// Where each line of a text starts, to turn byte offsets into line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self { starts }
    }

    /// The 1-based line of byte `at`.
    fn line(&self, at: usize) -> usize {
        self.starts.partition_point(|&start| start <= at).max(1)
    }

    /// Fills `line` and `column` from `start`.
    fn place(&self, text: &str, error: &mut ClaimError) {
        let Some(at) = error.start else {
            return;
        };
        let line = self.line(at);
        let line_start = self.starts.get(line - 1).copied().unwrap_or(0);
        let in_line = text.get(line_start..).unwrap_or_default();
        error.line = Some(line);
        error.column = Some(column(in_line, at.saturating_sub(line_start)));
    }
}

#[cfg(test)]
mod tests;
