//! Values of claim facts, and conditions judged with three values: a rule that
//! needs a fact the claim does not carry is neither passed nor failed.

use crate::claim::{Claim, Line};
use crate::codes::{normalize_diagnosis, Modifier, PlaceOfService, ProcedureCode};
use crate::codeset::SetValue;
use crate::compile::{CompiledPolicy, Cond, VersionedSet};
use crate::syntax::{ArithOp, CompareOp, Literal};
use crate::Date;

/// A fact's value. Numbers carry no unit here: the checker has already
/// made sure minutes are compared with minutes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Flag(bool),
    Number(i64),
    /// Dollars, in cents.
    Money(i64),
    Date(Date),
    Text(String),
    Procedure(ProcedureCode),
    /// Upper-case, without its dot.
    Diagnosis(String),
    Modifier(Modifier),
    Place(PlaceOfService),
    List(Vec<Value>),
    /// The lines of a visit or claim (for `count` and `sum`).
    Lines(Vec<usize>),
    /// The claim does not carry the fact: the claim paths that would hold it.
    Missing(Vec<String>),
}

impl Value {
    /// How the value reads in a message.
    pub fn display(&self) -> String {
        let mut out = String::new();
        self.write_display(&mut out);
        out
    }

    /// [`Value::display`], written onto the end of `out`.
    pub fn write_display(&self, out: &mut String) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = match self {
            Value::Flag(flag) => {
                out.push_str(if *flag { "yes" } else { "no" });
                Ok(())
            }
            Value::Number(number) => write!(out, "{number}"),
            Value::Money(cents) => {
                out.push_str(&dollars(*cents));
                Ok(())
            }
            Value::Date(date) => write!(out, "{date}"),
            Value::Text(text) => {
                out.push_str(text);
                Ok(())
            }
            Value::Procedure(code) => write!(out, "{code}"),
            Value::Diagnosis(code) => {
                out.push_str(&display_diagnosis(code));
                Ok(())
            }
            Value::Modifier(modifier) => write!(out, "{modifier}"),
            Value::Place(place) => write!(out, "{place}"),
            Value::List(items) if items.is_empty() => {
                out.push_str("none");
                Ok(())
            }
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write_display(out);
                }
                Ok(())
            }
            Value::Lines(lines) => write!(out, "{} lines", lines.len()),
            Value::Missing(_) => {
                out.push_str("not given");
                Ok(())
            }
        };
    }
}

/// `I69351` → `I69.351`.
pub fn display_diagnosis(code: &str) -> String {
    match (code.get(..3), code.get(3..)) {
        (Some(category), Some(rest)) if !rest.is_empty() => format!("{category}.{rest}"),
        _ => code.to_owned(),
    }
}

/// Dollar amounts are kept in cents.
fn money(cents: u64) -> Value {
    Value::Money(i64::try_from(cents).unwrap_or(i64::MAX))
}

/// `248000` cents → `$2,480.00`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (position, digit) in whole.chars().enumerate() {
        if position > 0 && (whole.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

fn number(value: u32) -> Value {
    Value::Number(i64::from(value))
}

/// What a condition or message is judged on: the claim, and the visit and
/// line in focus.
pub struct Scope<'a> {
    pub claim: &'a Claim,
    pub policy: &'a CompiledPolicy,
    /// The date the rule version was chosen for (constants and code sets follow it).
    pub date: Date,
    /// Indexes of the visit's lines (all lines for a claim-wide rule).
    pub visit: &'a [usize],
    pub line: Option<usize>,
}

impl<'a> Scope<'a> {
    fn line(&self, index: usize) -> Option<&'a Line> {
        self.claim.lines.get(index)
    }

    fn with_line(&self, index: usize) -> Scope<'a> {
        Scope {
            claim: self.claim,
            policy: self.policy,
            date: self.date,
            visit: self.visit,
            line: Some(index),
        }
    }

    /// The value of a claim field path, or `Missing` with its claim path.
    pub fn field(&self, segments: &[String]) -> Value {
        // Paths have at most four parts; a small array spares an allocation per lookup.
        let mut buffer = [""; 6];
        for (slot, segment) in buffer.iter_mut().zip(segments) {
            *slot = segment;
        }
        let Some(parts) = buffer.get(..segments.len()) else {
            return Value::Missing(Vec::new());
        };
        match parts {
            ["line", rest @ ..] => match self.line {
                Some(index) => self.line_field(index, rest),
                None => Value::Missing(Vec::new()),
            },
            ["visit", "date_of_service"] => Value::Date(self.date),
            ["visit", "lines", rest @ ..] => self.lines_field(self.visit, rest),
            ["lines", rest @ ..] => {
                let all: Vec<usize> = (0..self.claim.lines.len()).collect();
                self.lines_field(&all, rest)
            }
            rest => self.claim_field(rest),
        }
    }

    fn lines_field(&self, lines: &[usize], rest: &[&str]) -> Value {
        if rest.is_empty() {
            return Value::Lines(lines.to_vec());
        }
        Value::List(
            lines
                .iter()
                .map(|&index| self.line_field(index, rest))
                .collect(),
        )
    }

    fn line_field(&self, index: usize, rest: &[&str]) -> Value {
        let Some(line) = self.line(index) else {
            return Value::Missing(Vec::new());
        };
        let path = |field: &str| format!("/lines/{index}/{field}");
        match rest {
            ["code"] => Value::Procedure(line.code.value),
            ["modifiers"] => Value::List(
                line.modifiers
                    .value
                    .iter()
                    .map(|m| Value::Modifier(*m))
                    .collect(),
            ),
            ["units"] => number(line.units.value),
            ["minutes"] => line.minutes.as_ref().map_or_else(
                || Value::Missing(vec![path("minutes")]),
                |m| number(m.value),
            ),
            ["charge"] => line
                .charge
                .as_ref()
                .map_or_else(|| Value::Missing(vec![path("charge")]), |c| money(c.value)),
            ["date_of_service"] => self.claim.line_date(line).map_or_else(
                || Value::Missing(vec![path("date_of_service")]),
                Value::Date,
            ),
            ["place_of_service"] => self.claim.line_place(line).map_or_else(
                || Value::Missing(vec![path("place_of_service")]),
                Value::Place,
            ),
            ["diagnosis_pointers"] => Value::List(
                pointers(line)
                    .into_iter()
                    .map(|p| Value::Number(i64::from(p)))
                    .collect(),
            ),
            ["diagnoses"] => Value::List(
                line_diagnoses(self.claim, line)
                    .into_iter()
                    .map(Value::Diagnosis)
                    .collect(),
            ),
            _ => Value::Missing(Vec::new()),
        }
    }

    fn claim_field(&self, rest: &[&str]) -> Value {
        let claim = self.claim;
        let text = |value: &Option<crate::claim::Located<String>>, path: &str| {
            value.as_ref().map_or_else(
                || Value::Missing(vec![path.to_owned()]),
                |v| Value::Text(v.value.clone()),
            )
        };
        let count = |value: Option<&crate::claim::Located<u32>>, path: &str| {
            value.map_or_else(
                || Value::Missing(vec![path.to_owned()]),
                |v| number(v.value),
            )
        };
        let date = |value: Option<&crate::claim::Located<Date>>, path: &str| {
            value.map_or_else(
                || Value::Missing(vec![path.to_owned()]),
                |v| Value::Date(v.value),
            )
        };
        match rest {
            ["id"] => Value::Text(claim.id.value.clone()),
            ["payer"] => Value::Text(claim.payer.value.clone()),
            ["plan"] => text(&claim.plan, "/plan"),
            ["date_of_service"] => date(claim.date_of_service.as_ref(), "/date_of_service"),
            ["place_of_service"] => claim.place_of_service.as_ref().map_or_else(
                || Value::Missing(vec!["/place_of_service".to_owned()]),
                |p| Value::Place(p.value),
            ),
            ["diagnoses"] => Value::List(
                claim
                    .diagnoses
                    .iter()
                    .filter_map(|d| normalize_diagnosis(&d.value).ok())
                    .map(Value::Diagnosis)
                    .collect(),
            ),
            ["member", field] => match &claim.member {
                None => Value::Missing(vec![format!("/member/{field}")]),
                Some(member) => match *field {
                    "id" => text(&member.id, "/member/id"),
                    _ => date(member.birth_date.as_ref(), "/member/birth_date"),
                },
            },
            ["provider", field] => {
                let provider = &claim.provider;
                match *field {
                    "npi" => Value::Text(provider.npi.value.clone()),
                    "discipline" => Value::Text(provider.discipline.value.keyword().to_owned()),
                    "role" => Value::Text(provider.role.value.keyword().to_owned()),
                    "taxonomy" => text(&provider.taxonomy, "/provider/taxonomy"),
                    _ => text(&provider.credential, "/provider/credential"),
                }
            }
            ["prior_authorization", field] => match &claim.prior_authorization {
                None => Value::Missing(vec![format!("/prior_authorization/{field}")]),
                Some(auth) => match *field {
                    "number" => Value::Text(auth.number.value.clone()),
                    "codes" => auth.codes.as_ref().map_or_else(
                        || Value::Missing(vec!["/prior_authorization/codes".to_owned()]),
                        |codes| {
                            Value::List(codes.value.iter().map(|c| Value::Procedure(*c)).collect())
                        },
                    ),
                    "units" => count(auth.units.as_ref(), "/prior_authorization/units"),
                    "from" => date(auth.from.as_ref(), "/prior_authorization/from"),
                    _ => date(auth.through.as_ref(), "/prior_authorization/through"),
                },
            },
            ["documentation", rest @ ..] => self.documentation_field(rest),
            ["history", rest @ ..] => {
                // The path is written only when the fact is missing.
                let missing = || Value::Missing(vec![format!("/history/{}", rest.join("/"))]);
                let Some(history) = &claim.history else {
                    return missing();
                };
                let counted = |value: Option<&crate::claim::Located<u32>>| {
                    value.map_or_else(missing, |v| number(v.value))
                };
                match rest {
                    ["visits_this_year"] => counted(history.visits_this_year.as_ref()),
                    ["visits_under_authorization"] => {
                        counted(history.visits_under_authorization.as_ref())
                    }
                    ["therapy_allowed_ytd", bucket] => {
                        let amount =
                            history.therapy_allowed_ytd.as_ref().and_then(
                                |allowed| match *bucket {
                                    "pt_slp" => allowed.pt_slp.as_ref(),
                                    _ => allowed.ot.as_ref(),
                                },
                            );
                        amount.map_or_else(missing, |a| money(a.value))
                    }
                    _ => missing(),
                }
            }
            _ => Value::Missing(vec![format!("/{}", rest.join("/"))]),
        }
    }

    fn documentation_field(&self, rest: &[&str]) -> Value {
        let Some(doc) = &self.claim.documentation else {
            return Value::Missing(vec!["/documentation".to_owned()]);
        };
        // The path is written only when the fact is missing.
        let missing = || Value::Missing(vec![format!("/documentation/{}", rest.join("/"))]);
        let text = |value: &Option<crate::claim::Located<String>>| {
            value
                .as_ref()
                .map_or_else(missing, |v| Value::Text(v.value.clone()))
        };
        let count = |value: &Option<crate::claim::Located<u32>>| {
            value.as_ref().map_or_else(missing, |v| number(v.value))
        };
        let date = |value: Option<&crate::claim::Located<Date>>| {
            value.map_or_else(missing, |v| Value::Date(v.value))
        };
        match rest {
            ["objective"] => text(&doc.objective),
            ["performance"] => text(&doc.performance),
            ["progress"] => text(&doc.progress),
            ["functional_goals"] => doc.functional_goals.as_ref().map_or_else(missing, |goals| {
                Value::List(goals.value.iter().cloned().map(Value::Text).collect())
            }),
            ["caregiver_trained"] => doc
                .caregiver_trained
                .as_ref()
                .map_or_else(missing, |v| Value::Flag(v.value)),
            ["total_timed_minutes"] => count(&doc.total_timed_minutes),
            ["total_treatment_minutes"] => count(&doc.total_treatment_minutes),
            ["visits_since_progress_report"] => count(&doc.visits_since_progress_report),
            ["plan_of_care", field] => {
                let plan = doc.plan_of_care.as_ref();
                let value = plan.and_then(|plan| match *field {
                    "established" => plan.established.as_ref(),
                    "certified" => plan.certified.as_ref(),
                    _ => plan.through.as_ref(),
                });
                date(value)
            }
            ["telehealth", "modality"] => doc
                .telehealth
                .as_ref()
                .and_then(|t| t.modality.as_ref())
                .map_or_else(missing, |m| {
                    Value::Text(
                        match m.value {
                            crate::claim::Modality::AudioVideo => "audio_video",
                            crate::claim::Modality::AudioOnly => "audio_only",
                        }
                        .to_owned(),
                    )
                }),
            ["telehealth", "patient_consent"] => doc
                .telehealth
                .as_ref()
                .and_then(|t| t.patient_consent.as_ref())
                .map_or_else(missing, |c| Value::Flag(c.value)),
            ["activities", ..] => doc.activities.as_ref().map_or_else(missing, |a| {
                Value::Number(i64::try_from(a.value.len()).unwrap_or(i64::MAX))
            }),
            _ => missing(),
        }
    }

    /// A constant's value on the scope's date.
    fn constant(&self, name: &str) -> Value {
        match self
            .policy
            .constants
            .get(name)
            .and_then(|c| c.on(self.date))
        {
            Some(literal) => literal_value(literal),
            // No version in force on this date: the policy says nothing for it.
            None => Value::Missing(Vec::new()),
        }
    }

    /// Judges a condition: `Flag`, or `Missing` with the facts it needs.
    pub fn judge(&self, cond: &Cond) -> Value {
        match cond {
            Cond::Literal(literal) => literal_value(literal),
            Cond::Field(path) => self.field(path),
            Cond::Constant(name) => self.constant(name),
            Cond::Word(word) => Value::Text(word.clone()),
            Cond::Present(path) => match self.field(path) {
                Value::Missing(_) => Value::Flag(false),
                Value::Text(text) => Value::Flag(!text.trim().is_empty()),
                Value::List(items) => Value::Flag(!items.is_empty()),
                _ => Value::Flag(true),
            },
            Cond::Not(inner) => match self.judge(inner) {
                Value::Flag(flag) => Value::Flag(!flag),
                other => other,
            },
            // A false side decides `and` (a true side decides `or`) even when the
            // other needs a missing fact: only then is the other side judged.
            Cond::And(a, b) => match self.judge(a) {
                Value::Flag(false) => Value::Flag(false),
                left => match (left, self.judge(b)) {
                    (_, Value::Flag(false)) => Value::Flag(false),
                    (Value::Flag(true), Value::Flag(true)) => Value::Flag(true),
                    (a, b) => missing_of(&[a, b]),
                },
            },
            Cond::Or(a, b) => match self.judge(a) {
                Value::Flag(true) => Value::Flag(true),
                left => match (left, self.judge(b)) {
                    (_, Value::Flag(true)) => Value::Flag(true),
                    (Value::Flag(false), Value::Flag(false)) => Value::Flag(false),
                    (a, b) => missing_of(&[a, b]),
                },
            },
            Cond::Compare(op, a, b) => compare(*op, self.judge(a), self.judge(b)),
            Cond::Arith(op, a, b) => arith(*op, self.judge(a), self.judge(b)),
            Cond::InSet { negate, value, set } => match self.judge(value) {
                Value::Missing(paths) => Value::Missing(paths),
                value => Value::Flag(in_set(&value, set, self.date) != *negate),
            },
            Cond::InWords {
                negate,
                value,
                words,
            } => match self.judge(value) {
                Value::Text(word) => Value::Flag(words.contains(&word) != *negate),
                Value::Missing(paths) => Value::Missing(paths),
                _ => Value::Flag(*negate),
            },
            // The common case, `line.modifiers includes [...]`, without building a list.
            Cond::Includes { list, set } if is_line_modifiers(list) => {
                match self.line.and_then(|l| self.claim.lines.get(l)) {
                    Some(line) => Value::Flag(
                        line.modifiers
                            .value
                            .iter()
                            .any(|m| in_set(&Value::Modifier(*m), set, self.date)),
                    ),
                    None => Value::Missing(Vec::new()),
                }
            }
            Cond::Includes { list, set } => match self.judge(list) {
                Value::List(items) => {
                    Value::Flag(items.iter().any(|item| in_set(item, set, self.date)))
                }
                Value::Missing(paths) => Value::Missing(paths),
                _ => Value::Flag(false),
            },
            Cond::Count { list, filter } => self.aggregate(list, filter.as_deref(), None),
            Cond::Sum { path, filter } => {
                let (list, field) = path.split_at(path.len().saturating_sub(1));
                self.aggregate(list, filter.as_deref(), field.first().map(String::as_str))
            }
        }
    }

    /// `count(LIST where …)` and `sum(LIST.FIELD where …)` over lines.
    fn aggregate(&self, list: &[String], filter: Option<&Cond>, field: Option<&str>) -> Value {
        let lines = match self.field(list) {
            Value::Lines(lines) => lines,
            Value::List(items) if field.is_none() && filter.is_none() => {
                return Value::Number(i64::try_from(items.len()).unwrap_or(i64::MAX));
            }
            Value::Missing(paths) => return Value::Missing(paths),
            Value::Number(count) if field.is_none() => return Value::Number(count),
            _ => return Value::Number(0),
        };
        let mut total = 0i64;
        let mut missing = Vec::new();
        for index in lines {
            let scope = self.with_line(index);
            if let Some(filter) = filter {
                match scope.judge(filter) {
                    Value::Flag(true) => {}
                    Value::Missing(paths) => {
                        missing.extend(paths);
                        continue;
                    }
                    _ => continue,
                }
            }
            match field {
                None => total = total.saturating_add(1),
                Some(name) => match scope.line_field(index, &[name]) {
                    Value::Number(value) | Value::Money(value) => {
                        total = total.saturating_add(value)
                    }
                    Value::Missing(paths) => missing.extend(paths),
                    _ => {}
                },
            }
        }
        if missing.is_empty() {
            Value::Number(total)
        } else {
            Value::Missing(missing)
        }
    }
}

fn is_line_modifiers(cond: &Cond) -> bool {
    matches!(cond, Cond::Field(path) if path.len() == 2 && path.first().is_some_and(|p| p == "line") && path.get(1).is_some_and(|p| p == "modifiers"))
}

/// The 1-based diagnosis pointers of a line (pointer 1 when none are given).
pub fn pointers(line: &Line) -> Vec<u8> {
    line.diagnosis_pointers
        .as_ref()
        .map_or_else(|| vec![1], |p| p.value.clone())
}

/// The diagnoses a line points at, upper-case without dots.
pub fn line_diagnoses(claim: &Claim, line: &Line) -> Vec<String> {
    pointers(line)
        .into_iter()
        .filter_map(|pointer| claim.diagnoses.get(usize::from(pointer).checked_sub(1)?))
        .filter_map(|code| normalize_diagnosis(&code.value).ok())
        .collect()
}

fn literal_value(literal: &Literal) -> Value {
    match literal {
        Literal::Integer(n) => Value::Number(i64::try_from(*n).unwrap_or(i64::MAX)),
        Literal::Money(n) => money(*n),
        // Weeks are compared and added as days.
        Literal::Quantity(n, crate::syntax::QuantityUnit::Weeks) => {
            Value::Number(i64::try_from(*n).unwrap_or(i64::MAX).saturating_mul(7))
        }
        Literal::Quantity(n, _) => Value::Number(i64::try_from(*n).unwrap_or(i64::MAX)),
        Literal::Date(date) => Value::Date(*date),
        Literal::Text(text) => Value::Text(text.clone()),
        Literal::Flag(flag) => Value::Flag(*flag),
    }
}

/// The facts two unknown operands need, together.
fn missing_of(values: &[Value]) -> Value {
    let mut paths = Vec::new();
    for value in values {
        if let Value::Missing(more) = value {
            for path in more {
                if !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
        }
    }
    Value::Missing(paths)
}

fn compare(op: CompareOp, a: Value, b: Value) -> Value {
    if matches!(a, Value::Missing(_)) || matches!(b, Value::Missing(_)) {
        return missing_of(&[a, b]);
    }
    let ordering = match (&a, &b) {
        (Value::Number(x), Value::Number(y)) | (Value::Money(x), Value::Money(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        _ => {
            let equal = a == b;
            return Value::Flag(match op {
                CompareOp::Eq => equal,
                CompareOp::Ne => !equal,
                // The checker allows ordering only on numbers and dates.
                _ => false,
            });
        }
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    Value::Flag(match op {
        CompareOp::Eq => ordering == Equal,
        CompareOp::Ne => ordering != Equal,
        CompareOp::Lt => ordering == Less,
        CompareOp::Le => ordering != Greater,
        CompareOp::Gt => ordering == Greater,
        CompareOp::Ge => ordering != Less,
    })
}

fn arith(op: ArithOp, a: Value, b: Value) -> Value {
    match (op, a, b) {
        (_, a @ Value::Missing(_), b) | (_, a, b @ Value::Missing(_)) => missing_of(&[a, b]),
        (ArithOp::Add, Value::Number(x), Value::Number(y)) => Value::Number(x.saturating_add(y)),
        (ArithOp::Sub, Value::Number(x), Value::Number(y)) => Value::Number(x.saturating_sub(y)),
        (ArithOp::Mul, Value::Number(x), Value::Number(y)) => Value::Number(x.saturating_mul(y)),
        (ArithOp::Add, Value::Money(x), Value::Money(y)) => Value::Money(x.saturating_add(y)),
        (ArithOp::Sub, Value::Money(x), Value::Money(y)) => Value::Money(x.saturating_sub(y)),
        (ArithOp::Mul, Value::Money(x), Value::Number(y))
        | (ArithOp::Mul, Value::Number(y), Value::Money(x)) => Value::Money(x.saturating_mul(y)),
        (ArithOp::Sub, Value::Date(x), Value::Date(y)) => {
            Value::Number(x.since(y).ok().map_or(0, |span| i64::from(span.get_days())))
        }
        (ArithOp::Add, Value::Date(date), Value::Number(days)) => shift(date, days),
        (ArithOp::Sub, Value::Date(date), Value::Number(days)) => {
            shift(date, days.saturating_neg())
        }
        _ => Value::Missing(Vec::new()),
    }
}

fn shift(date: Date, days: i64) -> Value {
    let days = days.clamp(-1_000_000, 1_000_000);
    date.checked_add(jiff::Span::new().days(days))
        .map_or_else(|_| Value::Missing(Vec::new()), Value::Date)
}

/// Whether a code value is in a code set on `date`.
pub fn in_set(value: &Value, set: &VersionedSet, date: Date) -> bool {
    match (value, set.on(date)) {
        (Value::Procedure(code), Some(SetValue::Procedure(codes))) => codes.contains(code),
        (Value::Modifier(modifier), Some(SetValue::Modifier(modifiers))) => {
            modifiers.contains(modifier)
        }
        (Value::Place(place), Some(SetValue::Place(places))) => places.contains(place),
        (Value::Diagnosis(code), Some(SetValue::Diagnosis(diagnoses))) => diagnoses.contains(code),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_amounts_read_as_dollars() {
        assert_eq!(dollars(248_000), "$2,480.00");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(dollars(100_000_000), "$1,000,000.00");
        assert_eq!(Value::Money(241_000).display(), "$2,410.00");
    }
}
