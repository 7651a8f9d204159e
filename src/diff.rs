//! `ppl diff`: what changes for each claim when the policies change.
//!
//! Pure comparison: one claim's reports under the old and the new policies in,
//! the change out ([`compare`]); [`DiffSummary`] adds the changes of a corpus
//! up by rule, status and dollars. Reading the corpus and evaluating it is the
//! command's business (`cli_diff`).
//!
//! Definitions (also in `docs/compliance-tools.md`):
//! - Findings are matched by rule id and line. A finding present on one side
//!   only is `added` or `removed`; one on both sides whose severity, message,
//!   CARC or RARC differs is `changed`.
//! - A line is *denied* when a `deny` finding names it or names the whole
//!   claim (line `null`). A line denied under the new policies and not under
//!   the old one moves *to fail*; the reverse moves *to pass*. Its `charge`
//!   (the claim's billed amount for the line) is what moves; a line without a
//!   charge is counted apart. Dollars move only for claims both policy sets
//!   could evaluate.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::claim::Claim;
use crate::eval::EvalError;
use crate::report::{ClaimReport, Finding, FindingSeverity, Status};

/// The version of the `--format json` output.
pub const FORMAT_VERSION: u32 = 1;

/// A claim's status under one policy set, or `error` when that set could not
/// evaluate it (its payer is unknown there, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SideStatus {
    Pass,
    Warn,
    Incomplete,
    Fail,
    Error,
}

impl SideStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SideStatus::Pass => "pass",
            SideStatus::Warn => "warn",
            SideStatus::Incomplete => "incomplete",
            SideStatus::Fail => "fail",
            SideStatus::Error => "error",
        }
    }

    fn of(outcome: &Result<ClaimReport, EvalError>) -> Self {
        match outcome {
            Ok(report) => match report.status {
                Status::Pass => SideStatus::Pass,
                Status::Warn => SideStatus::Warn,
                Status::Incomplete => SideStatus::Incomplete,
                Status::Fail => SideStatus::Fail,
            },
            Err(_) => SideStatus::Error,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One finding that differs between the two policy sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    pub change: ChangeKind,
    pub rule: String,
    /// 0-based line; null for the whole claim.
    pub line: Option<usize>,
    pub old_severity: Option<FindingSeverity>,
    pub new_severity: Option<FindingSeverity>,
    /// The new finding's message (the old one's for `removed`).
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Denied under the new policies, not under the old.
    ToFail,
    /// Denied under the old policies, not under the new.
    ToPass,
}

/// A line whose denial appears or disappears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineMove {
    pub line: usize,
    pub direction: Direction,
    /// The line's charge in cents; null when the claim gives none.
    pub charge_cents: Option<u64>,
    /// The rules that deny the line on the side where it is denied.
    pub rules: Vec<String>,
}

/// One claim whose status or findings change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimChange {
    pub claim_id: String,
    /// Where the claim was read: `FILE:LINE` for NDJSON, `FILE` otherwise.
    pub source: String,
    pub old_status: SideStatus,
    pub new_status: SideStatus,
    /// Why a side could not evaluate the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_error: Option<String>,
    /// In the report's order: by line (claim-wide last), then rule.
    pub findings: Vec<FindingChange>,
    pub lines_moved: Vec<LineMove>,
}

/// Compares one claim's outcomes; `None` when nothing changes.
pub fn compare(
    claim: &Claim,
    source: &str,
    old: &Result<ClaimReport, EvalError>,
    new: &Result<ClaimReport, EvalError>,
) -> Option<ClaimChange> {
    let no_findings: &[Finding] = &[];
    let old_findings = old.as_ref().map_or(no_findings, |r| r.findings.as_slice());
    let new_findings = new.as_ref().map_or(no_findings, |r| r.findings.as_slice());
    let findings = finding_changes(old_findings, new_findings);
    let (old_status, new_status) = (SideStatus::of(old), SideStatus::of(new));
    let old_error = old.as_ref().err().map(ToString::to_string);
    let new_error = new.as_ref().err().map(ToString::to_string);
    if findings.is_empty() && old_status == new_status && old_error == new_error {
        return None;
    }
    let lines_moved = if old.is_ok() && new.is_ok() {
        lines_moved(claim, old_findings, new_findings)
    } else {
        Vec::new()
    };
    Some(ClaimChange {
        claim_id: claim.id.value.clone(),
        source: source.to_owned(),
        old_status,
        new_status,
        old_error,
        new_error,
        findings,
        lines_moved,
    })
}

fn same(a: &Finding, b: &Finding) -> bool {
    a.severity == b.severity
        && a.message == b.message
        && a.rule.carc == b.rule.carc
        && a.rule.rarc == b.rule.rarc
}

/// Findings matched by (rule, line): equal pairs cancel, unequal pairs are
/// `changed`, the rest `added` or `removed`.
fn finding_changes(old: &[Finding], new: &[Finding]) -> Vec<FindingChange> {
    type Key<'f> = (Option<usize>, &'f str);
    let mut keys: BTreeMap<Key<'_>, (Vec<&Finding>, Vec<&Finding>)> = BTreeMap::new();
    for finding in old {
        keys.entry((finding.line, &finding.rule.id))
            .or_default()
            .0
            .push(finding);
    }
    for finding in new {
        keys.entry((finding.line, &finding.rule.id))
            .or_default()
            .1
            .push(finding);
    }
    let mut changes = Vec::new();
    // Claim-wide findings (line None) sort first in the map; the report puts them last.
    let (claim_wide, by_line): (Vec<_>, Vec<_>) =
        keys.into_iter().partition(|((line, _), _)| line.is_none());
    for ((line, rule), (mut olds, mut news)) in by_line.into_iter().chain(claim_wide) {
        olds.retain(|o| match news.iter().position(|n| same(o, n)) {
            Some(position) => {
                news.remove(position);
                false
            }
            None => true,
        });
        let mut news = news.into_iter();
        for old in olds {
            match news.next() {
                Some(new) => changes.push(FindingChange {
                    change: ChangeKind::Changed,
                    rule: rule.to_owned(),
                    line,
                    old_severity: Some(old.severity),
                    new_severity: Some(new.severity),
                    message: new.message.clone(),
                }),
                None => changes.push(FindingChange {
                    change: ChangeKind::Removed,
                    rule: rule.to_owned(),
                    line,
                    old_severity: Some(old.severity),
                    new_severity: None,
                    message: old.message.clone(),
                }),
            }
        }
        for new in news {
            changes.push(FindingChange {
                change: ChangeKind::Added,
                rule: rule.to_owned(),
                line,
                old_severity: None,
                new_severity: Some(new.severity),
                message: new.message.clone(),
            });
        }
    }
    changes
}

/// Per line, the rules that deny it (a claim-wide denial denies every line).
fn denials(claim: &Claim, findings: &[Finding]) -> Vec<BTreeSet<String>> {
    let mut denied = vec![BTreeSet::new(); claim.lines.len()];
    for finding in findings
        .iter()
        .filter(|f| f.severity == FindingSeverity::Deny)
    {
        match finding.line {
            Some(line) => {
                if let Some(rules) = denied.get_mut(line) {
                    rules.insert(finding.rule.id.to_string());
                }
            }
            None => {
                for rules in &mut denied {
                    rules.insert(finding.rule.id.to_string());
                }
            }
        }
    }
    denied
}

fn lines_moved(claim: &Claim, old: &[Finding], new: &[Finding]) -> Vec<LineMove> {
    let before = denials(claim, old);
    let after = denials(claim, new);
    let mut moved = Vec::new();
    for (line, (before, after)) in before.into_iter().zip(after).enumerate() {
        let (direction, rules) = match (before.is_empty(), after.is_empty()) {
            (true, false) => (Direction::ToFail, after),
            (false, true) => (Direction::ToPass, before),
            _ => continue,
        };
        moved.push(LineMove {
            line,
            direction,
            charge_cents: claim
                .lines
                .get(line)
                .and_then(|l| l.charge.as_ref())
                .map(|c| c.value),
            rules: rules.into_iter().collect(),
        });
    }
    moved
}

/// Charges moving one way: their sum, over how many lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub cents: u64,
    pub lines: usize,
    /// Lines that moved without a charge on the claim (not in `cents`).
    pub lines_without_charge: usize,
}

impl Moved {
    fn add(&mut self, charge: Option<u64>) {
        self.lines += 1;
        match charge {
            Some(cents) => self.cents = self.cents.saturating_add(cents),
            None => self.lines_without_charge += 1,
        }
    }
}

/// One rule's share of the changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleSummary {
    pub rule: String,
    /// Claims with at least one change of this rule's findings.
    pub claims: usize,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Lines this rule denies under the new policies that were not denied
    /// before (a line denied by two new rules counts under each).
    pub to_fail: Moved,
    /// Lines this rule denied under the old policies that are not denied now.
    pub to_pass: Moved,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub old: SideStatus,
    pub new: SideStatus,
    pub claims: usize,
}

/// A claim of the corpus that could not be read, or that neither policy set
/// could evaluate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub source: String,
    pub message: String,
    /// JSON pointer into the claim; `""` for the claim as a whole.
    pub path: String,
}

/// The changes of a whole corpus, added up.
#[derive(Clone, Debug, Default)]
pub struct DiffSummary {
    /// Claims read and evaluated (by at least one side).
    pub claims: usize,
    pub changed: Vec<ClaimChange>,
    pub errors: Vec<Unreadable>,
    statuses: BTreeMap<(SideStatus, SideStatus), usize>,
    rules: BTreeMap<String, RuleSummary>,
    to_fail: Moved,
    to_pass: Moved,
}

impl DiffSummary {
    /// Adds one evaluated claim (its change, if any).
    pub fn add(&mut self, change: Option<ClaimChange>) {
        self.claims += 1;
        let Some(change) = change else { return };
        if change.old_status != change.new_status {
            *self
                .statuses
                .entry((change.old_status, change.new_status))
                .or_default() += 1;
        }
        let mut touched = BTreeSet::new();
        for finding in &change.findings {
            let summary = self.rule(&finding.rule);
            match finding.change {
                ChangeKind::Added => summary.added += 1,
                ChangeKind::Removed => summary.removed += 1,
                ChangeKind::Changed => summary.changed += 1,
            }
            touched.insert(finding.rule.clone());
        }
        for rule in touched {
            self.rule(&rule).claims += 1;
        }
        for moved in &change.lines_moved {
            match moved.direction {
                Direction::ToFail => self.to_fail.add(moved.charge_cents),
                Direction::ToPass => self.to_pass.add(moved.charge_cents),
            }
            for rule in &moved.rules {
                let summary = self.rule(rule);
                match moved.direction {
                    Direction::ToFail => summary.to_fail.add(moved.charge_cents),
                    Direction::ToPass => summary.to_pass.add(moved.charge_cents),
                }
            }
        }
        self.changed.push(change);
    }

    pub fn add_error(&mut self, error: Unreadable) {
        self.errors.push(error);
    }

    fn rule(&mut self, rule: &str) -> &mut RuleSummary {
        self.rules
            .entry(rule.to_owned())
            .or_insert_with(|| RuleSummary {
                rule: rule.to_owned(),
                ..RuleSummary::default()
            })
    }

    pub fn to_fail(&self) -> Moved {
        self.to_fail
    }

    pub fn to_pass(&self) -> Moved {
        self.to_pass
    }

    /// Status changes, most frequent first.
    pub fn status_changes(&self) -> Vec<StatusChange> {
        let mut changes: Vec<StatusChange> = self
            .statuses
            .iter()
            .map(|(&(old, new), &claims)| StatusChange { old, new, claims })
            .collect();
        changes.sort_by(|a, b| {
            b.claims
                .cmp(&a.claims)
                .then((a.old, a.new).cmp(&(b.old, b.new)))
        });
        changes
    }

    /// Rules with changes, by id.
    pub fn rules(&self) -> impl Iterator<Item = &RuleSummary> {
        self.rules.values()
    }
}

/// What was compared, for the report's header.
pub struct DiffInputs<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub claims: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    old: &'a str,
    new: &'a str,
    claims_source: &'a str,
    claims: usize,
    unreadable: usize,
    changed: usize,
    status_changes: Vec<StatusChange>,
    to_fail: Moved,
    to_pass: Moved,
    rules: Vec<&'a RuleSummary>,
    changed_claims: &'a [ClaimChange],
    errors: &'a [Unreadable],
}

/// The versioned JSON report (`--format json`).
pub fn render_json(summary: &DiffSummary, inputs: &DiffInputs<'_>) -> String {
    let report = JsonReport {
        version: FORMAT_VERSION,
        old: inputs.old,
        new: inputs.new,
        claims_source: inputs.claims,
        claims: summary.claims,
        unreadable: summary.errors.len(),
        changed: summary.changed.len(),
        status_changes: summary.status_changes(),
        to_fail: summary.to_fail,
        to_pass: summary.to_pass,
        rules: summary.rules().collect(),
        changed_claims: &summary.changed,
        errors: &summary.errors,
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

fn dollars(cents: u64) -> String {
    crate::eval::value::dollars(i64::try_from(cents).unwrap_or(i64::MAX))
}

fn moved_words(moved: Moved) -> String {
    let mut text = format!(
        "{} on {} line{}",
        dollars(moved.cents),
        moved.lines,
        if moved.lines == 1 { "" } else { "s" }
    );
    if moved.lines_without_charge > 0 {
        text.push_str(&format!(
            " ({} without a charge)",
            moved.lines_without_charge
        ));
    }
    text
}

fn severity_word(severity: Option<FindingSeverity>) -> &'static str {
    match severity {
        Some(FindingSeverity::Deny) => "deny",
        Some(FindingSeverity::Undetermined) => "undetermined",
        Some(FindingSeverity::Warn) => "warn",
        Some(FindingSeverity::Info) => "info",
        None => "-",
    }
}

/// The human report: the summary, the rules, then each changed claim.
pub fn render_human(summary: &DiffSummary, inputs: &DiffInputs<'_>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ppl diff: old `{}`, new `{}`, claims `{}`",
        inputs.old, inputs.new, inputs.claims
    );
    let _ = writeln!(
        out,
        "{} claim{} compared, {} changed, {} unreadable",
        summary.claims,
        if summary.claims == 1 { "" } else { "s" },
        summary.changed.len(),
        summary.errors.len()
    );
    let statuses = summary.status_changes();
    if !statuses.is_empty() {
        out.push_str("\nstatus changes:\n");
        for change in &statuses {
            let _ = writeln!(
                out,
                "  {:<10} -> {:<10} {:>8}",
                change.old.as_str(),
                change.new.as_str(),
                change.claims
            );
        }
    }
    out.push_str(
        "\ncharges moving (a line fails when a deny finding names it or its whole claim):\n",
    );
    let _ = writeln!(out, "  pass -> fail  {}", moved_words(summary.to_fail));
    let _ = writeln!(out, "  fail -> pass  {}", moved_words(summary.to_pass));
    if summary.rules.is_empty() {
        out.push_str("\nno finding changes\n");
    } else {
        let width = summary
            .rules()
            .map(|rule| rule.rule.chars().count())
            .max()
            .unwrap_or(0)
            .max("rule".len());
        let _ = writeln!(
            out,
            "\nby rule:\n  {:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {:>14}  {:>14}",
            "rule", "claims", "added", "removed", "changed", "to fail", "to pass"
        );
        for rule in summary.rules() {
            let _ = writeln!(
                out,
                "  {:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {:>14}  {:>14}",
                rule.rule,
                rule.claims,
                rule.added,
                rule.removed,
                rule.changed,
                dollars(rule.to_fail.cents),
                dollars(rule.to_pass.cents)
            );
        }
    }
    if !summary.changed.is_empty() {
        out.push_str("\nchanged claims:\n");
    }
    for change in &summary.changed {
        let _ = writeln!(
            out,
            "  {} ({}): {} -> {}",
            change.claim_id,
            change.source,
            change.old_status.as_str(),
            change.new_status.as_str()
        );
        for (side, error) in [("old", &change.old_error), ("new", &change.new_error)] {
            if let Some(error) = error {
                let _ = writeln!(out, "    {side}: {error}");
            }
        }
        for finding in &change.findings {
            let (mark, severity) = match finding.change {
                ChangeKind::Added => ("+", severity_word(finding.new_severity).to_owned()),
                ChangeKind::Removed => ("-", severity_word(finding.old_severity).to_owned()),
                ChangeKind::Changed => (
                    "~",
                    format!(
                        "{} -> {}",
                        severity_word(finding.old_severity),
                        severity_word(finding.new_severity)
                    ),
                ),
            };
            let place = finding
                .line
                .map_or_else(|| "claim".to_owned(), |line| format!("line {line}"));
            let _ = writeln!(
                out,
                "    {mark} {} {place} {severity}: {}",
                finding.rule, finding.message
            );
        }
        for moved in &change.lines_moved {
            let charge = moved
                .charge_cents
                .map_or_else(|| "no charge".to_owned(), dollars);
            let direction = match moved.direction {
                Direction::ToFail => "pass -> fail",
                Direction::ToPass => "fail -> pass",
            };
            let _ = writeln!(out, "    line {} {direction}: {charge}", moved.line);
        }
    }
    if !summary.errors.is_empty() {
        out.push_str("\nunreadable claims:\n");
        for error in &summary.errors {
            let path = if error.path.is_empty() {
                "/"
            } else {
                &error.path
            };
            let _ = writeln!(out, "  {}: {} (at {path})", error.source, error.message);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::report::{LineReport, PolicySpan, RuleTexts};
    use crate::syntax::Category;

    const CLAIM: &str = r#"{"id": "C1", "payer": "p", "date_of_service": "2026-03-02", "place_of_service": "11", "diagnoses": ["I69.351"], "provider": {"npi": "1234567893", "discipline": "PT", "role": "therapist"}, "lines": [{"code": "97110", "units": 1, "charge": 10.00}, {"code": "97140", "units": 1}]}"#;

    fn claim() -> Claim {
        crate::claim::read_claim(CLAIM, crate::claim::InputFormat::Json).unwrap()
    }

    fn finding(
        rule: &str,
        line: Option<usize>,
        severity: FindingSeverity,
        message: &str,
    ) -> Finding<'static> {
        Finding {
            // A test's rule texts live as long as the test binary.
            rule: Box::leak(Box::new(RuleTexts {
                id: rule.into(),
                policy_span: PolicySpan {
                    file: "p.ppl".into(),
                    line: 1,
                    column: 1,
                },
                help: None,
                carc: None,
                rarc: None,
                citation: None,
            })),
            category: Category::Other,
            severity,
            missing: Vec::new(),
            message: message.to_owned(),
            line,
            claim_span: None,
            fix: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Result<ClaimReport, EvalError> {
        Ok(ClaimReport {
            claim_id: "C1".to_owned(),
            payer: "p",
            status: ClaimReport::status_of(&findings),
            lines: Vec::<LineReport>::new(),
            findings,
            explanation: None,
            provenance: None,
        })
    }

    #[test]
    fn identical_reports_are_no_change() {
        let findings = vec![finding("a", Some(0), FindingSeverity::Deny, "m")];
        assert_eq!(
            compare(&claim(), "x", &report(findings.clone()), &report(findings)),
            None
        );
    }

    #[test]
    fn findings_match_by_rule_and_line() {
        let old = report(vec![
            finding("a", Some(0), FindingSeverity::Deny, "was"),
            finding("b", Some(1), FindingSeverity::Warn, "b"),
        ]);
        let new = report(vec![
            finding("a", Some(0), FindingSeverity::Warn, "now"),
            finding("c", None, FindingSeverity::Info, "c"),
        ]);
        let change = compare(&claim(), "x", &old, &new).unwrap();
        let kinds: Vec<(ChangeKind, &str)> = change
            .findings
            .iter()
            .map(|f| (f.change, f.rule.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (ChangeKind::Changed, "a"),
                (ChangeKind::Removed, "b"),
                (ChangeKind::Added, "c")
            ]
        );
        assert_eq!(change.findings[0].old_severity, Some(FindingSeverity::Deny));
        assert_eq!(change.findings[0].new_severity, Some(FindingSeverity::Warn));
        assert_eq!(
            (change.old_status, change.new_status),
            (SideStatus::Fail, SideStatus::Warn)
        );
        // Line 0 was denied and is not now: its $10.00 moves to pass.
        assert_eq!(
            change.lines_moved,
            [LineMove {
                line: 0,
                direction: Direction::ToPass,
                charge_cents: Some(1000),
                rules: vec!["a".to_owned()],
            }]
        );
    }

    #[test]
    fn a_claim_wide_denial_denies_every_line() {
        let old = report(vec![finding("line", Some(0), FindingSeverity::Deny, "m")]);
        let new = report(vec![finding("whole", None, FindingSeverity::Deny, "m")]);
        let change = compare(&claim(), "x", &old, &new).unwrap();
        // Line 0 stays denied (by another rule); line 1, without a charge, moves to fail.
        assert_eq!(
            change.lines_moved,
            [LineMove {
                line: 1,
                direction: Direction::ToFail,
                charge_cents: None,
                rules: vec!["whole".to_owned()],
            }]
        );
        let mut summary = DiffSummary::default();
        summary.add(Some(change));
        summary.add(None);
        assert_eq!(summary.claims, 2);
        assert_eq!(
            summary.to_fail(),
            Moved {
                cents: 0,
                lines: 1,
                lines_without_charge: 1
            }
        );
        let rules: Vec<&str> = summary.rules().map(|r| r.rule.as_str()).collect();
        assert_eq!(rules, ["line", "whole"]);
    }

    #[test]
    fn a_side_that_cannot_evaluate_is_an_error_status_without_dollars() {
        let old: Result<ClaimReport, EvalError> = Err(EvalError::UnknownPayer {
            payer: "p".to_owned(),
            suggestion: String::new(),
        });
        let new = report(vec![finding("a", Some(0), FindingSeverity::Deny, "m")]);
        let change = compare(&claim(), "x", &old, &new).unwrap();
        assert_eq!(change.old_status, SideStatus::Error);
        assert!(change.old_error.unwrap().contains("no payer policy"));
        assert_eq!(change.findings.len(), 1);
        assert!(change.lines_moved.is_empty());
    }
}
