//! Stage 3: checked policies → the compiled form the evaluator runs.
//!
//! Per payer: every version of every rule (after `extends`, `override` and
//! `remove`), with its code sets evaluated into hash sets for each span of
//! dates in which the sets do not change, and an index from procedure code to
//! the rules that can apply to it, so evaluating a line never scans every rule.
//! Code pairs are looked up in O(1) in the PTP tables; codes are packed `u32`s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::check::{schema, Checked, DefRef, LoadedTable, Namespace};
use crate::codes::{Modifier, ProcedureCode};
use crate::codeset::{self, Resolved, SetValue};
use crate::report::{PolicySpan, RuleTexts};
use crate::syntax::*;
use crate::tables::{MueTable, PtpTable};
use crate::Date;

/// An inclusive date range, either end open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DateRange {
    pub from: Option<Date>,
    pub through: Option<Date>,
}

/// A date as one number in date order (`year * 512 + month * 32 + day`):
/// the ranges tested for every line of a claim compare two integers.
fn day_number(date: Date) -> i32 {
    i32::from(date.year()) * 512 + i32::from(date.month()) * 32 + i32::from(date.day())
}

/// A [`DateRange`] as day numbers ([`day_number`]), open ends as the extremes.
#[derive(Clone, Copy, Debug)]
struct DaySpan {
    from: i32,
    through: i32,
}

impl DaySpan {
    fn of(range: DateRange) -> Self {
        Self {
            from: range.from.map_or(i32::MIN, day_number),
            through: range.through.map_or(i32::MAX, day_number),
        }
    }

    fn contains(self, day: i32) -> bool {
        self.from <= day && day <= self.through
    }
}

impl DateRange {
    pub fn contains(&self, date: Date) -> bool {
        self.from.is_none_or(|from| from <= date)
            && self.through.is_none_or(|through| date <= through)
    }

    fn of(effective: &Effective) -> Self {
        Self {
            from: effective.from.as_ref().map(|d| d.value),
            through: effective.through.as_ref().map(|d| d.value),
        }
    }

    fn intersect(self, other: DateRange) -> Option<DateRange> {
        let from = match (self.from, other.from) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let through = match (self.through, other.through) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (from, through) {
            (Some(from), Some(through)) if through < from => None,
            _ => Some(DateRange { from, through }),
        }
    }
}

/// A code set whose members may change with the date of service.
#[derive(Clone, Debug, Default)]
pub struct VersionedSet {
    pub versions: Vec<(DateRange, Arc<SetValue>)>,
}

impl VersionedSet {
    /// The set in force on `date`, if any.
    pub fn on(&self, date: Date) -> Option<&SetValue> {
        self.versions
            .iter()
            .find(|(range, _)| range.contains(date))
            .map(|(_, set)| set.as_ref())
    }

    /// Whether procedure `code` is in the set on `date`.
    pub fn has_procedure(&self, code: ProcedureCode, date: Date) -> bool {
        matches!(self.on(date), Some(SetValue::Procedure(codes)) if codes.contains(&code))
    }
}

/// A table whose file may change with the date (quarterly CMS files).
#[derive(Clone, Debug, Default)]
pub struct VersionedTable<T> {
    pub versions: Vec<(DateRange, Arc<T>)>,
}

impl<T> VersionedTable<T> {
    /// The first table version in force on `date`.
    pub fn on(&self, date: Date) -> Option<&T> {
        self.versions
            .iter()
            .find(|(range, _)| range.contains(date))
            .map(|(_, table)| table.as_ref())
    }
}

impl VersionedTable<MueTable> {
    /// The daily limit for `code` on `date`, from whichever version in force has it.
    pub fn limit_on(&self, code: ProcedureCode, date: Date) -> Option<&crate::tables::MueLimit> {
        self.versions
            .iter()
            .filter(|(range, _)| range.contains(date))
            .find_map(|(_, table)| table.limit(code))
    }
}

/// Where a rule stands in its policy file (for the report's `policy_span`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLocation {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

/// One version of one rule, ready to evaluate.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    /// Shared with every finding of the rule: the report's fixed texts are
    /// reference-counted, not copied per finding.
    pub id: Arc<str>,
    pub family: Family,
    pub category: Category,
    pub severity: Severity,
    pub effective: DateRange,
    pub message: MessageTemplate,
    /// The id, the place and the help, CARC, RARC and citation as the
    /// report writes them: the rule's findings borrow them.
    pub texts: RuleTexts,
    pub fix: Option<Fix>,
    pub location: PolicyLocation,
    /// `None`: the rule is about every line.
    pub codes: Option<VersionedSet>,
    pub places: Option<VersionedSet>,
    /// `None`: every plan.
    pub plans: Option<Vec<String>>,
    pub check: RuleCheck,
}

impl CompiledRule {
    /// Whether the rule judges a line with `code` on `date`. A telehealth
    /// rule's `codes` is the list of codes it allows, so it judges every line.
    pub fn is_about(&self, code: ProcedureCode, date: Date) -> bool {
        self.family == Family::Telehealth
            || self
                .codes
                .as_ref()
                .is_none_or(|codes| codes.has_procedure(code, date))
    }
}

/// A rule's message, split once at compile time into literal text and
/// placeholders, so filling it in is one pass with no parsing.
#[derive(Clone, Debug, Default)]
pub struct MessageTemplate {
    pub segments: Vec<Segment>,
    /// The room a filled-in message needs, about: worked out once.
    capacity: usize,
}

#[derive(Clone, Debug)]
pub enum Segment {
    /// Text written as is (`{{` and `}}` already turned into braces).
    Text(String),
    /// `{name}`: a value the rule family supplies under `name` if it does,
    /// else what `lookup` finds.
    Placeholder { name: String, lookup: Cond },
}

impl MessageTemplate {
    /// Splits `text`: `{name}` is a placeholder, `{{` and `}}` are literal braces.
    /// A bare name that `constant` knows reads that constant; anything else is
    /// a claim field path.
    pub fn parse(text: &str, constant: impl Fn(&str) -> Option<VersionedConst>) -> Self {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(['{', '}']) {
            literal.push_str(rest.get(..at).unwrap_or_default());
            let tail = rest.get(at..).unwrap_or_default();
            let used = if tail.starts_with("{{") {
                literal.push('{');
                2
            } else if tail.starts_with("}}") {
                literal.push('}');
                2
            } else if let (true, Some(close)) = (tail.starts_with('{'), tail.find('}')) {
                let name = tail.get(1..close).unwrap_or_default().trim();
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                let versions = (!name.contains('.')).then(|| constant(name)).flatten();
                let lookup = match versions {
                    Some(versions) => Cond::Constant {
                        name: name.to_owned(),
                        versions,
                    },
                    None => Cond::Field(FieldRef::resolve(name)),
                };
                segments.push(Segment::Placeholder {
                    name: name.to_owned(),
                    lookup,
                });
                close + 1
            } else {
                literal.push_str(tail.get(..1).unwrap_or_default());
                1
            };
            rest = tail.get(used..).unwrap_or_default();
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        let capacity = segments
            .iter()
            .map(|segment| match segment {
                Segment::Text(text) => text.len(),
                Segment::Placeholder { .. } => 16,
            })
            .sum();
        Self { segments, capacity }
    }

    /// The length of the literal text, to size the message's buffer.
    /// About how long the message is once filled in (its text, and room for each value).
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// What each family checks, in compiled form.
#[derive(Clone, Debug)]
pub enum RuleCheck {
    Units(UnitsCheck),
    Pairing {
        table: VersionedTable<PtpTable>,
        bypass: BTreeSet<Modifier>,
    },
    PriorAuth {
        required: AuthRequired,
        verify: Vec<String>,
    },
    Telehealth {
        modifiers_required: Option<VersionedSet>,
        modifiers_accepted: Option<VersionedSet>,
        disciplines: Option<Vec<String>>,
        audio_only_allowed: Option<bool>,
        windows: Vec<DateRange>,
    },
    Documentation(DocumentationCheck),
    Provider {
        disciplines: Option<Vec<String>>,
        roles: Option<Vec<String>>,
        discipline_modifiers: Vec<(String, Modifier)>,
        assistant_modifiers: Vec<(String, Modifier)>,
    },
    MedicalNecessity {
        supported_by: Option<VersionedSet>,
        excluded_by: Option<VersionedSet>,
    },
    General {
        scope: Scope,
        when: Option<Cond>,
        require: Cond,
        /// A `for line` rule's `when`, split for judging once per visit what
        /// does not change from line to line (empty: `when` is judged whole).
        when_parts: Vec<WhenPart>,
        /// A `for line` rule whose `require` reads nothing of the line: its
        /// verdict is the same on every line of a visit, so a yes or no found
        /// on one line serves the others.
        require_per_visit: bool,
    },
}

/// One operand of the `and`s at the top of a `for line` rule's `when`
/// (`a and b and c` is `(a and b) and c`: the parts are `a`, `b`, `c`).
///
/// A part that reads nothing of the line in focus has the same verdict on
/// every line of a visit, so it is judged once per visit: when it is false,
/// so is `when` on every line; when it is true, the lines judge only the
/// other parts. Either way the verdict and the missing facts are the ones
/// judging `when` whole gives.
#[derive(Clone, Debug)]
pub struct WhenPart {
    pub cond: Cond,
    /// Judged once per visit: it reads no fact of the line in focus.
    pub per_visit: bool,
}

impl WhenPart {
    /// `when` split at its top-level `and`s, or nothing when no part could
    /// be judged once per visit (the split would only cost).
    fn split(when: &Cond) -> Vec<WhenPart> {
        let mut parts = Vec::new();
        let mut left = when;
        while let Cond::And(a, b) = left {
            parts.push(b.as_ref());
            left = a;
        }
        parts.push(left);
        parts.reverse();
        if parts.len() < 2 || parts.iter().all(|part| part.reads_line_in_focus()) {
            return Vec::new();
        }
        parts
            .into_iter()
            .map(|cond| WhenPart {
                cond: cond.clone(),
                per_visit: !cond.reads_line_in_focus(),
            })
            .collect()
    }
}

impl Cond {
    /// Whether judging the condition reads a fact of the line in focus
    /// (`line.*`). A `count`/`sum` filter's `line` is each line counted, not
    /// the one in focus, so the filter does not count.
    fn reads_line_in_focus(&self) -> bool {
        let reads = |field: &FieldRef| matches!(field.field, Field::Line(_));
        match self {
            Cond::Field(field) | Cond::Present(field) => reads(field),
            Cond::Count { list, .. } | Cond::Sum { list, .. } => reads(list),
            Cond::Literal(_) | Cond::Constant { .. } | Cond::Word(_) => false,
            Cond::Not(inner) => inner.reads_line_in_focus(),
            Cond::And(a, b) | Cond::Or(a, b) | Cond::Compare(_, a, b) | Cond::Arith(_, a, b) => {
                a.reads_line_in_focus() || b.reads_line_in_focus()
            }
            Cond::InSet { value, .. } | Cond::InWords { value, .. } => value.reads_line_in_focus(),
            Cond::Includes { list, .. } => list.reads_line_in_focus(),
        }
    }
}

/// A condition of a general rule, compiled: paths resolved to the claim fact
/// they name, code sets evaluated (per span of dates) so membership is a hash lookup.
#[derive(Clone, Debug)]
pub enum Cond {
    Literal(Literal),
    /// A claim fact (`line.minutes`).
    Field(FieldRef),
    /// A constant of the policy (its value depends on the date), with its
    /// versions copied in so evaluating it looks nothing up by name.
    Constant {
        name: String,
        versions: VersionedConst,
    },
    /// An enumerated value written as a bare word (`PT`).
    Word(String),
    Present(FieldRef),
    Count {
        list: FieldRef,
        filter: Option<Box<Cond>>,
    },
    /// `sum(LIST.FIELD where …)`: `field` of each line of `list`.
    Sum {
        list: FieldRef,
        field: LineField,
        filter: Option<Box<Cond>>,
    },
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Compare(CompareOp, Box<Cond>, Box<Cond>),
    Arith(ArithOp, Box<Cond>, Box<Cond>),
    /// A code `in` (or `not in`) a code set.
    InSet {
        negate: bool,
        value: Box<Cond>,
        set: VersionedSet,
    },
    /// An enumerated value `in` a list of words.
    InWords {
        negate: bool,
        value: Box<Cond>,
        words: Vec<String>,
    },
    /// A list of codes that `includes` one of a set's codes.
    Includes {
        list: Box<Cond>,
        set: VersionedSet,
    },
}

/// A claim path as a rule writes it (`history.therapy_allowed_ytd.ot`), resolved
/// once here: evaluating it matches on [`Field`], never on text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRef {
    /// The path as written, for `--explain`.
    pub name: String,
    pub field: Field,
    /// The claim path (JSON pointer) an `undetermined` finding names when the
    /// fact is missing (`/history/therapy_allowed_ytd/ot`); unused for line facts,
    /// whose pointer holds the line's index.
    pub pointer: Box<str>,
}

/// The claim fact a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `line.…`: the line in focus.
    Line(LineField),
    /// `visit.date_of_service`.
    VisitDate,
    /// `visit.lines` (`None`: the lines themselves) or `visit.lines.FIELD`.
    VisitLines(Option<LineField>),
    /// `lines` or `lines.FIELD`: every line of the claim.
    Lines(Option<LineField>),
    Id,
    Payer,
    Plan,
    DateOfService,
    PlaceOfService,
    Diagnoses,
    MemberId,
    /// `member.birth_date` (and any other `member.X`).
    MemberBirthDate,
    Npi,
    Discipline,
    Role,
    Taxonomy,
    /// `provider.credential` (and any other `provider.X`).
    Credential,
    AuthNumber,
    AuthCodes,
    AuthUnits,
    AuthFrom,
    /// `prior_authorization.through` (and any other `prior_authorization.X`).
    AuthThrough,
    /// `documentation.…`
    Documentation(DocumentationField),
    /// `history.…`
    History(HistoryField),
    /// A whole record of the claim (`prior_authorization`, `documentation`, …):
    /// what `present(...)` asks of it is whether the claim carries it.
    Record(Record),
    /// No claim fact: always missing, as [`FieldRef::pointer`].
    Unknown,
    /// A path too long to be a fact: missing, naming no claim path.
    Nothing,
}

/// A record of the claim, as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    Member,
    Provider,
    PriorAuthorization,
    Documentation,
    PlanOfCare,
    Telehealth,
    History,
    TherapyAllowedYtd,
}

/// A fact of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineField {
    Code,
    Modifiers,
    Units,
    Minutes,
    Charge,
    DateOfService,
    PlaceOfService,
    DiagnosisPointers,
    Diagnoses,
    /// Not a line fact: missing, naming no claim path.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentationField {
    Objective,
    Performance,
    Progress,
    FunctionalGoals,
    CaregiverTrained,
    TotalTimedMinutes,
    TotalTreatmentMinutes,
    VisitsSinceProgressReport,
    PlanEstablished,
    PlanCertified,
    /// `plan_of_care.through` (and any other `plan_of_care.X`).
    PlanThrough,
    TelehealthModality,
    TelehealthConsent,
    /// `activities` and anything under it: how many there are.
    Activities,
    /// Not a documentation fact: always missing.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryField {
    VisitsThisYear,
    VisitsUnderAuthorization,
    AllowedPtSlp,
    /// `therapy_allowed_ytd.ot` (and any other `therapy_allowed_ytd.X`).
    AllowedOt,
    /// Not a history fact: always missing.
    Other,
}

impl FieldRef {
    /// Resolves a dotted claim path. The fallbacks (`member.X` reads the birth
    /// date, …) are those the evaluator has always had; the checker lets only
    /// real fields through.
    pub fn resolve(path: &str) -> Self {
        let segments: Vec<&str> = path.split('.').collect();
        Self::resolve_segments(&segments)
    }

    /// [`FieldRef::resolve`] of a path already split.
    pub fn resolve_segments(segments: &[&str]) -> Self {
        let (field, pointer) = resolve_segments(segments);
        Self {
            name: segments.join("."),
            field,
            pointer: pointer.into(),
        }
    }
}

/// A claim path's fact and the pointer it is missing as.
fn resolve_segments(segments: &[&str]) -> (Field, String) {
    let joined = |parts: &[&str]| parts.join("/");
    if segments.len() > 6 {
        return (Field::Nothing, String::new());
    }
    let field = match segments {
        ["line", rest @ ..] => Field::Line(line_field(rest)),
        ["visit", "date_of_service"] => Field::VisitDate,
        ["visit", "lines"] => Field::VisitLines(None),
        ["visit", "lines", rest @ ..] => Field::VisitLines(Some(line_field(rest))),
        ["lines"] => Field::Lines(None),
        ["lines", rest @ ..] => Field::Lines(Some(line_field(rest))),
        ["id"] => Field::Id,
        ["payer"] => Field::Payer,
        ["plan"] => Field::Plan,
        ["date_of_service"] => Field::DateOfService,
        ["place_of_service"] => Field::PlaceOfService,
        ["diagnoses"] => Field::Diagnoses,
        ["member"] => Field::Record(Record::Member),
        ["provider"] => Field::Record(Record::Provider),
        ["prior_authorization"] => Field::Record(Record::PriorAuthorization),
        ["documentation"] => Field::Record(Record::Documentation),
        ["documentation", "plan_of_care"] => Field::Record(Record::PlanOfCare),
        ["documentation", "telehealth"] => Field::Record(Record::Telehealth),
        ["history"] => Field::Record(Record::History),
        ["history", "therapy_allowed_ytd"] => Field::Record(Record::TherapyAllowedYtd),
        ["member", "id"] => Field::MemberId,
        ["member", _] => Field::MemberBirthDate,
        ["provider", field] => match *field {
            "npi" => Field::Npi,
            "discipline" => Field::Discipline,
            "role" => Field::Role,
            "taxonomy" => Field::Taxonomy,
            _ => Field::Credential,
        },
        ["prior_authorization", field] => match *field {
            "number" => Field::AuthNumber,
            "codes" => Field::AuthCodes,
            "units" => Field::AuthUnits,
            "from" => Field::AuthFrom,
            _ => Field::AuthThrough,
        },
        ["documentation", rest @ ..] => {
            let field = match rest {
                ["objective"] => DocumentationField::Objective,
                ["performance"] => DocumentationField::Performance,
                ["progress"] => DocumentationField::Progress,
                ["functional_goals"] => DocumentationField::FunctionalGoals,
                ["caregiver_trained"] => DocumentationField::CaregiverTrained,
                ["total_timed_minutes"] => DocumentationField::TotalTimedMinutes,
                ["total_treatment_minutes"] => DocumentationField::TotalTreatmentMinutes,
                ["visits_since_progress_report"] => DocumentationField::VisitsSinceProgressReport,
                ["plan_of_care", "established"] => DocumentationField::PlanEstablished,
                ["plan_of_care", "certified"] => DocumentationField::PlanCertified,
                ["plan_of_care", _] => DocumentationField::PlanThrough,
                ["telehealth", "modality"] => DocumentationField::TelehealthModality,
                ["telehealth", "patient_consent"] => DocumentationField::TelehealthConsent,
                ["activities", ..] => DocumentationField::Activities,
                _ => DocumentationField::Other,
            };
            return (
                Field::Documentation(field),
                format!("/documentation/{}", joined(rest)),
            );
        }
        ["history", rest @ ..] => {
            let field = match rest {
                ["visits_this_year"] => HistoryField::VisitsThisYear,
                ["visits_under_authorization"] => HistoryField::VisitsUnderAuthorization,
                ["therapy_allowed_ytd", "pt_slp"] => HistoryField::AllowedPtSlp,
                ["therapy_allowed_ytd", _] => HistoryField::AllowedOt,
                _ => HistoryField::Other,
            };
            return (Field::History(field), format!("/history/{}", joined(rest)));
        }
        _ => Field::Unknown,
    };
    (field, format!("/{}", joined(segments)))
}

/// The fact of a line that `rest` (the path after `line.`) names.
fn line_field(rest: &[&str]) -> LineField {
    match rest {
        ["code"] => LineField::Code,
        ["modifiers"] => LineField::Modifiers,
        ["units"] => LineField::Units,
        ["minutes"] => LineField::Minutes,
        ["charge"] => LineField::Charge,
        ["date_of_service"] => LineField::DateOfService,
        ["place_of_service"] => LineField::PlaceOfService,
        ["diagnosis_pointers"] => LineField::DiagnosisPointers,
        ["diagnoses"] => LineField::Diagnoses,
        _ => LineField::Other,
    }
}

/// When prior authorization is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthRequired {
    Always,
    AfterVisits {
        visits: u64,
        within_weeks: Option<u64>,
    },
}

#[derive(Clone, Debug)]
pub enum UnitsCheck {
    Method(UnitMethod),
    DailyCapTable(VersionedTable<MueTable>),
    DailyCap(u64),
    VisitCap(u64),
}

#[derive(Clone, Debug)]
pub enum DocumentationCheck {
    /// The facts the note must have, by name (`total_timed_minutes`), each with
    /// the claim field that holds it (`minutes` is the lines' own).
    MustHave(Vec<(String, FieldRef)>),
    CertifiedWithinDays(u64),
    PlanOfCareCurrent,
    ProgressReportWithinVisits(u64),
}

/// A constant's versions.
#[derive(Clone, Debug, Default)]
pub struct VersionedConst {
    pub versions: Vec<(DateRange, Literal)>,
}

impl VersionedConst {
    pub fn on(&self, date: Date) -> Option<&Literal> {
        self.versions
            .iter()
            .find(|(range, _)| range.contains(date))
            .map(|(_, value)| value)
    }
}

/// One payer's compiled policy.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    pub id: String,
    pub name: String,
    pub rules: Vec<CompiledRule>,
    pub constants: BTreeMap<String, VersionedConst>,
    /// Procedure code → the rules whose `codes` include it, each with the dates on
    /// which it does (the rule in force and the code in its set), in rule order.
    by_code: FxHashMap<ProcedureCode, Vec<(u32, DaySpan)>>,
    /// Rules without `codes` (and telehealth rules), with the dates they are in force.
    every_line: Vec<(u32, DaySpan)>,
    /// The policy version (`PAYER@DATE`) from each date on, in date order; the first
    /// starts at `Date::MIN`. Worked out here so evaluation only looks it up.
    versions: Vec<(Date, Arc<str>)>,
}

impl CompiledPolicy {
    /// The rule versions that apply to a line with `code` on `date`: in force
    /// on that date, and with `code` in their code set as of that date.
    pub fn rules_for(
        &self,
        code: ProcedureCode,
        date: Date,
    ) -> impl Iterator<Item = &CompiledRule> + '_ {
        self.rule_indexes_for(code, date)
            .filter_map(|index| self.rules.get(index))
    }

    /// Like [`CompiledPolicy::rules_for`], as indexes into `rules` (code-indexed rules first).
    pub fn rule_indexes_for(
        &self,
        code: ProcedureCode,
        date: Date,
    ) -> impl Iterator<Item = usize> + '_ {
        let indexed = self
            .by_code
            .get(&code)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Both lists are in rule order, their chain need not be: callers that need
        // an order sort (the evaluator does).
        let day = day_number(date);
        indexed
            .iter()
            .chain(self.every_line.iter())
            .filter(move |(_, dates)| dates.contains(day))
            .map(|&(index, _)| index as usize)
    }

    /// The rules that apply to a line with `code` on `date` because their
    /// `codes` include it (the first part of [`CompiledPolicy::rule_indexes_for`]).
    pub fn code_rule_indexes_on(
        &self,
        code: ProcedureCode,
        date: Date,
    ) -> impl Iterator<Item = usize> + '_ {
        let day = day_number(date);
        self.by_code
            .get(&code)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(move |(_, dates)| dates.contains(day))
            .map(|&(index, _)| index as usize)
    }

    /// The rules about every line in force on `date` (the second part of
    /// [`CompiledPolicy::rule_indexes_for`]).
    pub fn every_line_rule_indexes_on(&self, date: Date) -> impl Iterator<Item = usize> + '_ {
        let day = day_number(date);
        self.every_line
            .iter()
            .filter(move |(_, dates)| dates.contains(day))
            .map(|&(index, _)| index as usize)
    }

    /// `PAYER@DATE`: the version in force on `date`, named after the day it
    /// started (the last day on or before `date` on which a rule, constant, code
    /// set or table version started or stopped); `PAYER@base` before any.
    pub fn version_on(&self, date: Date) -> &str {
        // The first version starts at `Date::MIN`, so one is always found.
        let after = self.versions.partition_point(|(start, _)| *start <= date);
        self.versions
            .get(after.saturating_sub(1))
            .map_or("", |(_, version)| version)
    }
}

/// Every payer policy of a checked workspace, by payer id.
#[derive(Clone, Debug, Default)]
pub struct CompiledPolicies {
    pub payers: BTreeMap<String, CompiledPolicy>,
}

/// Compiling needs a workspace without errors.
#[derive(Debug, thiserror::Error)]
#[error("the policies have {0} error(s); run `ppl check` to see them")]
pub struct CompileError(pub usize);

/// Compiles every payer policy (libraries are compiled into the payers that include them).
pub fn compile(checked: &Checked) -> Result<CompiledPolicies, CompileError> {
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        return Err(CompileError(errors));
    }
    let mut payers = BTreeMap::new();
    for (&index, namespace) in &checked.namespaces {
        let Some(file) = checked.workspace.files.get(index) else {
            continue;
        };
        let Some(ast) = &file.ast else { continue };
        if ast.header.kind != HeaderKind::Payer {
            continue;
        }
        let compiler = Compiler {
            checked,
            namespace,
            breakpoints: breakpoints(checked, namespace),
        };
        let policy = compiler.policy(&ast.header);
        payers.insert(policy.id.clone(), policy);
    }
    Ok(CompiledPolicies { payers })
}

/// The policy version from each date on. A version starts on every day on
/// which something the policy applies starts or stops being in force (a rule,
/// a telehealth window, a constant, a code set or a table version; a library
/// set the payer does not use may start one too, which only splits versions
/// that behave alike), and is named after that day:
/// `PAYER@2028-01-01` is what applies from 2028-01-01 until the next change,
/// `PAYER@base` what applies before the first.
fn policy_versions(
    id: &str,
    rules: &[CompiledRule],
    constants: &BTreeMap<String, VersionedConst>,
    set_and_table_changes: &[Date],
) -> Vec<(Date, Arc<str>)> {
    // A telehealth rule's windows change what it allows without a new rule version.
    let windows = rules.iter().flat_map(|rule| match &rule.check {
        RuleCheck::Telehealth { windows, .. } => windows.as_slice(),
        _ => &[],
    });
    let ranges = rules
        .iter()
        .map(|rule| rule.effective)
        .chain(windows.copied())
        .chain(
            constants
                .values()
                .flat_map(|constant| constant.versions.iter().map(|(range, _)| *range)),
        );
    let mut changes: BTreeSet<Date> = set_and_table_changes.iter().copied().collect();
    for range in ranges {
        changes.extend(range.from);
        changes.extend(range.through.and_then(|through| through.tomorrow().ok()));
    }
    let mut versions: Vec<(Date, Arc<str>)> = vec![(Date::MIN, format!("{id}@base").into())];
    versions.extend(
        changes
            .into_iter()
            .filter(|day| *day > Date::MIN)
            .map(|day| (day, format!("{id}@{day}").into())),
    );
    versions
}

/// Days on which a code set or table version starts or stops being in force.
fn set_and_table_changes(checked: &Checked, namespace: &Namespace) -> Vec<Date> {
    let mut days = BTreeSet::new();
    let defs = namespace.codesets.values().chain(namespace.tables.values());
    for def in defs.flatten() {
        let effective = match checked.item(*def) {
            Some(Item {
                kind: ItemKind::CodeSet(set),
                ..
            }) => &set.effective,
            Some(Item {
                kind: ItemKind::Table(table),
                ..
            }) => &table.effective,
            _ => continue,
        };
        days.extend(effective.from.as_ref().map(|from| from.value));
        days.extend(
            effective
                .through
                .as_ref()
                .and_then(|through| through.value.tomorrow().ok()),
        );
    }
    days.into_iter().collect()
}

/// Days on which some code set changes: sets are evaluated once per span between them.
fn breakpoints(checked: &Checked, namespace: &Namespace) -> Vec<Date> {
    let mut days = BTreeSet::new();
    for defs in namespace.codesets.values() {
        for def in defs {
            if let Some(Item {
                kind: ItemKind::CodeSet(set),
                ..
            }) = checked.item(*def)
            {
                if let Some(from) = &set.effective.from {
                    days.insert(from.value);
                }
                if let Some(next) = set
                    .effective
                    .through
                    .as_ref()
                    .and_then(|t| t.value.tomorrow().ok())
                {
                    days.insert(next);
                }
            }
        }
    }
    days.into_iter().collect()
}

struct Compiler<'c> {
    checked: &'c Checked,
    namespace: &'c Namespace,
    breakpoints: Vec<Date>,
}

impl Compiler<'_> {
    fn policy(&self, header: &Header) -> CompiledPolicy {
        let mut rules = Vec::new();
        for defs in self.namespace.rules.values() {
            for def in defs {
                if let Some(rule) = self.rule(*def) {
                    rules.push(rule);
                }
            }
        }
        let mut by_code: FxHashMap<ProcedureCode, Vec<(u32, DaySpan)>> = FxHashMap::default();
        let mut every_line = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            match &rule.codes {
                // A code set's versions do not overlap: on any date at most one
                // entry of a rule matches.
                Some(codes) if rule.family != Family::Telehealth => {
                    for (range, set) in &codes.versions {
                        let (SetValue::Procedure(set_codes), Some(dates)) =
                            (set.as_ref(), range.intersect(rule.effective))
                        else {
                            continue;
                        };
                        for code in set_codes {
                            by_code
                                .entry(*code)
                                .or_default()
                                .push((index, DaySpan::of(dates)));
                        }
                    }
                }
                _ => every_line.push((index, DaySpan::of(rule.effective))),
            }
        }
        // Entries were added version by version: put each code's back in rule order.
        for entries in by_code.values_mut() {
            entries.sort_by_key(|(index, dates)| (*index, dates.from));
        }
        let constants: BTreeMap<String, VersionedConst> = self
            .namespace
            .consts
            .keys()
            .filter_map(|name| Some((name.clone(), self.constant(name)?)))
            .collect();
        let id = header.id.value.clone();
        let changes = set_and_table_changes(self.checked, self.namespace);
        let versions = policy_versions(&id, &rules, &constants, &changes);
        CompiledPolicy {
            id,
            name: header
                .name
                .as_ref()
                .map(|n| n.value.clone())
                .unwrap_or_default(),
            rules,
            constants,
            by_code,
            every_line,
            versions,
        }
    }

    /// Every version of constant `name`, if the policy has it.
    fn constant(&self, name: &str) -> Option<VersionedConst> {
        let defs = self.namespace.consts.get(name)?;
        let mut versions = Vec::new();
        for def in defs {
            if let Some(Item {
                kind: ItemKind::Const(constant),
                ..
            }) = self.checked.item(*def)
            {
                versions.push((
                    DateRange::of(&constant.effective),
                    constant.value.value.clone(),
                ));
            }
        }
        Some(VersionedConst { versions })
    }

    fn rule(&self, def: DefRef) -> Option<CompiledRule> {
        let Some(Item {
            kind: ItemKind::Rule(rule),
            ..
        }) = self.checked.item(def)
        else {
            return None;
        };
        let file = self.checked.workspace.files.get(def.file)?;
        let effective = DateRange::of(&rule.effective);
        let (line, column) = self
            .checked
            .workspace
            .sources
            .line_column(file.id, rule.span.start);
        let mut compiled = CompiledRule {
            id: rule.id.value.as_str().into(),
            family: rule.family.value,
            category: rule.family.value.default_category(),
            severity: Severity::Deny,
            effective,
            message: MessageTemplate::default(),
            texts: RuleTexts {
                id: rule.id.value.as_str().into(),
                policy_span: PolicySpan {
                    file: file.path.display().to_string().into(),
                    line,
                    column,
                },
                help: None,
                carc: None,
                rarc: None,
                citation: None,
            },
            fix: None,
            location: PolicyLocation {
                file: file.path.clone(),
                line,
                column,
            },
            codes: None,
            places: None,
            plans: None,
            check: RuleCheck::General {
                scope: Scope::Line,
                when: None,
                require: Cond::Literal(Literal::Flag(true)),
                when_parts: Vec::new(),
                require_per_visit: false,
            },
        };
        let set = |expr: &SetExpr, kind: CodeKind| self.versioned_set(expr, kind, effective);
        let words = |list: &[Text]| list.iter().map(|w| w.value.clone()).collect::<Vec<_>>();
        let mut method = None;
        let mut daily_table = None;
        let mut cap = None;
        let mut table = None;
        let mut bypass = BTreeSet::new();
        let mut required = AuthRequired::Always;
        let mut verify = vec!["number".to_owned()];
        let mut modifiers_required = None;
        let mut modifiers_accepted = None;
        let mut disciplines = None;
        let mut roles = None;
        let mut audio_only_allowed = None;
        let mut windows = Vec::new();
        let mut documentation = None;
        let mut discipline_modifiers = Vec::new();
        let mut assistant_modifiers = Vec::new();
        let mut supported_by = None;
        let mut excluded_by = None;
        let mut scope = Scope::Line;
        let mut when = None;
        let mut require = None;
        let mut texts = compiled.texts.clone();
        texts.id = Arc::clone(&compiled.id);
        for setting in &rule.settings {
            match &setting.kind {
                SettingKind::Category(category) => compiled.category = *category,
                SettingKind::Severity(severity) => compiled.severity = *severity,
                SettingKind::Message(template) => {
                    compiled.message =
                        MessageTemplate::parse(&template.text, |name| self.constant(name))
                }
                SettingKind::Help(help) => texts.help = Some(help.as_str().into()),
                SettingKind::Carc(code) => texts.carc = Some(code.value.as_str().into()),
                SettingKind::Rarc(code) => texts.rarc = Some(code.value.as_str().into()),
                SettingKind::Cite(cite) => texts.citation = Some(cite.as_str().into()),
                SettingKind::Fix(fix) => compiled.fix = Some(fix.clone()),
                SettingKind::Codes(expr) => compiled.codes = Some(set(expr, CodeKind::Procedure)),
                SettingKind::Places(expr) => compiled.places = Some(set(expr, CodeKind::Place)),
                SettingKind::Plans(plans) => compiled.plans = Some(words(plans)),
                SettingKind::Method(m) => method = Some(UnitsCheck::Method(*m)),
                SettingKind::DailyCapTable(name) => daily_table = Some(self.mue_table(&name.value)),
                SettingKind::DailyCap(value) | SettingKind::VisitCap(value) => {
                    let units = match value.value {
                        Literal::Quantity(units, _) | Literal::Integer(units) => units,
                        _ => 0,
                    };
                    cap = Some(if setting.kind.key() == "daily_cap" {
                        UnitsCheck::DailyCap(units)
                    } else {
                        UnitsCheck::VisitCap(units)
                    });
                }
                SettingKind::Table(name) => table = Some(self.ptp_table(&name.value)),
                SettingKind::Bypass(expr) => {
                    if let Some((_, value)) = set(expr, CodeKind::Modifier).versions.first() {
                        if let SetValue::Modifier(modifiers) = value.as_ref() {
                            bypass = modifiers.clone();
                        }
                    }
                }
                SettingKind::Required(Requirement::Always) => required = AuthRequired::Always,
                SettingKind::Required(Requirement::AfterVisits {
                    visits,
                    within_weeks,
                }) => {
                    required = AuthRequired::AfterVisits {
                        visits: visits.value,
                        within_weeks: within_weeks.as_ref().map(|w| w.value),
                    }
                }
                SettingKind::Verify(list) => verify = words(list),
                SettingKind::ModifiersRequired(expr) => {
                    modifiers_required = Some(set(expr, CodeKind::Modifier))
                }
                SettingKind::ModifiersAccepted(expr) => {
                    modifiers_accepted = Some(set(expr, CodeKind::Modifier))
                }
                SettingKind::Disciplines(list) => disciplines = Some(words(list)),
                SettingKind::Roles(list) => roles = Some(words(list)),
                SettingKind::AudioOnly(allowed) => audio_only_allowed = Some(*allowed),
                SettingKind::Window(window) => windows.push(DateRange::of(window)),
                SettingKind::MustHave(list) => {
                    let facts = words(list)
                        .into_iter()
                        .map(|fact| {
                            let field = FieldRef::resolve_segments(&["documentation", &fact]);
                            (fact, field)
                        })
                        .collect();
                    documentation = Some(DocumentationCheck::MustHave(facts))
                }
                SettingKind::PlanOfCareCertifiedWithin(days) => {
                    documentation = Some(DocumentationCheck::CertifiedWithinDays(quantity(
                        &days.value,
                    )))
                }
                SettingKind::PlanOfCareCurrent => {
                    documentation = Some(DocumentationCheck::PlanOfCareCurrent)
                }
                SettingKind::ProgressReportWithin(visits) => {
                    documentation = Some(DocumentationCheck::ProgressReportWithinVisits(quantity(
                        &visits.value,
                    )))
                }
                SettingKind::DisciplineModifiers(pairs) => {
                    discipline_modifiers = modifier_pairs(pairs)
                }
                SettingKind::AssistantModifiers(pairs) => {
                    assistant_modifiers = modifier_pairs(pairs)
                }
                SettingKind::SupportedBy(expr) => {
                    supported_by = Some(set(expr, CodeKind::Diagnosis))
                }
                SettingKind::ExcludedBy(expr) => excluded_by = Some(set(expr, CodeKind::Diagnosis)),
                SettingKind::For(s) => scope = *s,
                SettingKind::When(expr) => when = Some(expr.clone()),
                SettingKind::Require(expr) => require = Some(expr.clone()),
                SettingKind::Unknown(_) => {}
            }
        }
        compiled.check = match rule.family.value {
            Family::Units => RuleCheck::Units(
                method
                    .or(daily_table.map(UnitsCheck::DailyCapTable))
                    .or(cap)
                    .unwrap_or(UnitsCheck::Method(UnitMethod::TotalTime)),
            ),
            Family::Pairing => RuleCheck::Pairing {
                table: table.unwrap_or_default(),
                bypass,
            },
            Family::PriorAuth => RuleCheck::PriorAuth { required, verify },
            Family::Telehealth => RuleCheck::Telehealth {
                modifiers_required,
                modifiers_accepted,
                disciplines,
                audio_only_allowed,
                windows,
            },
            Family::Documentation => RuleCheck::Documentation(
                documentation.unwrap_or(DocumentationCheck::MustHave(Vec::new())),
            ),
            Family::Provider => RuleCheck::Provider {
                disciplines,
                roles,
                discipline_modifiers,
                assistant_modifiers,
            },
            Family::MedicalNecessity => RuleCheck::MedicalNecessity {
                supported_by,
                excluded_by,
            },
            Family::General => {
                let when = when.map(|expr| self.condition(&expr, effective));
                let when_parts = match (&when, scope) {
                    (Some(when), Scope::Line) => WhenPart::split(when),
                    _ => Vec::new(),
                };
                let require = require
                    .map(|expr| self.condition(&expr, effective))
                    .unwrap_or(Cond::Literal(Literal::Flag(true)));
                RuleCheck::General {
                    scope,
                    when,
                    require_per_visit: scope == Scope::Line && !require.reads_line_in_focus(),
                    require,
                    when_parts,
                }
            }
        };
        compiled.texts = texts;
        Some(compiled)
    }

    /// Compiles a checked condition.
    fn condition(&self, expr: &Expr, within: DateRange) -> Cond {
        let boxed = |e: &Expr| Box::new(self.condition(e, within));
        match &expr.kind {
            ExprKind::Literal(literal) => Cond::Literal(literal.clone()),
            ExprKind::Group(inner) => self.condition(inner, within),
            ExprKind::Path(path)
                if !path.contains('.') && self.namespace.consts.contains_key(path) =>
            {
                Cond::Constant {
                    name: path.clone(),
                    versions: self.constant(path).unwrap_or_default(),
                }
            }
            ExprKind::Path(path) if !path.contains('.') && schema::CLAIM.field(path).is_none() => {
                Cond::Word(path.clone())
            }
            ExprKind::Path(path) => Cond::Field(FieldRef::resolve(path)),
            ExprKind::Present(path) => Cond::Present(FieldRef::resolve(&path.value)),
            ExprKind::Aggregate {
                function,
                path,
                filter,
            } => {
                let filter = filter.as_deref().map(boxed);
                match function {
                    Aggregate::Count => Cond::Count {
                        list: FieldRef::resolve(&path.value),
                        filter,
                    },
                    // The last segment is the line field summed; the rest names the lines.
                    Aggregate::Sum => {
                        let (list, field) = match path.value.rsplit_once('.') {
                            Some((list, field)) => (list, field),
                            None => ("", path.value.as_str()),
                        };
                        Cond::Sum {
                            list: FieldRef::resolve(list),
                            field: line_field(&[field]),
                            filter,
                        }
                    }
                }
            }
            ExprKind::Not(inner) => Cond::Not(boxed(inner)),
            ExprKind::And(a, b) => Cond::And(boxed(a), boxed(b)),
            ExprKind::Or(a, b) => Cond::Or(boxed(a), boxed(b)),
            ExprKind::Compare(op, a, b) => Cond::Compare(*op, boxed(a), boxed(b)),
            ExprKind::Arith(op, a, b) => Cond::Arith(*op, boxed(a), boxed(b)),
            ExprKind::Membership { op, value, set } => {
                let value_ty = match &value.kind {
                    ExprKind::Path(path) => {
                        schema::field_type(&path.split('.').collect::<Vec<_>>())
                    }
                    _ => None,
                };
                match (op, value_ty) {
                    (MembershipOp::Includes, Some(schema::Ty::List(item))) => {
                        let kind = match *item {
                            schema::Ty::Code(kind) => kind,
                            _ => CodeKind::Procedure,
                        };
                        Cond::Includes {
                            list: boxed(value),
                            set: self.versioned_set(set, kind, within),
                        }
                    }
                    (op, Some(schema::Ty::Enum(..))) => Cond::InWords {
                        negate: *op == MembershipOp::NotIn,
                        value: boxed(value),
                        words: set_words(set),
                    },
                    (op, ty) => {
                        let kind = match ty {
                            Some(schema::Ty::Code(kind)) => kind,
                            _ => CodeKind::Procedure,
                        };
                        Cond::InSet {
                            negate: *op == MembershipOp::NotIn,
                            value: boxed(value),
                            set: self.versioned_set(set, kind, within),
                        }
                    }
                }
            }
        }
    }

    /// Evaluates a set expression once per span of dates in which no code set
    /// it can reach changes, within the rule's own dates.
    fn versioned_set(&self, expr: &SetExpr, kind: CodeKind, within: DateRange) -> VersionedSet {
        let mut versions: Vec<(DateRange, Arc<SetValue>)> = Vec::new();
        let mut starts: Vec<Option<Date>> = vec![None];
        starts.extend(self.breakpoints.iter().copied().map(Some));
        for (position, start) in starts.iter().enumerate() {
            let end = starts
                .get(position + 1)
                .copied()
                .flatten()
                .and_then(|next| next.yesterday().ok());
            let span = DateRange {
                from: *start,
                through: end,
            };
            let Some(range) = span.intersect(within) else {
                continue;
            };
            let on = range.from.unwrap_or(Date::MIN);
            let value = self.set_on(expr, kind, on, 0);
            match versions.last_mut() {
                Some((last_range, last_value)) if **last_value == value => {
                    last_range.through = range.through
                }
                _ => versions.push((range, Arc::new(value))),
            }
        }
        VersionedSet { versions }
    }

    fn set_on(&self, expr: &SetExpr, kind: CodeKind, date: Date, depth: usize) -> SetValue {
        let mut resolve = |name: &Text| -> Resolved {
            if depth > 64 {
                return Resolved::Unknown;
            }
            let Some(defs) = self.namespace.codesets.get(&name.value) else {
                return Resolved::Unknown;
            };
            for def in defs {
                if let Some(Item {
                    kind: ItemKind::CodeSet(set),
                    ..
                }) = self.checked.item(*def)
                {
                    if set.effective.contains(date) {
                        return Resolved::Set(self.set_on(
                            &set.expr,
                            set.kind.value,
                            date,
                            depth + 1,
                        ));
                    }
                }
            }
            Resolved::Set(SetValue::empty(kind))
        };
        let mut problems = Vec::new();
        codeset::evaluate(expr, kind, &mut resolve, &mut problems)
    }

    /// The loaded rows of a table read from data files.
    fn loaded_table(&self, def: DefRef, paths: &[Text]) -> Option<&LoadedTable> {
        let file = self.checked.workspace.files.get(def.file)?;
        let base = file.path.parent().unwrap_or(Path::new("."));
        let full: Vec<PathBuf> = paths.iter().map(|path| base.join(&path.value)).collect();
        self.checked.tables.get(&full)
    }

    /// Every version of table `name`, with where it is defined.
    fn table_versions(&self, name: &str) -> impl Iterator<Item = (DefRef, &TableDef)> + '_ {
        let defs = self.namespace.tables.get(name).into_iter().flatten();
        defs.filter_map(|def| match self.checked.item(*def) {
            Some(Item {
                kind: ItemKind::Table(table),
                ..
            }) => Some((*def, table)),
            _ => None,
        })
    }

    fn ptp_table(&self, name: &str) -> VersionedTable<PtpTable> {
        let mut versions = Vec::new();
        for (def, table) in self.table_versions(name) {
            let loaded = match &table.source {
                TableSource::File(paths) => match self.loaded_table(def, paths) {
                    Some(LoadedTable::Ptp(loaded)) => Some(loaded.clone()),
                    _ => None,
                },
                TableSource::Rows(rows) => Some(Arc::new(inline_ptp(rows))),
            };
            if let Some(loaded) = loaded {
                versions.push((DateRange::of(&table.effective), loaded));
            }
        }
        VersionedTable { versions }
    }

    fn mue_table(&self, name: &str) -> VersionedTable<MueTable> {
        let mut versions = Vec::new();
        for (def, table) in self.table_versions(name) {
            let table_dates = DateRange::of(&table.effective);
            match &table.source {
                TableSource::File(paths) => {
                    if let Some(LoadedTable::Mue(loaded)) = self.loaded_table(def, paths) {
                        versions.push((table_dates, loaded.clone()));
                    }
                }
                // Rows may carry their own dates: one version per distinct range.
                TableSource::Rows(rows) => {
                    for (row_dates, limits) in inline_mue(rows) {
                        if let Some(range) = row_dates.intersect(table_dates) {
                            versions.push((range, Arc::new(limits)));
                        }
                    }
                }
            }
        }
        VersionedTable { versions }
    }
}

/// The words of `[PT OT]` (enumerated values, not codes).
fn set_words(set: &SetExpr) -> Vec<String> {
    std::iter::once(&set.first)
        .chain(set.rest.iter().map(|(_, term)| term))
        .flat_map(|term| match term {
            SetTerm::Literal { elements, .. } => elements
                .iter()
                .filter_map(|element| match element {
                    SetElement::Code(word) => Some(word.value.clone()),
                    SetElement::Range { .. } => None,
                })
                .collect(),
            SetTerm::Name(_) => Vec::new(),
        })
        .collect()
}

fn quantity(literal: &Literal) -> u64 {
    match literal {
        Literal::Quantity(value, _) | Literal::Integer(value) => *value,
        _ => 0,
    }
}

fn modifier_pairs(pairs: &[(Text, Text)]) -> Vec<(String, Modifier)> {
    pairs
        .iter()
        .filter_map(|(discipline, modifier)| {
            Modifier::parse(&modifier.value)
                .ok()
                .map(|modifier| (discipline.value.clone(), modifier))
        })
        .collect()
}

fn inline_ptp(rows: &[TableRow]) -> PtpTable {
    let mut table = PtpTable::default();
    for row in rows {
        let TableRow::Ptp {
            column_one,
            column_two,
            indicator,
            effective,
            ..
        } = row
        else {
            continue;
        };
        let (Ok(first), Ok(second)) = (
            ProcedureCode::parse(&column_one.value),
            ProcedureCode::parse(&column_two.value),
        ) else {
            continue;
        };
        let indicator = match indicator.value {
            0 => crate::tables::ModifierIndicator::NotAllowed,
            1 => crate::tables::ModifierIndicator::Allowed,
            _ => crate::tables::ModifierIndicator::NotApplicable,
        };
        table.insert(crate::tables::PtpEdit {
            column_one: first,
            column_two: second,
            from: effective.from.as_ref().map_or(Date::MIN, |d| d.value),
            through: effective.through.as_ref().map(|d| d.value),
            indicator,
        });
    }
    table.finish();
    table
}

/// Inline MUE rows grouped by their dates, in the order the ranges first appear.
fn inline_mue(rows: &[TableRow]) -> Vec<(DateRange, MueTable)> {
    let mut groups: Vec<(DateRange, MueTable)> = Vec::new();
    for row in rows {
        let TableRow::Mue {
            code,
            max_units,
            adjudication,
            effective,
            ..
        } = row
        else {
            continue;
        };
        let Ok(code) = ProcedureCode::parse(&code.value) else {
            continue;
        };
        let dates = DateRange::of(effective);
        let position = match groups.iter().position(|(range, _)| *range == dates) {
            Some(position) => position,
            None => {
                groups.push((dates, MueTable::default()));
                groups.len() - 1
            }
        };
        let Some((_, table)) = groups.get_mut(position) else {
            continue;
        };
        table.insert(crate::tables::MueLimit {
            code,
            max_units: u32::try_from(max_units.value).unwrap_or(u32::MAX),
            adjudication: adjudication
                .as_ref()
                .map_or(3, |mai| u8::try_from(mai.value).unwrap_or(3)),
        });
    }
    groups
}

/// Every version of the code set `name` as payer `payer`'s rules see it (after
/// `include` and `extends`), evaluated per span of dates like a rule's sets;
/// `None` when the payer or the set is unknown. For `ppl doc`.
pub fn named_set(checked: &Checked, payer: &str, name: &str) -> Option<VersionedSet> {
    let index = *checked.workspace.by_policy_id.get(payer)?;
    let namespace = checked.namespaces.get(&index)?;
    let kind = namespace
        .codesets
        .get(name)?
        .iter()
        .find_map(|def| match checked.item(*def) {
            Some(Item {
                kind: ItemKind::CodeSet(set),
                ..
            }) => Some(set.kind.value),
            _ => None,
        })?;
    let compiler = Compiler {
        checked,
        namespace,
        breakpoints: breakpoints(checked, namespace),
    };
    let expr = SetExpr {
        first: SetTerm::Name(Text::new(name.to_owned(), Span::default())),
        rest: Vec::new(),
        span: Span::default(),
    };
    Some(compiler.versioned_set(&expr, kind, DateRange::default()))
}

#[cfg(test)]
mod tests {
    use super::{day_number, DateRange, DaySpan};
    use crate::Date;

    #[test]
    fn day_spans_hold_the_dates_their_ranges_hold() {
        let date = |y, m, d| Date::new(y, m, d).unwrap();
        let dates = [
            Date::MIN,
            date(-1, 12, 31),
            date(0, 1, 1),
            date(2024, 12, 31),
            date(2025, 1, 1),
            date(2025, 2, 28),
            date(2025, 3, 1),
            date(2026, 11, 27),
            Date::MAX,
        ];
        for pair in dates.windows(2) {
            assert!(day_number(pair[0]) < day_number(pair[1]), "{pair:?}");
        }
        let ranges = [
            DateRange::default(),
            DateRange {
                from: Some(date(2025, 1, 1)),
                through: None,
            },
            DateRange {
                from: None,
                through: Some(date(2024, 12, 31)),
            },
            DateRange {
                from: Some(date(2025, 1, 1)),
                through: Some(date(2025, 2, 28)),
            },
        ];
        for range in ranges {
            for day in dates {
                assert_eq!(
                    DaySpan::of(range).contains(day_number(day)),
                    range.contains(day),
                    "{range:?} {day}"
                );
            }
        }
    }
}
