//! Reader tests: the contract's example, every validation rule with its place,
//! NDJSON batches, and inputs built to break a reader (deep nesting, huge numbers).

use super::*;
use crate::codes::{Modifier, PlaceOfService, ProcedureCode};
use std::path::Path;

const EXAMPLE_YAML: &str = include_str!("../../tests/data/claims/example.yaml");
const EXAMPLE_JSON: &str = include_str!("../../tests/data/claims/example.json");
const FULL_YAML: &str = include_str!("../../tests/data/claims/full.yaml");
const BATCH: &str = include_str!("../../tests/data/claims/batch.ndjson");

/// A small valid claim the rule tests break one field at a time.
const BASE: &str = r#"id: CLM-1
payer: medicare-part-b
date_of_service: 2026-03-02
place_of_service: "11"
provider: { npi: "1234567893", discipline: OT, role: therapist }
diagnoses: ["I69.351", "R26.89"]
lines:
  - { code: "97535", modifiers: ["GO"], units: 2, minutes: 30, diagnosis_pointers: [1] }
  - { code: "97530", modifiers: ["GO", "59"], units: 1, minutes: 15, diagnosis_pointers: [1, 2] }
"#;

fn yaml(text: &str) -> Claim {
    match read_claim(text, InputFormat::Yaml) {
        Ok(claim) => claim,
        Err(errors) => panic!("expected a claim, got {errors:#?}"),
    }
}

fn problems(text: &str, format: InputFormat) -> Vec<ClaimError> {
    match read_claim(text, format) {
        Ok(claim) => panic!("expected errors, got {claim:#?}"),
        Err(errors) => errors,
    }
}

/// The one error `BASE` with `from` replaced by `to` gives.
fn only_error(from: &str, to: &str) -> (String, ClaimError) {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    let text = BASE.replacen(from, to, 1);
    let mut errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    (text, errors.remove(0))
}

/// 1-based line and column (in characters) of byte `at` in `text`, computed
/// independently of the reader.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    (line, text[line_start..at].chars().count() + 1)
}

/// 1-based line and column of the first `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    line_column(text, at)
}

/// Asserts an error's path, the text its bytes cover, and that its line and
/// column agree with its byte offset.
fn assert_at(text: &str, error: &ClaimError, path: &str, covers: &str) {
    assert_eq!(error.path, path, "{error:#?}");
    let (start, end) = (error.start.unwrap(), error.end.unwrap());
    assert_eq!(&text[start..end], covers, "{error:#?}");
    let (line, column) = line_column(text, start);
    assert_eq!(
        (error.line, error.column),
        (Some(line), Some(column)),
        "{error:#?}"
    );
}

fn covered<'t>(text: &'t str, span: &ClaimSpan) -> &'t str {
    &text[span.start.unwrap()..span.end.unwrap()]
}

/// The Debug form of a value with every byte offset blanked, to compare claims
/// read from different texts.
fn without_offsets(debug: String) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Some(") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let number_end = tail[5..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(tail.len(), |end| end + 5);
        let is_offset = (head.ends_with("start: ") || head.ends_with("end: "))
            && number_end > 5
            && tail[number_end..].starts_with(')');
        if is_offset {
            out.push_str("Some(_)");
            rest = &tail[number_end + 1..];
        } else {
            out.push_str("Some(");
            rest = &tail[5..];
        }
    }
    out.push_str(rest);
    out
}

// ----- the contract's example --------------------------------------------

#[test]
fn the_contract_example_reads_to_the_model() {
    let claim = yaml(EXAMPLE_YAML);
    assert_eq!(claim.id.value, "CLM-2026-000147");
    assert_eq!(claim.payer.value, "medicare-part-b");
    assert_eq!(claim.plan, None);
    assert_eq!(
        claim.date_of_service.as_ref().map(|d| d.value),
        Some(jiff::civil::date(2026, 3, 2))
    );
    assert_eq!(
        claim.place_of_service.as_ref().map(|p| p.value.to_string()),
        Some("11".to_owned())
    );
    assert_eq!(claim.provider.npi.value, "1234567893");
    assert_eq!(claim.provider.discipline.value, Discipline::Ot);
    assert_eq!(claim.provider.role.value, Role::Therapist);
    assert_eq!(
        claim.provider.credential.as_ref().map(|c| c.value.as_str()),
        Some("OTR/L")
    );
    let diagnoses: Vec<&str> = claim
        .diagnoses
        .iter()
        .map(|d| d.value.text.as_str())
        .collect();
    assert_eq!(diagnoses, ["I69.351", "R26.89"]);

    assert_eq!(claim.lines.len(), 2);
    let second = &claim.lines[1];
    assert_eq!(second.code.value, ProcedureCode::parse("97530").unwrap());
    assert_eq!(
        second.modifiers.value,
        [
            Modifier::parse("GO").unwrap(),
            Modifier::parse("59").unwrap()
        ]
    );
    assert_eq!(second.units.value, 1);
    assert_eq!(second.minutes.as_ref().map(|m| m.value), Some(15));
    assert_eq!(
        second.diagnosis_pointers.as_ref().map(|p| p.value.clone()),
        Some(vec![1, 2])
    );
    assert_eq!(second.charge, None);
    assert_eq!(second.date_of_service, None);
    assert_eq!(claim.line_date(second), Some(jiff::civil::date(2026, 3, 2)));
    assert_eq!(
        claim.line_place(second),
        Some(PlaceOfService::parse("11").unwrap())
    );

    let documentation = claim.documentation.as_ref().unwrap();
    assert_eq!(
        documentation.total_timed_minutes.as_ref().map(|m| m.value),
        Some(45)
    );
    assert_eq!(
        documentation
            .visits_since_progress_report
            .as_ref()
            .map(|v| v.value),
        Some(4)
    );
    let plan = documentation.plan_of_care.as_ref().unwrap();
    assert_eq!(
        plan.through.as_ref().map(|d| d.value),
        Some(jiff::civil::date(2026, 5, 10))
    );
    assert_eq!(
        documentation
            .functional_goals
            .as_ref()
            .map(|g| g.value.len()),
        Some(1)
    );
    assert_eq!(documentation.caregiver_trained, None);
    assert_eq!(documentation.telehealth, None);
    assert_eq!(claim.history, None);
    assert_eq!(claim.prior_authorization, None);
    assert_eq!(claim.member, None);
}

#[test]
fn spans_cover_exactly_the_values() {
    let claim = yaml(EXAMPLE_YAML);
    let second = &claim.lines[1];
    assert_eq!(second.modifiers.span.path.to_string(), "/lines/1/modifiers");
    assert_eq!(
        covered(EXAMPLE_YAML, &second.modifiers.span),
        r#"["GO", "59"]"#
    );
    assert_eq!(second.code.span.path.to_string(), "/lines/1/code");
    assert_eq!(covered(EXAMPLE_YAML, &second.code.span), r#""97530""#);
    assert_eq!(second.units.span.path.to_string(), "/lines/1/units");
    assert_eq!(covered(EXAMPLE_YAML, &second.units.span), "1");
    assert_eq!(second.span.path.to_string(), "/lines/1");
    assert!(covered(EXAMPLE_YAML, &second.span).starts_with("{ code: \"97530\""));
    assert!(covered(EXAMPLE_YAML, &second.span).ends_with("[1, 2] }"));
    assert_eq!(
        covered(EXAMPLE_YAML, &claim.date_of_service.as_ref().unwrap().span),
        "2026-03-02"
    );
    let documentation = claim.documentation.as_ref().unwrap();
    assert_eq!(documentation.span.path.to_string(), "/documentation");
    assert!(covered(EXAMPLE_YAML, &documentation.span).starts_with("objective:"));
    assert!(covered(EXAMPLE_YAML, &documentation.span).ends_with("visits_since_progress_report: 4"));
    assert_eq!(claim.span.path.to_string(), "");
    assert_eq!(covered(EXAMPLE_YAML, &claim.span), EXAMPLE_YAML.trim_end());
}

#[test]
fn the_example_in_json_reads_to_the_same_model() {
    let from_yaml = yaml(EXAMPLE_YAML);
    let from_json = read_claim(EXAMPLE_JSON, InputFormat::Json).unwrap();
    assert_eq!(
        without_offsets(format!("{from_json:?}")),
        without_offsets(format!("{from_yaml:?}"))
    );
    assert_ne!(
        from_json, from_yaml,
        "the offsets differ, so the spans must"
    );
    let modifiers = &from_json.lines[1].modifiers;
    assert_eq!(covered(EXAMPLE_JSON, &modifiers.span), r#"["GO","59"]"#);
    assert_eq!(
        covered(
            EXAMPLE_JSON,
            &from_json.lines[1].minutes.as_ref().unwrap().span
        ),
        "15"
    );
}

#[test]
fn every_field_of_the_contract_reads() {
    let claim = yaml(FULL_YAML);
    assert_eq!(claim.plan.as_ref().map(|p| p.value.as_str()), Some("ppo"));
    let member = claim.member.as_ref().unwrap();
    assert_eq!(
        member.id.as_ref().map(|i| i.value.as_str()),
        Some("M-000042")
    );
    assert_eq!(
        member.birth_date.as_ref().map(|d| d.value),
        Some(jiff::civil::date(1951, 7, 14))
    );
    assert_eq!(claim.provider.role.value, Role::Assistant);
    assert_eq!(
        claim.provider.taxonomy.as_ref().map(|t| t.value.as_str()),
        Some("225200000X")
    );
    let auth = claim.prior_authorization.as_ref().unwrap();
    assert_eq!(auth.number.value, "PA-7781");
    assert_eq!(auth.codes.as_ref().map(|c| c.value.len()), Some(2));
    assert_eq!(auth.units.as_ref().map(|u| u.value), Some(24));
    assert_eq!(
        auth.through.as_ref().map(|d| d.value),
        Some(jiff::civil::date(2026, 4, 5))
    );
    let first = &claim.lines[0];
    assert_eq!(first.charge.as_ref().map(|c| c.value), Some(12_050));
    assert_eq!(
        first.place_of_service.as_ref().map(|p| p.value.to_string()),
        Some("10".to_owned())
    );
    assert_eq!(covered(FULL_YAML, &first.modifiers.span), "[GP, CQ]");
    let second = &claim.lines[1];
    assert_eq!(second.code.value, ProcedureCode::parse("G0283").unwrap());
    assert_eq!(second.charge.as_ref().map(|c| c.value), Some(3_500));
    assert!(second.modifiers.value.is_empty());
    assert_eq!(second.modifiers.span.path.to_string(), "/lines/1/modifiers");
    assert_eq!(second.modifiers.span.start, None);
    assert_eq!(claim.date_of_service, None);
    assert_eq!(claim.line_date(second), Some(jiff::civil::date(2026, 3, 3)));
    let documentation = claim.documentation.as_ref().unwrap();
    let activities = documentation.activities.as_ref().unwrap();
    assert_eq!(activities.value.len(), 2);
    assert_eq!(activities.value[1].code, None);
    assert_eq!(
        activities.value[0].minutes.as_ref().map(|m| m.value),
        Some(28)
    );
    assert_eq!(
        documentation.caregiver_trained.as_ref().map(|c| c.value),
        Some(true)
    );
    let telehealth = documentation.telehealth.as_ref().unwrap();
    assert_eq!(
        telehealth.modality.as_ref().map(|m| m.value),
        Some(Modality::AudioVideo)
    );
    let history = claim.history.as_ref().unwrap();
    assert_eq!(history.visits_this_year.as_ref().map(|v| v.value), Some(11));
    let allowed = history.therapy_allowed_ytd.as_ref().unwrap();
    assert_eq!(allowed.pt_slp.as_ref().map(|a| a.value), Some(148_025));
    assert_eq!(allowed.ot.as_ref().map(|a| a.value), Some(0));
    // Block-style list: its span starts at the dash and ends at its last item.
    let diagnoses_start = claim.diagnoses[0].span.start.unwrap();
    assert_eq!(&FULL_YAML[diagnoses_start..diagnoses_start + 6], "M62.81");
}

// ----- NDJSON ----------------------------------------------------------------

#[test]
fn ndjson_gives_one_result_per_line_in_order() {
    let results = read_ndjson(BATCH);
    let numbers: Vec<usize> = results.iter().map(|(line, _)| *line).collect();
    assert_eq!(numbers, [1, 2, 4, 5], "the blank line 3 gives no result");

    assert_eq!(results[0].1.as_ref().unwrap().id.value, "B-1");
    assert_eq!(results[3].1.as_ref().unwrap().id.value, "B-4");

    // Line 2 is not JSON: the error is on line 2, with offsets into the whole batch.
    let bad = results[1].1.as_ref().unwrap_err();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, Some(2));
    assert!(bad[0].message.contains("expected `,` or `}`"), "{bad:#?}");
    let start = bad[0].start.unwrap();
    assert_eq!(&BATCH[start..start + 18], "\"place_of_service\"");
    let line_2_start = BATCH.find("\n{\"id\": \"B-2\"").unwrap() + 1;
    assert_eq!(bad[0].column, Some(start - line_2_start + 1));
    assert_eq!(bad[0].path, "");

    // Line 4 is JSON with a typo.
    let typo = results[2].1.as_ref().unwrap_err();
    assert_eq!(typo.len(), 1);
    assert_eq!(
        typo[0].message,
        "unknown field `minuts` in a line; did you mean `minutes`?"
    );
    assert_eq!(typo[0].path, "/lines/0/minuts");
    assert_eq!(typo[0].line, Some(4));
    let (start, end) = (typo[0].start.unwrap(), typo[0].end.unwrap());
    assert_eq!(&BATCH[start..end], "\"minuts\"");
    let line_4 = BATCH.lines().nth(3).unwrap();
    assert_eq!(typo[0].column, Some(line_4.find("\"minuts\"").unwrap() + 1));

    // A claim after the bad lines keeps its own offsets.
    let last = results[3].1.as_ref().unwrap();
    assert_eq!(covered(BATCH, &last.lines[0].units.span), "1");
}

#[test]
fn ndjson_lines_with_crlf_and_a_missing_final_newline() {
    let line = BATCH.lines().next().unwrap();
    let text = format!("{line}\r\n   \r\n{line}");
    let results = read_ndjson(&text);
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].0, 3);
    assert!(results.iter().all(|(_, result)| result.is_ok()));
}

// ----- fields: unknown, duplicate, missing -------------------------------------

#[test]
fn unknown_fields_are_errors_with_did_you_mean() {
    let (text, error) = only_error("minutes: 30", "minuts: 30");
    assert_eq!(
        error.message,
        "unknown field `minuts` in a line; did you mean `minutes`?"
    );
    assert_at(&text, &error, "/lines/0/minuts", "minuts");
    assert_eq!((error.line, error.column), (Some(8), Some(51)));
}

#[test]
fn unknown_fields_without_a_close_name_list_the_fields() {
    let (text, error) = only_error("payer:", "zzz: 1\npayer:");
    assert!(
        error
            .message
            .starts_with("unknown field `zzz` in the claim (its fields are `id`, `payer`"),
        "{error:#?}"
    );
    assert_at(&text, &error, "/zzz", "zzz");
}

#[test]
fn unknown_fields_in_nested_objects() {
    let (text, error) = only_error("role: therapist", "role: therapist, credentail: DPT");
    assert_eq!(
        error.message,
        "unknown field `credentail` in `provider`; did you mean `credential`?"
    );
    assert_at(&text, &error, "/provider/credentail", "credentail");
}

#[test]
fn duplicate_fields_are_errors() {
    let (text, error) = only_error("units: 2,", "units: 2, units: 3,");
    assert_eq!(error.message, "duplicate field `units` in a line");
    assert_at(&text, &error, "/lines/0/units", "units");
    assert_eq!(error.column, Some(position_of(&text, "units: 3").1));
    let json = r#"{"id": "A", "id": "B"}"#;
    let errors = problems(json, InputFormat::Json);
    assert!(errors
        .iter()
        .any(|e| e.message == "duplicate field `id` in the claim" && e.column == Some(13)));
}

#[test]
fn missing_fields_name_the_object_they_are_missing_from() {
    let (text, error) = only_error("units: 2, ", "");
    assert_eq!(error.message, "missing field `units` in a line");
    assert_eq!(error.path, "/lines/0");
    let (line, column) = position_of(&text, "{ code: \"97535\"");
    assert_eq!((error.line, error.column), (Some(line), Some(column)));
    let (_, error) = only_error(r#"npi: "1234567893", "#, "");
    assert_eq!(error.message, "missing field `npi` in `provider`");
    assert_eq!(error.path, "/provider");
    assert_eq!((error.line, error.column), (Some(5), Some(11)));
    let (_, error) = only_error("id: CLM-1\n", "");
    assert_eq!(error.message, "missing field `id` in the claim");
    assert_eq!(
        (error.path.as_str(), error.line, error.column),
        ("", Some(1), Some(1))
    );
}

#[test]
fn provider_and_its_fields_are_required() {
    let (_, error) = only_error(
        "provider: { npi: \"1234567893\", discipline: OT, role: therapist }\n",
        "",
    );
    assert_eq!(error.message, "missing field `provider` in the claim");
    let text = BASE.replace("npi: \"1234567893\", discipline: OT, role: therapist", "");
    let errors = problems(&text, InputFormat::Yaml);
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "missing field `npi` in `provider`",
            "missing field `discipline` in `provider`",
            "missing field `role` in `provider`"
        ]
    );
}

#[test]
fn at_least_one_diagnosis_and_one_line() {
    let (text, error) = only_error(r#"["I69.351", "R26.89"]"#, "[]");
    assert_eq!(
        error.message,
        "`diagnoses` must list at least one ICD-10-CM code"
    );
    assert_at(&text, &error, "/diagnoses", "[]");

    let text = format!("{}lines: []\n", BASE.split("lines:").next().unwrap());
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].message,
        "`lines` must list at least one service line"
    );
    assert_at(&text, &errors[0], "/lines", "[]");

    let text = BASE.split("lines:").next().unwrap();
    let errors = problems(text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].message, "missing field `lines` in the claim");
}

#[test]
fn date_and_place_of_service_are_required_unless_every_line_has_its_own() {
    let (_, error) = only_error("date_of_service: 2026-03-02\n", "");
    assert_eq!(
        error.message,
        "missing field `date_of_service` in the claim: it is required unless every line has its own, and `/lines/0`, `/lines/1` have none"
    );
    assert_eq!(
        (error.path.as_str(), error.line, error.column),
        ("", Some(1), Some(1))
    );

    let text = BASE
        .replace("date_of_service: 2026-03-02\n", "")
        .replace("units: 2,", "units: 2, date_of_service: 2026-03-02,");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.ends_with("`/lines/1` has none"),
        "{errors:#?}"
    );

    let text = BASE
        .replace("place_of_service: \"11\"\n", "")
        .replace("units: 2,", "units: 2, place_of_service: \"02\",")
        .replace("units: 1,", "units: 1, place_of_service: \"10\",");
    let claim = yaml(&text);
    assert_eq!(claim.place_of_service, None);
    assert_eq!(
        claim.line_place(&claim.lines[0]).map(|p| p.to_string()),
        Some("02".to_owned())
    );
}

// ----- types and values ------------------------------------------------------

#[test]
fn wrong_types_are_errors() {
    let (text, error) = only_error("units: 2,", "units: two,");
    assert_eq!(
        error.message,
        "`units` must be a whole number ≥ 1, found `two`"
    );
    assert_at(&text, &error, "/lines/0/units", "two");

    let (text, error) = only_error("units: 2,", "units: \"2\",");
    assert_eq!(
        error.message,
        "`units` must be a whole number, found the string `2`: write numbers without quotes"
    );
    assert_at(&text, &error, "/lines/0/units", "\"2\"");

    let (text, error) = only_error("units: 2,", "units: 2.5,");
    assert_eq!(
        error.message,
        "`units` must be a whole number ≥ 1, found `2.5`"
    );
    assert_at(&text, &error, "/lines/0/units", "2.5");

    let (text, error) = only_error(r#"modifiers: ["GO"]"#, r#"modifiers: "GO""#);
    assert_eq!(error.message, "`modifiers` must be a list, found text");
    assert_at(&text, &error, "/lines/0/modifiers", "\"GO\"");

    let (text, error) = only_error(
        "provider: { npi: \"1234567893\", discipline: OT, role: therapist }",
        "provider: [OT]",
    );
    assert_eq!(
        error.message,
        "`provider` must be an object of fields, found a list"
    );
    assert_at(&text, &error, "/provider", "[OT]");
}

#[test]
fn units_at_least_one_and_minutes_at_least_zero() {
    let (text, error) = only_error("units: 2,", "units: 0,");
    assert_eq!(
        error.message,
        "`units` must be a whole number ≥ 1, found `0`"
    );
    assert_at(&text, &error, "/lines/0/units", "0");

    let (text, error) = only_error("minutes: 30", "minutes: -5");
    assert_eq!(
        error.message,
        "`minutes` must be a whole number ≥ 0, found `-5`"
    );
    assert_at(&text, &error, "/lines/0/minutes", "-5");

    let text = BASE.replace("minutes: 30", "minutes: 0");
    assert_eq!(
        yaml(&text).lines[0].minutes.as_ref().map(|m| m.value),
        Some(0)
    );
}

#[test]
fn codes_written_as_numbers_must_be_quoted() {
    let (text, error) = only_error(r#"code: "97535""#, "code: 97535");
    assert_eq!(
        error.message,
        "`code` must be a string, found the number `97535`: codes are strings, so quote it (`\"97535\"`)"
    );
    assert_at(&text, &error, "/lines/0/code", "97535");

    // YAML reads `02` unquoted as the number 2: the message shows it as written.
    let (text, error) = only_error(r#"place_of_service: "11""#, "place_of_service: 02");
    assert_eq!(
        error.message,
        "`place_of_service` must be a string, found the number `02`: codes are strings, so quote it (`\"02\"`)"
    );
    assert_at(&text, &error, "/place_of_service", "02");
    assert_eq!((error.line, error.column), (Some(4), Some(19)));

    let (text, error) = only_error(r#"["GO", "59"]"#, r#"["GO", 59]"#);
    assert!(error
        .message
        .starts_with("a modifier must be a string, found the number `59`"));
    assert_at(&text, &error, "/lines/1/modifiers/1", "59");

    let (text, error) = only_error(r#"npi: "1234567893""#, "npi: 1234567893");
    assert!(
        error.message.starts_with("`npi` must be a string"),
        "{error:#?}"
    );
    assert_at(&text, &error, "/provider/npi", "1234567893");

    let json = EXAMPLE_JSON.replace(r#""code": "97530""#, r#""code": 97530"#);
    let errors = problems(&json, InputFormat::Json);
    assert_eq!(errors.len(), 1);
    assert_at(&json, &errors[0], "/lines/1/code", "97530");

    // `!!str` makes a plain scalar a string.
    let text = BASE.replace(r#"code: "97535""#, "code: !!str 97535");
    assert_eq!(
        yaml(&text).lines[0].code.value,
        ProcedureCode::parse("97535").unwrap()
    );
}

#[test]
fn code_formats_are_checked() {
    let (text, error) = only_error(r#"code: "97535""#, r#"code: "9753""#);
    assert_eq!(
        error.message,
        "invalid procedure code `9753`: a procedure code has five characters"
    );
    assert_at(&text, &error, "/lines/0/code", "\"9753\"");

    let (text, error) = only_error(r#"["GO"]"#, r#"["go"]"#);
    assert!(
        error.message.starts_with("invalid modifier `go`:"),
        "{error:#?}"
    );
    assert_at(&text, &error, "/lines/0/modifiers/0", "\"go\"");

    let (text, error) = only_error(r#"place_of_service: "11""#, r#"place_of_service: "2""#);
    assert!(error.message.starts_with("invalid place of service `2`:"));
    assert_at(&text, &error, "/place_of_service", "\"2\"");

    let (text, error) = only_error(r#""R26.89""#, r#""r26.89""#);
    assert!(error
        .message
        .starts_with("invalid ICD-10-CM code `r26.89`:"));
    assert_at(&text, &error, "/diagnoses/1", "\"r26.89\"");

    let (text, error) = only_error(r#""R26.89""#, r#""R2""#);
    assert_eq!(
        error.message,
        "invalid ICD-10-CM code `R2`: an ICD-10-CM code has at least three characters"
    );
    assert_at(&text, &error, "/diagnoses/1", "\"R2\"");
}

#[test]
fn at_most_four_modifiers() {
    let (text, error) = only_error(r#"["GO", "59"]"#, r#"["GO", "59", "KX", "XU", "CQ"]"#);
    assert_eq!(error.message, "a line has at most 4 modifiers, found 5");
    assert_at(
        &text,
        &error,
        "/lines/1/modifiers",
        r#"["GO", "59", "KX", "XU", "CQ"]"#,
    );
    let text = BASE.replace(r#"["GO", "59"]"#, r#"["GO", "59", "KX", "XU"]"#);
    assert_eq!(yaml(&text).lines[1].modifiers.value.len(), 4);
}

#[test]
fn dates_are_real_and_written_yyyy_mm_dd() {
    let (text, error) = only_error("2026-03-02", "2026-02-30");
    assert_eq!(
        error.message,
        "`date_of_service` `2026-02-30` is not a real date"
    );
    assert_at(&text, &error, "/date_of_service", "2026-02-30");

    let (text, error) = only_error("2026-03-02", "03/02/2026");
    assert_eq!(
        error.message,
        "`date_of_service` must be a date written YYYY-MM-DD (`2026-03-02`), found `03/02/2026`"
    );
    assert_at(&text, &error, "/date_of_service", "03/02/2026");

    let (_, error) = only_error("2026-03-02", "2026-3-2");
    assert!(error
        .message
        .starts_with("`date_of_service` must be a date written YYYY-MM-DD"));

    let (text, error) = only_error("units: 2,", "units: 2, date_of_service: \"2026-13-01\",");
    assert_at(&text, &error, "/lines/0/date_of_service", "\"2026-13-01\"");
}

#[test]
fn charges_are_decimals_in_cents() {
    let with_charge =
        |charge: &str| BASE.replace("units: 1,", &format!("units: 1, charge: {charge},"));
    for (written, cents) in [("125.5", 12_550), ("125", 12_500), ("0.07", 7), ("0", 0)] {
        let claim = yaml(&with_charge(written));
        assert_eq!(
            claim.lines[1].charge.as_ref().map(|c| c.value),
            Some(cents),
            "{written}"
        );
    }
    let text = with_charge("12.505");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(
        errors[0].message,
        "`charge` must be in dollars and cents, with at most 2 decimals, found `12.505`"
    );
    assert_at(&text, &errors[0], "/lines/1/charge", "12.505");
    for bad in ["-1", "1e3", "abc", ".inf", "99999999999999999999999"] {
        let text = with_charge(bad);
        let errors = problems(&text, InputFormat::Yaml);
        assert_eq!(errors.len(), 1, "{bad}");
        assert_at(&text, &errors[0], "/lines/1/charge", bad);
    }
}

#[test]
fn npi_check_digit() {
    assert!(decode::npi_is_valid("1234567893"));
    assert!(!decode::npi_is_valid("1234567890"));
    assert!(!decode::npi_is_valid("123456789"));
    assert!(!decode::npi_is_valid("12345678a3"));

    let (text, error) = only_error("1234567893", "1234567890");
    assert_eq!(
        error.message,
        "`npi` `1234567890` is not a valid NPI: its check digit does not match (Luhn with prefix 80840)"
    );
    assert_at(&text, &error, "/provider/npi", "\"1234567890\"");
    let (text, error) = only_error("1234567893", "12345");
    assert_eq!(error.message, "`npi` must be 10 digits, found `12345`");
    assert_at(&text, &error, "/provider/npi", "\"12345\"");
}

#[test]
fn enums_are_spelled_as_the_contract_spells_them() {
    let (text, error) = only_error("discipline: OT", "discipline: ot");
    assert_eq!(
        error.message,
        "`discipline` must be one of `PT`, `OT`, `SLP`, `physician`, `other`, found `ot`; did you mean `OT`?"
    );
    assert_at(&text, &error, "/provider/discipline", "ot");

    let (text, error) = only_error("role: therapist", "role: therapists");
    assert!(
        error.message.ends_with("did you mean `therapist`?"),
        "{error:#?}"
    );
    assert_at(&text, &error, "/provider/role", "therapists");

    let text = format!("{BASE}documentation: {{ telehealth: {{ modality: video }} }}\n");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1);
    assert!(errors[0]
        .message
        .starts_with("`modality` must be one of `audio_video`, `audio_only`"));
    assert_at(
        &text,
        &errors[0],
        "/documentation/telehealth/modality",
        "video",
    );

    let text = format!("{BASE}documentation: {{ caregiver_trained: yes }}\n");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(
        errors[0].message,
        "`caregiver_trained` must be `true` or `false`, found `yes`"
    );
    assert_at(&text, &errors[0], "/documentation/caregiver_trained", "yes");
}

#[test]
fn diagnosis_pointers_are_1_to_12_and_within_the_diagnoses() {
    let (text, error) = only_error("[1, 2]", "[1, 3]");
    assert_eq!(
        error.message,
        "diagnosis pointer `3` points past the claim's 2 diagnoses"
    );
    assert_at(&text, &error, "/lines/1/diagnosis_pointers/1", "3");

    let (text, error) = only_error("[1, 2]", "[0, 2]");
    assert_eq!(
        error.message,
        "a diagnosis pointer must be a whole number from 1 to 12, found `0`"
    );
    assert_at(&text, &error, "/lines/1/diagnosis_pointers/0", "0");

    let (_, error) = only_error("[1, 2]", "[13]");
    assert!(error.message.ends_with("from 1 to 12, found `13`"));

    let (text, error) = only_error("[1, 2]", "[]");
    assert!(error
        .message
        .starts_with("`diagnosis_pointers` must list at least one pointer"));
    assert_at(&text, &error, "/lines/1/diagnosis_pointers", "[]");

    let text = BASE.replace(", diagnosis_pointers: [1]", "");
    assert_eq!(yaml(&text).lines[0].diagnosis_pointers, None);
}

#[test]
fn every_problem_is_reported_not_the_first() {
    let text = BASE
        .replace("units: 2,", "units: 0,")
        .replace("discipline: OT", "discipline: ot")
        .replace("minutes: 15", "minuts: 15")
        .replace("date_of_service: 2026-03-02", "date_of_service: 2026-02-30");
    let errors = problems(&text, InputFormat::Yaml);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/date_of_service",
            "/provider/discipline",
            "/lines/0/units",
            "/lines/1/minuts"
        ],
        "in the order of the text"
    );
}

// ----- absent, null, empty ---------------------------------------------------

#[test]
fn empty_documentation_is_not_absent_documentation() {
    let claim = yaml(&format!("{BASE}documentation: {{}}\n"));
    let documentation = claim.documentation.unwrap();
    assert_eq!(documentation.objective, None);
    assert_eq!(documentation.total_timed_minutes, None);
    assert_eq!(documentation.span.path.to_string(), "/documentation");
    assert_eq!(yaml(BASE).documentation, None);
    // `null` (or an empty YAML value) is the same as absent.
    assert_eq!(yaml(&format!("{BASE}documentation:\n")).documentation, None);
    assert_eq!(yaml(&format!("{BASE}history: null\n")).history, None);
    let text = BASE.replace("minutes: 30", "minutes: null");
    assert_eq!(yaml(&text).lines[0].minutes, None);
}

#[test]
fn free_text_and_birth_dates_are_never_quoted_back() {
    let secret = "Jane Roe fell at home";
    let text = format!(
        "{BASE}documentation: {{ total_timed_minutes: \"{secret}\", objective: [\"{secret}\"] }}\n"
    );
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    for error in &errors {
        assert!(!error.message.contains("Jane"), "{error:#?}");
    }
    assert_eq!(
        errors[0].message,
        "`total_timed_minutes` must be a whole number ≥ 0, found text"
    );
    assert_eq!(errors[1].message, "`objective` must be text, found a list");

    let text = format!("{BASE}member: {{ id: M-1, birth_date: 1951-02-30 }}\n");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors[0].message, "`birth_date` is not a real date");
    assert_at(&text, &errors[0], "/member/birth_date", "1951-02-30");
}

// ----- hostile input ---------------------------------------------------------

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    for format in [InputFormat::Yaml, InputFormat::Json] {
        let errors = problems(&deep, format);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("levels deep"), "{errors:#?}");
    }
    let objects = "{\"a\": ".repeat(100_000);
    let errors = problems(&objects, InputFormat::Json);
    assert!(errors[0].message.contains("levels deep"));
    assert!(errors[0].path.starts_with("/a/a/a"));

    let block: String = (0..200)
        .map(|depth| format!("{}a:\n", "  ".repeat(depth)))
        .collect();
    let errors = problems(&block, InputFormat::Yaml);
    assert!(errors[0].message.contains("levels deep"), "{errors:#?}");

    let ndjson = format!("{}\n{deep}\n", BASE_JSON_LINE);
    let results = read_ndjson(&ndjson);
    assert_eq!(results.len(), 2);
    assert!(results[0].1.is_ok());
    assert!(results[1].1.is_err());
}

const BASE_JSON_LINE: &str = r#"{"id": "C", "payer": "p", "date_of_service": "2026-03-02", "place_of_service": "11", "provider": {"npi": "1234567893", "discipline": "SLP", "role": "therapist"}, "diagnoses": ["R13.12"], "lines": [{"code": "92526", "units": 1}]}"#;

#[test]
fn huge_numbers_do_not_overflow() {
    let (text, error) = only_error(
        "units: 2,",
        "units: 99999999999999999999999999999999999999,",
    );
    assert_eq!(error.message, "`units` is too large: at most 4294967295");
    assert_at(
        &text,
        &error,
        "/lines/0/units",
        "99999999999999999999999999999999999999",
    );
    let (_, error) = only_error("minutes: 30", "minutes: 4294967296");
    assert_eq!(error.message, "`minutes` is too large: at most 4294967295");
    let (_, error) = only_error("minutes: 30", "minutes: 1e400");
    assert!(error
        .message
        .starts_with("`minutes` must be a whole number"));
    let text = BASE.replace("units: 1,", "units: 1, charge: 10000000001.00,");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(
        errors[0].message,
        "`charge` is too large: at most 10000000000 dollars"
    );
    let long = "9".repeat(10_000);
    let (_, error) = only_error("minutes: 30", &format!("minutes: -{long}"));
    assert_eq!(
        error.message,
        "`minutes` must be a whole number ≥ 0, found a number"
    );
}

#[test]
fn yaml_features_a_claim_does_not_need_are_refused() {
    let text = format!("{BASE}---\n{BASE}");
    let errors = problems(&text, InputFormat::Yaml);
    assert!(errors[0].message.starts_with("a second YAML document"));
    assert_eq!(errors[0].line, Some(10));

    let text = BASE
        .replace("units: 2,", "units: &u 2,")
        .replace("units: 1,", "units: *u,");
    let errors = problems(&text, InputFormat::Yaml);
    assert!(errors[0].message.contains("anchors"));

    let errors = problems("", InputFormat::Yaml);
    assert_eq!(errors[0].message, "the input is empty: expected a claim");
    let errors = problems("  \n", InputFormat::Json);
    assert!(errors[0].message.starts_with("the input is empty"));

    let errors = problems("- a\n- b\n", InputFormat::Yaml);
    assert_eq!(
        errors[0].message,
        "the claim must be an object of fields, found a list"
    );
}

#[test]
fn syntax_errors_have_a_place() {
    let text = "id: CLM-1\npayer: [a, b\nlines: 1\n";
    let errors = problems(text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.starts_with("invalid YAML:"),
        "{errors:#?}"
    );
    assert_eq!(errors[0].line, Some(3));

    let json = "{\n  \"id\": \"A\",\n  \"payer\": \"p\"\n  \"lines\": []\n}";
    let errors = problems(json, InputFormat::Json);
    assert_eq!(
        errors[0].message,
        "expected `,` or `}` after a field, found `\"`"
    );
    assert_eq!((errors[0].line, errors[0].column), (Some(4), Some(3)));
    assert_eq!(errors[0].path, "");

    let json = r#"{"lines": [{"code": "97110", "units": 01}]}"#;
    let errors = problems(json, InputFormat::Json);
    assert!(errors[0].message.starts_with("malformed JSON number"));
    assert_eq!(errors[0].path, "/lines/0/units");

    // The path names keys as decoded, escapes and all (RFC 6901 for `/`).
    let json = r#"{"lines": [{"co\u0064e": "97110", "a\/b": 01}]}"#;
    let errors = problems(json, InputFormat::Json);
    assert_eq!(errors[0].path, "/lines/0/a~1b");
    let json = r#"{"li\u006ees": [{"units": 01}]}"#;
    assert_eq!(problems(json, InputFormat::Json)[0].path, "/lines/0/units");

    for bad in [
        r#"{"a": "x\q"}"#,
        r#"{"a": "\ud800"}"#,
        "{'a': 1}",
        r#"{"a": tru}"#,
        "{\"a\": \"\t\"}",
        r#"{"a": 1} 2"#,
    ] {
        assert!(read_claim(bad, InputFormat::Json).is_err(), "{bad}");
    }
}

#[test]
fn json_strings_unescape() {
    let text = BASE_JSON_LINE.replace(r#""id": "C""#, r#""id": "C\u00e9\ud83d\ude00\"\n""#);
    let claim = read_claim(&text, InputFormat::Json).unwrap();
    assert_eq!(claim.id.value, "Cé😀\"\n");
}

#[test]
fn crlf_line_ends_and_a_byte_order_mark_keep_offsets_exact() {
    let text = format!("\u{feff}{}", EXAMPLE_YAML.replace('\n', "\r\n"));
    let claim = yaml(&text);
    assert_eq!(covered(&text, &claim.id.span), "CLM-2026-000147");
    assert_eq!(
        covered(&text, &claim.lines[1].modifiers.span),
        r#"["GO", "59"]"#
    );
    let text = text.replace("units: 1,", "units: one,");
    let errors = problems(&text, InputFormat::Yaml);
    assert_at(&text, &errors[0], "/lines/1/units", "one");
    assert_eq!(errors[0].line, Some(9));

    let json = format!("\u{feff}{}", EXAMPLE_JSON.replace('\n', "\r\n"));
    let claim = read_claim(&json, InputFormat::Json).unwrap();
    assert_eq!(
        covered(&json, &claim.lines[1].modifiers.span),
        r#"["GO","59"]"#
    );
}

#[test]
fn offsets_are_bytes_and_columns_are_characters() {
    let text = BASE
        .replace(
            "role: therapist }",
            "role: therapist, credential: Ergothérapeute }",
        )
        .replace("units: 1,", "units: uno,");
    let errors = problems(&text, InputFormat::Yaml);
    assert_eq!(errors.len(), 1);
    assert_at(&text, &errors[0], "/lines/1/units", "uno");
    let claim_text = text.replace("units: uno,", "units: 1,");
    let claim = yaml(&claim_text);
    assert_eq!(
        covered(&claim_text, &claim.lines[1].modifiers.span),
        r#"["GO", "59"]"#
    );
}

// ----- format detection ------------------------------------------------------

#[test]
fn formats_are_told_by_extension_then_content() {
    let detect = |path: &str, text: &str| detect_format(Some(Path::new(path)), text);
    assert_eq!(detect("a.yaml", "{}"), InputFormat::Yaml);
    assert_eq!(detect("a.YML", "{}"), InputFormat::Yaml);
    assert_eq!(detect("a.json", "id: 1"), InputFormat::Json);
    assert_eq!(detect("a.ndjson", ""), InputFormat::Ndjson);
    assert_eq!(detect("a.jsonl", ""), InputFormat::Ndjson);
    assert_eq!(detect("-", EXAMPLE_YAML), InputFormat::Yaml);
    assert_eq!(detect("-", EXAMPLE_JSON), InputFormat::Json);
    assert_eq!(detect("claims.txt", BATCH), InputFormat::Ndjson);
    assert_eq!(detect_format(None, BASE_JSON_LINE), InputFormat::Json);
    assert_eq!(
        detect_format(None, "\n  {\"a\": 1}\n\n{\"b\": 2}\n"),
        InputFormat::Ndjson
    );
    assert_eq!(detect_format(None, ""), InputFormat::Yaml);
}

/// Small random edits of the fixtures (a fixed-seed xorshift, so the test is
/// deterministic): the readers never panic, and every offset they give is on a
/// character boundary inside the text.
#[test]
fn mutated_inputs_never_panic_and_offsets_stay_in_the_text() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % 1_000_003).unwrap()
    };
    let alphabet: Vec<char> = "{}[]:,\"' -\n\t0123456789.eE+#&*!|>?%@`\\é😀~\r"
        .chars()
        .collect();
    let in_text = |text: &str, start: usize, end: usize| {
        start <= end
            && end <= text.len()
            && text.is_char_boundary(start)
            && text.is_char_boundary(end)
    };
    for base in [EXAMPLE_YAML, EXAMPLE_JSON, FULL_YAML, BATCH] {
        for _ in 0..500 {
            let mut chars: Vec<char> = base.chars().collect();
            for _ in 0..next() % 4 + 1 {
                let at = next() % (chars.len() + 1);
                if next() % 3 == 0 && at < chars.len() {
                    chars.remove(at);
                } else {
                    chars.insert(at, alphabet[next() % alphabet.len()]);
                }
            }
            let text: String = chars.into_iter().collect();
            for format in [InputFormat::Yaml, InputFormat::Json] {
                match read_claim(&text, format) {
                    Err(errors) => {
                        for error in errors {
                            let (start, end) = (error.start.unwrap(), error.end.unwrap());
                            assert!(in_text(&text, start, end), "{text:?} {error:?}");
                            assert!(error.line.is_some() && error.column.is_some());
                        }
                    }
                    Ok(claim) => {
                        for line in &claim.lines {
                            let (start, end) = (line.span.start.unwrap(), line.span.end.unwrap());
                            assert!(in_text(&text, start, end), "{text:?}");
                        }
                    }
                }
            }
            for (_, result) in read_ndjson(&text) {
                for error in result.err().unwrap_or_default() {
                    let (start, end) = (error.start.unwrap(), error.end.unwrap());
                    assert!(in_text(&text, start, end), "{text:?} {error:?}");
                }
            }
        }
    }
}

#[test]
fn claim_paths_read_as_json_pointers_built_or_written_in_full() {
    let activity = ClaimPath::ROOT
        .key("documentation")
        .key("activities")
        .index(12)
        .key("minutes");
    assert_eq!(activity.to_string(), "/documentation/activities/12/minutes");
    assert_eq!(
        activity,
        ClaimPath::from("/documentation/activities/12/minutes")
    );
    assert_eq!(
        ClaimPath::line(0, "modifiers").to_string(),
        "/lines/0/modifiers"
    );
    assert_eq!(ClaimPath::ROOT.to_string(), "");
    assert_eq!(ClaimPath::from(""), ClaimPath::ROOT);
    assert_eq!(ClaimPath::from("/"), ClaimPath::ROOT.key(""));
    assert_eq!(
        ClaimPath::from("/lines/"),
        ClaimPath::ROOT.key("lines").key("")
    );
    // Text before the first `/` is not a part, as in a JSON pointer.
    assert_eq!(ClaimPath::from("x/plan"), ClaimPath::ROOT.key("plan"));
    assert_eq!(
        ClaimPath::from("/lines/0123456789"),
        ClaimPath::ROOT.key("lines").key("0123456789")
    );
    assert_eq!(
        serde_json::to_string(&ClaimPath::line(3, "units")).unwrap(),
        "\"/lines/3/units\""
    );
    // Deeper than any value of the contract: the path stops at its fourth part
    // instead of naming something else.
    let deeper = ClaimPath::line(0, "modifiers").index(1).key("x");
    assert_eq!(deeper.to_string(), "/lines/0/modifiers/1");
}
