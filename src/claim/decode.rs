//! The spanned tree to the claim model, checking every field against the claim
//! contract (`shared/spec/claim-v1.md`) and collecting every problem.
//!
//! Messages follow the house rules (lowercase, no trailing period, input in
//! backticks) and never quote free text or the member's birth date: codes,
//! numbers, ids, enum words and dates of service may be quoted, a session note
//! may not.

use super::model::{
    Activity, Cents, Claim, ClaimPath, ClaimSpan, Diagnosis, Discipline, Documentation, History,
    Line, Located, Member, Modality, PlanOfCare, PriorAuthorization, Provider, Role, Telehealth,
    TherapyAllowed,
};
use super::tree::{child, Entry, Node, Value};
use super::ClaimError;
use crate::codes::{DiagnosisCode, Modifier, PlaceOfService, ProcedureCode};
use crate::diagnostics::did_you_mean;
use crate::Date;

const CLAIM_FIELDS: &[&str] = &[
    "id",
    "payer",
    "plan",
    "date_of_service",
    "place_of_service",
    "member",
    "provider",
    "diagnoses",
    "prior_authorization",
    "lines",
    "documentation",
    "history",
];
const MEMBER_FIELDS: &[&str] = &["id", "birth_date"];
const PROVIDER_FIELDS: &[&str] = &["npi", "discipline", "role", "taxonomy", "credential"];
const PRIOR_AUTHORIZATION_FIELDS: &[&str] = &["number", "codes", "units", "from", "through"];
const LINE_FIELDS: &[&str] = &[
    "code",
    "modifiers",
    "units",
    "minutes",
    "charge",
    "date_of_service",
    "place_of_service",
    "diagnosis_pointers",
];
const DOCUMENTATION_FIELDS: &[&str] = &[
    "objective",
    "functional_goals",
    "performance",
    "progress",
    "activities",
    "caregiver_trained",
    "total_timed_minutes",
    "total_treatment_minutes",
    "plan_of_care",
    "visits_since_progress_report",
    "telehealth",
];
const ACTIVITY_FIELDS: &[&str] = &["code", "description", "minutes"];
const PLAN_OF_CARE_FIELDS: &[&str] = &["established", "certified", "through"];
const TELEHEALTH_FIELDS: &[&str] = &["modality", "patient_consent"];
const HISTORY_FIELDS: &[&str] = &[
    "visits_this_year",
    "visits_under_authorization",
    "therapy_allowed_ytd",
];
const THERAPY_ALLOWED_FIELDS: &[&str] = &["pt_slp", "ot"];

const DISCIPLINES: &[(&str, Discipline)] = &[
    ("PT", Discipline::Pt),
    ("OT", Discipline::Ot),
    ("SLP", Discipline::Slp),
    ("physician", Discipline::Physician),
    ("other", Discipline::Other),
];
const ROLES: &[(&str, Role)] = &[
    ("therapist", Role::Therapist),
    ("assistant", Role::Assistant),
    ("physician", Role::Physician),
    ("other", Role::Other),
];
const MODALITIES: &[(&str, Modality)] = &[
    ("audio_video", Modality::AudioVideo),
    ("audio_only", Modality::AudioOnly),
];

/// Most modifiers a line carries (837P SV101-3 to SV101-6).
const MAX_MODIFIERS: usize = 4;
/// Highest diagnosis pointer (837P HI carries 12 diagnoses).
const MAX_POINTER: u64 = 12;
/// Largest amount in cents (the policy language's largest number), so sums of
/// amounts stay far from overflow.
const MAX_CENTS: Cents = crate::syntax::MAX_NUMBER;
/// Longest value quoted back in a message; longer ones are described, not quoted.
const MAX_QUOTED: usize = 24;

/// Reads a claim from its tree: the claim, or every problem found.
pub(super) fn decode(root: &Node) -> Result<Claim, Vec<ClaimError>> {
    let mut decoder = Decoder { errors: Vec::new() };
    let claim = decoder.claim(root);
    let mut errors = decoder.errors;
    match claim {
        Some(claim) if errors.is_empty() => Ok(claim),
        _ => {
            if errors.is_empty() {
                errors.push(ClaimError::new(
                    "the claim could not be read",
                    "",
                    root.start,
                    root.end,
                ));
            }
            errors.sort_by_key(|error| error.start);
            Err(errors)
        }
    }
}

/// The fields of one claim's record in a notes file (`--notes`): the facts an
/// 837P does not carry. `claim_id` names the claim in an NDJSON notes file.
const NOTES_FIELDS: &[&str] = &[
    "claim_id",
    "documentation",
    "history",
    "prior_authorization",
    "lines",
];
const NOTES_LINE_FIELDS: &[&str] = &["minutes"];

/// One claim's facts from a notes file, read with the claim contract's rules
/// and the claim's own paths (`/documentation`, `/lines/0/minutes`).
pub(super) struct NotesRecord {
    pub documentation: Option<Documentation>,
    pub history: Option<History>,
    pub prior_authorization: Option<PriorAuthorization>,
    /// 1-based line numbers and their minutes.
    pub minutes: Vec<(usize, Located<u32>)>,
}

/// Reads one notes record; every problem, at its place in the notes text.
pub(super) fn decode_notes(node: &Node) -> Result<NotesRecord, Vec<ClaimError>> {
    let mut decoder = Decoder { errors: Vec::new() };
    let record = decoder.notes(node);
    match record {
        Some(record) if decoder.errors.is_empty() => Ok(record),
        _ => {
            let mut errors = decoder.errors;
            if errors.is_empty() {
                errors.push(ClaimError::new(
                    "the notes could not be read",
                    "",
                    node.start,
                    node.end,
                ));
            }
            errors.sort_by_key(|error| error.start);
            Err(errors)
        }
    }
}

/// How a string field may be quoted back and checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    /// An identifier (`id`, `payer`, an authorization number): quoted, never empty.
    Id,
    /// A code (`97535`, `GO`, `11`): quoted; written as a number, it is told to quote it.
    Code,
    /// Free text from the session note or a name: never quoted back.
    Free,
}

/// An object of the claim whose fields have been checked against the contract.
struct Object<'n> {
    node: &'n Node<'n>,
    path: ClaimPath,
    /// How messages name it: "the claim", "a line", "`provider`".
    what: &'static str,
    /// Its fields as written. A field is looked up at its first occurrence;
    /// unknown and repeated ones have been reported.
    entries: &'n [Entry<'n>],
}

impl Object<'_> {
    fn span(&self) -> ClaimSpan {
        span(self.node, self.path)
    }
}

/// What a number was, read as a whole number.
enum Whole {
    Value(u64),
    Negative,
    TooLarge,
    Malformed,
}

/// What a number was, read as dollars.
pub(super) enum Money {
    Cents(Cents),
    Negative,
    TooManyDecimals,
    TooLarge,
    NotDecimal,
}

/// A line read, and whether it carries its own date and place of service.
struct LineRead {
    line: Option<Line>,
    has_date: bool,
    has_place: bool,
}

struct Decoder {
    errors: Vec<ClaimError>,
}

fn span(node: &Node, path: ClaimPath) -> ClaimSpan {
    ClaimSpan {
        path,
        start: Some(node.start),
        end: Some(node.end),
    }
}

fn located<T>(value: T, node: &Node, path: ClaimPath) -> Located<T> {
    Located {
        value,
        span: span(node, path),
    }
}

/// `text` in backticks when it looks like a code, a number or a word: short
/// and without spaces. Anything else may be a sentence from a session note
/// written in the wrong field, and is not quoted back.
fn quoted(text: &str) -> Option<String> {
    let token = text.chars().count() <= MAX_QUOTED
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '`');
    token.then(|| format!("`{text}`"))
}

/// How messages name a value: `` `units` ``, "a diagnosis pointer". A
/// label is written out only into a message, and almost none is.
type Label<'a> = &'a dyn std::fmt::Display;

/// `` `name` ``: a field's label.
struct Ticked(&'static str);

impl std::fmt::Display for Ticked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`", self.0)
    }
}

/// A field name in backticks (field names are not patient data), or a
/// placeholder for one too long or strange to print.
fn quoted_key(key: &str) -> String {
    let printable = key.chars().count() <= 40 && !key.chars().any(|c| c.is_control() || c == '`');
    if printable {
        format!("`{key}`")
    } else {
        "(a field name not shown)".to_owned()
    }
}

/// What a value is, for "found …": quoted when `quote`, else only its kind.
fn describe(node: &Node, quote: bool) -> String {
    match &node.value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(value) => format!("`{value}`"),
        Value::Number(raw) => quote
            .then(|| quoted(raw))
            .flatten()
            .unwrap_or_else(|| "a number".to_owned()),
        Value::String(text) => quote
            .then(|| quoted(text))
            .flatten()
            .unwrap_or_else(|| "text".to_owned()),
        Value::List(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn parse_whole(raw: &str) -> Whole {
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Whole::Malformed;
    }
    let value = digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    });
    match value {
        None if negative => Whole::Negative,
        None => Whole::TooLarge,
        Some(value) if negative && value > 0 => Whole::Negative,
        Some(value) => Whole::Value(value),
    }
}

pub(super) fn parse_money(raw: &str) -> Money {
    let (negative, text) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (dollars, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if dollars.is_empty() || !all_digits(dollars) || !all_digits(fraction) {
        return Money::NotDecimal;
    }
    if text.ends_with('.') {
        return Money::NotDecimal;
    }
    if negative && text.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        return Money::Negative;
    }
    if fraction.len() > 2 {
        return Money::TooManyDecimals;
    }
    let whole = dollars.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    });
    let cents = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(2)
        .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    match whole.and_then(|whole| whole.checked_mul(100)?.checked_add(cents)) {
        Some(total) if total <= MAX_CENTS => Money::Cents(total),
        Some(_) => Money::TooLarge,
        None => Money::TooLarge,
    }
}

/// `YYYY-MM-DD`, exactly, and a real date.
fn strict_date(text: &str) -> Result<Date, bool> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(at, b)| match at {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(false);
    }
    // The shape is checked: each field is ASCII digits, read without `str::parse`.
    let field = |from: usize, to: usize| {
        text.as_bytes()
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .fold(0i16, |number, digit| number * 10 + i16::from(digit - b'0'))
    };
    let (month, day) = (field(5, 7), field(8, 10));
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
        return Err(true);
    };
    Date::new(field(0, 4), month, day).map_err(|_| true)
}

/// The NPI check digit: Luhn over the NPI with the card-issuer prefix 80840.
pub(super) fn npi_is_valid(npi: &str) -> bool {
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = "80840"
        .bytes()
        .chain(npi.bytes())
        .rev()
        .enumerate()
        .map(|(from_right, b)| {
            let digit = u32::from(b - b'0');
            if from_right % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum % 10 == 0
}

impl Decoder {
    fn report(&mut self, node: &Node, path: ClaimPath, message: impl Into<String>) {
        self.errors.push(ClaimError::new(
            message,
            path.to_string(),
            node.start,
            node.end,
        ));
    }

    // ----- objects and fields -------------------------------------------------

    /// Checks that `node` is an object with only `known` fields, each once.
    fn object<'n>(
        &mut self,
        node: &'n Node<'n>,
        path: ClaimPath,
        what: &'static str,
        known: &[&'static str],
    ) -> Option<Object<'n>> {
        let Value::Object(entries) = &node.value else {
            let message = format!(
                "{what} must be an object of fields, found {}",
                describe(node, false)
            );
            self.report(node, path, message);
            return None;
        };
        // The known fields seen so far, by their place in `known` (at most 64).
        let mut seen = 0u64;
        for entry in entries.iter() {
            // The path and the quoted key only for a message: most fields are fine.
            let key = || quoted_key(entry.key);
            let place = known.iter().position(|name| *name == entry.key);
            let message =
                if let Some(bit) = place.map(|at| 1u64.checked_shl(at as u32).unwrap_or(0)) {
                    if seen & bit == 0 {
                        seen |= bit;
                        continue;
                    }
                    format!("duplicate field {} in {what}", key())
                } else {
                    let key = key();
                    let mut message = format!("unknown field {key} in {what}");
                    match did_you_mean(entry.key, known.iter().copied()) {
                        Some(suggestion) => {
                            message.push_str("; ");
                            message.push_str(&suggestion);
                        }
                        None => {
                            let list: Vec<String> =
                                known.iter().map(|name| format!("`{name}`")).collect();
                            message.push_str(&format!(" (its fields are {})", list.join(", ")));
                        }
                    }
                    message
                };
            self.errors.push(ClaimError::new(
                message,
                child(&path.to_string(), entry.key),
                entry.key_start,
                entry.key_end,
            ));
        }
        Some(Object {
            node,
            path,
            what,
            entries,
        })
    }

    /// A field's value and path, if present; `null` counts as absent.
    fn optional<'n>(
        &self,
        object: &Object<'n>,
        name: &'static str,
    ) -> Option<(&'n Node<'n>, ClaimPath)> {
        object
            .entries
            .iter()
            .find(|entry| entry.key == name)
            .filter(|entry| entry.node.value != Value::Null)
            .map(|entry| (&entry.node, object.path.key(name)))
    }

    /// Whether a field is written with a value (not absent, not `null`).
    fn present(&self, object: &Object<'_>, name: &'static str) -> bool {
        self.optional(object, name).is_some()
    }

    /// A required field's value and path; its absence is reported at the object.
    fn required<'n>(
        &mut self,
        object: &Object<'n>,
        name: &'static str,
    ) -> Option<(&'n Node<'n>, ClaimPath)> {
        let entry = object.entries.iter().find(|entry| entry.key == name);
        match entry {
            Some(entry) => Some((&entry.node, object.path.key(name))),
            None => {
                let message = format!("missing field `{name}` in {}", object.what);
                self.report(object.node, object.path, message);
                None
            }
        }
    }

    // ----- scalars ------------------------------------------------------------

    fn string<'n>(
        &mut self,
        node: &'n Node<'n>,
        path: ClaimPath,
        label: Label<'_>,
        kind: Text,
    ) -> Option<&'n str> {
        match &node.value {
            Value::String(text) => {
                if kind == Text::Id && text.trim().is_empty() {
                    self.report(node, path, format!("{label} must not be empty"));
                    return None;
                }
                Some(text)
            }
            Value::Number(raw) if kind != Text::Free => {
                let shown = quoted(raw).unwrap_or_else(|| "a long number".to_owned());
                let codes = if kind == Text::Code {
                    "codes are strings, so "
                } else {
                    ""
                };
                let fix = if raw.chars().count() <= MAX_QUOTED {
                    format!(" (`\"{raw}\"`)")
                } else {
                    String::new()
                };
                let message = format!(
                    "{label} must be a string, found the number {shown}: {codes}quote it{fix}"
                );
                self.report(node, path, message);
                None
            }
            _ => {
                let expected = if kind == Text::Free {
                    "text"
                } else {
                    "a string"
                };
                let message = format!(
                    "{label} must be {expected}, found {}",
                    describe(node, kind != Text::Free)
                );
                self.report(node, path, message);
                None
            }
        }
    }

    fn text(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
        kind: Text,
    ) -> Option<Located<String>> {
        self.string(node, path, label, kind)
            .map(|text| located(text.to_owned(), node, path))
    }

    /// A whole number from `min` to `max`.
    fn whole(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let read = match &node.value {
            Value::Number(raw) => parse_whole(raw),
            Value::String(text) if matches!(parse_whole(text), Whole::Value(_)) => {
                let message = format!(
                    "{label} must be a whole number, found the string {}: write numbers without quotes",
                    describe(node, true)
                );
                self.report(node, path, message);
                return None;
            }
            _ => Whole::Malformed,
        };
        // Counts run to `u32::MAX` ("≥ 1"); pointers have a real range ("from 1 to 12").
        let unbounded = max == u64::from(u32::MAX);
        match read {
            Whole::Value(value) if (min..=max).contains(&value) => Some(value),
            Whole::TooLarge if unbounded => {
                self.report(node, path, format!("{label} is too large: at most {max}"));
                None
            }
            Whole::Value(value) if unbounded && value > max => {
                self.report(node, path, format!("{label} is too large: at most {max}"));
                None
            }
            _ => {
                let range = if unbounded {
                    format!("≥ {min}")
                } else {
                    format!("from {min} to {max}")
                };
                let message = format!(
                    "{label} must be a whole number {range}, found {}",
                    describe(node, true)
                );
                self.report(node, path, message);
                None
            }
        }
    }

    fn count(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
        min: u64,
    ) -> Option<Located<u32>> {
        let value = self.whole(node, path, label, min, u64::from(u32::MAX))?;
        u32::try_from(value)
            .ok()
            .map(|value| located(value, node, path))
    }

    fn money(&mut self, node: &Node, path: ClaimPath, label: Label<'_>) -> Option<Located<Cents>> {
        let expected = "an amount in dollars ≥ 0 with at most 2 decimals (`125.50`)";
        let read = match &node.value {
            Value::Number(raw) => parse_money(raw),
            Value::String(text) if matches!(parse_money(text), Money::Cents(_)) => {
                let message = format!(
                    "{label} must be a number, found the string {}: write amounts without quotes",
                    describe(node, true)
                );
                self.report(node, path, message);
                return None;
            }
            _ => Money::NotDecimal,
        };
        let message = match read {
            Money::Cents(cents) => return Some(located(cents, node, path)),
            Money::TooLarge => format!("{label} is too large: at most {} dollars", MAX_CENTS / 100),
            Money::TooManyDecimals => format!(
                "{label} must be in dollars and cents, with at most 2 decimals, found {}",
                describe(node, true)
            ),
            Money::Negative | Money::NotDecimal => {
                format!("{label} must be {expected}, found {}", describe(node, true))
            }
        };
        self.report(node, path, message);
        None
    }

    /// A date `YYYY-MM-DD`; `quote` is false for the member's birth date.
    fn date(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
        quote: bool,
    ) -> Option<Located<Date>> {
        let message = match &node.value {
            Value::String(text) => match strict_date(text) {
                Ok(date) => return Some(located(date, node, path)),
                Err(true) if quote => {
                    format!("{label} {} is not a real date", describe(node, true))
                }
                Err(true) => format!("{label} is not a real date"),
                Err(false) => format!(
                    "{label} must be a date written YYYY-MM-DD (`2026-03-02`), found {}",
                    describe(node, quote)
                ),
            },
            _ => format!(
                "{label} must be a date written YYYY-MM-DD (`2026-03-02`), found {}",
                describe(node, quote)
            ),
        };
        self.report(node, path, message);
        None
    }

    fn boolean(&mut self, node: &Node, path: ClaimPath, label: Label<'_>) -> Option<Located<bool>> {
        if let Value::Bool(value) = node.value {
            return Some(located(value, node, path));
        }
        let message = format!(
            "{label} must be `true` or `false`, found {}",
            describe(node, true)
        );
        self.report(node, path, message);
        None
    }

    fn keyword<T: Copy>(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
        options: &[(&'static str, T)],
    ) -> Option<Located<T>> {
        let written = match &node.value {
            Value::String(text) => Some(&**text),
            _ => None,
        };
        if let Some(found) = written.and_then(|text| options.iter().find(|(word, _)| *word == text))
        {
            return Some(located(found.1, node, path));
        }
        let words: Vec<String> = options
            .iter()
            .map(|(word, _)| format!("`{word}`"))
            .collect();
        let mut message = format!(
            "{label} must be one of {}, found {}",
            words.join(", "),
            describe(node, true)
        );
        let suggestion = written.and_then(|text| {
            options
                .iter()
                .find(|(word, _)| word.eq_ignore_ascii_case(text))
                .map(|(word, _)| format!("did you mean `{word}`?"))
                .or_else(|| did_you_mean(text, options.iter().map(|(word, _)| *word)))
        });
        if let Some(suggestion) = suggestion {
            message.push_str("; ");
            message.push_str(&suggestion);
        }
        self.report(node, path, message);
        None
    }

    fn list<'n>(
        &mut self,
        node: &'n Node<'n>,
        path: ClaimPath,
        label: Label<'_>,
    ) -> Option<&'n [Node<'n>]> {
        if let Value::List(items) = &node.value {
            return Some(items);
        }
        let message = format!("{label} must be a list, found {}", describe(node, false));
        self.report(node, path, message);
        None
    }

    // ----- codes --------------------------------------------------------------

    fn procedure(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
    ) -> Option<Located<ProcedureCode>> {
        let text = self.string(node, path, label, Text::Code)?;
        match ProcedureCode::parse(text) {
            Ok(code) => Some(located(code, node, path)),
            Err(error) => {
                let message = format!("invalid procedure code{}: {}", shown(node), error.reason);
                self.report(node, path, message);
                None
            }
        }
    }

    fn modifier(&mut self, node: &Node, path: ClaimPath) -> Option<Modifier> {
        let text = self.string(node, path, &"a modifier", Text::Code)?;
        match Modifier::parse(text) {
            Ok(modifier) => Some(modifier),
            Err(error) => {
                let message = format!("invalid modifier{}: {}", shown(node), error.reason);
                self.report(node, path, message);
                None
            }
        }
    }

    fn place(
        &mut self,
        node: &Node,
        path: ClaimPath,
        label: Label<'_>,
    ) -> Option<Located<PlaceOfService>> {
        let text = self.string(node, path, label, Text::Code)?;
        match PlaceOfService::parse(text) {
            Ok(place) => Some(located(place, node, path)),
            Err(error) => {
                let message = format!("invalid place of service{}: {}", shown(node), error.reason);
                self.report(node, path, message);
                None
            }
        }
    }

    fn diagnosis(&mut self, node: &Node, path: ClaimPath) -> Option<Located<Diagnosis>> {
        let text = self.string(node, path, &"a diagnosis", Text::Code)?;
        let checked = DiagnosisCode::parse(text).and_then(|code| {
            if code.as_str().len() < 3 {
                Err(crate::codes::CodeError {
                    reason: "an ICD-10-CM code has at least three characters",
                })
            } else {
                Ok(code)
            }
        });
        match checked {
            Ok(code) => Some(located(
                Diagnosis {
                    text: text.to_owned(),
                    code: Some(code),
                },
                node,
                path,
            )),
            Err(error) => {
                let message = format!("invalid ICD-10-CM code{}: {}", shown(node), error.reason);
                self.report(node, path, message);
                None
            }
        }
    }

    fn npi(&mut self, node: &Node, path: ClaimPath) -> Option<Located<String>> {
        let text = self.string(node, path, &"`npi`", Text::Code)?;
        let message = if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            format!("`npi` must be 10 digits, found {}", describe(node, true))
        } else if !npi_is_valid(text) {
            format!(
                "`npi`{} is not a valid NPI: its check digit does not match (Luhn with prefix 80840)",
                shown(node)
            )
        } else {
            return Some(located(text.to_owned(), node, path));
        };
        self.report(node, path, message);
        None
    }

    fn taxonomy(&mut self, node: &Node, path: ClaimPath) -> Option<Located<String>> {
        let text = self.string(node, path, &"`taxonomy`", Text::Code)?;
        let ok = text.len() == 10
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok {
            return Some(located(text.to_owned(), node, path));
        }
        let message = format!(
            "`taxonomy` must be a NUCC taxonomy code of 10 digits or capital letters (`225X00000X`), found {}",
            describe(node, true)
        );
        self.report(node, path, message);
        None
    }

    // ----- fields of an object -----------------------------------------------

    /// A required field read with `read` (given the value, its path and its
    /// label `` `name` ``); `None` when missing or wrong, both reported.
    fn req<'n, T>(
        &mut self,
        object: &Object<'n>,
        name: &'static str,
        read: impl FnOnce(&mut Self, &'n Node<'n>, ClaimPath, Label<'_>) -> Option<T>,
    ) -> Option<T> {
        let (node, path) = self.required(object, name)?;
        read(self, node, path, &Ticked(name))
    }

    /// An optional field: `Some(None)` when absent or `null`, `Some(Some(_))`
    /// when read, `None` when present but wrong (reported), so a model field
    /// is `opt(…)?` once every field has been read.
    fn opt<'n, T>(
        &mut self,
        object: &Object<'n>,
        name: &'static str,
        read: impl FnOnce(&mut Self, &'n Node<'n>, ClaimPath, Label<'_>) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.optional(object, name) {
            None => Some(None),
            Some((node, path)) => read(self, node, path, &Ticked(name)).map(Some),
        }
    }

    /// Every item of a list read with `read`; the items if all were good.
    fn each<T>(
        &mut self,
        items: &[Node],
        path: ClaimPath,
        mut read: impl FnMut(&mut Self, &Node, ClaimPath) -> Option<T>,
    ) -> Option<Vec<T>> {
        let read: Vec<Option<T>> = items
            .iter()
            .enumerate()
            .map(|(index, node)| read(self, node, path.index(index)))
            .collect();
        read.into_iter().collect()
    }

    // ----- the claim ----------------------------------------------------------

    fn claim(&mut self, root: &Node) -> Option<Claim> {
        let object = self.object(root, ClaimPath::ROOT, "the claim", CLAIM_FIELDS)?;
        let id = self.req(&object, "id", |d, node, path, label| {
            d.text(node, path, label, Text::Id)
        });
        let payer = self.req(&object, "payer", |d, node, path, label| {
            d.text(node, path, label, Text::Id)
        });
        let plan = self.opt(&object, "plan", |d, node, path, label| {
            d.text(node, path, label, Text::Id)
        });
        let date_of_service = self.opt(&object, "date_of_service", |d, node, path, label| {
            d.date(node, path, label, true)
        });
        let place_of_service = self.opt(&object, "place_of_service", Self::place);
        let member = self.opt(&object, "member", |d, node, path, _| d.member(node, path));
        let provider = self.req(&object, "provider", |d, node, path, _| {
            d.provider(node, path)
        });
        let diagnoses = self.req(&object, "diagnoses", |d, node, path, _| {
            d.diagnoses(node, path)
        });
        // Pointers are checked against the diagnoses written, even if one of
        // them is malformed; an empty or missing list is reported once, not
        // again at every pointer.
        let diagnosis_count = self
            .optional(&object, "diagnoses")
            .and_then(|(node, _)| match &node.value {
                Value::List(items) if !items.is_empty() => Some(items.len()),
                _ => None,
            });
        let prior_authorization = self.opt(&object, "prior_authorization", |d, node, path, _| {
            d.prior_authorization(node, path)
        });
        let lines = self.req(&object, "lines", |d, node, path, _| {
            d.lines(node, path, diagnosis_count)
        });
        let documentation = self.opt(&object, "documentation", |d, node, path, _| {
            d.documentation(node, path)
        });
        let history = self.opt(&object, "history", |d, node, path, _| d.history(node, path));

        if let Some(lines) = &lines {
            let claim_date = self.present(&object, "date_of_service");
            let claim_place = self.present(&object, "place_of_service");
            self.line_defaults(&object, lines, claim_date, "date_of_service", |line| {
                line.has_date
            });
            self.line_defaults(&object, lines, claim_place, "place_of_service", |line| {
                line.has_place
            });
        }

        let lines = lines?
            .into_iter()
            .map(|line| line.line)
            .collect::<Option<Vec<_>>>()?;
        Some(Claim {
            id: id?,
            payer: payer?,
            plan: plan?,
            date_of_service: date_of_service?,
            place_of_service: place_of_service?,
            member: member?,
            provider: provider?,
            diagnoses: diagnoses?,
            prior_authorization: prior_authorization?,
            lines,
            documentation: documentation?,
            history: history?,
            span: object.span(),
            provenance: None,
        })
    }

    /// `date_of_service` / `place_of_service`: on the claim, or on every line.
    fn line_defaults(
        &mut self,
        object: &Object<'_>,
        lines: &[LineRead],
        on_claim: bool,
        name: &str,
        on_line: impl Fn(&LineRead) -> bool,
    ) {
        if on_claim {
            return;
        }
        let without: Vec<String> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| !on_line(line))
            .map(|(index, _)| format!("`/lines/{index}`"))
            .collect();
        if without.is_empty() {
            return;
        }
        let shown: Vec<&str> = without.iter().take(3).map(String::as_str).collect();
        let more = if without.len() > 3 { ", …" } else { "" };
        let message = format!(
            "missing field `{name}` in the claim: it is required unless every line has its own, and {}{more} {} none",
            shown.join(", "),
            if without.len() == 1 { "has" } else { "have" }
        );
        self.report(object.node, object.path, message);
    }

    fn member(&mut self, node: &Node, path: ClaimPath) -> Option<Member> {
        let object = self.object(node, path, "`member`", MEMBER_FIELDS)?;
        let id = self.opt(&object, "id", |d, node, path, label| {
            d.text(node, path, label, Text::Id)
        });
        // A birth date is patient data: never quoted back.
        let birth_date = self.opt(&object, "birth_date", |d, node, path, label| {
            d.date(node, path, label, false)
        });
        Some(Member {
            id: id?,
            birth_date: birth_date?,
        })
    }

    fn provider(&mut self, node: &Node, path: ClaimPath) -> Option<Provider> {
        let object = self.object(node, path, "`provider`", PROVIDER_FIELDS)?;
        let npi = self.req(&object, "npi", |d, node, path, _| d.npi(node, path));
        let discipline = self.req(&object, "discipline", |d, node, path, label| {
            d.keyword(node, path, label, DISCIPLINES)
        });
        let role = self.req(&object, "role", |d, node, path, label| {
            d.keyword(node, path, label, ROLES)
        });
        let taxonomy = self.opt(&object, "taxonomy", |d, node, path, _| {
            d.taxonomy(node, path)
        });
        let credential = self.opt(&object, "credential", |d, node, path, label| {
            d.text(node, path, label, Text::Free)
        });
        Some(Provider {
            npi: npi?,
            discipline: discipline?,
            role: role?,
            taxonomy: taxonomy?,
            credential: credential?,
        })
    }

    fn diagnoses(&mut self, node: &Node, path: ClaimPath) -> Option<Vec<Located<Diagnosis>>> {
        let items = self.list(node, path, &"`diagnoses`")?;
        if items.is_empty() {
            self.report(
                node,
                path,
                "`diagnoses` must list at least one ICD-10-CM code",
            );
            return None;
        }
        self.each(items, path, Self::diagnosis)
    }

    fn prior_authorization(&mut self, node: &Node, path: ClaimPath) -> Option<PriorAuthorization> {
        let what = "`prior_authorization`";
        let object = self.object(node, path, what, PRIOR_AUTHORIZATION_FIELDS)?;
        let number = self.req(&object, "number", |d, node, path, label| {
            d.text(node, path, label, Text::Id)
        });
        let codes = self.opt(&object, "codes", |d, node, path, label| {
            let items = d.list(node, path, label)?;
            let codes = d.each(items, path, |d, code, path| {
                d.procedure(code, path, &"a code").map(|code| code.value)
            })?;
            Some(located(codes, node, path))
        });
        let units = self.opt(&object, "units", |d, node, path, label| {
            d.count(node, path, label, 0)
        });
        let from = self.opt(&object, "from", |d, node, path, label| {
            d.date(node, path, label, true)
        });
        let through = self.opt(&object, "through", |d, node, path, label| {
            d.date(node, path, label, true)
        });
        Some(PriorAuthorization {
            number: number?,
            codes: codes?,
            units: units?,
            from: from?,
            through: through?,
        })
    }

    fn lines(
        &mut self,
        node: &Node,
        path: ClaimPath,
        diagnosis_count: Option<usize>,
    ) -> Option<Vec<LineRead>> {
        let items = self.list(node, path, &"`lines`")?;
        if items.is_empty() {
            self.report(node, path, "`lines` must list at least one service line");
            return None;
        }
        Some(
            items
                .iter()
                .enumerate()
                .map(|(index, line)| self.line(line, path.index(index), diagnosis_count))
                .collect(),
        )
    }

    fn line(&mut self, node: &Node, path: ClaimPath, diagnosis_count: Option<usize>) -> LineRead {
        let Some(object) = self.object(node, path, "a line", LINE_FIELDS) else {
            // Already reported; do not also report its date and place as missing.
            return LineRead {
                line: None,
                has_date: true,
                has_place: true,
            };
        };
        let has_date = self.present(&object, "date_of_service");
        let has_place = self.present(&object, "place_of_service");
        let code = self.req(&object, "code", Self::procedure);
        // No modifiers: an empty list whose span has a path but no offsets.
        let modifiers = self
            .opt(&object, "modifiers", |d, node, path, _| {
                d.modifiers(node, path)
            })
            .map(|modifiers| {
                modifiers.unwrap_or_else(|| Located {
                    value: Vec::new(),
                    span: ClaimSpan {
                        path: path.key("modifiers"),
                        start: None,
                        end: None,
                    },
                })
            });
        let units = self.req(&object, "units", |d, node, path, label| {
            d.count(node, path, label, 1)
        });
        let minutes = self.opt(&object, "minutes", |d, node, path, label| {
            d.count(node, path, label, 0)
        });
        let charge = self.opt(&object, "charge", Self::money);
        let date_of_service = self.opt(&object, "date_of_service", |d, node, path, label| {
            d.date(node, path, label, true)
        });
        let place_of_service = self.opt(&object, "place_of_service", Self::place);
        let diagnosis_pointers = self.opt(&object, "diagnosis_pointers", |d, node, path, _| {
            d.pointers(node, path, diagnosis_count)
        });
        let line = (|| {
            Some(Line {
                code: code?,
                modifiers: modifiers?,
                units: units?,
                minutes: minutes?,
                charge: charge?,
                date_of_service: date_of_service?,
                place_of_service: place_of_service?,
                diagnosis_pointers: diagnosis_pointers?,
                span: object.span(),
            })
        })();
        LineRead {
            line,
            has_date,
            has_place,
        }
    }

    fn modifiers(&mut self, node: &Node, path: ClaimPath) -> Option<Located<Vec<Modifier>>> {
        let items = self.list(node, path, &"`modifiers`")?;
        let modifiers = self.each(items, path, Self::modifier);
        if items.len() > MAX_MODIFIERS {
            let message = format!(
                "a line has at most {MAX_MODIFIERS} modifiers, found {}",
                items.len()
            );
            self.report(node, path, message);
            return None;
        }
        modifiers.map(|modifiers| located(modifiers, node, path))
    }

    fn pointers(
        &mut self,
        node: &Node,
        path: ClaimPath,
        diagnosis_count: Option<usize>,
    ) -> Option<Located<Vec<u8>>> {
        let items = self.list(node, path, &"`diagnosis_pointers`")?;
        if items.is_empty() {
            self.report(
                node,
                path,
                "`diagnosis_pointers` must list at least one pointer (leave it out to point at the first diagnosis)",
            );
            return None;
        }
        let pointers = self.each(items, path, |d, pointer, path| {
            let value = d.whole(pointer, path, &"a diagnosis pointer", 1, MAX_POINTER)?;
            let count = diagnosis_count.and_then(|count| u64::try_from(count).ok());
            if let Some(count) = count.filter(|&count| value > count) {
                let noun = if count == 1 { "diagnosis" } else { "diagnoses" };
                let message =
                    format!("diagnosis pointer `{value}` points past the claim's {count} {noun}");
                d.report(pointer, path, message);
                return None;
            }
            u8::try_from(value).ok()
        })?;
        Some(located(pointers, node, path))
    }

    fn documentation(&mut self, node: &Node, path: ClaimPath) -> Option<Documentation> {
        let object = self.object(node, path, "`documentation`", DOCUMENTATION_FIELDS)?;
        let free = |d: &mut Self, node: &Node, path: ClaimPath, label: Label<'_>| {
            d.text(node, path, label, Text::Free)
        };
        let count = |d: &mut Self, node: &Node, path: ClaimPath, label: Label<'_>| {
            d.count(node, path, label, 0)
        };
        let objective = self.opt(&object, "objective", free);
        let functional_goals = self.opt(&object, "functional_goals", |d, node, path, label| {
            let items = d.list(node, path, label)?;
            let goals = d.each(items, path, |d, goal, path| {
                d.string(goal, path, &"a goal", Text::Free)
                    .map(str::to_owned)
            })?;
            Some(located(goals, node, path))
        });
        let performance = self.opt(&object, "performance", free);
        let progress = self.opt(&object, "progress", free);
        let activities = self.opt(&object, "activities", |d, node, path, label| {
            let items = d.list(node, path, label)?;
            let activities = d.each(items, path, Self::activity)?;
            Some(located(activities, node, path))
        });
        let caregiver_trained = self.opt(&object, "caregiver_trained", Self::boolean);
        let total_timed_minutes = self.opt(&object, "total_timed_minutes", count);
        let total_treatment_minutes = self.opt(&object, "total_treatment_minutes", count);
        let plan_of_care = self.opt(&object, "plan_of_care", |d, node, path, _| {
            d.plan_of_care(node, path)
        });
        let visits_since_progress_report = self.opt(&object, "visits_since_progress_report", count);
        let telehealth = self.opt(&object, "telehealth", |d, node, path, _| {
            d.telehealth(node, path)
        });
        Some(Documentation {
            objective: objective?,
            functional_goals: functional_goals?,
            performance: performance?,
            progress: progress?,
            activities: activities?,
            caregiver_trained: caregiver_trained?,
            total_timed_minutes: total_timed_minutes?,
            total_treatment_minutes: total_treatment_minutes?,
            plan_of_care: plan_of_care?,
            visits_since_progress_report: visits_since_progress_report?,
            telehealth: telehealth?,
            span: object.span(),
        })
    }

    fn activity(&mut self, node: &Node, path: ClaimPath) -> Option<Activity> {
        let object = self.object(node, path, "an activity", ACTIVITY_FIELDS)?;
        let code = self.opt(&object, "code", Self::procedure);
        let description = self.opt(&object, "description", |d, node, path, label| {
            d.text(node, path, label, Text::Free)
        });
        let minutes = self.opt(&object, "minutes", |d, node, path, label| {
            d.count(node, path, label, 0)
        });
        Some(Activity {
            code: code?,
            description: description?,
            minutes: minutes?,
        })
    }

    fn plan_of_care(&mut self, node: &Node, path: ClaimPath) -> Option<PlanOfCare> {
        let object = self.object(node, path, "`plan_of_care`", PLAN_OF_CARE_FIELDS)?;
        let date = |d: &mut Self, node: &Node, path: ClaimPath, label: Label<'_>| {
            d.date(node, path, label, true)
        };
        let established = self.opt(&object, "established", date);
        let certified = self.opt(&object, "certified", date);
        let through = self.opt(&object, "through", date);
        Some(PlanOfCare {
            established: established?,
            certified: certified?,
            through: through?,
        })
    }

    fn telehealth(&mut self, node: &Node, path: ClaimPath) -> Option<Telehealth> {
        let object = self.object(node, path, "`telehealth`", TELEHEALTH_FIELDS)?;
        let modality = self.opt(&object, "modality", |d, node, path, label| {
            d.keyword(node, path, label, MODALITIES)
        });
        let patient_consent = self.opt(&object, "patient_consent", Self::boolean);
        Some(Telehealth {
            modality: modality?,
            patient_consent: patient_consent?,
        })
    }

    fn history(&mut self, node: &Node, path: ClaimPath) -> Option<History> {
        let object = self.object(node, path, "`history`", HISTORY_FIELDS)?;
        let count = |d: &mut Self, node: &Node, path: ClaimPath, label: Label<'_>| {
            d.count(node, path, label, 0)
        };
        let visits_this_year = self.opt(&object, "visits_this_year", count);
        let visits_under_authorization = self.opt(&object, "visits_under_authorization", count);
        let therapy_allowed_ytd = self.opt(&object, "therapy_allowed_ytd", |d, node, path, _| {
            d.therapy_allowed(node, path)
        });
        Some(History {
            visits_this_year: visits_this_year?,
            visits_under_authorization: visits_under_authorization?,
            therapy_allowed_ytd: therapy_allowed_ytd?,
        })
    }

    fn notes(&mut self, node: &Node) -> Option<NotesRecord> {
        let object = self.object(node, ClaimPath::ROOT, "a claim's notes", NOTES_FIELDS)?;
        let claim_id = self.opt(&object, "claim_id", |d, node, path, label| {
            d.text(node, path, label, Text::Id)
        });
        let documentation = self.opt(&object, "documentation", |d, node, path, _| {
            d.documentation(node, path)
        });
        let history = self.opt(&object, "history", |d, node, path, _| d.history(node, path));
        let prior_authorization = self.opt(&object, "prior_authorization", |d, node, path, _| {
            d.prior_authorization(node, path)
        });
        let minutes = self.opt(&object, "lines", |d, node, _, label| {
            let Value::Object(entries) = &node.value else {
                let message = format!(
                    "{label} must be an object keyed by line number (`\"1\": {{minutes: 30}}`), found {}",
                    describe(node, false)
                );
                d.report(node, ClaimPath::ROOT.key("lines"), message);
                return None;
            };
            let mut minutes = Vec::new();
            let mut good = true;
            for entry in entries.iter() {
                let number = match parse_whole(entry.key) {
                    Whole::Value(number) if (1..=999).contains(&number) => number,
                    _ => {
                        let message = format!(
                            "a line is named by its number from 1 (the n-th service line of the claim), found {}",
                            quoted_key(entry.key)
                        );
                        d.errors.push(ClaimError::new(message, "/lines", entry.key_start, entry.key_end));
                        good = false;
                        continue;
                    }
                };
                let index = usize::try_from(number - 1).unwrap_or(usize::MAX);
                let path = ClaimPath::ROOT.key("lines").index(index);
                if minutes.iter().any(|(seen, _)| *seen == index + 1) {
                    let message = format!("line {number} is given twice");
                    d.errors.push(ClaimError::new(message, path.to_string(), entry.key_start, entry.key_end));
                    good = false;
                    continue;
                }
                let Some(line) = d.object(&entry.node, path, "a line's notes", NOTES_LINE_FIELDS)
                else {
                    good = false;
                    continue;
                };
                match d.opt(&line, "minutes", |d, node, path, label| d.count(node, path, label, 0)) {
                    Some(Some(value)) => minutes.push((index + 1, value)),
                    Some(None) => {}
                    None => good = false,
                }
            }
            good.then_some(minutes)
        });
        // Checked as an id (the NDJSON form's key); the caller keys records by it.
        claim_id?;
        Some(NotesRecord {
            documentation: documentation?,
            history: history?,
            prior_authorization: prior_authorization?,
            minutes: minutes?.unwrap_or_default(),
        })
    }

    fn therapy_allowed(&mut self, node: &Node, path: ClaimPath) -> Option<TherapyAllowed> {
        let what = "`therapy_allowed_ytd`";
        let object = self.object(node, path, what, THERAPY_ALLOWED_FIELDS)?;
        let pt_slp = self.opt(&object, "pt_slp", Self::money);
        let ot = self.opt(&object, "ot", Self::money);
        Some(TherapyAllowed {
            pt_slp: pt_slp?,
            ot: ot?,
        })
    }
}

/// A code as written, quoted after a space, for "invalid modifier `gp`"; empty
/// when it is not short, spaceless text.
fn shown(node: &Node) -> String {
    match &node.value {
        Value::String(text) | Value::Number(text) => quoted(text)
            .map(|text| format!(" {text}"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The fields this reader accepts are the fields rules can name
/// (`check::schema`): the two lists must never drift apart.
#[cfg(test)]
mod schema_agreement {
    use super::*;
    use crate::check::schema;

    fn names(record: &schema::Record) -> Vec<&'static str> {
        record.names().collect()
    }

    #[test]
    fn no_object_has_more_fields_than_the_duplicate_check_can_track() {
        for known in [
            CLAIM_FIELDS,
            MEMBER_FIELDS,
            PROVIDER_FIELDS,
            PRIOR_AUTHORIZATION_FIELDS,
            LINE_FIELDS,
            DOCUMENTATION_FIELDS,
            ACTIVITY_FIELDS,
            PLAN_OF_CARE_FIELDS,
            TELEHEALTH_FIELDS,
            HISTORY_FIELDS,
            THERAPY_ALLOWED_FIELDS,
            NOTES_FIELDS,
            NOTES_LINE_FIELDS,
        ] {
            assert!(known.len() <= 64, "{known:?}");
        }
    }

    #[test]
    fn every_record_has_the_same_fields_in_the_reader_and_the_checker() {
        let pairs: [(&[&str], &schema::Record); 10] = [
            (CLAIM_FIELDS, &schema::CLAIM),
            (MEMBER_FIELDS, &schema::MEMBER),
            (PROVIDER_FIELDS, &schema::PROVIDER),
            (PRIOR_AUTHORIZATION_FIELDS, &schema::PRIOR_AUTHORIZATION),
            (DOCUMENTATION_FIELDS, &schema::DOCUMENTATION),
            (ACTIVITY_FIELDS, &schema::ACTIVITY),
            (PLAN_OF_CARE_FIELDS, &schema::PLAN_OF_CARE),
            (TELEHEALTH_FIELDS, &schema::TELEHEALTH),
            (HISTORY_FIELDS, &schema::HISTORY),
            (THERAPY_ALLOWED_FIELDS, &schema::THERAPY_ALLOWED_YTD),
        ];
        for (reader, record) in pairs {
            assert_eq!(
                reader,
                names(record).as_slice(),
                "the `{}` fields differ",
                record.name
            );
        }
        // A line's `diagnoses` is derived from its pointers: rules may name it, claims do not carry it.
        let mut line = names(&schema::LINE);
        line.retain(|name| *name != "diagnoses");
        assert_eq!(LINE_FIELDS, line.as_slice());
    }
}
