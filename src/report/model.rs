//! The evaluation report: exactly the report contract (`shared/spec/report-v1.md`),
//! plus fields the contract allows later versions to add (marked below).
//!
//! Field order is the JSON order; every collection is in a stable order, so
//! the same input gives byte-identical JSON.

use std::sync::Arc;

use serde::Serialize;

use crate::claim::ClaimPath;
use crate::codes::ProcedureCode;
use crate::syntax::Category;
use crate::Date;

/// One claim's report. It borrows the rules' fixed texts and the policy
/// versions from the compiled policies it was judged by (`'p`): sharing them
/// costs nothing per finding or line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimReport<'p> {
    pub claim_id: String,
    /// The payer policy's id, borrowed from it.
    pub payer: &'p str,
    pub status: Status,
    pub lines: Vec<LineReport<'p>>,
    /// By line (claim-level findings last), then rule id.
    pub findings: Vec<Finding<'p>>,
    /// Added in this version, with `--explain` only: each rule that applied,
    /// what it looked at and whether it fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Vec<Explanation>>,
    /// Added in this version, for claims read from an 837P only: where the
    /// facts the 837P does not state came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ReportProvenance>,
}

/// Where an 837P claim's provider discipline and payer policy came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportProvenance {
    /// `x12-837p`.
    pub format: &'static str,
    /// `taxonomy` (the NUCC code of the rendering provider), `modifiers`
    /// (GP/GO/GN, CQ/CO on the lines) or `not_stated` (discipline `other`).
    pub discipline_from: &'static str,
    /// The taxonomy code, when the discipline came from it.
    pub taxonomy: Option<String>,
    /// The payer id as the 837P writes it (NM1*PR NM109).
    pub payer_id: Option<String>,
    /// `payer_map` or `payer_flag` (`--payer`).
    pub payer_from: &'static str,
}

/// How one rule was applied to one line (or visit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub rule: Arc<str>,
    pub line: Option<usize>,
    pub date_of_service: String,
    pub verdict: Verdict,
    /// The facts the rule looked at, with the values it saw.
    pub looked_at: Vec<Fact>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The rule fired: see the findings.
    Fired,
    /// The rule looked and found nothing wrong.
    Passed,
    /// The rule needed a fact the claim does not carry.
    Undetermined,
    /// The rule is about this code and date but not this claim (plan, place).
    NotApplicable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fired => "fired",
            Verdict::Passed => "passed",
            Verdict::Undetermined => "undetermined",
            Verdict::NotApplicable => "not applicable",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Incomplete,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineReport<'p> {
    /// 0-based, in claim order.
    pub index: usize,
    #[serde(serialize_with = "code_text")]
    pub code: ProcedureCode,
    /// YYYY-MM-DD.
    #[serde(serialize_with = "date_text")]
    pub date_of_service: Date,
    /// The effective-dated version in force on that date: `PAYER@DATE`, where
    /// DATE is the day that version started, the last day on or before the date
    /// of service on which a rule, constant, code set or table version started
    /// or stopped being in force (`PAYER@base` before any such day). Borrowed
    /// from the compiled policy, not copied per line.
    pub policy_version: &'p str,
    pub units_billed: u32,
    /// What the payer's unit rule allows from the documented minutes; null
    /// where the code is untimed or the minutes are missing.
    pub units_supported: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    Deny,
    Undetermined,
    Warn,
    Info,
}

/// A finding: serialised with the rule's texts in their places among the
/// finding's own fields (the contract's order: `rule`, `category`, `severity`,
/// `missing`, `message`, `line`, `claim_span`, `policy_span`, `help`, `carc`,
/// `rarc`, `citation`, `fix`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding<'p> {
    /// The rule's id and fixed texts, borrowed from the compiled rule.
    pub rule: &'p RuleTexts,
    pub category: Category,
    pub severity: FindingSeverity,
    /// For `undetermined`: the claim paths whose facts are needed.
    pub missing: Vec<String>,
    pub message: String,
    /// 0-based line index; null for the whole claim.
    pub line: Option<usize>,
    pub claim_span: Option<ClaimSpanOut>,
    pub fix: Option<FixOut>,
}

/// What every finding of a rule says of the rule: built once per compiled rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTexts {
    pub id: Arc<str>,
    pub policy_span: PolicySpan,
    pub help: Option<Arc<str>>,
    pub carc: Option<Arc<str>>,
    /// Added in this version (the contract allows additions): the remark code.
    pub rarc: Option<Arc<str>>,
    pub citation: Option<Arc<str>>,
}

impl Serialize for Finding<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let rule = self.rule;
        let mut out = serializer.serialize_struct("Finding", 13)?;
        out.serialize_field("rule", &rule.id)?;
        out.serialize_field("category", &self.category)?;
        out.serialize_field("severity", &self.severity)?;
        out.serialize_field("missing", &self.missing)?;
        out.serialize_field("message", &self.message)?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("claim_span", &self.claim_span)?;
        out.serialize_field("policy_span", &rule.policy_span)?;
        out.serialize_field("help", &rule.help)?;
        out.serialize_field("carc", &rule.carc)?;
        out.serialize_field("rarc", &rule.rarc)?;
        out.serialize_field("citation", &rule.citation)?;
        out.serialize_field("fix", &self.fix)?;
        out.end()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimSpanOut {
    pub path: ClaimPath,
    pub start: Option<usize>,
    pub end: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicySpan {
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixOp {
    SetUnits,
    AddModifier,
    RemoveModifier,
    ReplaceModifier,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FixOut {
    pub op: FixOp,
    pub line: usize,
    /// The units to set, or the modifier to add or remove; for `replace_modifier`,
    /// `FROM>TO` (`59>XU`).
    pub value: String,
    /// Added in this version, with `--fix` only: whether the fix was applied
    /// to the claim written out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<bool>,
}

impl ClaimReport<'_> {
    /// The contract's rule: `fail` when any finding is `deny`; else `incomplete`
    /// when any is `undetermined`; else `warn` when any is `warn`; else `pass`.
    pub fn status_of(findings: &[Finding]) -> Status {
        let has = |severity| findings.iter().any(|f| f.severity == severity);
        if has(FindingSeverity::Deny) {
            Status::Fail
        } else if has(FindingSeverity::Undetermined) {
            Status::Incomplete
        } else if has(FindingSeverity::Warn) {
            Status::Warn
        } else {
            Status::Pass
        }
    }
}

/// A code serialises as the text it is written as (`97535`).
fn code_text<S: serde::Serializer>(code: &ProcedureCode, serializer: S) -> Result<S::Ok, S::Error> {
    let chars = code.chars();
    serializer.serialize_str(std::str::from_utf8(&chars).unwrap_or_default())
}

/// A date serialises as `YYYY-MM-DD`, as it reads in messages.
fn date_text<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    match crate::eval::value::date_chars(*date) {
        Some(chars) => serializer.serialize_str(std::str::from_utf8(&chars).unwrap_or_default()),
        None => serializer.collect_str(date),
    }
}

/// An NDJSON line that could not be read: `{"input_line": N, "error": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    pub input_line: usize,
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorDetail {
    pub message: String,
    pub path: String,
}
