//! What each family of rule checks on a visit's lines.

use super::units::{block_units, midpoint_units, saturating_sum};
use super::value::{self, PerVisit, Value, Verdict};
use super::{Outcome, Run};
use crate::claim::{ClaimSpan, Modality, Role};
use crate::codes::Modifier;
use crate::codeset::SetValue;
use crate::compile::{
    AuthRequired, CompiledRule, DocumentationCheck, FieldRef, RuleCheck, UnitsCheck,
};
use crate::report::{FindingSeverity, FixOp, FixOut};
use crate::syntax::{Scope as RuleScope, UnitMethod};
use crate::tables::ModifierIndicator;
use crate::Date;

/// Modifiers that mark a line as telehealth, whatever the payer accepts.
const TELEHEALTH_MODIFIERS: [&str; 5] = ["95", "93", "GT", "FQ", "GQ"];
/// Places of service that mean telehealth (CMS POS 02 and 10).
const TELEHEALTH_PLACES: [&str; 2] = ["02", "10"];

/// A unit count as a fix's value (`3`), without `core::fmt`.
fn decimal_text(number: u32) -> String {
    let mut text = String::with_capacity(4);
    crate::decimal::Decimal::new(number.into()).push_to(&mut text);
    text
}

fn has_modifier(modifiers: &[Modifier], text: &str) -> bool {
    modifiers.iter().any(|m| m.is(text))
}

impl<'p> Run<'_, 'p> {
    /// Judges `rule` on a visit: `visit` is all the visit's lines, `lines` the
    /// ones the rule is about.
    pub(super) fn rule(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        visit: &[usize],
        lines: &[usize],
    ) {
        match &rule.check {
            RuleCheck::Units(check) => self.units(rule, date, lines, check),
            RuleCheck::Pairing { table, bypass } => {
                let Some(table) = table.on(date) else { return };
                self.pairing(rule, date, lines, table, bypass);
            }
            RuleCheck::PriorAuth { required, verify } => {
                self.prior_auth(rule, date, lines, *required, verify)
            }
            RuleCheck::Telehealth { .. } => {
                for &line in lines {
                    self.telehealth(rule, date, line);
                }
            }
            RuleCheck::Documentation(check) => self.documentation(rule, date, lines, check),
            RuleCheck::Provider { .. } => {
                for &line in lines {
                    self.provider(rule, date, line);
                }
            }
            RuleCheck::MedicalNecessity {
                supported_by,
                excluded_by,
            } => {
                for &line in lines {
                    let Some(claim_line) = self.claim.lines.get(line) else {
                        continue;
                    };
                    let diagnoses = value::line_diagnoses(self.claim, claim_line);
                    // The ICD-10-CM codes the line points at, read without building values.
                    let codes = || {
                        value::pointers(claim_line).iter().filter_map(|&pointer| {
                            value::pointed_code(&self.claim.diagnoses, pointer)
                        })
                    };
                    let any_in = |set: &crate::compile::VersionedSet| match set.on(date) {
                        Some(SetValue::Diagnosis(members)) => {
                            codes().any(|code| members.contains_bytes(code.as_bytes()))
                        }
                        _ => false,
                    };
                    let supported = supported_by.as_ref().is_none_or(any_in);
                    let excluded = excluded_by.as_ref().is_some_and(any_in);
                    if !supported || excluded {
                        let shown = Value::List(diagnoses);
                        let span = claim_line
                            .diagnosis_pointers
                            .as_ref()
                            .map_or_else(|| claim_line.code.span.clone(), |p| p.span.clone());
                        self.fire(rule, date, line, span, &[("diagnoses", shown)], None);
                    }
                }
            }
            RuleCheck::General {
                scope,
                when,
                require,
                when_parts,
                require_per_visit,
            } => {
                let rule_address = std::ptr::from_ref(rule) as usize;
                // Each line, or the visit (or claim) once: (the lines, whether once).
                let (each_line, once): (&[usize], bool) = match scope {
                    RuleScope::Line => (lines, false),
                    // A visit rule once per visit; a claim rule once, on the first
                    // visit that has a line it is about.
                    RuleScope::Visit => (&[], true),
                    RuleScope::Claim if !self.buffers.claim_rules_done.contains(&rule_address) => {
                        self.buffers.claim_rules_done.push(rule_address);
                        (&[], true)
                    }
                    RuleScope::Claim => (&[], false),
                };
                let visits = self.visits;
                let scope_lines = if *scope == RuleScope::Claim {
                    visits.all()
                } else {
                    visit
                };
                // What of `when` does not read the line is judged once here.
                let per_visit = if when_parts.is_empty() {
                    PerVisit::Undecided
                } else {
                    self.scope(date, scope_lines, None)
                        .test_per_visit(when_parts, &mut self.buffers.needs)
                };
                if per_visit == PerVisit::False {
                    return;
                }
                // A per-visit `require`'s yes or no, once a line has judged it.
                let mut visit_require = None;
                let targets = each_line
                    .iter()
                    .map(|&line| Some(line))
                    .chain(once.then_some(None));
                for line in targets {
                    let judged = {
                        let scope_view = self.scope(date, scope_lines, line);
                        let needs = &mut self.buffers.needs;
                        let when_verdict = match when {
                            Some(_) if per_visit == PerVisit::True => {
                                Some(scope_view.test_line_parts(when_parts, needs))
                            }
                            Some(when) => Some(scope_view.test(when, needs)),
                            None => None,
                        };
                        match when_verdict {
                            Some(Verdict::Flag(false)) => None,
                            Some(Verdict::Missing) => Some(Verdict::Missing),
                            _ => Some(match visit_require {
                                Some(verdict) => verdict,
                                None => {
                                    let verdict = scope_view.test(require, needs);
                                    // A missing fact is judged again: each line names it.
                                    if *require_per_visit && matches!(verdict, Verdict::Flag(_)) {
                                        visit_require = Some(verdict);
                                    }
                                    verdict
                                }
                            }),
                        }
                    };
                    let span = || {
                        line.and_then(|l| self.claim.lines.get(l))
                            .map_or_else(|| self.claim.span.clone(), |l| l.span.clone())
                    };
                    match judged {
                        Some(Verdict::Flag(false)) => {
                            let span = span();
                            let fix = line.and_then(|l| Run::fix(rule, l, None));
                            let message = self.message(rule, date, line, &[]);
                            self.outcome(
                                rule,
                                Outcome {
                                    severity: Run::fired(rule),
                                    line,
                                    span: Some(span),
                                    message,
                                    missing: Vec::new(),
                                    fix,
                                },
                            );
                        }
                        Some(Verdict::Missing) => {
                            let span = span();
                            let paths = self.buffers.needs.take();
                            self.undetermined(rule, line, span, paths);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// The rule fired on a line.
    fn fire(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        line: usize,
        span: ClaimSpan,
        extras: &[(&str, Value<'_>)],
        fix_value: Option<String>,
    ) {
        let fix = Run::fix(rule, line, fix_value);
        self.fire_with_fix(rule, date, line, span, extras, fix);
    }

    /// [`Run::fire`], with the fix already worked out.
    fn fire_with_fix(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        line: usize,
        span: ClaimSpan,
        extras: &[(&str, Value<'_>)],
        fix: Option<FixOut>,
    ) {
        let message = self.message(rule, date, Some(line), extras);
        self.outcome(
            rule,
            Outcome {
                severity: Run::fired(rule),
                line: Some(line),
                span: Some(span),
                message,
                missing: Vec::new(),
                fix,
            },
        );
    }

    /// The rule needs facts the claim does not carry.
    fn undetermined(
        &mut self,
        rule: &'p CompiledRule,
        line: Option<usize>,
        span: ClaimSpan,
        missing: Vec<String>,
    ) {
        let needs = if missing.is_empty() {
            "a fact the claim does not carry".to_owned()
        } else {
            missing.join(", ")
        };
        let line_text = line
            .and_then(|l| self.claim.lines.get(l))
            .map(|l| format!(" for {} (line {})", l.code.value, line.unwrap_or(0)))
            .unwrap_or_default();
        self.outcome(
            rule,
            Outcome {
                severity: FindingSeverity::Undetermined,
                line,
                span: Some(span),
                message: format!(
                    "rule `{}` could not be decided{line_text}: it needs {needs}",
                    rule.id
                ),
                missing,
                fix: None,
            },
        );
    }

    fn units(&mut self, rule: &'p CompiledRule, date: Date, lines: &[usize], check: &UnitsCheck) {
        match check {
            UnitsCheck::Method(method) => self.unit_method(rule, date, lines, *method),
            UnitsCheck::DailyCapTable(table) => {
                for (code, code_lines) in by_code(self.claim, lines) {
                    let Some(limit) = table.limit_on(code, date) else {
                        continue;
                    };
                    let cap = limit.max_units;
                    // MAI 1 is a line edit; 2 and 3 cap the date of service.
                    if limit.adjudication == 1 {
                        for line in code_lines {
                            self.cap_line(rule, date, line, self.billed(line), cap);
                        }
                    } else if let Some(last) = code_lines.clone().last() {
                        let total = saturating_sum(code_lines.map(|l| self.billed(l)));
                        self.cap_line(rule, date, last, total, cap);
                    }
                }
            }
            UnitsCheck::DailyCap(cap) => {
                let cap = u32::try_from(*cap).unwrap_or(u32::MAX);
                for (_, code_lines) in by_code(self.claim, lines) {
                    if let Some(last) = code_lines.clone().last() {
                        let total = saturating_sum(code_lines.map(|l| self.billed(l)));
                        self.cap_line(rule, date, last, total, cap);
                    }
                }
            }
            UnitsCheck::VisitCap(cap) => {
                let cap = u32::try_from(*cap).unwrap_or(u32::MAX);
                let mut total = 0u32;
                for &line in lines {
                    let before = total;
                    total = total.saturating_add(self.billed(line));
                    if total > cap && before <= cap {
                        self.cap_line(rule, date, line, total, cap);
                    }
                }
            }
        }
    }

    fn billed(&self, line: usize) -> u32 {
        self.claim.lines.get(line).map_or(0, |l| l.units.value)
    }

    fn cap_line(&mut self, rule: &'p CompiledRule, date: Date, line: usize, total: u32, cap: u32) {
        if total <= cap {
            return;
        }
        let Some(span) = self.claim.lines.get(line).map(|l| l.units.span.clone()) else {
            return;
        };
        let extras = [
            ("cap", Value::Number(cap.into())),
            ("units_billed", Value::Number(total.into())),
        ];
        self.fire(rule, date, line, span, &extras, None);
    }

    fn unit_method(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        lines: &[usize],
        method: UnitMethod,
    ) {
        let missing: Vec<String> = lines
            .iter()
            .filter(|&&l| {
                self.claim
                    .lines
                    .get(l)
                    .is_some_and(|line| line.minutes.is_none())
            })
            .map(|l| format!("/lines/{l}/minutes"))
            .collect();
        // Worked out in the evaluator's buffers, given back at the end.
        let mut minutes = std::mem::take(&mut self.buffers.units.minutes);
        minutes.clear();
        minutes.extend(lines.iter().map(|&l| {
            self.claim
                .lines
                .get(l)
                .and_then(|line| line.minutes.as_ref())
                .map_or(0, |m| m.value)
        }));
        let mut billed = std::mem::take(&mut self.buffers.units.billed);
        billed.clear();
        billed.extend(lines.iter().map(|&l| self.billed(l)));
        let sum = saturating_sum(minutes.iter().copied());
        let single_date = self.visits.len() == 1;
        let documented_total = self
            .claim
            .documentation
            .as_ref()
            .and_then(|doc| doc.total_timed_minutes.as_ref())
            .map(|total| total.value)
            .filter(|total| single_date && *total >= sum);
        let total = documented_total.unwrap_or(sum);
        // Pooled: one missing line's minutes leaves the whole visit undecided.
        let allocated = method == UnitMethod::TotalTime && missing.is_empty();
        if allocated {
            self.buffers.units.allocate(&minutes, total, Some(&billed));
        }
        for (position, (&line, &line_minutes)) in lines.iter().zip(&minutes).enumerate() {
            let Some(claim_line) = self.claim.lines.get(line) else {
                continue;
            };
            let supported = match method {
                UnitMethod::TotalTime if allocated => {
                    self.buffers.units.units.get(position).copied()
                }
                UnitMethod::TotalTime => None,
                UnitMethod::Midpoint => claim_line
                    .minutes
                    .is_some()
                    .then(|| midpoint_units(line_minutes)),
                UnitMethod::Blocks => claim_line
                    .minutes
                    .is_some()
                    .then(|| block_units(line_minutes)),
            };
            // The span is copied only for a finding.
            let span = || claim_line.units.span.clone();
            let Some(supported) = supported else {
                let needs = if method == UnitMethod::TotalTime {
                    missing.clone()
                } else {
                    vec![format!("/lines/{line}/minutes")]
                };
                self.undetermined(rule, Some(line), span(), needs);
                continue;
            };
            if let Some(slot) = self.buffers.supported.get_mut(line) {
                slot.get_or_insert(supported);
            }
            let units_billed = claim_line.units.value;
            if units_billed > supported {
                let extras = [
                    ("units_supported", Value::Number(supported.into())),
                    ("units_billed", Value::Number(units_billed.into())),
                    ("minutes", Value::Number(line_minutes.into())),
                    ("total_minutes", Value::Number(total.into())),
                ];
                self.fire(
                    rule,
                    date,
                    line,
                    span(),
                    &extras,
                    Some(decimal_text(supported)),
                );
            } else if units_billed < supported {
                let message = format!(
                    "{} is billed with {units_billed} units; the documented minutes support {supported}, so {} unit{} {} left unbilled",
                    claim_line.code.value,
                    supported - units_billed,
                    if supported - units_billed == 1 { "" } else { "s" },
                    if supported - units_billed == 1 { "is" } else { "are" },
                );
                self.outcome(
                    rule,
                    Outcome {
                        severity: FindingSeverity::Info,
                        line: Some(line),
                        span: Some(span()),
                        message,
                        missing: Vec::new(),
                        fix: None,
                    },
                );
            }
        }
        self.buffers.units.minutes = minutes;
        self.buffers.units.billed = billed;
    }

    fn pairing(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        lines: &[usize],
        table: &crate::tables::PtpTable,
        bypass: &std::collections::BTreeSet<Modifier>,
    ) {
        for (position, &first) in lines.iter().enumerate() {
            for &second in lines.iter().skip(position + 1) {
                let (Some(a), Some(b)) =
                    (self.claim.lines.get(first), self.claim.lines.get(second))
                else {
                    continue;
                };
                if a.code.value == b.code.value {
                    continue;
                }
                let Some(edit) = table.edit_on(a.code.value, b.code.value, date) else {
                    continue;
                };
                let bypassed = [a, b]
                    .iter()
                    .any(|line| line.modifiers.value.iter().any(|m| bypass.contains(m)));
                let fires = match edit.indicator {
                    ModifierIndicator::NotApplicable => false,
                    ModifierIndicator::NotAllowed => true,
                    ModifierIndicator::Allowed => !bypassed,
                };
                if !fires {
                    continue;
                }
                // The column-two code is the one the payer denies.
                let (column_two, column_one_code) = if edit.column_two == a.code.value {
                    (first, b.code.value)
                } else {
                    (second, a.code.value)
                };
                let Some(span) = self.claim.lines.get(column_two).map(modifiers_span) else {
                    continue;
                };
                let extras = [
                    ("other_code", Value::Procedure(column_one_code)),
                    ("indicator", Value::Number(edit.indicator.digit().into())),
                ];
                let fix_allowed = edit.indicator == ModifierIndicator::Allowed;
                let message = self.message(rule, date, Some(column_two), &extras);
                let fix = if fix_allowed {
                    Run::fix(rule, column_two, None)
                } else {
                    None
                };
                self.outcome(
                    rule,
                    Outcome {
                        severity: Run::fired(rule),
                        line: Some(column_two),
                        span: Some(span),
                        message,
                        missing: Vec::new(),
                        fix,
                    },
                );
            }
        }
    }

    fn prior_auth(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        lines: &[usize],
        required: AuthRequired,
        verify: &[String],
    ) {
        // Which visit of the year this is: earlier visits from the history, plus this claim's own.
        let visit_number = self.visits.position(date).map_or(1, |p| p + 1);
        let needed = match required {
            AuthRequired::Always => Ok(true),
            AuthRequired::AfterVisits {
                visits,
                within_weeks,
            } => {
                let history = self
                    .claim
                    .history
                    .as_ref()
                    .and_then(|h| h.visits_this_year.as_ref())
                    .map(|v| v.value);
                match (history, within_weeks) {
                    (None, _) => Err(vec!["/history/visits_this_year".to_owned()]),
                    (Some(before), _) if u64::from(before) + visit_number as u64 > visits => {
                        Ok(true)
                    }
                    // Within the free visits by count; the claim format has no date of the
                    // first visit, so whether they fall within the weeks cannot be told.
                    (Some(_), Some(_)) => Err(vec!["/history".to_owned()]),
                    (Some(_), None) => Ok(false),
                }
            }
        };
        for &line in lines {
            let Some(claim_line) = self.claim.lines.get(line) else {
                continue;
            };
            let span = claim_line.code.span.clone();
            match &needed {
                Ok(false) => continue,
                Err(missing) => {
                    self.undetermined(rule, Some(line), span, missing.clone());
                    continue;
                }
                Ok(true) => {}
            }
            let Some(auth) = &self.claim.prior_authorization else {
                // A rule that checks only what an authorization allows (`units`,
                // `visits`) has nothing to check without one: reporting the missing
                // authorization (CARC 197) is the business of the rule that checks its
                // number, window or codes, not of the "exceeded" rule (CARC 198).
                let checks_presence = verify
                    .iter()
                    .any(|check| matches!(check.as_str(), "number" | "window" | "codes"));
                if checks_presence {
                    let extras = [(
                        "reason",
                        Value::Text("no prior authorization number is on the claim"),
                    )];
                    self.fire(rule, date, line, span, &extras, None);
                }
                continue;
            };
            let mut reason = None;
            let mut missing = Vec::new();
            for check in verify {
                match check.as_str() {
                    "number" if auth.number.value.trim().is_empty() => {
                        reason
                            .get_or_insert_with(|| "the authorization number is empty".to_owned());
                    }
                    "window" => match (&auth.from, &auth.through) {
                        (Some(from), Some(through))
                            if date < from.value || date > through.value =>
                        {
                            reason.get_or_insert_with(|| {
                                format!(
                                    "the authorization covers {} to {}, not {date}",
                                    from.value, through.value
                                )
                            });
                        }
                        (Some(_), Some(_)) => {}
                        (from, through) => {
                            if from.is_none() {
                                missing.push("/prior_authorization/from".to_owned());
                            }
                            if through.is_none() {
                                missing.push("/prior_authorization/through".to_owned());
                            }
                        }
                    },
                    "codes" => match &auth.codes {
                        Some(codes) if !codes.value.contains(&claim_line.code.value) => {
                            reason.get_or_insert_with(|| {
                                format!(
                                    "the authorization does not cover {}",
                                    claim_line.code.value
                                )
                            });
                        }
                        Some(_) => {}
                        None => missing.push("/prior_authorization/codes".to_owned()),
                    },
                    "units" => match &auth.units {
                        Some(units) => {
                            // The units of every line the authorization covers, on every
                            // date of the claim: its listed codes, or without a list, the
                            // codes the rule is about.
                            let covered = |code| match &auth.codes {
                                Some(codes) => codes.value.contains(&code),
                                None => rule
                                    .codes
                                    .as_ref()
                                    .is_none_or(|set| set.has_procedure(code, date)),
                            };
                            let billed = saturating_sum(
                                self.claim
                                    .lines
                                    .iter()
                                    .filter(|l| covered(l.code.value))
                                    .map(|l| l.units.value),
                            );
                            if billed > units.value {
                                reason.get_or_insert_with(|| {
                                    format!("{billed} units billed, {} authorized", units.value)
                                });
                            }
                        }
                        None => missing.push("/prior_authorization/units".to_owned()),
                    },
                    // The claim format carries the visits used, not the visits authorized.
                    "visits" => missing.push("/prior_authorization".to_owned()),
                    _ => {}
                }
            }
            match reason {
                Some(reason) => {
                    let extras = [("reason", Value::Text(&reason))];
                    self.fire(rule, date, line, span, &extras, None)
                }
                None if !missing.is_empty() => self.undetermined(rule, Some(line), span, missing),
                None => {}
            }
        }
    }

    fn telehealth(&mut self, rule: &'p CompiledRule, date: Date, line: usize) {
        let RuleCheck::Telehealth {
            modifiers_required,
            modifiers_accepted,
            disciplines,
            audio_only_allowed,
            windows,
        } = &rule.check
        else {
            return;
        };
        let Some(claim_line) = self.claim.lines.get(line) else {
            return;
        };
        let modifiers = &claim_line.modifiers.value;
        let place = self.claim.line_place(claim_line);
        let is_telehealth = place.is_some_and(|p| TELEHEALTH_PLACES.iter().any(|t| p.is(t)))
            || TELEHEALTH_MODIFIERS
                .iter()
                .any(|m| has_modifier(modifiers, m));
        if !is_telehealth {
            return;
        }
        let code = claim_line.code.value;
        let in_set = |set: &Option<crate::compile::VersionedSet>, value: &Value| {
            set.as_ref()
                .is_some_and(|set| value::in_set(value, set, date))
        };
        let audio_only = has_modifier(modifiers, "93")
            || self
                .claim
                .documentation
                .as_ref()
                .and_then(|d| d.telehealth.as_ref())
                .and_then(|t| t.modality.as_ref())
                .is_some_and(|m| m.value == Modality::AudioOnly);
        let mut problem: Option<(String, ClaimSpan, Option<String>)> = None;
        if !windows.is_empty() && !windows.iter().any(|w| w.contains(date)) {
            problem = Some((
                format!("the payer does not cover telehealth on {date}"),
                claim_line.code.span.clone(),
                None,
            ));
        } else if !rule
            .codes
            .as_ref()
            .is_some_and(|codes| codes.has_procedure(code, date))
        {
            problem = Some((
                format!("{code} is not on the payer's telehealth list"),
                claim_line.code.span.clone(),
                None,
            ));
        } else if !rule.places.as_ref().is_some_and(|places| {
            place.is_some_and(|p| value::in_set(&Value::Place(p), places, date))
        }) {
            let span = claim_line.place_of_service.as_ref().map_or_else(
                || {
                    self.claim
                        .place_of_service
                        .as_ref()
                        .map(|p| p.span.clone())
                        .unwrap_or_default()
                },
                |p| p.span.clone(),
            );
            let place_text = place.map(|p| p.to_string()).unwrap_or_default();
            problem = Some((
                format!("place of service {place_text} is not one the payer takes for telehealth"),
                span,
                None,
            ));
        } else if modifiers_required.is_some()
            && !modifiers
                .iter()
                .any(|m| in_set(modifiers_required, &Value::Modifier(*m)))
        {
            let expected = modifiers_required
                .as_ref()
                .and_then(|set| match set.on(date) {
                    Some(SetValue::Modifier(mods)) if mods.len() == 1 => {
                        mods.iter().next().map(ToString::to_string)
                    }
                    _ => None,
                });
            problem = Some((
                "the line lacks the payer's telehealth modifier".to_owned(),
                modifiers_span(claim_line),
                expected,
            ));
        } else if let Some(bad) = modifiers.iter().find(|m| {
            TELEHEALTH_MODIFIERS.iter().any(|t| m.is(t))
                && (modifiers_accepted.is_some() || modifiers_required.is_some())
                && !in_set(modifiers_accepted, &Value::Modifier(**m))
                && !in_set(modifiers_required, &Value::Modifier(**m))
        }) {
            problem = Some((
                format!("the payer does not accept modifier {bad} for telehealth"),
                modifiers_span(claim_line),
                None,
            ));
        } else if disciplines.as_ref().is_some_and(|list| {
            !list
                .iter()
                .any(|d| d == self.claim.provider.discipline.value.keyword())
        }) {
            problem = Some((
                format!(
                    "{} services are not covered by telehealth",
                    self.claim.provider.discipline.value.keyword()
                ),
                self.claim.provider.discipline.span.clone(),
                None,
            ));
        } else if *audio_only_allowed == Some(false) && audio_only {
            problem = Some((
                "audio-only telehealth is not covered".to_owned(),
                modifiers_span(claim_line),
                None,
            ));
        }
        if let Some((reason, span, fix_value)) = problem {
            self.fire(
                rule,
                date,
                line,
                span,
                &[("reason", Value::Text(&reason))],
                fix_value,
            );
        }
    }

    fn documentation(
        &mut self,
        rule: &'p CompiledRule,
        date: Date,
        lines: &[usize],
        check: &DocumentationCheck,
    ) {
        // One note per claim: one finding per rule and visit, on its first line.
        let Some(&line) = lines.first() else { return };
        let Some(doc) = &self.claim.documentation else {
            // Per-code minutes are on the lines, not in the note: a rule that asks only
            // for them can be judged without the note.
            if let DocumentationCheck::MustHave(facts) = check {
                if facts.iter().all(|(fact, _)| fact == "minutes") {
                    if !self.lines_have_minutes(lines) {
                        let span = self
                            .claim
                            .lines
                            .get(line)
                            .map_or_else(|| self.claim.span.clone(), |l| l.span.clone());
                        self.fire(
                            rule,
                            date,
                            line,
                            span,
                            &[("missing", Value::Text("minutes"))],
                            None,
                        );
                    }
                    return;
                }
            }
            self.undetermined(
                rule,
                Some(line),
                self.claim.span.clone(),
                vec!["/documentation".to_owned()],
            );
            return;
        };
        let lacking: Vec<String> = match check {
            DocumentationCheck::MustHave(facts) => facts
                .iter()
                .filter(|(fact, field)| !self.documented(fact, field, lines))
                .map(|(fact, _)| fact.replace('_', " "))
                .collect(),
            DocumentationCheck::CertifiedWithinDays(days) => {
                let plan = doc.plan_of_care.as_ref();
                match (
                    plan.and_then(|p| p.established.as_ref()),
                    plan.and_then(|p| p.certified.as_ref()),
                ) {
                    (None, _) => vec!["the date the plan of care was established".to_owned()],
                    (Some(established), certified) => {
                        let limit = i64::try_from(*days).unwrap_or(i64::MAX);
                        // Not certified yet is late only once the days have run out.
                        let signed = certified.map_or(date, |c| c.value);
                        let elapsed = signed
                            .since(established.value)
                            .map_or(0, |s| i64::from(s.get_days()));
                        match certified {
                            Some(_) if elapsed > limit => vec![format!(
                                "a certification within {days} days (certified {elapsed} days after it was established)"
                            )],
                            None if elapsed > limit => vec![format!(
                                "a certification within {days} days (not certified {elapsed} days after it was established)"
                            )],
                            _ => Vec::new(),
                        }
                    }
                }
            }
            DocumentationCheck::PlanOfCareCurrent => {
                let plan = doc.plan_of_care.as_ref();
                let established = plan.and_then(|p| p.established.as_ref());
                match plan.and_then(|p| p.through.as_ref()) {
                    None => vec!["the end date of the plan of care".to_owned()],
                    Some(_) if established.is_some_and(|e| date < e.value) => vec![format!(
                        "a plan of care in force on {date} (it starts {})",
                        established.map(|e| e.value.to_string()).unwrap_or_default()
                    )],
                    Some(through) if date > through.value => {
                        vec![format!(
                            "a current plan of care (it ended {})",
                            through.value
                        )]
                    }
                    Some(_) => Vec::new(),
                }
            }
            DocumentationCheck::ProgressReportWithinVisits(visits) => {
                match &doc.visits_since_progress_report {
                    None => vec!["the number of visits since the last progress report".to_owned()],
                    Some(count) if u64::from(count.value) > *visits => {
                        vec![format!(
                            "a progress report within {visits} visits ({} since the last)",
                            count.value
                        )]
                    }
                    Some(_) => Vec::new(),
                }
            }
        };
        if !lacking.is_empty() {
            self.fire(
                rule,
                date,
                line,
                doc.span.clone(),
                &[("missing", Value::Text(&lacking.join(", ")))],
                None,
            );
        }
    }

    /// Whether every one of `lines` has its minutes.
    fn lines_have_minutes(&self, lines: &[usize]) -> bool {
        lines.iter().all(|&l| {
            self.claim
                .lines
                .get(l)
                .is_some_and(|line| line.minutes.is_some())
        })
    }

    /// Whether the note documents a fact (`minutes`: every judged line has its minutes).
    fn documented(&self, fact: &str, field: &FieldRef, lines: &[usize]) -> bool {
        if fact == "minutes" {
            return self.lines_have_minutes(lines);
        }
        let scope = self.scope(Date::MIN, lines, None);
        match scope.field(field, &mut value::Needs::default()) {
            Value::Missing => false,
            Value::Text(text) => !text.trim().is_empty(),
            Value::List(items) => !items.is_empty(),
            _ => true,
        }
    }

    fn provider(&mut self, rule: &'p CompiledRule, date: Date, line: usize) {
        let RuleCheck::Provider {
            disciplines,
            roles,
            discipline_modifiers,
            assistant_modifiers,
        } = &rule.check
        else {
            return;
        };
        let Some(claim_line) = self.claim.lines.get(line) else {
            return;
        };
        let provider = &self.claim.provider;
        let discipline = provider.discipline.value.keyword();
        let modifiers = &claim_line.modifiers.value;
        if disciplines
            .as_ref()
            .is_some_and(|list| !list.iter().any(|d| d == discipline))
        {
            self.fire(
                rule,
                date,
                line,
                provider.discipline.span.clone(),
                &[],
                None,
            );
            return;
        }
        if roles
            .as_ref()
            .is_some_and(|list| !list.iter().any(|r| r == provider.role.value.keyword()))
        {
            self.fire(rule, date, line, provider.role.span.clone(), &[], None);
            return;
        }
        let expected_discipline = discipline_modifiers
            .iter()
            .find(|(d, _)| d == discipline)
            .map(|(_, m)| *m);
        if let Some(expected) = expected_discipline {
            if !modifiers.contains(&expected) {
                let extras = [("expected_modifier", Value::Modifier(expected))];
                // Room for `GP>GO`, should the fix become a replacement.
                let mut supplied = String::with_capacity(5);
                supplied.push_str(expected.as_str());
                let mut fix = Run::fix(rule, line, Some(supplied));
                // GP on a speech-language line: adding GN would leave the wrong plan's
                // modifier beside it, so the fix replaces it instead.
                let wrong = modifiers
                    .iter()
                    .find(|m| discipline_modifiers.iter().any(|(_, other)| other == *m));
                if let (Some(fix), Some(wrong)) = (fix.as_mut(), wrong) {
                    if fix.op == FixOp::AddModifier {
                        fix.op = FixOp::ReplaceModifier;
                        fix.value.clear();
                        fix.value.push_str(wrong.as_str());
                        fix.value.push('>');
                        fix.value.push_str(expected.as_str());
                    }
                }
                self.fire_with_fix(rule, date, line, modifiers_span(claim_line), &extras, fix);
                return;
            }
        }
        if provider.role.value == Role::Assistant {
            if let Some((_, expected)) = assistant_modifiers.iter().find(|(d, _)| d == discipline) {
                if !modifiers.contains(expected) {
                    let extras = [("expected_modifier", Value::Modifier(*expected))];
                    self.fire(
                        rule,
                        date,
                        line,
                        modifiers_span(claim_line),
                        &extras,
                        Some(expected.as_str().to_owned()),
                    );
                }
            }
        }
    }
}

/// Where a line's modifiers stand; when the line has none, the line itself.
fn modifiers_span(line: &crate::claim::Line) -> ClaimSpan {
    if line.modifiers.span.start.is_some() {
        line.modifiers.span.clone()
    } else {
        ClaimSpan {
            path: line.modifiers.span.path,
            ..line.span.clone()
        }
    }
}

/// The lines grouped by procedure code, in first-seen order, each group's lines
/// in order. Nothing is collected: a visit has few lines, so each group is found
/// again by filtering.
fn by_code<'l>(
    claim: &'l crate::claim::Claim,
    lines: &'l [usize],
) -> impl Iterator<
    Item = (
        crate::codes::ProcedureCode,
        impl Iterator<Item = usize> + Clone + 'l,
    ),
> + 'l {
    let code_of = move |line: usize| claim.lines.get(line).map(|l| l.code.value);
    lines
        .iter()
        .enumerate()
        .filter_map(move |(position, &line)| {
            let code = code_of(line)?;
            let seen_before = lines
                .iter()
                .take(position)
                .any(|&earlier| code_of(earlier) == Some(code));
            let group = lines
                .iter()
                .copied()
                .filter(move |&other| code_of(other) == Some(code));
            (!seen_before).then_some((code, group))
        })
}
