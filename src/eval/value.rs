//! Values of claim facts, and conditions judged with three values: a rule that
//! needs a fact the claim does not carry is neither passed nor failed.
//!
//! Values borrow from the claim and the policy, and are `Copy`: judging a
//! condition or filling in a message allocates only for the paths of missing
//! facts, which are kept beside the values in [`Needs`].

use crate::claim::{Claim, Diagnosis, Line, Located};
use crate::codes::{DiagnosisCode, Modifier, PlaceOfService, ProcedureCode};
use crate::codeset::SetValue;
use crate::compile::{
    CompiledPolicy, Cond, DocumentationField, Field, FieldRef, HistoryField, LineField, Record,
    VersionedSet, WhenPart,
};
use crate::syntax::{ArithOp, CompareOp, Literal};
use crate::Date;

/// A fact's value. Numbers carry no unit here: the checker has already
/// made sure minutes are compared with minutes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Flag(bool),
    Number(i64),
    /// Dollars, in cents.
    Money(i64),
    Date(Date),
    Text(&'a str),
    Procedure(ProcedureCode),
    /// Upper-case, without its dot.
    Diagnosis(DiagnosisCode),
    Modifier(Modifier),
    Place(PlaceOfService),
    List(List<'a>),
    /// The lines of a visit or claim (for `count` and `sum`).
    Lines(&'a [usize]),
    /// The claim does not carry the fact. The claim paths that would hold it
    /// are in the [`Needs`] the value was judged with.
    Missing,
}

/// The claim paths of the facts judging found missing, kept out of the values
/// so that values need no dropping. A stack: a judgement that gives
/// `Value::Missing` leaves its paths on the end; one that gives anything else
/// leaves nothing.
#[derive(Debug, Default)]
pub struct Needs {
    paths: Vec<String>,
}

impl Needs {
    /// Where the next judgement's paths will start.
    fn mark(&self) -> usize {
        self.paths.len()
    }

    /// The fact at `path` is missing.
    fn need<'a>(&mut self, path: String) -> Value<'a> {
        self.paths.push(path);
        Value::Missing
    }

    /// Forgets the paths since `mark`: the judgement they belonged to was
    /// decided without them.
    fn forget_since(&mut self, mark: usize) {
        self.paths.truncate(mark);
    }

    /// The paths since `mark`, each once, in the order first met.
    fn dedup_since(&mut self, mark: usize) {
        // Only when a fact is missing, so a copy is cheap enough.
        let judged = self.paths.split_off(mark);
        for path in judged {
            if !self.paths.get(mark..).unwrap_or_default().contains(&path) {
                self.paths.push(path);
            }
        }
    }

    fn any_since(&self, mark: usize) -> bool {
        self.paths.len() > mark
    }

    /// Takes every path, leaving none.
    pub fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.paths)
    }

    /// Forgets every path (a message shows a missing fact as `not given`).
    pub fn clear(&mut self) {
        self.paths.clear();
    }
}

/// What a condition comes to: yes or no, a fact it needs is missing (the
/// paths are in [`Needs`]), or a value that is neither (which decides nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Flag(bool),
    Missing,
    Other,
}

impl Verdict {
    fn of(value: Value<'_>) -> Self {
        match value {
            Value::Flag(flag) => Verdict::Flag(flag),
            Value::Missing => Verdict::Missing,
            _ => Verdict::Other,
        }
    }

    /// The verdict as a value, for a condition read as a value (`Other` is
    /// never the verdict of a condition `test` judges itself).
    fn value<'a>(self) -> Value<'a> {
        match self {
            Verdict::Flag(flag) => Value::Flag(flag),
            Verdict::Missing | Verdict::Other => Value::Missing,
        }
    }
}

/// What the per-visit parts of a split `when` come to on a visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerVisit {
    /// All true: each line judges only its own parts.
    True,
    /// One is false: `when` is false on every line of the visit.
    False,
    /// One needs a missing fact: `when` is judged whole on each line.
    Undecided,
}

/// A list fact, read in place from the claim.
#[derive(Clone, Copy, Debug)]
pub enum List<'a> {
    Modifiers(&'a [Modifier]),
    Procedures(&'a [ProcedureCode]),
    Texts(&'a [String]),
    Pointers(&'a [u8]),
    /// The claim's diagnoses; codes that are not ICD-10-CM are left out.
    Diagnoses(&'a [Located<Diagnosis>]),
    /// The diagnoses a line's 1-based pointers select (pointers out of range are left out).
    PointedDiagnoses {
        pointers: &'a [u8],
        diagnoses: &'a [Located<Diagnosis>],
    },
    /// A field of each of some lines (`lines.minutes`), worked out as read.
    LineValues {
        claim: &'a Claim,
        lines: &'a [usize],
        field: LineField,
    },
}

impl<'a> List<'a> {
    /// The list's items, in order.
    pub fn items(&self) -> ListItems<'_, 'a> {
        ListItems {
            list: self,
            position: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items().next().is_none()
    }
}

impl PartialEq for List<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.items().eq(other.items())
    }
}

/// The items of a [`List`].
pub struct ListItems<'l, 'a> {
    list: &'l List<'a>,
    position: usize,
}

impl<'a> Iterator for ListItems<'_, 'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        loop {
            let position = self.position;
            self.position += 1;
            // `None`: the list has ended; `Some(None)`: an item left out.
            let item: Option<Option<Value<'a>>> = match self.list {
                List::Modifiers(items) => items.get(position).map(|m| Some(Value::Modifier(*m))),
                List::Procedures(items) => items.get(position).map(|c| Some(Value::Procedure(*c))),
                List::Texts(items) => items.get(position).map(|t| Some(Value::Text(t))),
                List::Pointers(items) => items
                    .get(position)
                    .map(|p| Some(Value::Number(i64::from(*p)))),
                List::Diagnoses(items) => items.get(position).map(|d| diagnosis(&d.value)),
                List::PointedDiagnoses {
                    pointers,
                    diagnoses,
                } => pointers
                    .get(position)
                    .map(|&pointer| pointed_code(diagnoses, pointer).map(Value::Diagnosis)),
                List::LineValues {
                    claim,
                    lines,
                    field,
                } => lines
                    .get(position)
                    .map(|&index| Some(line_value(claim, index, *field))),
            };
            match item {
                None => return None,
                Some(Some(value)) => return Some(value),
                Some(None) => {}
            }
        }
    }
}

fn diagnosis<'a>(diagnosis: &Diagnosis) -> Option<Value<'a>> {
    diagnosis.code.map(Value::Diagnosis)
}

/// The ICD-10-CM code a line's 1-based diagnosis pointer selects: none for a
/// pointer out of range or a code that is not ICD-10-CM.
pub fn pointed_code(diagnoses: &[Located<Diagnosis>], pointer: u8) -> Option<DiagnosisCode> {
    let index = usize::from(pointer).checked_sub(1)?;
    diagnoses.get(index)?.value.code
}

impl Value<'_> {
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
            Value::Number(number) => {
                write_integer(*number, out);
                Ok(())
            }
            Value::Money(cents) => {
                write_dollars(*cents, out);
                Ok(())
            }
            Value::Date(date) => {
                write_date(*date, out);
                Ok(())
            }
            Value::Text(text) => {
                out.push_str(text);
                Ok(())
            }
            Value::Procedure(code) => {
                write_ascii(&code.chars(), out);
                Ok(())
            }
            Value::Diagnosis(code) => {
                write_diagnosis(code.as_str(), out);
                Ok(())
            }
            Value::Modifier(modifier) => {
                out.push_str(modifier.as_str());
                Ok(())
            }
            Value::Place(place) => {
                write_ascii(&place.digits(), out);
                Ok(())
            }
            Value::List(list) => {
                let mut empty = true;
                for item in list.items() {
                    if !empty {
                        out.push_str(", ");
                    }
                    empty = false;
                    item.write_display(out);
                }
                if empty {
                    out.push_str("none");
                }
                Ok(())
            }
            Value::Lines(lines) => write!(out, "{} lines", lines.len()),
            Value::Missing => {
                out.push_str("not given");
                Ok(())
            }
        };
    }
}

// Messages are written without `core::fmt` for the common values: its
// machinery costs more than the writing.

/// Code characters (ASCII by construction).
fn write_ascii(bytes: &[u8], out: &mut String) {
    // Pushed one by one: no UTF-8 validation for a few known-ASCII bytes.
    out.extend(bytes.iter().map(|&byte| char::from(byte)));
}

/// An integer in decimal, as `{}` writes it.
pub fn write_integer(number: i64, out: &mut String) {
    if number < 0 {
        out.push('-');
    }
    write_unsigned(number.unsigned_abs(), out);
}

fn write_unsigned(number: u64, out: &mut String) {
    crate::decimal::Decimal::new(number).push_to(out);
}

/// A date as `YYYY-MM-DD`, as jiff's `Display` writes years 0 to 9999.
pub fn write_date(date: Date, out: &mut String) {
    match date_chars(date) {
        Some(chars) => write_ascii(&chars, out),
        None => {
            use std::fmt::Write;
            // Writing to a String cannot fail.
            let _ = write!(out, "{date}");
        }
    }
}

/// A date of the years 0 to 9999 as its `YYYY-MM-DD` characters (`None` for
/// other years, which jiff's `Display` writes with a sign).
pub fn date_chars(date: Date) -> Option<[u8; 10]> {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    let two = |n: i8| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    let [y1, y2] = two((year / 100) as i8);
    let [y3, y4] = two((year % 100) as i8);
    let [m1, m2] = two(date.month());
    let [d1, d2] = two(date.day());
    Some([y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2])
}

/// `I69351` → `I69.351`.
pub fn display_diagnosis(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 1);
    write_diagnosis(code, &mut out);
    out
}

fn write_diagnosis(code: &str, out: &mut String) {
    match (code.get(..3), code.get(3..)) {
        (Some(category), Some(rest)) if !rest.is_empty() => {
            out.push_str(category);
            out.push('.');
            out.push_str(rest);
        }
        _ => out.push_str(code),
    }
}

/// Dollar amounts are kept in cents.
fn money<'a>(cents: u64) -> Value<'a> {
    Value::Money(i64::try_from(cents).unwrap_or(i64::MAX))
}

/// `248000` cents → `$2,480.00`.
pub fn dollars(cents: i64) -> String {
    let mut out = String::new();
    write_dollars(cents, &mut out);
    out
}

/// [`dollars`], written onto the end of `out`.
fn write_dollars(cents: i64, out: &mut String) {
    if cents < 0 {
        out.push('-');
    }
    let cents = cents.unsigned_abs();
    out.push('$');
    let whole = cents / 100;
    if whole < 1_000_000 {
        // The usual amount, under a million dollars: at most two groups of three.
        let (thousands, units) = (whole / 1000, whole % 1000);
        if thousands > 0 {
            write_group(thousands, false, out);
            out.push(',');
            write_group(units, true, out);
        } else {
            write_group(units, false, out);
        }
    } else {
        let whole = crate::decimal::Decimal::new(whole);
        let digits = whole.as_bytes();
        for (position, &digit) in digits.iter().enumerate() {
            // A comma before each group of three digits, counted from the right.
            if position > 0 && (digits.len() - position) % 3 == 0 {
                out.push(',');
            }
            out.push(char::from(digit));
        }
    }
    let rest = cents % 100;
    out.push('.');
    write_ascii(&[b'0' + (rest / 10) as u8, b'0' + (rest % 10) as u8], out);
}

/// A group of a dollar amount (under 1,000): all three digits when `padded`
/// (a group after a comma), else without leading zeros.
fn write_group(group: u64, padded: bool, out: &mut String) {
    let digits = [group / 100, group / 10 % 10, group % 10];
    let skip = match (padded, group) {
        (true, _) | (false, 100..) => 0,
        (false, 10..) => 1,
        (false, _) => 2,
    };
    for &digit in digits.get(skip..).unwrap_or_default() {
        out.push(char::from(b'0' + digit as u8));
    }
}

fn number<'a>(value: u32) -> Value<'a> {
    Value::Number(i64::from(value))
}

/// A line's diagnosis pointers when it gives none.
const FIRST_DIAGNOSIS: &[u8] = &[1];

/// What a condition or message is judged on: the claim, and the visit and
/// line in focus.
pub struct Scope<'a> {
    pub claim: &'a Claim,
    pub policy: &'a CompiledPolicy,
    /// The date the rule version was chosen for (constants and code sets follow it).
    pub date: Date,
    /// Indexes of the visit's lines (all lines for a claim-wide rule).
    pub visit: &'a [usize],
    /// Indexes of every line of the claim, in order.
    pub all_lines: &'a [usize],
    pub line: Option<usize>,
}

/// Why a fact has no value: the claim path that would hold it, written out
/// only when a finding names it.
#[derive(Clone, Copy)]
enum Absent<'f> {
    /// The path the field is written as.
    Field(&'f FieldRef),
    Path(&'static str),
    /// A field of the line at this index.
    LineField(usize, &'static str),
    /// No path to name (no line in focus, no version in force).
    Nowhere,
}

impl Absent<'_> {
    fn into_value<'a>(self, needs: &mut Needs) -> Value<'a> {
        match self {
            Absent::Field(field) => needs.need(field.pointer.to_string()),
            Absent::Path(path) => needs.need(path.to_owned()),
            Absent::LineField(index, name) => needs.need(format!("/lines/{index}/{name}")),
            Absent::Nowhere => Value::Missing,
        }
    }
}

/// A fact's value, or why it has none.
type Fact<'a, 'f> = Result<Value<'a>, Absent<'f>>;

impl<'a> Scope<'a> {
    fn line(&self, index: usize) -> Option<&'a Line> {
        self.claim.lines.get(index)
    }

    /// The line in focus, if any.
    fn focus(&self) -> Option<&'a Line> {
        self.line.and_then(|index| self.line(index))
    }

    fn with_line(&self, index: usize) -> Scope<'a> {
        Scope {
            claim: self.claim,
            policy: self.policy,
            date: self.date,
            visit: self.visit,
            all_lines: self.all_lines,
            line: Some(index),
        }
    }

    /// The value of a claim fact, or `Missing` with its claim path in `needs`.
    pub fn field(&self, field: &FieldRef, needs: &mut Needs) -> Value<'a> {
        // A fact of the line in focus (most operands) is read straight from
        // the line; only a missing one goes the long way, for its path.
        if let (Field::Line(line_field), Some(index)) = (field.field, self.line) {
            match line_value(self.claim, index, line_field) {
                Value::Missing => {}
                value => return value,
            }
        }
        self.fact(field)
            .unwrap_or_else(|absent| absent.into_value(needs))
    }

    fn fact<'f>(&self, field: &'f FieldRef) -> Fact<'a, 'f> {
        let claim = self.claim;
        let text = |value: &'a Option<Located<String>>, path: &'static str| {
            value
                .as_ref()
                .map_or(Err(Absent::Path(path)), |v| Ok(Value::Text(&v.value)))
        };
        let date = |value: Option<&Located<Date>>, path: &'static str| {
            value.map_or(Err(Absent::Path(path)), |v| Ok(Value::Date(v.value)))
        };
        let absent = Err(Absent::Field(field));
        Ok(match field.field {
            Field::Line(line_field) => match self.line {
                Some(index) => return self.line_fact(index, line_field),
                None => return Err(Absent::Nowhere),
            },
            Field::VisitDate => Value::Date(self.date),
            Field::VisitLines(line_field) => self.lines_field(self.visit, line_field),
            Field::Lines(line_field) => self.lines_field(self.all_lines, line_field),
            Field::Id => Value::Text(&claim.id.value),
            Field::Payer => Value::Text(&claim.payer.value),
            Field::Plan => return text(&claim.plan, "/plan"),
            Field::DateOfService => {
                return date(claim.date_of_service.as_ref(), "/date_of_service")
            }
            Field::PlaceOfService => match &claim.place_of_service {
                Some(place) => Value::Place(place.value),
                None => return Err(Absent::Path("/place_of_service")),
            },
            Field::Diagnoses => Value::List(List::Diagnoses(&claim.diagnoses)),
            Field::MemberId | Field::MemberBirthDate => {
                return match &claim.member {
                    None => absent,
                    Some(member) if field.field == Field::MemberId => {
                        text(&member.id, "/member/id")
                    }
                    Some(member) => date(member.birth_date.as_ref(), "/member/birth_date"),
                }
            }
            Field::Npi => Value::Text(&claim.provider.npi.value),
            Field::Discipline => Value::Text(claim.provider.discipline.value.keyword()),
            Field::Role => Value::Text(claim.provider.role.value.keyword()),
            Field::Taxonomy => return text(&claim.provider.taxonomy, "/provider/taxonomy"),
            Field::Credential => return text(&claim.provider.credential, "/provider/credential"),
            Field::AuthNumber
            | Field::AuthCodes
            | Field::AuthUnits
            | Field::AuthFrom
            | Field::AuthThrough => {
                let Some(auth) = &claim.prior_authorization else {
                    return absent;
                };
                match field.field {
                    Field::AuthNumber => Value::Text(&auth.number.value),
                    Field::AuthCodes => match &auth.codes {
                        Some(codes) => Value::List(List::Procedures(&codes.value)),
                        None => return Err(Absent::Path("/prior_authorization/codes")),
                    },
                    Field::AuthUnits => match &auth.units {
                        Some(units) => number(units.value),
                        None => return Err(Absent::Path("/prior_authorization/units")),
                    },
                    Field::AuthFrom => {
                        return date(auth.from.as_ref(), "/prior_authorization/from")
                    }
                    _ => return date(auth.through.as_ref(), "/prior_authorization/through"),
                }
            }
            Field::Documentation(fact) => return self.documentation_fact(fact, field),
            Field::History(fact) => {
                let Some(history) = &claim.history else {
                    return absent;
                };
                let counted = |value: Option<&Located<u32>>| {
                    value.map_or(Err(Absent::Field(field)), |v| Ok(number(v.value)))
                };
                let allowed = history.therapy_allowed_ytd.as_ref();
                let amount = |value: Option<&Located<u64>>| {
                    value.map_or(Err(Absent::Field(field)), |a| Ok(money(a.value)))
                };
                return match fact {
                    HistoryField::VisitsThisYear => counted(history.visits_this_year.as_ref()),
                    HistoryField::VisitsUnderAuthorization => {
                        counted(history.visits_under_authorization.as_ref())
                    }
                    HistoryField::AllowedPtSlp => amount(allowed.and_then(|a| a.pt_slp.as_ref())),
                    HistoryField::AllowedOt => amount(allowed.and_then(|a| a.ot.as_ref())),
                    HistoryField::Other => absent,
                };
            }
            Field::Record(record) => {
                let documentation = claim.documentation.as_ref();
                let history = claim.history.as_ref();
                let carried = match record {
                    Record::Member => claim.member.is_some(),
                    Record::Provider => true,
                    Record::PriorAuthorization => claim.prior_authorization.is_some(),
                    Record::Documentation => documentation.is_some(),
                    Record::PlanOfCare => documentation.is_some_and(|d| d.plan_of_care.is_some()),
                    Record::Telehealth => documentation.is_some_and(|d| d.telehealth.is_some()),
                    Record::History => history.is_some(),
                    Record::TherapyAllowedYtd => {
                        history.is_some_and(|h| h.therapy_allowed_ytd.is_some())
                    }
                };
                if carried {
                    Value::Flag(true)
                } else {
                    return absent;
                }
            }
            Field::Unknown => return absent,
            Field::Nothing => return Err(Absent::Nowhere),
        })
    }

    fn lines_field(&self, lines: &'a [usize], field: Option<LineField>) -> Value<'a> {
        match field {
            None => Value::Lines(lines),
            Some(field) => Value::List(List::LineValues {
                claim: self.claim,
                lines,
                field,
            }),
        }
    }

    fn line_field(&self, index: usize, field: LineField, needs: &mut Needs) -> Value<'a> {
        self.line_fact(index, field)
            .unwrap_or_else(|absent| absent.into_value(needs))
    }

    fn line_fact(&self, index: usize, field: LineField) -> Fact<'a, 'static> {
        match line_value(self.claim, index, field) {
            Value::Missing => Err(match (self.line(index), field) {
                (None, _) => Absent::Nowhere,
                (Some(_), LineField::Minutes) => Absent::LineField(index, "minutes"),
                (Some(_), LineField::Charge) => Absent::LineField(index, "charge"),
                (Some(_), LineField::DateOfService) => Absent::LineField(index, "date_of_service"),
                (Some(_), LineField::PlaceOfService) => {
                    Absent::LineField(index, "place_of_service")
                }
                (Some(_), _) => Absent::Nowhere,
            }),
            value => Ok(value),
        }
    }

    fn documentation_fact<'f>(
        &self,
        fact: DocumentationField,
        field: &'f FieldRef,
    ) -> Fact<'a, 'f> {
        let Some(doc) = &self.claim.documentation else {
            return Err(Absent::Path("/documentation"));
        };
        let absent = || Absent::Field(field);
        let text = |value: &'a Option<Located<String>>| {
            value
                .as_ref()
                .map(|v| Value::Text(&v.value))
                .ok_or_else(absent)
        };
        let count = |value: &Option<Located<u32>>| {
            value.as_ref().map(|v| number(v.value)).ok_or_else(absent)
        };
        let date =
            |value: Option<&Located<Date>>| value.map(|v| Value::Date(v.value)).ok_or_else(absent);
        let plan = doc.plan_of_care.as_ref();
        let telehealth = doc.telehealth.as_ref();
        match fact {
            DocumentationField::Objective => text(&doc.objective),
            DocumentationField::Performance => text(&doc.performance),
            DocumentationField::Progress => text(&doc.progress),
            DocumentationField::FunctionalGoals => doc
                .functional_goals
                .as_ref()
                .map(|goals| Value::List(List::Texts(&goals.value)))
                .ok_or_else(absent),
            DocumentationField::CaregiverTrained => doc
                .caregiver_trained
                .as_ref()
                .map(|v| Value::Flag(v.value))
                .ok_or_else(absent),
            DocumentationField::TotalTimedMinutes => count(&doc.total_timed_minutes),
            DocumentationField::TotalTreatmentMinutes => count(&doc.total_treatment_minutes),
            DocumentationField::VisitsSinceProgressReport => {
                count(&doc.visits_since_progress_report)
            }
            DocumentationField::PlanEstablished => date(plan.and_then(|p| p.established.as_ref())),
            DocumentationField::PlanCertified => date(plan.and_then(|p| p.certified.as_ref())),
            DocumentationField::PlanThrough => date(plan.and_then(|p| p.through.as_ref())),
            DocumentationField::TelehealthModality => telehealth
                .and_then(|t| t.modality.as_ref())
                .map(|m| {
                    Value::Text(match m.value {
                        crate::claim::Modality::AudioVideo => "audio_video",
                        crate::claim::Modality::AudioOnly => "audio_only",
                    })
                })
                .ok_or_else(absent),
            DocumentationField::TelehealthConsent => telehealth
                .and_then(|t| t.patient_consent.as_ref())
                .map(|c| Value::Flag(c.value))
                .ok_or_else(absent),
            DocumentationField::Activities => doc
                .activities
                .as_ref()
                .map(|a| Value::Number(i64::try_from(a.value.len()).unwrap_or(i64::MAX)))
                .ok_or_else(absent),
            DocumentationField::Other => Err(absent()),
        }
    }

    /// The value on the scope's date of the policy's constant `name`.
    pub fn constant<'c>(&self, name: &str) -> Value<'c>
    where
        'a: 'c,
    {
        match self
            .policy
            .constants
            .get(name)
            .and_then(|c| c.on(self.date))
        {
            Some(literal) => literal_value(literal),
            // No version in force on this date: the policy says nothing for it.
            None => Value::Missing,
        }
    }

    /// Judges a condition: `Flag`, or `Missing` with the facts it needs left
    /// in `needs`.
    pub fn judge<'c>(&self, cond: &'c Cond, needs: &mut Needs) -> Value<'c>
    where
        'a: 'c,
    {
        let mark = needs.mark();
        match cond {
            Cond::Literal(literal) => literal_value(literal),
            Cond::Field(field) => self.field(field, needs),
            Cond::Constant { versions, .. } => match versions.on(self.date) {
                Some(literal) => literal_value(literal),
                // No version in force on this date: the policy says nothing for it.
                None => Value::Missing,
            },
            Cond::Word(word) => Value::Text(word),
            Cond::Not(inner) => match self.judge(inner, needs) {
                Value::Flag(flag) => Value::Flag(!flag),
                other => other,
            },
            Cond::Arith(op, a, b) => {
                match arith(*op, self.operand(a, needs), self.operand(b, needs)) {
                    Value::Missing => missing_since(needs, mark),
                    judged => judged,
                }
            }
            Cond::Present(_)
            | Cond::And(..)
            | Cond::Or(..)
            | Cond::Compare(..)
            | Cond::InSet { .. }
            | Cond::InWords { .. }
            | Cond::Includes { .. } => self.test(cond, needs).value(),
            Cond::Count { list, filter } => self.aggregate(list, filter.as_deref(), None, needs),
            Cond::Sum {
                list,
                field,
                filter,
            } => self.aggregate(list, filter.as_deref(), Some(*field), needs),
        }
    }

    /// [`Scope::judge`] of a condition (`when`, `require`, a filter): the
    /// same verdict, without building a `Value` for each yes or no.
    pub fn test(&self, cond: &Cond, needs: &mut Needs) -> Verdict {
        let mark = needs.mark();
        match cond {
            // Whether the fact is there: a missing one names no path.
            Cond::Present(field) => Verdict::Flag(match self.fact(field) {
                Err(_) => false,
                Ok(Value::Text(text)) => !text.trim().is_empty(),
                Ok(Value::List(items)) => !items.is_empty(),
                Ok(_) => true,
            }),
            Cond::Not(inner) => match self.test(inner, needs) {
                Verdict::Flag(flag) => Verdict::Flag(!flag),
                other => other,
            },
            // A false side decides `and` (a true side decides `or`) even when the
            // other needs a missing fact: only then is the other side judged.
            Cond::And(a, b) => match self.test(a, needs) {
                Verdict::Flag(false) => Verdict::Flag(false),
                left => {
                    let right = self.test(b, needs);
                    and_sides(left, right, needs, mark)
                }
            },
            Cond::Or(a, b) => match self.test(a, needs) {
                Verdict::Flag(true) => Verdict::Flag(true),
                left => match (left, self.test(b, needs)) {
                    (_, Verdict::Flag(true)) => {
                        needs.forget_since(mark);
                        Verdict::Flag(true)
                    }
                    (Verdict::Flag(false), Verdict::Flag(false)) => Verdict::Flag(false),
                    _ => {
                        needs.dedup_since(mark);
                        Verdict::Missing
                    }
                },
            },
            Cond::Compare(op, a, b) => {
                match compare(*op, self.operand(a, needs), self.operand(b, needs)) {
                    Value::Missing => {
                        needs.dedup_since(mark);
                        Verdict::Missing
                    }
                    judged => Verdict::of(judged),
                }
            }
            Cond::InSet { negate, value, set } => {
                // `line.code in SET`, which most rules ask of each line, read straight from it.
                if let Some(line) = self.focus_reading(value, LineField::Code) {
                    return Verdict::Flag(set.has_procedure(line.code.value, self.date) != *negate);
                }
                match self.operand(value, needs) {
                    Value::Missing => Verdict::Missing,
                    value => Verdict::Flag(in_set(&value, set, self.date) != *negate),
                }
            }
            Cond::InWords {
                negate,
                value,
                words,
            } => match self.operand(value, needs) {
                Value::Text(word) => Verdict::Flag(words.iter().any(|w| w == word) != *negate),
                Value::Missing => Verdict::Missing,
                _ => Verdict::Flag(*negate),
            },
            Cond::Includes { list, set } => match self.focus_reading(list, LineField::Modifiers) {
                // `line.modifiers includes SET`, read straight from the line.
                Some(line) => {
                    let modifiers = &line.modifiers.value;
                    Verdict::Flag(match set.on(self.date) {
                        Some(SetValue::Modifier(members)) => {
                            modifiers.iter().any(|m| members.contains(m))
                        }
                        members => modifiers
                            .iter()
                            .any(|m| is_member(&Value::Modifier(*m), members)),
                    })
                }
                None => self.test_includes(list, set, needs),
            },
            _ => Verdict::of(self.judge(cond, needs)),
        }
    }

    /// `LIST includes SET` of any list but the line in focus's modifiers.
    fn test_includes(&self, list: &Cond, set: &VersionedSet, needs: &mut Needs) -> Verdict {
        match self.operand(list, needs) {
            Value::List(items) => {
                // The set in force is found once, not per item.
                let members = set.on(self.date);
                Verdict::Flag(match (items, members) {
                    (List::Modifiers(modifiers), Some(SetValue::Modifier(set))) => {
                        modifiers.iter().any(|modifier| set.contains(modifier))
                    }
                    _ => items.items().any(|item| is_member(&item, members)),
                })
            }
            Value::Missing => Verdict::Missing,
            _ => Verdict::Flag(false),
        }
    }

    /// The line in focus, when `cond` reads its `field` (`line.code`): such
    /// tests, which most rules make of each line, read the line directly.
    fn focus_reading(&self, cond: &Cond, field: LineField) -> Option<&'a Line> {
        match cond {
            Cond::Field(FieldRef {
                field: Field::Line(read),
                ..
            }) if *read == field => self.focus(),
            _ => None,
        }
    }

    /// The per-visit parts of a split `when` (see [`WhenPart`]), judged with
    /// no line in focus. Leaves `needs` as it found it.
    pub fn test_per_visit(&self, parts: &[WhenPart], needs: &mut Needs) -> PerVisit {
        let mark = needs.mark();
        let mut all_true = true;
        for part in parts.iter().filter(|part| part.per_visit) {
            match self.test(&part.cond, needs) {
                Verdict::Flag(true) => {}
                Verdict::Flag(false) => {
                    needs.forget_since(mark);
                    return PerVisit::False;
                }
                // A missing fact: `when` is judged whole on each line, which
                // names the fact where judging it whole would.
                Verdict::Missing | Verdict::Other => all_true = false,
            }
        }
        needs.forget_since(mark);
        if all_true {
            PerVisit::True
        } else {
            PerVisit::Undecided
        }
    }

    /// [`Scope::test`] of a split `when` whose per-visit parts are all true:
    /// the other parts joined by `and` left to right, as `when` is written,
    /// so the verdict and the missing facts are those of `when` judged whole.
    pub fn test_line_parts(&self, parts: &[WhenPart], needs: &mut Needs) -> Verdict {
        let mark = needs.mark();
        let mut verdict = None;
        for part in parts {
            let mut right = || {
                if part.per_visit {
                    Verdict::Flag(true)
                } else {
                    self.test(&part.cond, needs)
                }
            };
            // What `Cond::And` does with the parts so far on the left.
            verdict = Some(match verdict {
                None => right(),
                Some(Verdict::Flag(false)) => return Verdict::Flag(false),
                Some(left) => {
                    let right = right();
                    and_sides(left, right, needs, mark)
                }
            });
        }
        verdict.unwrap_or(Verdict::Flag(true))
    }

    /// [`Scope::judge`] of an operand: a field or literal (most operands) is
    /// read in place, without another round through `judge`.
    #[inline]
    pub fn operand<'c>(&self, cond: &'c Cond, needs: &mut Needs) -> Value<'c>
    where
        'a: 'c,
    {
        match cond {
            Cond::Field(field) => self.field(field, needs),
            Cond::Literal(literal) => literal_value(literal),
            _ => self.judge(cond, needs),
        }
    }

    /// `count(LIST where …)` and `sum(LIST.FIELD where …)` over lines.
    fn aggregate(
        &self,
        list: &FieldRef,
        filter: Option<&Cond>,
        field: Option<LineField>,
        needs: &mut Needs,
    ) -> Value<'a> {
        let lines = match self.field(list, needs) {
            Value::Lines(lines) => lines,
            Value::List(items) if field.is_none() && filter.is_none() => {
                return Value::Number(i64::try_from(items.items().count()).unwrap_or(i64::MAX));
            }
            Value::Missing => return Value::Missing,
            Value::Number(count) if field.is_none() => return Value::Number(count),
            _ => return Value::Number(0),
        };
        // Every line's missing facts are kept, repeats and all.
        let mark = needs.mark();
        let mut total = 0i64;
        for &index in lines {
            let scope = self.with_line(index);
            if let Some(filter) = filter {
                if scope.test(filter, needs) != Verdict::Flag(true) {
                    continue;
                }
            }
            match field {
                None => total = total.saturating_add(1),
                Some(field) => match scope.line_field(index, field, needs) {
                    Value::Number(value) | Value::Money(value) => {
                        total = total.saturating_add(value)
                    }
                    _ => {}
                },
            }
        }
        if needs.any_since(mark) {
            Value::Missing
        } else {
            Value::Number(total)
        }
    }
}

/// `and` of its two sides once the left one is not false: a false right side
/// decides (the left's missing paths, since `mark`, are forgotten), two true
/// sides are true, and anything else needs the missing facts, each named once.
fn and_sides(left: Verdict, right: Verdict, needs: &mut Needs, mark: usize) -> Verdict {
    match (left, right) {
        (_, Verdict::Flag(false)) => {
            needs.forget_since(mark);
            Verdict::Flag(false)
        }
        (Verdict::Flag(true), Verdict::Flag(true)) => Verdict::Flag(true),
        _ => {
            needs.dedup_since(mark);
            Verdict::Missing
        }
    }
}

/// The value of a line's field; `Missing` (naming no path) when the claim
/// does not carry it.
#[inline]
fn line_value(claim: &Claim, index: usize, field: LineField) -> Value<'_> {
    let Some(line) = claim.lines.get(index) else {
        return Value::Missing;
    };
    match field {
        LineField::Code => Value::Procedure(line.code.value),
        LineField::Modifiers => Value::List(List::Modifiers(&line.modifiers.value)),
        LineField::Units => number(line.units.value),
        LineField::Minutes => line
            .minutes
            .as_ref()
            .map_or(Value::Missing, |m| number(m.value)),
        LineField::Charge => line
            .charge
            .as_ref()
            .map_or(Value::Missing, |c| money(c.value)),
        LineField::DateOfService => claim.line_date(line).map_or(Value::Missing, Value::Date),
        LineField::PlaceOfService => claim.line_place(line).map_or(Value::Missing, Value::Place),
        LineField::DiagnosisPointers => Value::List(List::Pointers(pointers(line))),
        LineField::Diagnoses => Value::List(line_diagnoses(claim, line)),
        LineField::Other => Value::Missing,
    }
}

/// The 1-based diagnosis pointers of a line (pointer 1 when none are given).
pub fn pointers(line: &Line) -> &[u8] {
    line.diagnosis_pointers
        .as_ref()
        .map_or(FIRST_DIAGNOSIS, |p| p.value.as_slice())
}

/// The diagnoses a line points at, upper-case without dots.
pub fn line_diagnoses<'a>(claim: &'a Claim, line: &'a Line) -> List<'a> {
    List::PointedDiagnoses {
        pointers: pointers(line),
        diagnoses: &claim.diagnoses,
    }
}

fn literal_value(literal: &Literal) -> Value<'_> {
    match literal {
        Literal::Integer(n) => Value::Number(i64::try_from(*n).unwrap_or(i64::MAX)),
        Literal::Money(n) => money(*n),
        // Weeks are compared and added as days.
        Literal::Quantity(n, crate::syntax::QuantityUnit::Weeks) => {
            Value::Number(i64::try_from(*n).unwrap_or(i64::MAX).saturating_mul(7))
        }
        Literal::Quantity(n, _) => Value::Number(i64::try_from(*n).unwrap_or(i64::MAX)),
        Literal::Date(date) => Value::Date(*date),
        Literal::Text(text) => Value::Text(text),
        Literal::Flag(flag) => Value::Flag(*flag),
    }
}

/// A judgement that needs missing facts: those its parts left since `mark`,
/// each once.
fn missing_since<'a>(needs: &mut Needs, mark: usize) -> Value<'a> {
    needs.dedup_since(mark);
    Value::Missing
}

/// Compares two values; `Missing` when either is (the caller holds the paths).
fn compare<'a>(op: CompareOp, a: Value<'a>, b: Value<'a>) -> Value<'a> {
    if matches!(a, Value::Missing) || matches!(b, Value::Missing) {
        return Value::Missing;
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

/// Adds, subtracts or multiplies; `Missing` when either operand is, or the
/// result cannot be worked out (the caller holds the paths).
fn arith<'a>(op: ArithOp, a: Value<'a>, b: Value<'a>) -> Value<'a> {
    match (op, a, b) {
        (_, Value::Missing, _) | (_, _, Value::Missing) => Value::Missing,
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
        _ => Value::Missing,
    }
}

fn shift<'a>(date: Date, days: i64) -> Value<'a> {
    let days = days.clamp(-1_000_000, 1_000_000);
    date.checked_add(jiff::Span::new().days(days))
        .map_or(Value::Missing, Value::Date)
}

/// Whether a code value is in a code set on `date`.
pub fn in_set(value: &Value, set: &VersionedSet, date: Date) -> bool {
    is_member(value, set.on(date))
}

/// Whether a code value is in a code set (none: no set in force).
fn is_member(value: &Value, set: Option<&SetValue>) -> bool {
    match (value, set) {
        (Value::Procedure(code), Some(SetValue::Procedure(codes))) => codes.contains(code),
        (Value::Modifier(modifier), Some(SetValue::Modifier(modifiers))) => {
            modifiers.contains(modifier)
        }
        (Value::Place(place), Some(SetValue::Place(places))) => places.contains(place),
        (Value::Diagnosis(code), Some(SetValue::Diagnosis(diagnoses))) => {
            diagnoses.contains_bytes(code.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_amounts_read_as_dollars() {
        // Against the plain rule (a comma before each group of three from the
        // right), on both sides of a million dollars.
        let grouped = |cents: u64| {
            let whole = (cents / 100).to_string();
            let mut text = String::from("$");
            for (position, digit) in whole.chars().enumerate() {
                if position > 0 && (whole.len() - position) % 3 == 0 {
                    text.push(',');
                }
                text.push(digit);
            }
            format!("{text}.{:02}", cents % 100)
        };
        for cents in (0..300_000_000u64)
            .step_by(9_973)
            .chain([100_507, 99_999_999, 1_000, 10_000])
        {
            assert_eq!(dollars(cents as i64), grouped(cents));
        }
        assert_eq!(dollars(100_507), "$1,005.07");
        assert_eq!(dollars(248_000), "$2,480.00");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(dollars(100_000_000), "$1,000,000.00");
        assert_eq!(dollars(-123_456_789), "-$1,234,567.89");
        assert_eq!(dollars(99_999), "$999.99");
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(100_000), "$1,000.00");
        assert_eq!(dollars(10_000_000), "$100,000.00");
        assert_eq!(dollars(i64::MIN), "-$92,233,720,368,547,758.08");
        assert_eq!(dollars(i64::MAX), "$92,233,720,368,547,758.07");
        assert_eq!(Value::Money(241_000).display(), "$2,410.00");
    }

    #[test]
    fn numbers_and_dates_read_as_core_fmt_writes_them() {
        for number in [0, 7, -7, 10, 99, 1_000, i64::MAX, i64::MIN] {
            assert_eq!(Value::Number(number).display(), number.to_string());
        }
        for date in [
            Date::MIN,
            Date::MAX,
            Date::constant(2026, 3, 2),
            Date::constant(999, 12, 31),
            Date::constant(0, 1, 1),
            Date::constant(-1, 1, 1),
        ] {
            assert_eq!(Value::Date(date).display(), date.to_string());
        }
    }
}
