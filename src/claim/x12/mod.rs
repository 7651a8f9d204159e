//! The X12 837P (005010X222A1) reader: an 837P file to the same [`Claim`]s the
//! YAML/JSON/NDJSON readers produce.
//!
//! ```text
//! text ── segments (ISA defines the delimiters) ── envelope (ISA/GS/ST … SE/GE/IEA)
//!      ── claims (HL 20/22/23 → 2300 → 2310B, 2400, 2420A) ── Claim, or its problems
//! ```
//!
//! Every value keeps the byte range of the element it came from, so a finding
//! underlines the element in the 837P text; every problem names the segment's
//! number, its byte offset and the element (`segment 25 (`SV1` at byte 812),
//! SV101-2: …`). A file that is not X12, or an 837 of another version, is
//! refused as a whole; a bad claim is an error in its place and the others read.

mod claims;
mod segments;

use std::collections::BTreeMap;

use super::{Claim, ClaimError, LineIndex};

/// The versions read: 005010X222A1, and files that name the guide without its addendum.
const VERSIONS: &[&str] = &["005010X222A1", "005010X222"];

/// A problem with the file as a whole, at its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct X12Error {
    message: String,
    start: usize,
    end: usize,
}

impl X12Error {
    fn at(message: impl Into<String>, start: usize, end: usize) -> Self {
        Self {
            message: message.into(),
            start,
            end,
        }
    }

    fn into_claim_error(self, index: &LineIndex, text: &str) -> ClaimError {
        let mut error = ClaimError::new(self.message, "", self.start, self.end);
        index.place(text, &mut error);
        error
    }
}

/// A payer id's entry in the payer map: the policy, and the plan if the map names one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayerEntry {
    pub policy: String,
    pub plan: Option<String>,
}

/// Payer ids as 837P files write them (2010BB NM109) to payer policy ids, as
/// the user keeps them in a small YAML file:
///
/// ```yaml
/// "00882": medicare-part-b              # a payer id to a policy
/// "60054": { policy: commercial-ppo-example, plan: ppo }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayerMap {
    name: String,
    entries: BTreeMap<String, PayerEntry>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum RawEntry {
    Policy(String),
    Full {
        policy: String,
        #[serde(default)]
        plan: Option<String>,
    },
}

impl PayerMap {
    /// Reads the map from its YAML text; `name` is how messages name the file.
    pub fn read(name: &str, text: &str) -> Result<Self, String> {
        let raw: BTreeMap<String, RawEntry> = serde_yaml::from_str(text).map_err(|error| {
            format!(
                "the payer map `{name}` must map payer ids to policy ids (`\"00882\": medicare-part-b`, or `{{policy: ID, plan: PLAN}}`): {error}"
            )
        })?;
        let mut entries = BTreeMap::new();
        for (id, entry) in raw {
            let entry = match entry {
                RawEntry::Policy(policy) => PayerEntry { policy, plan: None },
                RawEntry::Full { policy, plan } => PayerEntry { policy, plan },
            };
            if entry.policy.trim().is_empty() {
                return Err(format!(
                    "the payer map `{name}` gives payer id `{id}` an empty policy id"
                ));
            }
            entries.insert(id.trim().to_owned(), entry);
        }
        Ok(Self {
            name: name.to_owned(),
            entries,
        })
    }

    pub fn get(&self, payer_id: &str) -> Option<&PayerEntry> {
        self.entries.get(payer_id.trim())
    }

    /// The map file's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How each claim's payer policy is chosen.
#[derive(Clone, Debug)]
pub enum PayerChoice<'a> {
    /// `--payer ID`: this policy for every claim of the input.
    Flag(&'a str),
    /// `--payer-map FILE`: each claim's payer id looked up.
    Map(&'a PayerMap),
    /// Neither: every claim is an error that says to give one.
    None,
}

/// What the reader needs besides the text.
#[derive(Clone, Debug)]
pub struct X12Options<'a> {
    pub payer: PayerChoice<'a>,
}

/// A claim of a batch, by its input line: the claim, or every problem found in it.
pub type ClaimResult = (usize, Result<Claim, Vec<ClaimError>>);

/// One result per claim of the file, in file order, each with the 1-based
/// text line of its `CLM` segment (its "input line"); problems outside any
/// claim (a file cut short) are error results at their own line. `Err` when the
/// file is refused as a whole: not X12, not an 837, or another version.
pub fn read_x12(text: &str, options: &X12Options<'_>) -> Result<Vec<ClaimResult>, ClaimError> {
    let index = LineIndex::new(text);
    let (segments, layout_problems) =
        segments::segments(text).map_err(|error| error.into_claim_error(&index, text))?;
    refuse_other_transactions(&segments).map_err(|error| error.into_claim_error(&index, text))?;

    let mut reads: Vec<claims::ClaimRead> = Vec::new();
    let mut transaction: Option<claims::Transaction<'_>> = None;
    let mut outside: Vec<X12Error> = Vec::new();
    for (position, segment) in segments.iter().enumerate() {
        if !segments::is_segment_id(segment.id) {
            let error = X12Error::at(
                format!(
                    "segment {} at byte {} does not start with a segment id (two or three capital letters or digits)",
                    segment.number, segment.start
                ),
                segment.start,
                segment.end,
            );
            match &mut transaction {
                Some(transaction) => transaction.fail(error.message, error.start, error.end),
                None => outside.push(error),
            }
            continue;
        }
        match segment.id {
            "ST" => {
                if let Some(mut open) = transaction.take() {
                    open.finish();
                    take_reads(&mut reads, &mut open.out);
                    outside.push(X12Error::at(
                        format!(
                            "segment {} (`ST` at byte {}) opens a transaction set before the last one was closed by `SE`",
                            segment.number, segment.start
                        ),
                        segment.start,
                        segment.end,
                    ));
                }
                // Claims are large (every value carries its span): room for the
                // set's claims up front, so its list is never copied while it grows.
                let in_set = segments
                    .get(position + 1..)
                    .unwrap_or_default()
                    .iter()
                    .map(|segment| segment.id.as_bytes())
                    .take_while(|id| !matches!(id, [b'S', b'E'] | [b'S', b'T']))
                    .filter(|id| matches!(id, [b'C', b'L', b'M']))
                    .count();
                transaction = Some(claims::Transaction::new(options, in_set));
            }
            "SE" => match transaction.take() {
                Some(mut open) => {
                    open.finish();
                    take_reads(&mut reads, &mut open.out);
                }
                None => outside.push(X12Error::at(
                    format!(
                        "segment {} (`SE` at byte {}) closes no transaction set",
                        segment.number, segment.start
                    ),
                    segment.start,
                    segment.end,
                )),
            },
            "ISA" | "IEA" | "GS" | "GE" => {
                if let Some(mut open) = transaction.take() {
                    open.finish();
                    take_reads(&mut reads, &mut open.out);
                    outside.push(X12Error::at(
                        format!(
                            "segment {} (`{}` at byte {}) comes before the transaction set's `SE`: the set may be cut short",
                            segment.number, segment.id, segment.start
                        ),
                        segment.start,
                        segment.end,
                    ));
                }
            }
            _ => match &mut transaction {
                Some(open) => open.segment(segment),
                None => outside.push(X12Error::at(
                    format!(
                        "segment {} (`{}` at byte {}) stands outside any transaction set (`ST` … `SE`)",
                        segment.number, segment.id, segment.start
                    ),
                    segment.start,
                    segment.end,
                )),
            },
        }
    }
    if let Some(mut open) = transaction.take() {
        open.finish();
        take_reads(&mut reads, &mut open.out);
        outside.push(X12Error::at(
            "the file ends inside a transaction set (no `SE`): it may be cut short",
            text.len(),
            text.len(),
        ));
    }

    let place = |read: claims::ClaimRead| {
        let result = read.result.map_err(|mut errors| {
            errors.sort_by_key(|error| error.start);
            for error in &mut errors {
                index.place(text, error);
            }
            errors
        });
        (read.at, result)
    };
    let mut problems: Vec<(usize, ClaimError)> = layout_problems
        .into_iter()
        .chain(outside)
        .map(|problem| (problem.start, problem.into_claim_error(&index, text)))
        .collect();
    if problems.is_empty() {
        return Ok(reads
            .into_iter()
            .map(|read| {
                let (at, result) = place(read);
                (line_of(&index, at), result)
            })
            .collect());
    }
    // File order; a problem at the same byte as a claim comes after it.
    problems.sort_by_key(|(at, _)| *at);
    let mut problems = problems.into_iter().peekable();
    let mut results = Vec::with_capacity(reads.len() + problems.len());
    for read in reads {
        let (at, result) = place(read);
        while let Some((problem_at, error)) = problems.next_if(|(problem_at, _)| *problem_at < at) {
            results.push((line_of(&index, problem_at), Err(vec![error])));
        }
        results.push((line_of(&index, at), result));
    }
    for (problem_at, error) in problems {
        results.push((line_of(&index, problem_at), Err(vec![error])));
    }
    Ok(results)
}

/// A closed transaction's claims onto the file's: moved whole when they are
/// the first, so the claims are not copied again.
fn take_reads(reads: &mut Vec<claims::ClaimRead>, out: &mut Vec<claims::ClaimRead>) {
    if reads.is_empty() {
        std::mem::swap(reads, out);
    } else {
        reads.append(out);
    }
}

/// The 1-based text line of byte `at`.
fn line_of(index: &LineIndex, at: usize) -> usize {
    index.line(at)
}

/// Refuses a file holding anything but 837P claims of the versions read,
/// naming what it found and what is expected.
fn refuse_other_transactions(segments: &[segments::Segment<'_>]) -> Result<(), X12Error> {
    let expected = "ppl reads X12 837P claims, version `005010X222A1` (or `005010X222`)";
    for segment in segments {
        let version = match segment.id {
            "GS" => {
                if let Some(code) = segment.element(1).filter(|code| code.text != "HC") {
                    return Err(X12Error::at(
                        format!(
                            "segment {} (`GS` at byte {}), GS01: the functional group holds {}, not health care claims (`HC`); {expected}",
                            segment.number,
                            segment.start,
                            quoted(code.text)
                        ),
                        code.start,
                        code.end,
                    ));
                }
                segment.element(8)
            }
            "ST" => {
                if let Some(kind) = segment.element(1).filter(|kind| kind.text != "837") {
                    return Err(X12Error::at(
                        format!(
                            "segment {} (`ST` at byte {}), ST01: this is transaction set {}, not an 837 claim; {expected}",
                            segment.number,
                            segment.start,
                            quoted(kind.text)
                        ),
                        kind.start,
                        kind.end,
                    ));
                }
                segment.element(3)
            }
            _ => continue,
        };
        let Some(version) = version else {
            if segment.id == "GS" {
                return Err(X12Error::at(
                    format!(
                        "segment {} (`GS` at byte {}): GS08 (the version) is missing; {expected}",
                        segment.number, segment.start
                    ),
                    segment.start,
                    segment.end,
                ));
            }
            continue;
        };
        if !VERSIONS.contains(&version.text) {
            let what = if version.text.starts_with("004010") {
                "an 837 of the older 4010 version"
            } else if version.text.contains("X223") {
                "an institutional 837 (837I)"
            } else if version.text.contains("X224") {
                "a dental 837 (837D)"
            } else {
                "an 837 of another version"
            };
            return Err(X12Error::at(
                format!(
                    "segment {} (`{}` at byte {}), {}{:02}: this is {what}, {}; {expected}",
                    segment.number,
                    segment.id,
                    segment.start,
                    segment.id,
                    version.position,
                    quoted(version.text)
                ),
                version.start,
                version.end,
            ));
        }
    }
    Ok(())
}

fn quoted(text: &str) -> String {
    if text.len() <= 24 && text.bytes().all(|b| b.is_ascii_graphic() && b != b'`') {
        format!("`{text}`")
    } else {
        "a value that is not a code".to_owned()
    }
}

/// Whether a text is X12: it starts (after a byte-order mark and whitespace) with `ISA`.
pub fn looks_like_x12(text: &str) -> bool {
    segments::starts_with_isa(text)
}

#[cfg(test)]
mod tests;
