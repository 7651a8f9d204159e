//! Rendering the evaluation report: JSON and NDJSON exactly per the report
//! contract (`shared/spec/report-v1.md`), and miette's graphical report for people.
//!
//! The human report says what the JSON says: each finding is one diagnostic whose
//! label points into the claim (where), with the policy rule as a related
//! diagnostic (which rule), then a summary of the claim and its lines. It shows
//! only what the report holds, plus the claim text under each span: the lines a
//! span covers and nothing around them (no context lines, long lines cropped), so
//! no more of the claim than needed reaches a terminal or a pasted ticket.

use std::fmt;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use serde::Serialize;

use super::{
    ClaimReport, ErrorRecord, Finding, FindingSeverity, FixOp, FixOut, LineReport, Status,
};
use crate::diagnostics::WindowedSource;
use crate::source::{FileId, SourceMap};
use crate::syntax::Category;

// ── Machines ─────────────────────────────────────────────────────────────────

/// `--format json`: one claim → one pretty-printed JSON object (2-space indent) and a final newline.
pub fn render_json(report: &ClaimReport) -> String {
    let mut out = to_json(report, true);
    out.push('\n');
    out
}

/// `--format ndjson`: one compact line per input claim, in input order; bad lines
/// as ErrorRecord lines in place. No trailing newline: the caller joins with '\n'.
pub fn render_ndjson_line(result: &Result<ClaimReport, ErrorRecord>) -> String {
    match result {
        Ok(report) => to_json(report, false),
        Err(record) => to_json(record, false),
    }
}

/// [`render_ndjson_line`] and a newline, written straight onto the end of `out`
/// (a batch worker's buffer), without a `String` per report.
pub fn write_ndjson_line(out: &mut Vec<u8>, result: &Result<ClaimReport, ErrorRecord>) {
    let start = out.len();
    let written = match result {
        Ok(report) => {
            super::ndjson::write_report(out, report);
            Ok(())
        }
        Err(record) => serde_json::to_writer(&mut *out, record),
    };
    if written.is_err() {
        out.truncate(start);
        out.extend_from_slice(render_ndjson_line(result).as_bytes());
    }
    out.push(b'\n');
}

fn to_json<T: Serialize>(value: &T, pretty: bool) -> String {
    let result = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    result.unwrap_or_else(|error| {
        // Not reachable with the report types (plain structs, string keys); if it
        // ever is, the output stays one valid JSON value that says what happened.
        let mut detail = serde_json::Map::new();
        detail.insert(
            "message".to_owned(),
            serde_json::Value::String(format!("the report could not be serialized: {error}")),
        );
        detail.insert("path".to_owned(), serde_json::Value::String(String::new()));
        let mut record = serde_json::Map::new();
        record.insert("error".to_owned(), serde_json::Value::Object(detail));
        serde_json::Value::Object(record).to_string()
    })
}

// ── People ───────────────────────────────────────────────────────────────────

/// The claim input a report was made from, for the snippets under each finding.
pub struct ClaimSource<'a> {
    /// The claim file's path as given, or `<stdin>`.
    pub name: &'a str,
    /// The claim input text (the offsets of `Finding::claim_span` point into it).
    pub text: &'a str,
}

/// The policy sources of the run, found by the path a finding's `policy_span`
/// names (`SourceMap::path` as displayed), for the related diagnostic's snippet.
/// Build it once per run: it indexes the file paths.
pub struct PolicySources<'a> {
    sources: Option<&'a SourceMap>,
    /// Sorted by path.
    files: Vec<(String, FileId)>,
}

impl<'a> PolicySources<'a> {
    pub fn new(sources: &'a SourceMap) -> Self {
        let mut files: Vec<(String, FileId)> = sources
            .ids()
            .map(|id| (sources.path(id).display().to_string(), id))
            .collect();
        files.sort();
        Self {
            sources: Some(sources),
            files,
        }
    }

    /// No policy text at hand: findings name the rule's file, line and column instead.
    pub fn none() -> Self {
        Self {
            sources: None,
            files: Vec::new(),
        }
    }

    fn find(&self, path: &str) -> Option<(&'a SourceMap, FileId)> {
        let sources = self.sources?;
        let at = self
            .files
            .binary_search_by(|(file, _)| file.as_str().cmp(path))
            .ok()?;
        self.files.get(at).map(|(_, id)| (sources, *id))
    }
}

/// The human report (default on a terminal): miette's graphical handler, one
/// diagnostic per finding in report order, then the claim's summary and a row
/// per line. `color` off and a fixed `width` give stable text for tests.
pub fn render_human(
    report: &ClaimReport,
    claim: &ClaimSource<'_>,
    policies: &PolicySources<'_>,
    color: bool,
    width: usize,
) -> String {
    let handler = crate::diagnostics::graphical_handler(color, width);
    let claim_text = ClaimText::new(claim);
    let mut out = String::new();
    for finding in &report.findings {
        let view = FindingView::new(report, finding, &claim_text, policies);
        let mut rendered = String::new();
        if handler.render_report(&mut rendered, &view).is_ok() {
            // miette pads empty source lines and the related header with spaces.
            for line in rendered.lines() {
                out.push_str(line.trim_end_matches(' '));
                out.push('\n');
            }
        } else {
            out.push_str(&format!("{}: {}\n", finding.rule.id, view.header));
        }
        out.push('\n');
    }
    out.push_str(&summary(report));
    out
}

/// `claim CLM-1 (medicare-part-b): fail — 2 deny, 1 undetermined, 0 warn, 1 info`,
/// then one aligned row per line.
/// For an 837P claim: where its provider's discipline and its policy came from.
fn provenance_line(report: &ClaimReport) -> String {
    let Some(provenance) = &report.provenance else {
        return String::new();
    };
    let discipline = match (provenance.discipline_from, &provenance.taxonomy) {
        ("taxonomy", Some(code)) => format!("discipline from taxonomy {code}"),
        ("modifiers", _) => "discipline from the lines' GP/GO/GN modifiers".to_owned(),
        _ => "discipline not stated (no therapy taxonomy or GP/GO/GN): other".to_owned(),
    };
    let payer = match (provenance.payer_from, &provenance.payer_id) {
        ("payer_map", Some(id)) => format!("payer id {id} by the payer map"),
        _ => "payer by --payer".to_owned(),
    };
    format!("837P: {discipline}; {payer}\n")
}

fn summary(report: &ClaimReport) -> String {
    let count = |severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    let mut out = format!(
        "claim {} ({}): {} — {} deny, {} undetermined, {} warn, {} info\n{}",
        report.claim_id,
        report.payer,
        status_word(report.status),
        count(FindingSeverity::Deny),
        count(FindingSeverity::Undetermined),
        count(FindingSeverity::Warn),
        count(FindingSeverity::Info),
        provenance_line(report),
    );
    // The policy version goes in each row when the lines' dates fall under
    // different versions, else once after the rows.
    let one_version = report
        .lines
        .windows(2)
        .all(|pair| matches!(pair, [a, b] if a.policy_version == b.policy_version));
    let rows: Vec<[String; 6]> = report
        .lines
        .iter()
        .map(|line| {
            [
                format!("line {}", line.index),
                line.code.to_string(),
                line.date_of_service.to_string(),
                format!("billed {}", line.units_billed),
                format!(
                    "supported {}",
                    line.units_supported
                        .map_or_else(|| "-".to_owned(), |units| units.to_string())
                ),
                if one_version {
                    String::new()
                } else {
                    format!("policy {}", line.policy_version)
                },
            ]
        })
        .collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut text = String::new();
        for (cell, width) in row.iter().zip(widths) {
            if !text.is_empty() {
                text.push_str("  ");
            }
            text.push_str(cell);
            text.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    if let (true, Some(line)) = (one_version, report.lines.first()) {
        out.push_str(&format!("policy {}\n", line.policy_version));
    }
    out
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Incomplete => "incomplete",
        Status::Fail => "fail",
    }
}

fn severity_word(severity: FindingSeverity) -> &'static str {
    match severity {
        FindingSeverity::Deny => "deny",
        FindingSeverity::Undetermined => "undetermined",
        FindingSeverity::Warn => "warn",
        FindingSeverity::Info => "info",
    }
}

/// The category as a biller says it.
fn category_words(category: Category) -> &'static str {
    match category {
        Category::Units => "units",
        Category::Pairing => "code pairing",
        Category::PriorAuth => "prior authorization",
        Category::Telehealth => "telehealth",
        Category::Documentation => "documentation",
        Category::Provider => "provider",
        Category::Modifier => "modifiers",
        Category::MedicalNecessity => "medical necessity",
        Category::Coverage => "coverage",
        Category::Other => "payer rule",
    }
}

fn needs(finding: &Finding) -> String {
    if finding.missing.is_empty() {
        "undetermined: needs a fact the claim does not carry".to_owned()
    } else {
        format!("undetermined: needs {}", finding.missing.join(", "))
    }
}

/// The short label under the claim span: what is wrong there.
fn claim_label(finding: &Finding) -> String {
    let category = category_words(finding.category);
    match finding.severity {
        FindingSeverity::Deny => format!("will be denied ({category})"),
        FindingSeverity::Undetermined => needs(finding),
        FindingSeverity::Warn => format!("warning ({category})"),
        FindingSeverity::Info => format!("note ({category})"),
    }
}

/// `expected denial: CARC 236 (RARC N362)`; "possible" unless the finding is a denial.
fn denial_note(finding: &Finding) -> Option<String> {
    let codes = match (&finding.rule.carc, &finding.rule.rarc) {
        (Some(carc), Some(rarc)) => format!("CARC {carc} (RARC {rarc})"),
        (Some(carc), None) => format!("CARC {carc}"),
        (None, Some(rarc)) => format!("RARC {rarc}"),
        (None, None) => return None,
    };
    let kind = match finding.severity {
        FindingSeverity::Deny => "expected",
        FindingSeverity::Undetermined | FindingSeverity::Warn | FindingSeverity::Info => "possible",
    };
    Some(format!("{kind} denial: {codes}"))
}

/// `add modifier XU to line 1 (97530)`: the report's 0-based line index, as in
/// the summary rows and the claim paths.
fn fix_text(fix: &FixOut, lines: &[LineReport]) -> String {
    let line = match lines.iter().find(|line| line.index == fix.line) {
        Some(line) => format!("line {} ({})", fix.line, line.code),
        None => format!("line {}", fix.line),
    };
    let value = &fix.value;
    match fix.op {
        FixOp::SetUnits => format!("set the units of {line} to {value}"),
        FixOp::AddModifier => format!("add modifier {value} to {line}"),
        FixOp::RemoveModifier => format!("remove modifier {value} from {line}"),
        FixOp::ReplaceModifier => match value.split_once('>') {
            Some((from, to)) => format!("replace modifier {from} with {to} on {line}"),
            None => format!("replace modifier {value} on {line}"),
        },
    }
}

/// One finding as miette sees it.
struct FindingView<'a> {
    rule_id: &'a str,
    severity: miette::Severity,
    header: String,
    help: String,
    /// The claim text, when the finding points into it.
    claim: Option<&'a ClaimText<'a>>,
    label: Option<LabeledSpan>,
    rule: RuleView<'a>,
}

impl<'a> FindingView<'a> {
    fn new(
        report: &ClaimReport,
        finding: &'a Finding,
        claim: &'a ClaimText<'a>,
        policies: &PolicySources<'a>,
    ) -> Self {
        let label = finding
            .claim_span
            .as_ref()
            .and_then(|span| claim.span(span.start?, span.end?))
            .map(|span| LabeledSpan::new_primary_with_span(Some(claim_label(finding)), span));

        let mut notes = Vec::new();
        if label.is_none() {
            if let Some(span) = &finding.claim_span {
                notes.push(format!("in the claim: {}", span.path));
            }
            if finding.severity == FindingSeverity::Undetermined {
                notes.push(needs(finding));
            }
        }
        notes.extend(finding.rule.help.as_deref().map(str::to_owned));
        notes.extend(denial_note(finding));
        notes.extend(
            finding
                .rule
                .citation
                .as_ref()
                .map(|citation| format!("source: {citation}")),
        );
        notes.extend(
            finding
                .fix
                .as_ref()
                .map(|fix| format!("fix: {}", fix_text(fix, &report.lines))),
        );

        Self {
            rule_id: &finding.rule.id,
            severity: match finding.severity {
                FindingSeverity::Deny => miette::Severity::Error,
                FindingSeverity::Undetermined | FindingSeverity::Warn => miette::Severity::Warning,
                FindingSeverity::Info => miette::Severity::Advice,
            },
            header: format!("{}: {}", severity_word(finding.severity), finding.message),
            help: notes.join("\n"),
            claim: label.as_ref().map(|_| claim),
            label,
            rule: RuleView::new(finding, policies),
        }
    }
}

impl fmt::Debug for FindingView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule_id, self.header)
    }
}

impl fmt::Display for FindingView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header)
    }
}

impl std::error::Error for FindingView<'_> {}

impl miette::Diagnostic for FindingView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.rule_id))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if self.help.is_empty() {
            None
        } else {
            Some(Box::new(self.help.as_str()))
        }
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.claim.map(|claim| claim as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|label| Box::new(std::iter::once(label)) as Box<dyn Iterator<Item = _>>)
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        Some(Box::new(std::iter::once(
            &self.rule as &dyn miette::Diagnostic,
        )))
    }
}

/// The rule a finding comes from, pointed at in its policy file.
struct RuleView<'a> {
    message: String,
    source: Option<WindowedSource<'a>>,
    label: Option<LabeledSpan>,
}

impl<'a> RuleView<'a> {
    fn new(finding: &Finding, policies: &PolicySources<'a>) -> Self {
        let at = &finding.rule.policy_span;
        let category = category_words(finding.category);
        let found = policies.find(&at.file).and_then(|(sources, file)| {
            let span = rule_span(sources, file, at.line, at.column, &finding.rule.id)?;
            Some((WindowedSource { sources, file }, span))
        });
        match found {
            Some((source, span)) => Self {
                message: format!("`{}` ({category})", finding.rule.id),
                source: Some(source),
                label: Some(LabeledSpan::new_primary_with_span(
                    Some(format!("rule `{}`", finding.rule.id)),
                    span,
                )),
            },
            None => Self {
                message: format!(
                    "`{}` ({category}) at {}:{}:{}",
                    finding.rule.id, at.file, at.line, at.column
                ),
                source: None,
                label: None,
            },
        }
    }
}

impl fmt::Debug for RuleView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for RuleView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleView<'_> {}

impl miette::Diagnostic for RuleView<'_> {
    /// miette writes the related diagnostic's code after its severity:
    /// `Advice: policy rule`.
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new("policy rule"))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        // Without its own source a label would be read from the claim (miette
        // falls back to the parent's source), so there is none then.
        self.source.as_ref()?;
        self.label
            .clone()
            .map(|label| Box::new(std::iter::once(label)) as Box<dyn Iterator<Item = _>>)
    }
}

/// Where to underline a rule: the rule id on the policy's line `line` (1-based),
/// at or after character `column` (1-based); the rest of that line when the id
/// is not there.
fn rule_span(
    sources: &SourceMap,
    file: FileId,
    line: usize,
    column: usize,
    rule: &str,
) -> Option<SourceSpan> {
    let text = sources.text(file);
    let line_start = line_start(sources, file, line)?;
    let line_text = text
        .get(line_start..)?
        .split('\n')
        .next()?
        .trim_end_matches('\r');
    let at = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.len(), |(at, _)| at);
    let from_column = line_text.get(at..)?;
    let (offset, len) = match from_column.find(rule) {
        Some(found) if !rule.is_empty() => (at + found, rule.len()),
        _ => (at, from_column.trim_end().len()),
    };
    Some(SourceSpan::new((line_start + offset).into(), len))
}

/// The byte offset where 1-based line `line` starts: a binary search over
/// `SourceMap::line_column`, which is monotonic in the offset.
fn line_start(sources: &SourceMap, file: FileId, line: usize) -> Option<usize> {
    let (mut low, mut high) = (0, sources.text(file).len());
    while low < high {
        let middle = low + (high - low) / 2;
        if sources.line_column(file, middle).0 < line {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    (sources.line_column(file, low).0 == line).then_some(low)
}

/// A line longer than this (in bytes) is cropped around the span.
const LONG_LINE: usize = 160;
/// How much of a long line to keep on each side of the span, in bytes.
const CROP_MARGIN: usize = 40;

/// The claim input as miette reads it: only the lines a span covers, whatever
/// context miette asks for, and a long line (a one-line JSON claim) cropped to
/// the neighbourhood of the span, so a snippet never shows the whole claim.
struct ClaimText<'a> {
    name: &'a str,
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
}

impl<'a> ClaimText<'a> {
    fn new(claim: &ClaimSource<'a>) -> Self {
        let line_starts = std::iter::once(0)
            .chain(claim.text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self {
            name: claim.name,
            text: claim.text,
            line_starts,
        }
    }

    /// The span `start..end`, when it lies in the text on character boundaries.
    fn span(&self, start: usize, end: usize) -> Option<SourceSpan> {
        (start <= end
            && end <= self.text.len()
            && self.text.is_char_boundary(start)
            && self.text.is_char_boundary(end))
        .then(|| SourceSpan::new(start.into(), end - start))
    }

    /// 0-based index of the line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// Byte offset of the end of line `line`, before its line break.
    fn line_end(&self, line: usize) -> usize {
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |next| next.saturating_sub(1));
        match self.text.get(..end) {
            Some(before) if before.ends_with('\r') => end - 1,
            _ => end,
        }
    }

    fn floor_boundary(&self, mut at: usize) -> usize {
        while at > 0 && !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    fn ceil_boundary(&self, mut at: usize) -> usize {
        while at < self.text.len() && !self.text.is_char_boundary(at) {
            at += 1;
        }
        at
    }
}

impl SourceCode for ClaimText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        _context_lines_before: usize,
        _context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let start = span.offset();
        let end = start
            .checked_add(span.len())
            .ok_or(MietteError::OutOfBounds)?;
        self.span(start, end).ok_or(MietteError::OutOfBounds)?;
        let first = self.line_of(start);
        let last = self.line_of(end.saturating_sub(1).max(start));
        let line_start = self.line_starts.get(first).copied().unwrap_or(0);
        let line_end = self.line_end(last).max(end);
        let (from, to) = if line_end - line_start > LONG_LINE {
            let from = self.floor_boundary(start.saturating_sub(CROP_MARGIN).max(line_start));
            // Begin after a separator rather than inside a token.
            let from = match self.text.get(from..start) {
                Some(lead) if from > line_start => {
                    lead.find([',', ' ']).map_or(from, |at| from + at + 1)
                }
                _ => from,
            };
            (from, self.ceil_boundary((end + CROP_MARGIN).min(line_end)))
        } else {
            (line_start, line_end)
        };
        let data = self.text.get(from..to).ok_or(MietteError::OutOfBounds)?;
        let column = self
            .text
            .get(line_start..start)
            .map_or(0, |before| before.chars().count());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_owned(),
            data.as_bytes(),
            SourceSpan::new(from.into(), to - from),
            first,
            column,
            last - first + 1,
        )))
    }
}

/// `--explain` in the human format: each rule that applied, per line, with
/// the values it looked at and whether it fired.
pub fn render_explanation(report: &ClaimReport) -> String {
    let Some(explanation) = &report.explanation else {
        return String::new();
    };
    let mut out = String::from("\nHow each rule was applied\n");
    let mut current: Option<Option<usize>> = None;
    for entry in explanation {
        if current != Some(entry.line) {
            current = Some(entry.line);
            let heading = match entry.line.and_then(|index| report.lines.get(index)) {
                Some(line) => format!(
                    "line {}  {}  {}",
                    line.index, line.code, line.date_of_service
                ),
                None => format!("the visit of {}", entry.date_of_service),
            };
            out.push_str(&format!("\n{heading}\n"));
        }
        out.push_str(&format!("  {:<15}{}\n", entry.verdict.as_str(), entry.rule));
        for fact in &entry.looked_at {
            out.push_str(&format!("  {:<15}  {}: {}\n", "", fact.name, fact.value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ClaimSpanOut, ErrorDetail, PolicySpan, RuleTexts};

    const CLAIM: &str = include_str!("../../tests/data/report/claim.yaml");
    const POLICY: &str = include_str!("../../tests/data/report/policy.ppl");
    const CLAIM_NAME: &str = "tests/data/report/claim.yaml";
    const POLICY_NAME: &str = "tests/data/report/policy.ppl";

    /// Byte range of `value` in the claim: its first occurrence after `anchor`
    /// and then `key`.
    fn span_in_claim(anchor: &str, key: &str, value: &str) -> (usize, usize) {
        let anchor_at = CLAIM.find(anchor).unwrap_or(0);
        let key_at = anchor_at
            + CLAIM
                .get(anchor_at..)
                .and_then(|t| t.find(key))
                .unwrap_or(0);
        let value_at = key_at
            + key.len()
            + CLAIM
                .get(key_at + key.len()..)
                .and_then(|t| t.find(value))
                .unwrap_or(0);
        assert_eq!(CLAIM.get(value_at..value_at + value.len()), Some(value));
        (value_at, value_at + value.len())
    }

    fn claim_span(path: &'static str, (start, end): (usize, usize)) -> Option<ClaimSpanOut> {
        Some(ClaimSpanOut {
            path: path.into(),
            start: Some(start),
            end: Some(end),
        })
    }

    /// Where `rule <id> ` stands in the policy fixture.
    fn policy_span(rule: &str) -> PolicySpan {
        let header = format!("rule {rule} ");
        let line = POLICY
            .lines()
            .position(|line| line.starts_with(&header))
            .map_or(0, |index| index + 1);
        assert!(line > 0, "no rule {rule} in the policy fixture");
        PolicySpan {
            file: POLICY_NAME.into(),
            line,
            column: 1,
        }
    }

    fn finding(rule: &str, category: Category, severity: FindingSeverity) -> Finding<'static> {
        Finding {
            // A test's rule texts live as long as the test binary.
            rule: Box::leak(Box::new(RuleTexts {
                id: rule.into(),
                policy_span: policy_span(rule),
                help: None,
                carc: None,
                rarc: None,
                citation: None,
            })),
            category,
            severity,
            missing: Vec::new(),
            message: String::new(),
            line: None,
            claim_span: None,
            fix: None,
        }
    }

    /// Changes a test finding's rule texts (a copy: they are shared).
    fn edit_texts(finding: &mut Finding<'static>, edit: impl FnOnce(&mut RuleTexts)) {
        let mut texts = finding.rule.clone();
        edit(&mut texts);
        finding.rule = Box::leak(Box::new(texts));
    }

    /// `finding` with its rule's help, CARC and citation.
    fn with_texts(
        mut finding: Finding<'static>,
        help: Option<&str>,
        carc: Option<&str>,
        citation: Option<&str>,
    ) -> Finding<'static> {
        edit_texts(&mut finding, |texts| {
            texts.help = help.map(Into::into);
            texts.carc = carc.map(Into::into);
            texts.citation = citation.map(Into::into);
        });
        finding
    }

    fn line(index: usize, code: &str, billed: u32, supported: Option<u32>) -> LineReport<'static> {
        LineReport {
            index,
            code: crate::codes::ProcedureCode::parse(code).unwrap(),
            date_of_service: crate::Date::constant(2026, 3, 2),
            policy_version: "medicare-part-b@2026-01-01",
            units_billed: billed,
            units_supported: supported,
        }
    }

    /// What the engine would report for the fixture claim: every severity, a
    /// claim-level finding, fixes, an undetermined finding with `missing`.
    fn report() -> ClaimReport<'static> {
        let findings = vec![
            Finding {
                message: "The note for 97535 says a caregiver was trained in this session"
                    .to_owned(),
                line: Some(0),
                claim_span: claim_span(
                    "/documentation/caregiver_trained",
                    span_in_claim("documentation:", "caregiver_trained: ", "true"),
                ),
                ..with_texts(
                    finding(
                        "medicare.coding.caregiver-training",
                        Category::Other,
                        FindingSeverity::Info,
                    ),
                    Some(
                        "97535 is training of the patient. If the caregiver was trained without \
                     the patient present, report that part with the caregiver-training codes \
                     97550-97552 instead.",
                    ),
                    None,
                    Some("CMS CY2024 PFS final rule (caregiver training services)"),
                )
            },
            Finding {
                missing: vec!["/history/therapy_allowed_ytd/ot".to_owned()],
                message: "97535 needs KX once this year's OT allowed amount is above the KX \
                          threshold, and the claim does not say what that amount is"
                    .to_owned(),
                line: Some(0),
                claim_span: claim_span(
                    "/lines/0/modifiers",
                    span_in_claim("code: \"97535\"", "modifiers: ", "[\"GO\"]"),
                ),
                ..with_texts(
                    finding(
                        "medicare.threshold.kx-ot",
                        Category::Coverage,
                        FindingSeverity::Undetermined,
                    ),
                    Some(
                        "Supply history.therapy_allowed_ytd.ot (the OT allowed amounts so far \
                     this year) so the KX threshold can be checked.",
                    ),
                    Some("119"),
                    Some("SSA §1833(g)(7)(A) (BBA 2018 §50202)"),
                )
            },
            Finding {
                message: "97530 is billed with 2 units, but the day's 45 total timed minutes \
                          support 1 unit for it"
                    .to_owned(),
                line: Some(1),
                claim_span: claim_span(
                    "/lines/1/units",
                    span_in_claim("code: \"97530\"", "units: ", "2"),
                ),
                fix: Some(FixOut {
                    op: FixOp::SetUnits,
                    line: 1,
                    value: "1".to_owned(),
                    applied: None,
                }),
                ..with_texts(
                    finding(
                        "medicare.units.eight-minute",
                        Category::Units,
                        FindingSeverity::Deny,
                    ),
                    Some(
                        "Medicare counts units from the total timed minutes of the day: 8-22 \
                     minutes = 1 unit, 23-37 = 2, 38-52 = 3.",
                    ),
                    None,
                    Some("CMS Pub. 100-04 Ch. 5 §20.2"),
                )
            },
            Finding {
                message: "97530 is the column-two code of an NCCI edit with 97535 (modifier \
                          indicator 1) billed the same day"
                    .to_owned(),
                line: Some(1),
                claim_span: claim_span(
                    "/lines/1/modifiers",
                    span_in_claim("code: \"97530\"", "modifiers: ", "[\"GO\"]"),
                ),
                fix: Some(FixOut {
                    op: FixOp::AddModifier,
                    line: 1,
                    value: "XU".to_owned(),
                    applied: None,
                }),
                ..with_texts(
                    finding("ncci.ptp", Category::Pairing, FindingSeverity::Deny),
                    Some(
                        "If the services were distinct (separate 15-minute time blocks), append \
                     the modifier that says how and document it.",
                    ),
                    Some("236"),
                    Some("CMS NCCI Procedure-to-Procedure edits; NCCI Policy Manual Ch. I §E"),
                )
            },
            Finding {
                message: "The note states no objective for the session".to_owned(),
                ..with_texts(
                    finding(
                        "medicare.documentation.session-objective",
                        Category::Documentation,
                        FindingSeverity::Warn,
                    ),
                    Some(
                        "State what the session aimed to achieve (for example, 'train the patient \
                     to use a walker safely').",
                    ),
                    None,
                    Some("CMS Pub. 100-02 Ch. 15 §220.3"),
                )
            },
        ];
        ClaimReport {
            claim_id: "CLM-2026-000147".to_owned(),
            payer: "medicare-part-b",
            status: ClaimReport::status_of(&findings),
            lines: vec![
                line(0, "97535", 2, Some(2)),
                line(1, "97530", 2, Some(1)),
                line(2, "97168", 1, None),
            ],
            findings,
            explanation: None,
            provenance: None,
        }
    }

    fn policy_map() -> SourceMap {
        let mut sources = SourceMap::new();
        sources.add(POLICY_NAME, POLICY);
        sources
    }

    fn human(report: &ClaimReport, sources: &SourceMap, color: bool) -> String {
        let claim = ClaimSource {
            name: CLAIM_NAME,
            text: CLAIM,
        };
        render_human(report, &claim, &PolicySources::new(sources), color, 80)
    }

    /// Positions of `"key":` in `json`, which must rise in the given order.
    fn assert_key_order(json: &str, prefix: &str, keys: &[&str]) {
        let mut last = None;
        for key in keys {
            let needle = format!("{prefix}\"{key}\":");
            let at = json.find(&needle);
            assert!(at.is_some(), "no {needle} in {json}");
            assert!(at > last, "{key} out of order in {json}");
            last = at;
        }
    }

    #[test]
    fn status_of_fail_beats_incomplete_beats_warn_beats_pass() {
        let with = |severities: &[FindingSeverity]| {
            let findings: Vec<Finding> = severities
                .iter()
                .map(|&severity| finding("ncci.ptp", Category::Pairing, severity))
                .collect();
            ClaimReport::status_of(&findings)
        };
        use FindingSeverity::{Deny, Info, Undetermined, Warn};
        assert_eq!(with(&[]), Status::Pass);
        assert_eq!(with(&[Info]), Status::Pass);
        assert_eq!(with(&[Info, Warn]), Status::Warn);
        assert_eq!(with(&[Warn, Undetermined, Info]), Status::Incomplete);
        assert_eq!(with(&[Undetermined, Warn]), Status::Incomplete);
        assert_eq!(with(&[Info, Warn, Undetermined, Deny]), Status::Fail);
        assert_eq!(with(&[Deny, Undetermined]), Status::Fail);
    }

    #[test]
    fn json_has_the_contract_fields_in_order() {
        let report = report();
        let json = render_json(&report);
        assert!(json.ends_with("}\n"));
        assert!(!json.ends_with("\n\n"));
        assert_key_order(
            &json,
            "\n  ",
            &["claim_id", "payer", "status", "lines", "findings"],
        );
        let line = to_json(&report.lines, false);
        assert_key_order(
            &line,
            "",
            &[
                "index",
                "code",
                "date_of_service",
                "policy_version",
                "units_billed",
                "units_supported",
            ],
        );
        let finding = report
            .findings
            .iter()
            .find(|f| &*f.rule.id == "ncci.ptp")
            .map(|f| to_json(f, false))
            .unwrap_or_default();
        assert_key_order(
            &finding,
            "",
            &[
                "rule",
                "category",
                "severity",
                "missing",
                "message",
                "line",
                "claim_span",
                "policy_span",
                "help",
                "carc",
                "rarc",
                "citation",
                "fix",
            ],
        );
        assert!(finding.contains(r#""claim_span":{"path":"/lines/1/modifiers","start":"#));
        assert!(finding.contains(r#""policy_span":{"file":"tests/data/report/policy.ppl","line":"#));
        assert!(finding.contains(r#""fix":{"op":"add_modifier","line":1,"value":"XU"}"#));
        insta::assert_snapshot!("json_report", json);
    }

    #[test]
    fn json_writes_null_for_absent_optionals() {
        let report = report();
        let json = render_json(&report);
        assert!(json.contains("\"units_supported\": null"));
        let claim_level = report
            .findings
            .iter()
            .find(|f| f.line.is_none())
            .map(|f| to_json(f, false))
            .unwrap_or_default();
        assert!(claim_level.contains(r#""missing":[]"#));
        assert!(claim_level.contains(r#""line":null,"claim_span":null"#));
        assert!(claim_level.contains(r#""carc":null,"rarc":null"#));
        assert!(claim_level.ends_with(r#""fix":null}"#));
    }

    #[test]
    fn json_is_byte_identical_across_renders() {
        let report = report();
        let first = render_json(&report);
        assert_eq!(first, render_json(&report));
        assert_eq!(first, render_json(&report.clone()));
        let line = render_ndjson_line(&Ok(report.clone()));
        assert_eq!(line, render_ndjson_line(&Ok(report)));
    }

    #[test]
    fn json_status_severity_category_and_fix_values_are_the_contract_words() {
        fn words<T: Serialize>(value: &T) -> String {
            to_json(value, false)
        }
        assert_eq!(words(&Status::Pass), "\"pass\"");
        assert_eq!(words(&Status::Warn), "\"warn\"");
        assert_eq!(words(&Status::Incomplete), "\"incomplete\"");
        assert_eq!(words(&Status::Fail), "\"fail\"");
        assert_eq!(words(&FindingSeverity::Deny), "\"deny\"");
        assert_eq!(words(&FindingSeverity::Undetermined), "\"undetermined\"");
        assert_eq!(words(&FindingSeverity::Warn), "\"warn\"");
        assert_eq!(words(&FindingSeverity::Info), "\"info\"");
        assert_eq!(words(&Category::PriorAuth), "\"prior_auth\"");
        assert_eq!(words(&Category::MedicalNecessity), "\"medical_necessity\"");
        assert_eq!(words(&FixOp::SetUnits), "\"set_units\"");
        assert_eq!(words(&FixOp::AddModifier), "\"add_modifier\"");
        assert_eq!(words(&FixOp::RemoveModifier), "\"remove_modifier\"");
        assert_eq!(words(&FixOp::ReplaceModifier), "\"replace_modifier\"");

        let mut report = report();
        assert!(render_json(&report).contains("\"status\": \"fail\""));
        report
            .findings
            .retain(|f| f.severity != FindingSeverity::Deny);
        report.status = ClaimReport::status_of(&report.findings);
        assert!(render_json(&report).contains("\"status\": \"incomplete\""));
    }

    #[test]
    fn ndjson_gives_one_compact_line_per_input_line() {
        let error = ErrorRecord {
            input_line: 3,
            error: ErrorDetail {
                message: "unknown field `minuts`, expected one of `code`, `modifiers`, `units`, \
                          `minutes`"
                    .to_owned(),
                path: "/lines/0/minuts".to_owned(),
            },
        };
        let bad = render_ndjson_line(&Err(error));
        assert_eq!(
            bad,
            r#"{"input_line":3,"error":{"message":"unknown field `minuts`, expected one of `code`, `modifiers`, `units`, `minutes`","path":"/lines/0/minuts"}}"#
        );
        let report = report();
        let good = render_ndjson_line(&Ok(report.clone()));
        assert!(!good.contains('\n'));
        assert!(good.starts_with(r#"{"claim_id":"CLM-2026-000147","payer":"medicare-part-b","status":"fail","lines":[{"index":0,"#));
        // The same report as the pretty JSON, only laid out compactly.
        let pretty: Result<serde_json::Value, _> = serde_json::from_str(&render_json(&report));
        let compact: Result<serde_json::Value, _> = serde_json::from_str(&good);
        assert!(pretty.is_ok());
        assert_eq!(pretty.ok(), compact.ok());
        let batch = [bad, good].join("\n");
        assert_eq!(batch.lines().count(), 2);
    }

    #[test]
    fn human_report_for_a_biller() {
        let sources = policy_map();
        let text = human(&report(), &sources, false);
        assert!(!text.contains('\u{1b}'), "colour escapes without colour");
        insta::assert_snapshot!("human_report", text);
    }

    #[test]
    fn human_report_in_colour_has_the_same_words() {
        let sources = policy_map();
        let text = human(&report(), &sources, true);
        assert!(text.contains('\u{1b}'));
        assert!(text.contains("claim CLM-2026-000147 (medicare-part-b): fail"));
    }

    #[test]
    fn human_report_of_a_passing_claim_is_the_summary() {
        let mut report = report();
        report.findings.clear();
        report.status = ClaimReport::status_of(&report.findings);
        let sources = policy_map();
        insta::assert_snapshot!("human_pass", human(&report, &sources, false));
    }

    #[test]
    fn human_report_without_policy_text_names_the_rule_location() {
        let report = report();
        let claim = ClaimSource {
            name: CLAIM_NAME,
            text: CLAIM,
        };
        let text = render_human(&report, &claim, &PolicySources::none(), false, 80);
        let at = policy_span("ncci.ptp");
        assert!(text.contains(&format!(
            "`ncci.ptp` (code pairing) at {POLICY_NAME}:{}:1",
            at.line
        )));
        assert!(!text.contains("Failed to read"));
        // The claim snippets are still there.
        assert!(text.contains(&format!("[{CLAIM_NAME}:")));
    }

    #[test]
    fn human_report_survives_spans_outside_the_texts() {
        let mut report = report();
        for finding in &mut report.findings {
            finding.claim_span = claim_span("/lines/9/units", (CLAIM.len() + 1, CLAIM.len() + 3));
            edit_texts(finding, |texts| texts.policy_span.line = 10_000);
        }
        let sources = policy_map();
        let text = human(&report, &sources, false);
        assert!(!text.contains("Failed to read"));
        assert!(text.contains("in the claim: /lines/9/units"));
        assert!(text.contains("undetermined: needs /history/therapy_allowed_ytd/ot"));
        assert!(text.contains(&format!("{POLICY_NAME}:10000:1")), "{text}");
    }

    #[test]
    fn human_snippet_of_a_one_line_json_claim_is_cropped_around_the_span() {
        let json = r#"{"id":"CLM-9","payer":"medicare-part-b","member":{"id":"SYNTH-MEMBER-0001","birth_date":"1950-01-01"},"date_of_service":"2026-03-02","place_of_service":"11","provider":{"npi":"1234567893","discipline":"OT","role":"therapist"},"diagnoses":["I69.351"],"lines":[{"code":"97535","modifiers":["GO"],"units":3,"minutes":30}]}"#;
        let start = json.find(r#""units":3"#).map_or(0, |at| at + 8);
        let mut finding = finding(
            "medicare.units.eight-minute",
            Category::Units,
            FindingSeverity::Deny,
        );
        finding.message = "97535 is billed with 3 units".to_owned();
        finding.line = Some(0);
        finding.claim_span = claim_span("/lines/0/units", (start, start + 1));
        let report = ClaimReport {
            claim_id: "CLM-9".to_owned(),
            payer: "medicare-part-b",
            status: Status::Fail,
            lines: vec![line(0, "97535", 3, Some(2))],
            findings: vec![finding],
            explanation: None,
            provenance: None,
        };
        let claim = ClaimSource {
            name: "<stdin>",
            text: json,
        };
        let sources = policy_map();
        let text = render_human(&report, &claim, &PolicySources::new(&sources), false, 80);
        assert!(text.contains(r#""units":3"#), "{text}");
        assert!(!text.contains("SYNTH-MEMBER-0001"), "{text}");
        assert!(!text.contains("1950-01-01"), "{text}");
        assert!(
            text.contains(&format!("[<stdin>:1:{}]", start + 1)),
            "{text}"
        );
        insta::assert_snapshot!("human_one_line_json", text);
    }

    #[test]
    fn notes_name_the_denial_codes_and_the_fix() {
        let mut finding = finding("ncci.ptp", Category::Units, FindingSeverity::Deny);
        edit_texts(&mut finding, |texts| texts.carc = Some("151".into()));
        edit_texts(&mut finding, |texts| texts.rarc = Some("N362".into()));
        assert_eq!(
            denial_note(&finding).as_deref(),
            Some("expected denial: CARC 151 (RARC N362)")
        );
        finding.severity = FindingSeverity::Undetermined;
        edit_texts(&mut finding, |texts| texts.carc = None);
        assert_eq!(
            denial_note(&finding).as_deref(),
            Some("possible denial: RARC N362")
        );
        edit_texts(&mut finding, |texts| texts.rarc = None);
        assert_eq!(denial_note(&finding), None);

        let lines = [line(0, "97535", 2, Some(2)), line(1, "97530", 1, Some(1))];
        let fix = |op, line, value: &str| {
            fix_text(
                &FixOut {
                    op,
                    line,
                    value: value.to_owned(),
                    applied: None,
                },
                &lines,
            )
        };
        assert_eq!(
            fix(FixOp::AddModifier, 1, "XU"),
            "add modifier XU to line 1 (97530)"
        );
        assert_eq!(
            fix(FixOp::RemoveModifier, 0, "59"),
            "remove modifier 59 from line 0 (97535)"
        );
        assert_eq!(
            fix(FixOp::ReplaceModifier, 1, "59>XU"),
            "replace modifier 59 with XU on line 1 (97530)"
        );
        assert_eq!(fix(FixOp::SetUnits, 7, "1"), "set the units of line 7 to 1");
    }
}
