//! `ppl eval --explain`: for each rule that applied to the claim, what it
//! looked at (the values it saw) and whether it fired, in a biller's words.

use super::value::{self, Value};
use super::Run;
use crate::compile::{CompiledRule, Cond, DocumentationCheck, FieldRef, RuleCheck, UnitsCheck};
use crate::report::{Explanation, Fact, FindingSeverity, Verdict};
use crate::Date;

impl<'p> Run<'_, 'p> {
    /// Explains `rule` on `line` (or on the visit, for a visit or claim rule),
    /// given the findings it produced (`produced`: the findings added by this rule).
    pub(super) fn explain(
        &self,
        rule: &'p CompiledRule,
        date: Date,
        line: Option<usize>,
        produced: &[crate::report::Finding],
    ) -> Explanation {
        let mine: Vec<&crate::report::Finding> = produced
            .iter()
            .filter(|f| line.is_none() || f.line == line)
            .collect();
        let verdict = if mine
            .iter()
            .any(|f| f.severity != FindingSeverity::Undetermined)
        {
            Verdict::Fired
        } else if mine.is_empty() {
            Verdict::Passed
        } else {
            Verdict::Undetermined
        };
        Explanation {
            rule: rule.id.clone(),
            line,
            date_of_service: date.to_string(),
            verdict,
            looked_at: self.facts(rule, date, line),
        }
    }

    /// A rule that was not applied to a line, and why.
    pub(super) fn not_applied(
        rule: &'p CompiledRule,
        date: Date,
        line: usize,
        why: String,
    ) -> Explanation {
        Explanation {
            rule: rule.id.clone(),
            line: Some(line),
            date_of_service: date.to_string(),
            verdict: Verdict::NotApplicable,
            looked_at: vec![fact("why", why)],
        }
    }

    fn facts(&self, rule: &'p CompiledRule, date: Date, line: Option<usize>) -> Vec<Fact> {
        let claim_line = line.and_then(|l| self.claim.lines.get(l));
        let visit = self.visits.on(date);
        let mut facts = Vec::new();
        if let Some(claim_line) = claim_line {
            facts.push(fact("code", claim_line.code.value.to_string()));
        }
        match &rule.check {
            RuleCheck::Units(check) => {
                let Some(claim_line) = claim_line else {
                    return facts;
                };
                facts.push(fact("units billed", claim_line.units.value.to_string()));
                match check {
                    UnitsCheck::Method(method) => {
                        let minutes = claim_line
                            .minutes
                            .as_ref()
                            .map_or_else(|| "not documented".to_owned(), |m| m.value.to_string());
                        facts.push(fact("minutes documented for this line", minutes));
                        facts.push(fact("unit method", method.keyword().replace('_', " ")));
                        let supported = line
                            .and_then(|l| self.buffers.supported.get(l).copied().flatten())
                            .map_or_else(|| "cannot be told".to_owned(), |s| s.to_string());
                        facts.push(fact("units the minutes support", supported));
                    }
                    UnitsCheck::DailyCapTable(table) => {
                        let limit = table.limit_on(claim_line.code.value, date).map_or_else(
                            || "no limit in the table".to_owned(),
                            |l| l.max_units.to_string(),
                        );
                        facts.push(fact("daily limit (MUE)", limit));
                    }
                    UnitsCheck::DailyCap(cap) => facts.push(fact("daily limit", cap.to_string())),
                    UnitsCheck::VisitCap(cap) => {
                        let total = super::units::saturating_sum(
                            visit
                                .iter()
                                .filter_map(|&l| self.claim.lines.get(l))
                                .map(|l| l.units.value),
                        );
                        facts.push(fact("timed units in the visit", total.to_string()));
                        facts.push(fact("visit limit", cap.to_string()));
                    }
                }
            }
            RuleCheck::Pairing { table, bypass } => {
                let Some(claim_line) = claim_line else {
                    return facts;
                };
                let others: Vec<String> = visit
                    .iter()
                    .filter(|&&l| Some(l) != line)
                    .filter_map(|&l| self.claim.lines.get(l))
                    .map(|other| {
                        let edit = table
                            .on(date)
                            .and_then(|t| t.edit_on(claim_line.code.value, other.code.value, date));
                        match edit {
                            Some(edit) => format!(
                                "{}: NCCI edit, indicator {}",
                                other.code.value,
                                edit.indicator.digit()
                            ),
                            None => format!("{}: no edit", other.code.value),
                        }
                    })
                    .collect();
                facts.push(fact(
                    "other codes that day",
                    if others.is_empty() {
                        "none".to_owned()
                    } else {
                        others.join("; ")
                    },
                ));
                facts.push(fact("modifiers on this line", modifiers_text(claim_line)));
                facts.push(fact(
                    "modifiers that bypass an indicator-1 edit",
                    bypass
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                ));
            }
            RuleCheck::PriorAuth { .. } => {
                let visits = self
                    .claim
                    .history
                    .as_ref()
                    .and_then(|h| h.visits_this_year.as_ref())
                    .map_or_else(|| "not given".to_owned(), |v| v.value.to_string());
                facts.push(fact("visits this year before this claim", visits));
                let number = self.claim.prior_authorization.as_ref().map_or_else(
                    || "none on the claim".to_owned(),
                    |a| a.number.value.clone(),
                );
                facts.push(fact("authorization number", number));
            }
            RuleCheck::Telehealth { .. } => {
                let Some(claim_line) = claim_line else {
                    return facts;
                };
                let place = self
                    .claim
                    .line_place(claim_line)
                    .map_or_else(|| "not given".to_owned(), |p| p.to_string());
                facts.push(fact("place of service", place));
                facts.push(fact("modifiers on this line", modifiers_text(claim_line)));
                facts.push(fact(
                    "clinician",
                    self.claim.provider.discipline.value.keyword().to_owned(),
                ));
            }
            RuleCheck::Documentation(check) => {
                let what = match check {
                    DocumentationCheck::MustHave(facts) => facts
                        .iter()
                        .map(|(name, _)| name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                        .replace('_', " "),
                    DocumentationCheck::CertifiedWithinDays(days) => {
                        format!("plan of care certified within {days} days")
                    }
                    DocumentationCheck::PlanOfCareCurrent => {
                        "plan of care current on the date of service".to_owned()
                    }
                    DocumentationCheck::ProgressReportWithinVisits(visits) => {
                        format!("progress report within {visits} visits")
                    }
                };
                facts.push(fact("requires", what));
                let supplied = if self.claim.documentation.is_some() {
                    "supplied"
                } else {
                    "not supplied"
                };
                facts.push(fact("session note", supplied.to_owned()));
            }
            RuleCheck::Provider { .. } => {
                let provider = &self.claim.provider;
                facts.push(fact(
                    "clinician",
                    format!(
                        "{} {}",
                        provider.discipline.value.keyword(),
                        provider.role.value.keyword()
                    ),
                ));
                if let Some(claim_line) = claim_line {
                    facts.push(fact("modifiers on this line", modifiers_text(claim_line)));
                }
            }
            RuleCheck::MedicalNecessity { .. } => {
                if let Some(claim_line) = claim_line {
                    let diagnoses = value::line_diagnoses(self.claim, claim_line);
                    facts.push(fact(
                        "diagnoses the line points to",
                        Value::List(diagnoses).display(),
                    ));
                }
            }
            RuleCheck::General { when, require, .. } => {
                let scope = self.scope(date, visit, line);
                let mut seen = Vec::new();
                for cond in when.iter().chain(std::iter::once(require)) {
                    named_values(cond, &mut seen);
                }
                // The line's code is shown already.
                for (name, field) in seen.into_iter().filter(|(name, _)| *name != "line.code") {
                    // A name without a dot is read as a constant.
                    let value = match field {
                        Some(field) if name.contains('.') => {
                            scope.field(field, &mut value::Needs::default()).display()
                        }
                        _ => scope.constant(name).display(),
                    };
                    facts.push(fact(name, value));
                }
            }
        }
        facts
    }
}

/// A line's modifiers as a biller reads them: `GO, 59`, or `none`.
fn modifiers_text(line: &crate::claim::Line) -> String {
    Value::List(value::List::Modifiers(&line.modifiers.value)).display()
}

fn fact(name: &str, value: String) -> Fact {
    Fact {
        name: name.to_owned(),
        value,
    }
}

/// The claim fields and constants a condition names, in order, once each
/// (with the field, for a claim field).
fn named_values<'c>(cond: &'c Cond, seen: &mut Vec<(&'c str, Option<&'c FieldRef>)>) {
    match cond {
        Cond::Field(field) | Cond::Present(field) => add(seen, &field.name, Some(field)),
        Cond::Constant { name, .. } => add(seen, name, None),
        Cond::Literal(_) | Cond::Word(_) | Cond::Count { .. } | Cond::Sum { .. } => {}
        Cond::Not(inner) => named_values(inner, seen),
        Cond::And(a, b) | Cond::Or(a, b) | Cond::Compare(_, a, b) | Cond::Arith(_, a, b) => {
            named_values(a, seen);
            named_values(b, seen);
        }
        Cond::InSet { value, .. } | Cond::InWords { value, .. } => named_values(value, seen),
        Cond::Includes { list, .. } => named_values(list, seen),
    }
}

fn add<'c>(
    seen: &mut Vec<(&'c str, Option<&'c FieldRef>)>,
    name: &'c str,
    field: Option<&'c FieldRef>,
) {
    if !seen.iter().any(|(seen_name, _)| *seen_name == name) {
        seen.push((name, field));
    }
}
