//! Reader tests on the project's therapy 837P file, laid out and broken in the
//! ways real files are: every layout must read the same claims; every broken
//! input is an error at its place, never a panic.

use super::*;
use crate::claim::model::DisciplineSource;

const THERAPY: &str = include_str!("../../../tests/x12/therapy.837");

fn options() -> X12Options<'static> {
    X12Options {
        payer: PayerChoice::Flag("medicare-part-b"),
    }
}

fn claims(text: &str) -> Vec<Result<Claim, Vec<ClaimError>>> {
    read_x12(text, &options())
        .expect("read")
        .into_iter()
        .map(|(_, result)| result)
        .collect()
}

/// The claims without their byte offsets (which move with the layout).
fn ids_and_codes(text: &str) -> Vec<Result<(String, Vec<String>), String>> {
    claims(text)
        .into_iter()
        .map(|result| match result {
            Ok(claim) => Ok((
                claim.id.value,
                claim
                    .lines
                    .iter()
                    .map(|line| {
                        let modifiers: Vec<String> = line
                            .modifiers
                            .value
                            .iter()
                            .map(ToString::to_string)
                            .collect();
                        format!(
                            "{} {} x{}",
                            line.code.value,
                            modifiers.join(","),
                            line.units.value
                        )
                    })
                    .collect(),
            )),
            Err(errors) => Err(errors[0].path.clone()),
        })
        .collect()
}

/// One error message of a one-claim text.
fn only_error(text: &str) -> ClaimError {
    let mut results = claims(text);
    assert_eq!(results.len(), 1, "{results:#?}");
    match results.remove(0) {
        Err(mut errors) => errors.remove(0),
        Ok(claim) => panic!("expected an error, got {claim:#?}"),
    }
}

/// The first claim of the therapy file on its own, with `from` replaced by `to`.
fn first_claim_with(from: &str, to: &str) -> String {
    let end = THERAPY.find("HL*3*").unwrap();
    let mut text = THERAPY[..end].to_owned();
    text.push_str("SE*25*0001~\nGE*1*1001~\nIEA*1*000001001~\n");
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

#[test]
fn every_layout_reads_the_same_claims() {
    let expected = ids_and_codes(THERAPY);
    assert_eq!(expected.len(), 8);
    let one_line = THERAPY.replace('\n', "");
    let crlf = THERAPY.replace('\n', "\r\n");
    let blank_lines = THERAPY.replace("~\n", "~\n\n\r\n");
    let indented = THERAPY.replace("~\n", "~\n    ");
    let bom = format!("\u{feff}  \n{THERAPY}");
    // Newline as the segment terminator.
    let newline_terminated = THERAPY.replace("~\n", "\n");
    for layout in [
        one_line,
        crlf,
        blank_lines,
        indented,
        bom,
        newline_terminated,
    ] {
        assert_eq!(ids_and_codes(&layout), expected, "{}", &layout[..120]);
    }
}

#[test]
fn the_isa_defines_the_delimiters_of_each_interchange() {
    // The same interchange twice, the second with `|` elements, `>` components,
    // `!` terminators and a repetition separator of `^`.
    let other = THERAPY
        .replace('*', "|")
        .replace(':', ">")
        .replace('~', "!");
    let both = format!("{THERAPY}{other}");
    let mut expected = ids_and_codes(THERAPY);
    expected.extend(ids_and_codes(THERAPY));
    assert_eq!(ids_and_codes(&both), expected);
}

#[test]
fn a_malformed_segment_names_its_number_offset_and_element() {
    let text = first_claim_with("SV1*HC:97535:GO*80*UN*2", "SV1*HC:97535:GOX*80*UN*2");
    let error = only_error(&text);
    let at = text.find("SV1*HC:97535:GOX").unwrap();
    assert_eq!(error.path, "/lines/0/modifiers/0");
    assert_eq!(error.start, Some(at + 13));
    assert!(
        error.message.starts_with(&format!(
            "segment 23 (`SV1` at byte {at}), SV101-3: invalid modifier `GOX`"
        )),
        "{}",
        error.message
    );
    assert_eq!((error.line, error.column), (Some(23), Some(14)));
}

#[test]
fn units_must_be_whole_and_minutes_are_not_units() {
    let error = only_error(&first_claim_with("*UN*2***1", "*UN*1.5***1"));
    assert!(
        error.message.contains("units must be a whole number"),
        "{}",
        error.message
    );
    let error = only_error(&first_claim_with("*UN*2***1", "*MJ*30***1"));
    assert!(
        error.message.contains("billed in minutes (SV103 `MJ`, 30)"),
        "{}",
        error.message
    );
    // `2.0` is two units.
    let claim = claims(&first_claim_with("*UN*2***1", "*UN*2.0***1"))
        .remove(0)
        .unwrap();
    assert_eq!(claim.lines[0].units.value, 2);
}

#[test]
fn discipline_falls_back_to_modifiers_then_to_other() {
    let no_taxonomy = first_claim_with("PRV*PE*PXC*225X00000X~\n", "");
    let claim = claims(&no_taxonomy).remove(0).unwrap();
    assert_eq!(claim.provider.discipline.value.keyword(), "OT");
    assert_eq!(
        claim.provenance.unwrap().discipline_from,
        DisciplineSource::Modifiers
    );
    let nothing = no_taxonomy.replace("HC:97535:GO", "HC:97535");
    let claim = claims(&nothing).remove(0).unwrap();
    assert_eq!(claim.provider.discipline.value.keyword(), "other");
    assert_eq!(
        claim.provenance.unwrap().discipline_from,
        DisciplineSource::NotStated
    );
    // A PTA taxonomy: an assistant in PT.
    let pta = first_claim_with("225X00000X", "225200000X");
    let claim = claims(&pta).remove(0).unwrap();
    assert_eq!(
        (
            claim.provider.discipline.value.keyword(),
            claim.provider.role.value.keyword()
        ),
        ("PT", "assistant")
    );
}

#[test]
fn a_line_rendered_by_another_clinician_is_an_error() {
    let text = first_claim_with(
        "DTP*472*D8*20260302~\n",
        "DTP*472*D8*20260302~\nNM1*82*1*OTHER*PAT****XX*1245319599~\n",
    );
    let error = only_error(&text);
    assert!(
        error.message.contains("one rendering provider per claim"),
        "{}",
        error.message
    );
}

#[test]
fn line_and_claim_authorizations_must_agree() {
    let text = first_claim_with(
        "DTP*472*D8*20260302~\n",
        "DTP*472*D8*20260302~\nREF*G1*PA-1~\n",
    );
    let claim = claims(&text).remove(0).unwrap();
    assert_eq!(claim.prior_authorization.unwrap().number.value, "PA-1");
    let both = text.replace("HI*ABK", "REF*G1*PA-2~\nHI*ABK");
    let error = only_error(&both);
    assert!(
        error.message.contains("one authorization per claim"),
        "{}",
        error.message
    );
}

#[test]
fn icd10_codes_are_written_with_their_dot_and_checked() {
    let claim = claims(THERAPY).remove(1).unwrap();
    let diagnoses: Vec<&str> = claim
        .diagnoses
        .iter()
        .map(|d| d.value.text.as_str())
        .collect();
    assert_eq!(diagnoses, ["I69.351", "R26.89"]);
    // Parsed once, when read: what rules compare.
    let codes: Vec<Option<&str>> = claim
        .diagnoses
        .iter()
        .map(|d| d.value.code.as_ref().map(|code| code.as_str()))
        .collect();
    assert_eq!(codes, [Some("I69351"), Some("R2689")]);
    // An ICD-9-CM code is kept as written, with no ICD-10-CM code for rules to match.
    let icd9 = claims(&first_claim_with("ABK:I69351", "BK:4019"))
        .remove(0)
        .unwrap();
    let first = &icd9.diagnoses[0].value;
    assert_eq!((first.text.as_str(), first.code), ("4019", None));
    let error = only_error(&first_claim_with("ABK:I69351", "ABK:0340"));
    assert!(
        error.message.contains("invalid ICD-10-CM code `0340`"),
        "{}",
        error.message
    );
}

#[test]
fn other_files_are_refused_as_a_whole() {
    let refused = |text: &str| read_x12(text, &options()).unwrap_err().message;
    assert!(refused("id: CLM-1\n").contains("not an X12 file"));
    assert!(refused("ISA*00").contains("cut short"));
    let institutional = THERAPY.replace("005010X222A1", "005010X223A2");
    assert!(refused(&institutional).contains("an institutional 837 (837I), `005010X223A2`"));
    let remittance = THERAPY.replace("ST*837*", "ST*835*");
    assert!(refused(&remittance).contains("transaction set `835`, not an 837 claim"));
    // The guide without its addendum is read the same way.
    let without_addendum = THERAPY.replace("005010X222A1", "005010X222");
    assert_eq!(ids_and_codes(&without_addendum), ids_and_codes(THERAPY));
}

#[test]
fn a_file_cut_short_keeps_its_claims_and_says_so() {
    let end = THERAPY.rfind("SE*").unwrap();
    let results = claims(&THERAPY[..end]);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 7);
    let last = results.last().unwrap().as_ref().unwrap_err();
    assert!(last[0].message.contains("cut short"), "{last:#?}");
}

/// Every prefix of the file, and the file with any one byte changed to a
/// delimiter, reads or errs without a panic.
#[test]
fn no_prefix_or_stray_delimiter_panics() {
    let bytes = THERAPY.as_bytes();
    for end in 0..bytes.len() {
        if let Some(prefix) = THERAPY.get(..end) {
            let _ = read_x12(prefix, &options());
        }
    }
    for at in (0..bytes.len()).step_by(7) {
        for delimiter in ["*", ":", "~", "\n", "^"] {
            let mut text = THERAPY.to_owned();
            if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                text.replace_range(at..at + 1, delimiter);
                let _ = read_x12(&text, &options());
            }
        }
    }
}

#[test]
fn the_payer_map_reads_ids_to_policies_and_plans() {
    let map = PayerMap::read(
        "map.yaml",
        "\"00882\": medicare-part-b\nHMO1: { policy: commercial-hmo-example, plan: hmo }\n",
    )
    .unwrap();
    assert_eq!(map.get("00882").unwrap().policy, "medicare-part-b");
    assert_eq!(map.get("HMO1").unwrap().plan.as_deref(), Some("hmo"));
    assert!(PayerMap::read("map.yaml", "- a\n")
        .unwrap_err()
        .contains("`map.yaml`"));
}

#[test]
fn each_patient_has_only_their_own_birth_date() {
    // Two patients (HL 23) under one subscriber; only the first has a DMG.
    let claim_loop =
        &THERAPY[THERAPY.find("CLM*CLM-PASS-1").unwrap()..THERAPY.find("HL*3*").unwrap()];
    let two_patients = first_claim_with(
        "CLM*CLM-PASS-1",
        &format!(
            "HL*3*2*23*0~\nPAT*19~\nNM1*QC*1*DOE*KIM~\nDMG*D8*20150101*F~\n{}HL*4*2*23*0~\nPAT*19~\nNM1*QC*1*DOE*LEE~\nCLM*CLM-PASS-1",
            claim_loop.replacen("CLM-PASS-1", "CLM-KID-1", 1)
        ),
    );
    let read = claims(&two_patients);
    let birth = |index: usize| {
        read[index]
            .as_ref()
            .unwrap()
            .member
            .as_ref()
            .and_then(|member| member.birth_date.as_ref())
            .map(|date| date.value.to_string())
    };
    assert_eq!(birth(0).as_deref(), Some("2015-01-01"));
    assert_eq!(birth(1), None);
}
