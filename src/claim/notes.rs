//! `ppl eval --notes FILE`: the facts a claim file does not carry (an 837P
//! never does) merged into its claims: minutes per line, the session note
//! (`documentation`), `history`, and the details of the prior authorization
//! the claim names.
//!
//! The file is YAML or JSON keyed by claim id, or NDJSON with one record a
//! line carrying `claim_id`:
//!
//! ```yaml
//! CLM-2026-000147:
//!   lines: { "1": { minutes: 30 }, "2": { minutes: 15 } }
//!   documentation: { objective: …, total_timed_minutes: 45 }
//!   history: { therapy_allowed_ytd: { pt_slp: 0, ot: 640.00 } }
//! ```
//!
//! Every field is read by the claim contract's own rules. Values from the
//! notes keep their claim path (`/documentation`) but no byte offsets: they
//! are not in the claim's text, so a report names the path instead of
//! underlining a place in the claim.

use std::collections::BTreeMap;
use std::path::Path;

use super::decode::{decode_notes, NotesRecord};
use super::model::{
    Activity, Claim, ClaimSpan, Documentation, History, Located, PlanOfCare, PriorAuthorization,
    Telehealth, TherapyAllowed,
};
use super::tree::{Node, Value};
use super::{detect_format, json, yaml, ClaimError, InputFormat, LineIndex};

/// A notes file read: each claim id's record, in the order written.
pub struct Notes {
    name: String,
    records: BTreeMap<String, Record>,
}

struct Record {
    facts: NotesRecord,
    /// 1-based line and column of the record in the notes file.
    line: usize,
    column: usize,
}

impl Notes {
    /// Reads a notes file; `name` is how messages name it. Every problem of the
    /// file, each at its line and column: a notes file is read whole or not at
    /// all, so no claim is judged on half its notes.
    pub fn read(name: &str, path: Option<&Path>, text: &str) -> Result<Self, Vec<ClaimError>> {
        let index = LineIndex::new(text);
        let arena = bumpalo::Bump::new();
        let mut errors = Vec::new();
        let mut records = BTreeMap::new();
        let mut add = |id: String, node: &Node, errors: &mut Vec<ClaimError>| {
            let facts = match decode_notes(node) {
                Ok(facts) => facts,
                Err(found) => {
                    errors.extend(found.into_iter().map(|mut error| {
                        error.message = format!("notes for claim `{id}`: {}", error.message);
                        error
                    }));
                    return;
                }
            };
            let mut at = ClaimError::new("", "", node.start, node.end);
            index.place(text, &mut at);
            if records.contains_key(&id) {
                at.message = format!("the notes give claim `{id}` twice");
                errors.push(at);
                return;
            }
            records.insert(
                id,
                Record {
                    facts,
                    line: at.line.unwrap_or(1),
                    column: at.column.unwrap_or(1),
                },
            );
        };
        match detect_format(path, text) {
            InputFormat::Ndjson => {
                let mut offset = 0;
                for raw in text.split_inclusive('\n') {
                    let start = offset;
                    offset += raw.len();
                    let line = raw.trim_end_matches(['\n', '\r']);
                    if line.trim_start_matches('\u{feff}').trim().is_empty() {
                        continue;
                    }
                    match json::parse(line, start, &arena) {
                        Ok(node) => match claim_id(&node) {
                            Some(id) => add(id, &node, &mut errors),
                            None => errors.push(ClaimError::new(
                                "each line of an NDJSON notes file needs its `claim_id`",
                                "/claim_id",
                                node.start,
                                node.end,
                            )),
                        },
                        Err(error) => errors.push(ClaimError::from(error)),
                    }
                }
            }
            format => {
                let parsed = match format {
                    InputFormat::Json => json::parse(text, 0, &arena),
                    _ => yaml::parse(text, &arena),
                };
                match parsed {
                    Ok(Node {
                        value: Value::Object(entries),
                        ..
                    }) => {
                        for entry in entries {
                            if claim_id(&entry.node).is_some() {
                                errors.push(ClaimError::new(
                                    "a notes file keyed by claim id does not repeat `claim_id` in the record",
                                    "/claim_id",
                                    entry.node.start,
                                    entry.node.end,
                                ));
                                continue;
                            }
                            add(entry.key.to_string(), &entry.node, &mut errors);
                        }
                    }
                    Ok(node) => errors.push(ClaimError::new(
                        "a notes file maps claim ids to their notes (`CLM-1: {lines: {\"1\": {minutes: 30}}}`)",
                        "",
                        node.start,
                        node.end,
                    )),
                    Err(error) => errors.push(ClaimError::from(error)),
                }
            }
        }
        if errors.is_empty() {
            Ok(Self {
                name: name.to_owned(),
                records,
            })
        } else {
            for error in &mut errors {
                index.place(text, error);
            }
            errors.sort_by_key(|error| error.start);
            Err(errors)
        }
    }

    /// The claim ids the notes give facts for.
    pub fn claim_ids(&self) -> impl Iterator<Item = &str> {
        self.records.keys().map(String::as_str)
    }

    /// Merges the notes for `claim` into it: `Ok(true)` when the notes had a
    /// record for it, `Ok(false)` when not. A fact the claim already has, a
    /// line it does not have, or an authorization it does not carry is an
    /// error, placed in the notes file.
    pub fn apply(&self, claim: &mut Claim) -> Result<bool, Vec<ClaimError>> {
        let Some(record) = self.records.get(&claim.id.value) else {
            return Ok(false);
        };
        let facts = &record.facts;
        let mut errors = Vec::new();
        let mut problem = |message: String, path: &str| {
            errors.push(ClaimError {
                message: format!(
                    "the notes `{}` for claim `{}` (line {}): {message}",
                    self.name, claim.id.value, record.line
                ),
                path: path.to_owned(),
                line: Some(record.line),
                column: Some(record.column),
                start: None,
                end: None,
            });
        };
        if facts.documentation.is_some() && claim.documentation.is_some() {
            problem(
                "the claim has its own `documentation`; give it in one place".to_owned(),
                "/documentation",
            );
        }
        if facts.history.is_some() && claim.history.is_some() {
            problem(
                "the claim has its own `history`; give it in one place".to_owned(),
                "/history",
            );
        }
        if let Some(notes_auth) = &facts.prior_authorization {
            match &claim.prior_authorization {
                None => problem(
                    format!(
                        "the notes describe prior authorization `{}`, and the claim carries none (REF*G1)",
                        notes_auth.number.value
                    ),
                    "/prior_authorization",
                ),
                Some(auth) if auth.number.value != notes_auth.number.value => problem(
                    format!(
                        "the notes describe prior authorization `{}`, and the claim carries `{}`",
                        notes_auth.number.value, auth.number.value
                    ),
                    "/prior_authorization/number",
                ),
                Some(auth)
                    if auth.codes.is_some()
                        || auth.units.is_some()
                        || auth.from.is_some()
                        || auth.through.is_some() =>
                {
                    problem(
                        "the claim describes its prior authorization itself; give it in one place"
                            .to_owned(),
                        "/prior_authorization",
                    )
                }
                Some(_) => {}
            }
        }
        let count = claim.lines.len();
        for (number, minutes) in &facts.minutes {
            let path = minutes.span.path.to_string();
            match claim.lines.get(number - 1) {
                None => problem(
                    format!(
                        "minutes for line {number}, and the claim has {count} line{}",
                        if count == 1 { "" } else { "s" }
                    ),
                    &path,
                ),
                Some(line) if line.minutes.is_some() => problem(
                    format!("line {number} has its own `minutes`; give them in one place"),
                    &path,
                ),
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if let Some(documentation) = &facts.documentation {
            let mut documentation = documentation.clone();
            unplace_documentation(&mut documentation);
            claim.documentation = Some(documentation);
        }
        if let Some(history) = &facts.history {
            let mut history = history.clone();
            unplace_history(&mut history);
            claim.history = Some(history);
        }
        if let (Some(notes_auth), Some(auth)) =
            (&facts.prior_authorization, &mut claim.prior_authorization)
        {
            let PriorAuthorization {
                codes,
                units,
                from,
                through,
                ..
            } = notes_auth.clone();
            auth.codes = codes.map(unplaced);
            auth.units = units.map(unplaced);
            auth.from = from.map(unplaced);
            auth.through = through.map(unplaced);
        }
        for (number, minutes) in &facts.minutes {
            if let Some(line) = claim.lines.get_mut(number - 1) {
                line.minutes = Some(unplaced(minutes.clone()));
            }
        }
        Ok(true)
    }
}

fn claim_id(node: &Node) -> Option<String> {
    let Value::Object(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .find(|entry| entry.key == "claim_id")
        .and_then(|entry| match &entry.node.value {
            Value::String(id) => Some(id.to_string()),
            _ => None,
        })
}

/// A value from the notes: its claim path kept, its offsets (into the notes
/// file, not the claim) dropped.
fn unplaced<T>(mut value: Located<T>) -> Located<T> {
    value.span.start = None;
    value.span.end = None;
    value
}

fn unplace<T>(value: &mut Option<Located<T>>) {
    if let Some(value) = value {
        value.span.start = None;
        value.span.end = None;
    }
}

fn unplace_span(span: &mut ClaimSpan) {
    span.start = None;
    span.end = None;
}

fn unplace_documentation(documentation: &mut Documentation) {
    let Documentation {
        objective,
        functional_goals,
        performance,
        progress,
        activities,
        caregiver_trained,
        total_timed_minutes,
        total_treatment_minutes,
        plan_of_care,
        visits_since_progress_report,
        telehealth,
        span,
    } = documentation;
    unplace(objective);
    unplace(functional_goals);
    unplace(performance);
    unplace(progress);
    if let Some(activities) = activities {
        unplace_span(&mut activities.span);
        for Activity {
            code,
            description,
            minutes,
        } in &mut activities.value
        {
            unplace(code);
            unplace(description);
            unplace(minutes);
        }
    }
    unplace(caregiver_trained);
    unplace(total_timed_minutes);
    unplace(total_treatment_minutes);
    if let Some(PlanOfCare {
        established,
        certified,
        through,
    }) = plan_of_care
    {
        unplace(established);
        unplace(certified);
        unplace(through);
    }
    unplace(visits_since_progress_report);
    if let Some(Telehealth {
        modality,
        patient_consent,
    }) = telehealth
    {
        unplace(modality);
        unplace(patient_consent);
    }
    unplace_span(span);
}

fn unplace_history(history: &mut History) {
    let History {
        visits_this_year,
        visits_under_authorization,
        therapy_allowed_ytd,
    } = history;
    unplace(visits_this_year);
    unplace(visits_under_authorization);
    if let Some(TherapyAllowed { pt_slp, ot }) = therapy_allowed_ytd {
        unplace(pt_slp);
        unplace(ot);
    }
}
