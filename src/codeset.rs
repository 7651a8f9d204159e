//! Code set values and the evaluation of code set expressions.
//!
//! Shared by the checker (which reports malformed codes and empty sets) and the
//! compiler (which turns every set into a value with O(1) membership).

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use crate::codes::{DiagnosisPattern, Modifier, PlaceOfService, ProcedureCode};
use crate::syntax::{CodeKind, SetElement, SetExpr, SetOp, SetTerm, Span, Text};

/// The most codes one range may stand for (`97000..97999` is 1,000).
pub const MAX_RANGE: u32 = 10_000;

/// Diagnoses are matched by patterns, so differences stay symbolic.
#[derive(Clone, Debug, PartialEq)]
pub enum DiagnosisSet {
    Patterns(Vec<DiagnosisPattern>),
    Union(Arc<DiagnosisSet>, Arc<DiagnosisSet>),
    Except(Arc<DiagnosisSet>, Arc<DiagnosisSet>),
}

impl DiagnosisSet {
    /// Whether a diagnosis code (upper-case, without its dot) is in the set.
    pub fn contains(&self, normalized: &str) -> bool {
        self.contains_bytes(normalized.as_bytes())
    }

    /// [`DiagnosisSet::contains`] of a code's bytes ([`DiagnosisCode::as_bytes`]).
    ///
    /// [`DiagnosisCode::as_bytes`]: crate::codes::DiagnosisCode::as_bytes
    pub fn contains_bytes(&self, normalized: &[u8]) -> bool {
        match self {
            DiagnosisSet::Patterns(patterns) => patterns
                .iter()
                .any(|pattern| pattern.matches_bytes(normalized)),
            DiagnosisSet::Union(a, b) => {
                a.contains_bytes(normalized) || b.contains_bytes(normalized)
            }
            DiagnosisSet::Except(a, b) => {
                a.contains_bytes(normalized) && !b.contains_bytes(normalized)
            }
        }
    }

    /// `true` only when the set certainly has no code.
    pub fn is_certainly_empty(&self) -> bool {
        match self {
            DiagnosisSet::Patterns(patterns) => patterns.is_empty(),
            DiagnosisSet::Union(a, b) => a.is_certainly_empty() && b.is_certainly_empty(),
            DiagnosisSet::Except(a, _) => a.is_certainly_empty(),
        }
    }
}

/// The value of a code set.
#[derive(Clone, Debug, PartialEq)]
pub enum SetValue {
    Procedure(FxHashSet<ProcedureCode>),
    Diagnosis(Arc<DiagnosisSet>),
    Modifier(BTreeSet<Modifier>),
    Place(BTreeSet<PlaceOfService>),
}

impl SetValue {
    pub fn empty(kind: CodeKind) -> Self {
        match kind {
            CodeKind::Procedure => SetValue::Procedure(FxHashSet::default()),
            CodeKind::Diagnosis => {
                SetValue::Diagnosis(Arc::new(DiagnosisSet::Patterns(Vec::new())))
            }
            CodeKind::Modifier => SetValue::Modifier(BTreeSet::new()),
            CodeKind::Place => SetValue::Place(BTreeSet::new()),
        }
    }

    pub fn kind(&self) -> CodeKind {
        match self {
            SetValue::Procedure(_) => CodeKind::Procedure,
            SetValue::Diagnosis(_) => CodeKind::Diagnosis,
            SetValue::Modifier(_) => CodeKind::Modifier,
            SetValue::Place(_) => CodeKind::Place,
        }
    }

    /// `true` only when the set certainly has no code.
    pub fn is_empty(&self) -> bool {
        match self {
            SetValue::Procedure(codes) => codes.is_empty(),
            SetValue::Diagnosis(set) => set.is_certainly_empty(),
            SetValue::Modifier(codes) => codes.is_empty(),
            SetValue::Place(codes) => codes.is_empty(),
        }
    }

    fn combine(self, op: SetOp, other: SetValue) -> SetValue {
        match (self, other) {
            (SetValue::Procedure(mut a), SetValue::Procedure(b)) => {
                match op {
                    SetOp::Union => a.extend(b),
                    SetOp::Except => a.retain(|code| !b.contains(code)),
                }
                SetValue::Procedure(a)
            }
            (SetValue::Diagnosis(a), SetValue::Diagnosis(b)) => {
                SetValue::Diagnosis(Arc::new(match op {
                    SetOp::Union => DiagnosisSet::Union(a, b),
                    SetOp::Except => DiagnosisSet::Except(a, b),
                }))
            }
            (SetValue::Modifier(mut a), SetValue::Modifier(b)) => {
                match op {
                    SetOp::Union => a.extend(b),
                    SetOp::Except => a.retain(|code| !b.contains(code)),
                }
                SetValue::Modifier(a)
            }
            (SetValue::Place(mut a), SetValue::Place(b)) => {
                match op {
                    SetOp::Union => a.extend(b),
                    SetOp::Except => a.retain(|code| !b.contains(code)),
                }
                SetValue::Place(a)
            }
            // Kinds are checked before sets are combined; keep the left side.
            (left, _) => left,
        }
    }
}

/// Something wrong inside a code set expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetProblem {
    /// A code that is not a well-formed code of the expected kind.
    Malformed {
        span: Span,
        text: String,
        kind: CodeKind,
        reason: &'static str,
    },
    /// A range whose ends differ in shape, are reversed or span too much.
    BadRange { span: Span, reason: String },
    /// A named set of another kind.
    WrongKind {
        span: Span,
        name: String,
        expected: CodeKind,
        found: CodeKind,
    },
}

/// What a name in a set expression stands for, as the caller resolves it.
pub enum Resolved {
    Set(SetValue),
    /// The name is unknown or broken: the caller has already reported it.
    Unknown,
}

/// Evaluates `expr` as a set of `kind`, resolving names through `resolve`.
/// Problems are collected; the value is the best that could be made.
pub fn evaluate(
    expr: &SetExpr,
    kind: CodeKind,
    resolve: &mut dyn FnMut(&Text) -> Resolved,
    problems: &mut Vec<SetProblem>,
) -> SetValue {
    let mut value = term(&expr.first, kind, resolve, problems);
    for (op, next) in &expr.rest {
        let next = term(next, kind, resolve, problems);
        value = value.combine(*op, next);
    }
    value
}

fn term(
    term: &SetTerm,
    kind: CodeKind,
    resolve: &mut dyn FnMut(&Text) -> Resolved,
    problems: &mut Vec<SetProblem>,
) -> SetValue {
    match term {
        SetTerm::Name(name) => match resolve(name) {
            Resolved::Set(value) if value.kind() == kind => value,
            Resolved::Set(value) => {
                problems.push(SetProblem::WrongKind {
                    span: name.span,
                    name: name.value.clone(),
                    expected: kind,
                    found: value.kind(),
                });
                SetValue::empty(kind)
            }
            Resolved::Unknown => SetValue::empty(kind),
        },
        SetTerm::Literal { elements, .. } => literal(elements, kind, problems),
    }
}

fn literal(elements: &[SetElement], kind: CodeKind, problems: &mut Vec<SetProblem>) -> SetValue {
    let mut value = SetValue::empty(kind);
    for element in elements {
        match (element, &mut value) {
            (SetElement::Code(code), SetValue::Procedure(codes)) => {
                if let Some(parsed) = procedure(code, problems) {
                    codes.insert(parsed);
                }
            }
            (SetElement::Range { low, high }, SetValue::Procedure(codes)) => {
                let (Some(first), Some(last)) =
                    (procedure(low, problems), procedure(high, problems))
                else {
                    continue;
                };
                match range(first, last) {
                    Ok(range) => codes.extend(range),
                    Err(reason) => problems.push(SetProblem::BadRange {
                        span: element.span(),
                        reason,
                    }),
                }
            }
            (SetElement::Code(code), SetValue::Diagnosis(set)) => {
                match DiagnosisPattern::parse(&code.value) {
                    Ok(pattern) => {
                        if let DiagnosisSet::Patterns(patterns) = Arc::make_mut(set) {
                            patterns.push(pattern);
                        }
                    }
                    Err(error) => problems.push(malformed(code, kind, error.reason)),
                }
            }
            (SetElement::Code(code), SetValue::Modifier(codes)) => {
                match Modifier::parse(&code.value) {
                    Ok(modifier) => {
                        codes.insert(modifier);
                    }
                    Err(error) => problems.push(malformed(code, kind, error.reason)),
                }
            }
            (SetElement::Code(code), SetValue::Place(codes)) => {
                match PlaceOfService::parse(&code.value) {
                    Ok(place) => {
                        codes.insert(place);
                    }
                    Err(error) => problems.push(malformed(code, kind, error.reason)),
                }
            }
            (SetElement::Range { .. }, _) => problems.push(SetProblem::BadRange {
                span: element.span(),
                reason: format!(
                    "ranges are for procedure codes; list each {} code",
                    kind.keyword()
                ),
            }),
        }
    }
    value
}

fn malformed(code: &Text, kind: CodeKind, reason: &'static str) -> SetProblem {
    SetProblem::Malformed {
        span: code.span,
        text: code.value.clone(),
        kind,
        reason,
    }
}

fn procedure(code: &Text, problems: &mut Vec<SetProblem>) -> Option<ProcedureCode> {
    match ProcedureCode::parse(&code.value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            problems.push(malformed(code, CodeKind::Procedure, error.reason));
            None
        }
    }
}

/// The codes from `first` to `last`, both included; they must share a shape
/// (five digits, or the same letter and four digits) and be in order.
pub fn range(first: ProcedureCode, last: ProcedureCode) -> Result<Vec<ProcedureCode>, String> {
    if first.shape() != last.shape() {
        return Err(format!(
            "`{first}` and `{last}` are not the same kind of code, so the range has no clear members"
        ));
    }
    let (low, high) = (first.number(), last.number());
    if low > high {
        return Err(format!("the range runs backwards: write `{last}..{first}`"));
    }
    if high - low >= MAX_RANGE {
        return Err(format!("the range stands for more than {MAX_RANGE} codes"));
    }
    let template = first.to_string();
    let width = template.bytes().filter(u8::is_ascii_digit).count();
    let mut codes = Vec::new();
    for number in low..=high {
        let digits = format!("{number:0width$}");
        let mut digits = digits.chars();
        let text: String = template
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    digits.next().unwrap_or('0')
                } else {
                    c
                }
            })
            .collect();
        if let Ok(code) = ProcedureCode::parse(&text) {
            codes.push(code);
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ProcedureCode {
        ProcedureCode::parse(text).unwrap_or_else(|_| unreachable!("test code {text}"))
    }

    #[test]
    fn ranges_expand_within_one_shape() {
        let codes = range(code("97161"), code("97168")).unwrap_or_default();
        assert_eq!(codes.len(), 8);
        assert_eq!(
            codes.last().map(ToString::to_string).as_deref(),
            Some("97168")
        );
        let hcpcs = range(code("G0281"), code("G0283")).unwrap_or_default();
        assert_eq!(hcpcs.len(), 3);
        assert!(range(code("97168"), code("97161")).is_err());
        assert!(range(code("0591T"), code("05999")).is_err());
        assert!(range(code("00000"), code("99999")).is_err());
    }
}
