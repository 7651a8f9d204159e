//! `ppl eval --summary`: what a batch came to. Claims by status, the rules that
//! fired most, and the charges on denied lines. A line is denied when a `deny`
//! finding names it or the whole claim (as in `ppl diff`).
//!
//! Summaries of parts of a batch merge ([`BatchSummary::merge`]), so each worker
//! keeps its own and the totals do not depend on how the batch was split.

use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{ClaimReport, FindingSeverity, Status};
use crate::claim::Claim;

/// Rules listed in the human summary.
const TOP_RULES: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub pass: u64,
    pub warn: u64,
    pub incomplete: u64,
    pub fail: u64,
    /// Input lines or claims with an error record instead of a report.
    pub errors: u64,
    /// Per rule: findings, and claims with at least one.
    rules: FxHashMap<std::sync::Arc<str>, RuleCount>,
    pub denied: Charges,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub findings: u64,
    pub claims: u64,
    /// Findings with severity `deny`.
    pub denials: u64,
}

/// Charges on denied lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Charges {
    pub lines: u64,
    pub cents: u64,
    /// Denied lines the claim gives no charge for (not in `cents`).
    pub lines_without_charge: u64,
}

impl BatchSummary {
    /// Counts one evaluated claim.
    pub fn add(&mut self, claim: &Claim, report: &ClaimReport) {
        match report.status {
            Status::Pass => self.pass += 1,
            Status::Warn => self.warn += 1,
            Status::Incomplete => self.incomplete += 1,
            Status::Fail => self.fail += 1,
        }
        for (index, finding) in report.findings.iter().enumerate() {
            let first_of_rule = !report
                .findings
                .iter()
                .take(index)
                .any(|earlier| earlier.rule.id == finding.rule.id);
            let count = self.rules.entry(finding.rule.id.clone()).or_default();
            count.findings += 1;
            count.claims += u64::from(first_of_rule);
            count.denials += u64::from(finding.severity == FindingSeverity::Deny);
        }
        let denies = |line: usize| {
            report.findings.iter().any(|finding| {
                finding.severity == FindingSeverity::Deny
                    && finding.line.is_none_or(|named| named == line)
            })
        };
        for (index, line) in claim.lines.iter().enumerate() {
            if denies(index) {
                self.denied.lines += 1;
                match &line.charge {
                    Some(charge) => {
                        self.denied.cents = self.denied.cents.saturating_add(charge.value)
                    }
                    None => self.denied.lines_without_charge += 1,
                }
            }
        }
    }

    /// Counts an error record.
    pub fn add_error(&mut self) {
        self.errors += 1;
    }

    pub fn merge(&mut self, other: BatchSummary) {
        self.pass += other.pass;
        self.warn += other.warn;
        self.incomplete += other.incomplete;
        self.fail += other.fail;
        self.errors += other.errors;
        for (rule, count) in other.rules {
            let mine = self.rules.entry(rule).or_default();
            mine.findings += count.findings;
            mine.claims += count.claims;
            mine.denials += count.denials;
        }
        self.denied.lines += other.denied.lines;
        self.denied.cents = self.denied.cents.saturating_add(other.denied.cents);
        self.denied.lines_without_charge += other.denied.lines_without_charge;
    }

    /// Claims read, with or without a report.
    pub fn claims(&self) -> u64 {
        self.pass + self.warn + self.incomplete + self.fail + self.errors
    }

    /// Every rule that fired, most findings first (ties by rule id).
    pub fn rules_by_findings(&self) -> Vec<(&str, RuleCount)> {
        let mut rules: Vec<(&str, RuleCount)> = self
            .rules
            .iter()
            .map(|(rule, count)| (&**rule, *count))
            .collect();
        rules.sort_by(|a, b| b.1.findings.cmp(&a.1.findings).then(a.0.cmp(b.0)));
        rules
    }
}

/// `--summary-format human`: a few lines for the biller, after the batch.
pub fn render_summary_human(summary: &BatchSummary) -> String {
    let mut out = String::new();
    let claims = summary.claims();
    let _ = writeln!(
        out,
        "{claims} claim{}: {} pass, {} warn, {} incomplete, {} fail, {} unreadable",
        if claims == 1 { "" } else { "s" },
        summary.pass,
        summary.warn,
        summary.incomplete,
        summary.fail,
        summary.errors
    );
    let denied = summary.denied;
    let _ = write!(
        out,
        "charges on denied lines: {} on {} line{}",
        dollars(denied.cents),
        denied.lines,
        if denied.lines == 1 { "" } else { "s" }
    );
    if denied.lines_without_charge > 0 {
        let _ = write!(out, " ({} without a charge)", denied.lines_without_charge);
    }
    out.push('\n');
    let rules = summary.rules_by_findings();
    if rules.is_empty() {
        out.push_str("no rule fired\n");
        return out;
    }
    out.push_str("rules that fired most:\n");
    let width = rules
        .iter()
        .take(TOP_RULES)
        .map(|(rule, _)| rule.len())
        .max()
        .unwrap_or(0)
        .max("rule".len());
    let _ = writeln!(
        out,
        "  {:<width$}  {:>9}  {:>9}  {:>9}",
        "rule", "findings", "claims", "denials"
    );
    for (rule, count) in rules.iter().take(TOP_RULES) {
        let _ = writeln!(
            out,
            "  {rule:<width$}  {:>9}  {:>9}  {:>9}",
            count.findings, count.claims, count.denials
        );
    }
    if rules.len() > TOP_RULES {
        let _ = writeln!(
            out,
            "  and {} more rule{} (--summary-format json lists all)",
            rules.len() - TOP_RULES,
            if rules.len() - TOP_RULES == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    out
}

/// `--summary-format json`: one versioned object, every rule that fired.
pub fn render_summary_json(summary: &BatchSummary) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        summary_version: u32,
        claims: u64,
        status: Statuses,
        unreadable: u64,
        denied_charges: DeniedOut,
        rules: Vec<RuleOut<'a>>,
    }
    #[derive(Serialize)]
    struct Statuses {
        pass: u64,
        warn: u64,
        incomplete: u64,
        fail: u64,
    }
    #[derive(Serialize)]
    struct DeniedOut {
        lines: u64,
        /// Decimal dollars as text (`"1234.50"`): exact, unlike a float.
        amount: String,
        lines_without_charge: u64,
    }
    #[derive(Serialize)]
    struct RuleOut<'a> {
        rule: &'a str,
        findings: u64,
        claims: u64,
        denials: u64,
    }
    let denied = summary.denied;
    let out = Out {
        summary_version: 1,
        claims: summary.claims(),
        status: Statuses {
            pass: summary.pass,
            warn: summary.warn,
            incomplete: summary.incomplete,
            fail: summary.fail,
        },
        unreadable: summary.errors,
        denied_charges: DeniedOut {
            lines: denied.lines,
            amount: format!("{}.{:02}", denied.cents / 100, denied.cents % 100),
            lines_without_charge: denied.lines_without_charge,
        },
        rules: summary
            .rules_by_findings()
            .into_iter()
            .map(|(rule, count)| RuleOut {
                rule,
                findings: count.findings,
                claims: count.claims,
                denials: count.denials,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_else(|error| {
        format!("{{\"error\": \"the summary could not be serialized: {error}\"}}")
    });
    text.push('\n');
    text
}

fn dollars(cents: u64) -> String {
    crate::eval::value::dollars(i64::try_from(cents).unwrap_or(i64::MAX))
}
