//! Stage 4: evaluation. A claim and the compiled policies in, the report out.
//!
//! A pure function of its inputs: no clock, no I/O, no global state. Lines
//! that share a date of service form a visit; each visit is judged by the rule
//! versions in force on its date. A rule that needs a fact the claim does not
//! carry gives an `undetermined` finding that names the missing facts.

mod explain;
mod families;
pub mod units;
pub mod value;

use crate::claim::{Claim, ClaimSpan};
use crate::compile::RuleCheck;
use crate::compile::{CompiledPolicies, CompiledPolicy, CompiledRule, Segment};
use crate::report::{
    ClaimReport, ClaimSpanOut, Explanation, Finding, FindingSeverity, FixOp, FixOut, LineReport,
};
use crate::syntax::{Family, Scope, Severity};
use crate::Date;
use smallvec::SmallVec;

/// A claim that cannot be evaluated at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("no payer policy has the id `{payer}`{suggestion}")]
    UnknownPayer { payer: String, suggestion: String },
    #[error("line {line} has no date of service, and the claim has none")]
    NoDate { line: usize },
}

impl EvalError {
    /// The claim path the error is about.
    pub fn path(&self) -> String {
        match self {
            EvalError::UnknownPayer { .. } => "/payer".to_owned(),
            EvalError::NoDate { line } => format!("/lines/{line}/date_of_service"),
        }
    }
}

/// Evaluates one claim against the policy of its payer.
pub fn evaluate<'p>(
    claim: &Claim,
    policies: &'p CompiledPolicies,
) -> Result<ClaimReport<'p>, EvalError> {
    Evaluator::new().evaluate(claim, policies)
}

/// Like [`evaluate`], and the report explains how each rule was applied
/// (`ppl eval --explain`).
pub fn evaluate_explained<'p>(
    claim: &Claim,
    policies: &'p CompiledPolicies,
) -> Result<ClaimReport<'p>, EvalError> {
    Evaluator::new().evaluate_explained(claim, policies)
}

/// Evaluates one claim against one compiled policy; with `explain`, the
/// report says what each rule looked at.
pub fn evaluate_with<'p>(
    claim: &Claim,
    policy: &'p CompiledPolicy,
    explain: bool,
) -> Result<ClaimReport<'p>, EvalError> {
    Evaluator::new().evaluate_with(claim, policy, explain)
}

/// Evaluates claim after claim, keeping its working buffers (line dates,
/// visits, the grouping of lines by rule, the unit rule's minutes) from one
/// claim to the next instead of allocating them for each: for a batch, one
/// per worker. Its reports are those of [`evaluate`].
#[derive(Default)]
pub struct Evaluator {
    scratch: Scratch,
}

/// Lines of a claim the buffers hold without allocating: a claim with more
/// is judged the same, in buffers that have grown.
const INLINE_LINES: usize = 8;

/// The buffers an [`Evaluator`] keeps: cleared, never shrunk, between claims.
/// Sized to hold a usual claim in place, so that even a new evaluator (as
/// [`evaluate`] makes) judges one without allocating them.
#[derive(Default)]
struct Scratch {
    dates: SmallVec<[Date; INLINE_LINES]>,
    visits: Visits,
    by_rule: RuleLines,
    buffers: RunBuffers,
}

/// The buffers a [`Run`] works in, lent to it for one claim.
#[derive(Default)]
struct RunBuffers {
    /// Per line, the units a unit rule supports.
    supported: SmallVec<[Option<u32>; INLINE_LINES]>,
    /// Claim-wide general rules already judged (by address: once per claim).
    claim_rules_done: SmallVec<[usize; 8]>,
    /// The paths of the facts the condition being judged found missing.
    needs: value::Needs,
    units: units::Buffers,
}

impl Evaluator {
    pub fn new() -> Self {
        Self::default()
    }

    /// [`evaluate`], in this evaluator's buffers.
    pub fn evaluate<'p>(
        &mut self,
        claim: &Claim,
        policies: &'p CompiledPolicies,
    ) -> Result<ClaimReport<'p>, EvalError> {
        let payer = &claim.payer.value;
        let Some(policy) = policies.payers.get(payer) else {
            let suggestion =
                crate::diagnostics::did_you_mean(payer, policies.payers.keys().map(String::as_str))
                    .map(|hint| format!("; {hint}"))
                    .unwrap_or_default();
            return Err(EvalError::UnknownPayer {
                payer: payer.clone(),
                suggestion,
            });
        };
        self.evaluate_with(claim, policy, false)
    }

    /// [`evaluate_explained`], in this evaluator's buffers.
    pub fn evaluate_explained<'p>(
        &mut self,
        claim: &Claim,
        policies: &'p CompiledPolicies,
    ) -> Result<ClaimReport<'p>, EvalError> {
        match policies.payers.get(&claim.payer.value) {
            Some(policy) => self.evaluate_with(claim, policy, true),
            None => self.evaluate(claim, policies),
        }
    }

    /// [`evaluate_with`], in this evaluator's buffers.
    pub fn evaluate_with<'p>(
        &mut self,
        claim: &Claim,
        policy: &'p CompiledPolicy,
        explain: bool,
    ) -> Result<ClaimReport<'p>, EvalError> {
        let Scratch {
            dates,
            visits,
            by_rule,
            buffers,
        } = &mut self.scratch;
        dates.clear();
        dates.reserve(claim.lines.len());
        for (index, line) in claim.lines.iter().enumerate() {
            dates.push(
                claim
                    .line_date(line)
                    .ok_or(EvalError::NoDate { line: index })?,
            );
        }
        visits.fill(dates);
        let mut run = Run {
            claim,
            policy,
            visits,
            findings: Vec::new(),
            buffers,
        };
        run.buffers.supported.clear();
        run.buffers.supported.resize(claim.lines.len(), None);
        run.buffers.claim_rules_done.clear();
        run.buffers.needs.clear();
        let report = judge_visits(&mut run, dates, by_rule, explain);
        Ok(report)
    }
}

/// Judges every visit of the claim `run` holds and writes the report.
fn judge_visits<'p>(
    run: &mut Run<'_, 'p>,
    dates: &[Date],
    by_rule: &mut RuleLines,
    explain: bool,
) -> ClaimReport<'p> {
    let (claim, policy, visits) = (run.claim, run.policy, run.visits);
    let mut explanation: Vec<Explanation> = Vec::new();
    let mut explained_claim_rules = std::collections::BTreeSet::new();
    for (date, lines) in visits.iter() {
        by_rule.group(policy, claim, date, lines);
        for (rule_index, rule) in policy.rules.iter().enumerate() {
            let Some(rule_lines) = by_rule.lines_of(rule_index, lines) else {
                continue;
            };
            let before = run.findings.len();
            let narrowed = run.lines_in_scope(rule, rule_lines, date);
            let in_scope: &[usize] = narrowed.as_deref().unwrap_or(rule_lines);
            if !in_scope.is_empty() {
                run.rule(rule, date, lines, in_scope);
            }
            if explain {
                for &line in rule_lines.iter().filter(|line| !in_scope.contains(line)) {
                    let why = match &rule.plans {
                        Some(plans) => format!("applies only to plans {}", plans.join(", ")),
                        None => "applies only at other places of service".to_owned(),
                    };
                    explanation.push(Run::not_applied(rule, date, line, why));
                }
                let produced = run.findings.get(before..).unwrap_or_default();
                let targets: Vec<Option<usize>> = match &rule.check {
                    RuleCheck::General {
                        scope: Scope::Line, ..
                    } => in_scope.iter().map(|&l| Some(l)).collect(),
                    RuleCheck::General {
                        scope: Scope::Claim,
                        ..
                    } if explained_claim_rules.contains(&rule_index) => Vec::new(),
                    RuleCheck::General { .. } if !in_scope.is_empty() => vec![None],
                    _ => in_scope.iter().map(|&l| Some(l)).collect(),
                };
                if matches!(
                    rule.check,
                    RuleCheck::General {
                        scope: Scope::Claim,
                        ..
                    }
                ) {
                    explained_claim_rules.insert(rule_index);
                }
                for target in targets {
                    explanation.push(run.explain(rule, date, target, produced));
                }
            }
        }
    }
    let mut findings = std::mem::take(&mut run.findings);
    let supported = &run.buffers.supported;
    findings.sort_by(|a, b| {
        let line = |f: &Finding| f.line.map_or(usize::MAX, |line| line);
        line(a)
            .cmp(&line(b))
            .then_with(|| a.rule.id.cmp(&b.rule.id))
            .then_with(|| a.message.cmp(&b.message))
    });
    findings.dedup();
    // Lines of one visit share their version: it is looked up once a date.
    let mut version: Option<(Date, &'p str)> = None;
    let mut lines = Vec::with_capacity(claim.lines.len());
    for (index, line) in claim.lines.iter().enumerate() {
        let date = dates.get(index).copied().unwrap_or(Date::MIN);
        let policy_version = match version {
            Some((day, in_force)) if day == date => in_force,
            _ => {
                let in_force = policy.version_on(date);
                version = Some((date, in_force));
                in_force
            }
        };
        lines.push(LineReport {
            index,
            code: line.code.value,
            date_of_service: date,
            policy_version,
            units_billed: line.units.value,
            units_supported: supported.get(index).copied().flatten(),
        });
    }
    ClaimReport {
        claim_id: claim.id.value.clone(),
        payer: &policy.id,
        status: ClaimReport::status_of(&findings),
        lines,
        findings,
        explanation: explain.then(|| {
            explanation.sort_by(|a, b| {
                let line = |e: &Explanation| e.line.map_or(usize::MAX, |line| line);
                line(a).cmp(&line(b)).then_with(|| a.rule.cmp(&b.rule))
            });
            explanation
        }),
        provenance: claim.provenance.as_ref().map(report_provenance),
    }
}

/// A visit's lines grouped by the rule versions they meet: for each rule, a
/// bit set of the visit's lines (bit `i` is the visit's `i`th line), so a
/// rule's lines come out in claim order. Rebuilt for each visit in buffers
/// kept from visit to visit.
#[derive(Default)]
struct RuleLines {
    /// `words` words per rule, rule after rule.
    bits: SmallVec<[u64; 32]>,
    /// Words per rule: one for each 64 lines of the visit.
    words: usize,
    /// The lines of the rule last asked for.
    lines: SmallVec<[usize; INLINE_LINES]>,
}

impl RuleLines {
    /// Marks, for each rule version in force on `date`, the visit's `lines` it is about.
    fn group(&mut self, policy: &CompiledPolicy, claim: &Claim, date: Date, lines: &[usize]) {
        let words = lines.len().div_ceil(u64::BITS as usize).max(1);
        self.words = words;
        self.bits.clear();
        self.bits
            .resize(policy.rules.len().saturating_mul(words), 0);
        let bits = self.bits.as_mut_slice();
        for (position, &index) in lines.iter().enumerate() {
            let Some(line) = claim.lines.get(index) else {
                continue;
            };
            let (word, bit) = word_and_bit(position);
            for rule in policy.code_rule_indexes_on(line.code.value, date) {
                if let Some(slot) = bits.get_mut(rule * words + word) {
                    *slot |= bit;
                }
            }
        }
        // The rules about every line are about all of the visit's lines.
        for rule in policy.every_line_rule_indexes_on(date) {
            let rule_bits = bits
                .get_mut(rule * words..(rule + 1) * words)
                .unwrap_or_default();
            let mut left = lines.len();
            for slot in rule_bits {
                let here = left.min(u64::BITS as usize);
                *slot = low_bits(here);
                left -= here;
            }
        }
    }

    /// The visit's lines (of `lines`, as grouped) that `rule` is about, in
    /// claim order; `None` when it is about none.
    fn lines_of<'l>(&'l mut self, rule: usize, lines: &'l [usize]) -> Option<&'l [usize]> {
        let words = self.words;
        let rule_bits = self.bits.get(rule * words..(rule + 1) * words)?;
        match rule_bits {
            [0] => return None,
            // Every line of a visit of up to 64 (the usual case): no copy.
            [word] if *word == low_bits(lines.len()) => return Some(lines),
            _ if rule_bits.iter().all(|&word| word == 0) => return None,
            _ => {}
        }
        self.lines.clear();
        for (word_index, &word) in rule_bits.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                let position = word_index * u64::BITS as usize + rest.trailing_zeros() as usize;
                if let Some(&line) = lines.get(position) {
                    self.lines.push(line);
                }
                rest &= rest - 1;
            }
        }
        Some(&self.lines)
    }
}

/// A word with its `count` lowest bits set (`count` at most 64).
fn low_bits(count: usize) -> u64 {
    // None set is a shift by 64, which `checked_shr` refuses.
    u64::MAX
        .checked_shr(u64::BITS - count.min(64) as u32)
        .unwrap_or(0)
}

/// Where line `position` of a visit stands in a rule's bit set.
fn word_and_bit(position: usize) -> (usize, u64) {
    let bits = u64::BITS as usize;
    (position / bits, 1 << (position % bits))
}

/// The claim's visits: lines that share a date of service, in date order.
#[derive(Default)]
pub(crate) struct Visits {
    /// Every line's index in claim order, then the same indexes visit after
    /// visit (claim order within a visit): one buffer for both.
    indexes: SmallVec<[usize; 2 * INLINE_LINES]>,
    /// How many lines the claim has: where the visits' indexes start.
    count: usize,
    /// Each visit's date and where its lines stand in `lines`.
    spans: SmallVec<[(Date, std::ops::Range<usize>); 4]>,
}

impl Visits {
    /// Refills the visits from `dates`: each line's date of service, in claim order.
    fn fill(&mut self, dates: &[Date]) {
        let count = dates.len();
        self.count = count;
        self.indexes.clear();
        self.indexes.reserve(count * 2);
        self.indexes.extend(0..count);
        self.indexes.extend(0..count);
        let lines = self.indexes.get_mut(count..).unwrap_or_default();
        // Stable: claim order within a date.
        lines.sort_by_key(|&index| dates.get(index).copied());
        self.spans.clear();
        for (position, date) in lines
            .iter()
            .filter_map(|&index| dates.get(index))
            .enumerate()
        {
            match self.spans.last_mut() {
                Some((last, range)) if last == date => range.end = position + 1,
                _ => self.spans.push((*date, position..position + 1)),
            }
        }
    }

    /// Every line's index, in claim order.
    pub(crate) fn all(&self) -> &[usize] {
        self.indexes.get(..self.count).unwrap_or_default()
    }

    /// Each visit's date and lines, in date order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Date, &[usize])> + '_ {
        self.spans.iter().map(|(date, range)| {
            let visit = (range.start + self.count)..(range.end + self.count);
            (*date, self.indexes.get(visit).unwrap_or_default())
        })
    }

    /// The lines of the visit on `date` (none when no line has that date).
    pub(crate) fn on(&self, date: Date) -> &[usize] {
        self.iter()
            .find(|(day, _)| *day == date)
            .map_or(&[], |(_, lines)| lines)
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Which visit of the claim `date` is: 0 for the first.
    pub(crate) fn position(&self, date: Date) -> Option<usize> {
        self.spans.iter().position(|(day, _)| *day == date)
    }
}

/// One evaluation in progress.
struct Run<'a, 'p: 'a> {
    claim: &'a Claim,
    /// The report borrows from the policy (`'p`), never from the claim.
    policy: &'p CompiledPolicy,
    visits: &'a Visits,
    findings: Vec<Finding<'p>>,
    /// The evaluator's buffers, lent for this claim.
    buffers: &'a mut RunBuffers,
}

/// What a finding says, before it is attached to its rule.
struct Outcome {
    severity: FindingSeverity,
    line: Option<usize>,
    span: Option<ClaimSpan>,
    message: String,
    missing: Vec<String>,
    fix: Option<FixOut>,
}

impl<'a, 'p> Run<'a, 'p> {
    /// What conditions and messages read: the claim on `date`, with `visit`'s
    /// lines and `line` in focus.
    fn scope(&self, date: Date, visit: &'a [usize], line: Option<usize>) -> value::Scope<'a> {
        value::Scope {
            claim: self.claim,
            policy: self.policy,
            date,
            visit,
            all_lines: self.visits.all(),
            line,
        }
    }

    /// The lines a rule judges: its `plans` and `places` narrow them.
    /// `None` when the rule judges every line it is about (the common case, no copy).
    fn lines_in_scope(
        &mut self,
        rule: &'p CompiledRule,
        lines: &[usize],
        date: Date,
    ) -> Option<Vec<usize>> {
        if let Some(plans) = &rule.plans {
            match &self.claim.plan {
                Some(plan) if plans.contains(&plan.value) => {}
                Some(_) => return Some(Vec::new()),
                None => {
                    let first = lines.first().copied();
                    self.outcome(
            rule,
            Outcome {
                            severity: FindingSeverity::Undetermined,
                            line: first,
                            span: Some(self.claim.span.clone()),
                            message: format!(
                                "rule `{}` applies only to plans {}; the claim does not say its plan",
                                rule.id,
                                plans.join(", ")
                            ),
                            missing: vec!["/plan".to_owned()],
                            fix: None,
                        },
                    );
                    return Some(Vec::new());
                }
            }
        }
        // A telehealth rule's `places` are the places it accepts, which it judges itself.
        let places = rule
            .places
            .as_ref()
            .filter(|_| rule.family != Family::Telehealth)?;
        let at_places = lines
            .iter()
            .copied()
            .filter(|&index| {
                let place = self
                    .claim
                    .lines
                    .get(index)
                    .and_then(|line| self.claim.line_place(line));
                place.is_some_and(|place| value::in_set(&value::Value::Place(place), places, date))
            })
            .collect();
        Some(at_places)
    }

    /// Records a finding of `rule`.
    fn outcome(&mut self, rule: &'p CompiledRule, outcome: Outcome) {
        let Outcome {
            severity,
            line,
            span,
            message,
            missing,
            fix,
        } = outcome;
        // On the first finding, room for two a line: a claim with findings
        // seldom grows the list again, and a clean claim allocates none.
        if self.findings.capacity() == 0 {
            self.findings
                .reserve(self.claim.lines.len().saturating_mul(2));
        }
        self.findings.push(Finding {
            rule: &rule.texts,
            category: rule.category,
            severity,
            missing,
            message,
            line,
            claim_span: span.map(|span| ClaimSpanOut {
                path: span.path,
                start: span.start,
                end: span.end,
            }),
            fix,
        });
    }

    /// The severity a rule gives when it fires.
    fn fired(rule: &'p CompiledRule) -> FindingSeverity {
        match rule.severity {
            Severity::Deny => FindingSeverity::Deny,
            Severity::Warn => FindingSeverity::Warn,
            Severity::Info => FindingSeverity::Info,
        }
    }

    /// The message of `rule` with its placeholders filled: claim fields seen
    /// from `line` on `date`, and the family's own values in `extras`.
    fn message(
        &self,
        rule: &'p CompiledRule,
        date: Date,
        line: Option<usize>,
        extras: &[(&str, value::Value<'_>)],
    ) -> String {
        let scope = self.scope(date, self.visits.on(date), line);
        // A missing fact reads `not given`: its path is not needed.
        let mut needs = value::Needs::default();
        let mut out = String::with_capacity(rule.message.capacity());
        for segment in &rule.message.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Placeholder { name, lookup } => {
                    match extras.iter().find(|(key, _)| key == name) {
                        Some((_, value)) => value.write_display(&mut out),
                        None => {
                            scope.operand(lookup, &mut needs).write_display(&mut out);
                            needs.clear();
                        }
                    }
                }
            }
        }
        out
    }

    /// A machine-applicable fix, from the rule's `fix` (and the family's value).
    fn fix(rule: &'p CompiledRule, line: usize, supplied: Option<String>) -> Option<FixOut> {
        use crate::syntax::Fix;
        let (op, value) = match rule.fix.as_ref()? {
            // Zero units is no line at all: removing a line is for a person to decide.
            Fix::SetUnits => (FixOp::SetUnits, supplied.filter(|units| units != "0")?),
            Fix::AddModifier(Some(modifier)) => (FixOp::AddModifier, modifier.value.clone()),
            Fix::AddModifier(None) => (FixOp::AddModifier, supplied?),
            Fix::RemoveModifier(modifier) => (FixOp::RemoveModifier, modifier.value.clone()),
            Fix::ReplaceModifier { from, to } => (
                FixOp::ReplaceModifier,
                format!("{}>{}", from.value, to.value),
            ),
        };
        Some(FixOut {
            op,
            line,
            value,
            applied: None,
        })
    }
}

/// The report's account of an 837P claim's provenance.
fn report_provenance(provenance: &crate::claim::Provenance) -> crate::report::ReportProvenance {
    use crate::claim::{DisciplineSource, PayerSource};
    let (discipline_from, taxonomy) = match &provenance.discipline_from {
        DisciplineSource::Taxonomy(code) => ("taxonomy", Some(code.clone())),
        DisciplineSource::Modifiers => ("modifiers", None),
        DisciplineSource::NotStated => ("not_stated", None),
    };
    crate::report::ReportProvenance {
        format: "x12-837p",
        discipline_from,
        taxonomy,
        payer_id: provenance.payer_id.as_ref().map(|id| id.value.clone()),
        payer_from: match provenance.payer_from {
            PayerSource::Map => "payer_map",
            PayerSource::Flag => "payer_flag",
        },
    }
}
