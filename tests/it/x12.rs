//! The X12 837P reader end to end: the public sample files read in place from
//! `../shared/samples/x12/` (never copied here), and the project's own therapy
//! 837P file (`tests/x12/therapy.837`), each of whose claims is one of the YAML
//! claims under `tests/payers/` written as an 837P, with its session-note facts
//! in `tests/x12/therapy.notes.yaml`. With the notes, each 837P claim must give
//! the report its YAML claim gives.

use std::path::Path;

use ppl::claim::notes::Notes;
use ppl::claim::{
    read_claim, read_x12, Claim, ClaimError, DisciplineSource, InputFormat, PayerChoice, PayerMap,
    X12Options,
};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A public sample, or `None` where the samples are absent (see
/// [`super::run::shared_samples`]: CI requires them).
fn sample(name: &str) -> Option<String> {
    let path = super::run::shared_samples()?.join(name);
    Some(std::fs::read_to_string(&path).expect("a public X12 sample"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/x12").join(name)).expect("fixture")
}

fn compiled() -> &'static ppl::compile::CompiledPolicies {
    static COMPILED: std::sync::OnceLock<ppl::compile::CompiledPolicies> =
        std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        ppl::compile::compile(&ppl::check::check(ppl::check::Workspace::embedded()))
            .expect("the shipped policies compile")
    })
}

fn read(text: &str, payer: PayerChoice<'_>) -> Vec<(usize, Result<Claim, Vec<ClaimError>>)> {
    read_x12(text, &X12Options { payer }).expect("the file is read")
}

fn payer_map() -> PayerMap {
    PayerMap::read("tests/x12/payers.yaml", &fixture("payers.yaml")).expect("payer map")
}

/// A report's JSON without byte offsets, which differ between an 837P and YAML,
/// and without the 837P's provenance, which a YAML claim has no need of.
fn without_offsets(mut report: Value) -> Value {
    if let Some(report) = report.as_object_mut() {
        report.remove("provenance");
    }
    if let Some(findings) = report["findings"].as_array_mut() {
        for finding in findings {
            if let Some(span) = finding["claim_span"].as_object_mut() {
                span.remove("start");
                span.remove("end");
            }
        }
    }
    report
}

fn report_json(claim: &Claim) -> Value {
    let report = ppl::eval::evaluate(claim, compiled()).expect("evaluates");
    serde_json::from_str(&ppl::report::render_json(&report)).expect("JSON")
}

// ── The public samples ───────────────────────────────────────────────────────

/// The implementation guide's examples 1–3 with their placeholder NPIs (which
/// fail the NPI check digit) replaced, byte for byte, by valid ones.
fn ig_examples_with_valid_npis() -> Option<String> {
    let text = sample("01_inteligenz_x222_ig_examples_1_2_3.txt")?;
    Some(
        text.replace("9876543210", "1234567893")
            .replace("1999996666", "1245319599")
            .replace("1581234567", "1234567893")
            .replace("5812345679", "1245319599"),
    )
}

#[test]
fn ig_examples_give_three_claims_and_eleven_lines() {
    let Some(text) = ig_examples_with_valid_npis() else {
        return;
    };
    let read = read(&text, PayerChoice::Flag("medicare-part-b"));
    let claims: Vec<&Claim> = read
        .iter()
        .map(|(line, result)| {
            result
                .as_ref()
                .unwrap_or_else(|errors| panic!("line {line}: {errors:#?}"))
        })
        .collect();
    let ids: Vec<&str> = claims.iter().map(|c| c.id.value.as_str()).collect();
    assert_eq!(ids, ["26463774", "26407789", "26462967"]);
    // Each claim's input line is its CLM segment's line.
    let lines: Vec<usize> = read.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [29, 67, 113]);
    let codes: Vec<Vec<String>> = claims
        .iter()
        .map(|c| c.lines.iter().map(|l| l.code.value.to_string()).collect())
        .collect();
    assert_eq!(
        codes,
        [
            vec!["99213", "87070", "99214", "86663"],
            vec!["99213", "90782", "J3301"],
            vec!["99213", "87072", "99214", "86663"],
        ]
    );
    assert_eq!(codes.iter().map(Vec::len).sum::<usize>(), 11);
    // ICD-9 diagnoses (BK/BF) in order, and the pointers into them.
    let second = claims[1];
    let diagnoses: Vec<&str> = second
        .diagnoses
        .iter()
        .map(|d| d.value.text.as_str())
        .collect();
    assert_eq!(diagnoses, ["4779", "2724", "2780", "53081"]);
    let pointers: Vec<Vec<u8>> = second
        .lines
        .iter()
        .map(|l| l.diagnosis_pointers.as_ref().unwrap().value.clone())
        .collect();
    assert_eq!(pointers, [vec![1, 2, 3, 4], vec![1, 2], vec![1, 2]]);
    // The secondary payer's loop (2320/2330) does not replace the claim's payer or provider.
    let provenance = second.provenance.as_ref().unwrap();
    assert_eq!(provenance.payer_id.as_ref().unwrap().value, "999996666");
    assert_eq!(second.provider.npi.value, "1245319599");
    assert_eq!(
        provenance.discipline_from,
        DisciplineSource::Taxonomy("204C00000X".into())
    );
    assert_eq!(second.lines[2].charge.as_ref().unwrap().value, 2104);
    assert_eq!(
        claims[0].lines[2]
            .date_of_service
            .as_ref()
            .unwrap()
            .value
            .to_string(),
        "2006-10-10"
    );
    // Every claim evaluates.
    for claim in claims {
        report_json(claim);
    }
}

#[test]
fn ig_examples_as_published_are_three_errors_naming_the_npi() {
    let Some(text) = sample("01_inteligenz_x222_ig_examples_1_2_3.txt") else {
        return;
    };
    let read = read(&text, PayerChoice::Flag("medicare-part-b"));
    assert_eq!(read.len(), 3);
    for (_, result) in &read {
        let errors = result.as_ref().unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("is not a valid NPI")
                    && e.message.contains("NM109")
                    && e.message.contains("at byte")),
            "{errors:#?}"
        );
    }
}

#[test]
fn the_two_imsweb_files_read_identically() {
    let Some(plain) = sample("04_imsweb_x12_valid.txt") else {
        return;
    };
    let Some(other) = sample("05_imsweb_x12_valid_different_separators.txt") else {
        return;
    };
    let a = read(&plain, PayerChoice::Flag("medicare-part-b"));
    let b = read(&other, PayerChoice::Flag("medicare-part-b"));
    assert_eq!(a, b);
    assert_eq!(a.len(), 2);
    // Both claims have the fixture's odd HI (`BK` with no code): an error
    // naming the segment, its byte offset and the element, not a guess.
    let first = a[0].1.as_ref().unwrap_err();
    assert!(first.iter().any(|e| e.message
        == "segment 23 (`HI` at byte 784), HI01: a diagnosis is two components, a qualifier (`ABK`, `ABF`, `BK`, `BF`) and a code; found `BK` alone"));
    let second = a[1].1.as_ref().unwrap_err();
    assert!(second
        .iter()
        .any(|e| e.path == "/lines/0/code" && e.message.contains("`478331`")));
}

#[test]
fn uhin_minimal_claim_reads_and_evaluates() {
    let Some(text) = sample("10_uhin_837.edi") else {
        return;
    };
    let read = read(&text, PayerChoice::Flag("medicare-part-b"));
    let [(21, Ok(claim))] = read.as_slice() else {
        panic!("{read:#?}")
    };
    assert_eq!(claim.id.value, "1606");
    assert_eq!(claim.diagnoses[0].value.text, "R69");
    assert_eq!(claim.lines[0].code.value.to_string(), "90834");
    // An RD8 range: judged on its first day, its last day kept.
    assert_eq!(
        claim.lines[0]
            .date_of_service
            .as_ref()
            .unwrap()
            .value
            .to_string(),
        "2024-08-15"
    );
    let provenance = claim.provenance.as_ref().unwrap();
    assert_eq!(provenance.ranges[0].1.value.to_string(), "2024-08-20");
    // 111N00000X (chiropractor) says no discipline, and no line has GP/GO/GN.
    assert_eq!(provenance.discipline_from, DisciplineSource::NotStated);
    assert_eq!(report_json(claim)["status"], "pass");
}

#[test]
fn the_4010_file_is_refused_naming_what_was_found_and_expected() {
    let Some(text) = sample("11_pyx12_simple_837p_4010_refG1.txt") else {
        return;
    };
    let error = read_x12(
        &text,
        &X12Options {
            payer: PayerChoice::Flag("medicare-part-b"),
        },
    )
    .unwrap_err();
    assert!(error.message.contains("`004010X098A1`"), "{error}");
    assert!(error.message.contains("`005010X222A1`"), "{error}");
    assert_eq!((error.line, error.column), (Some(2), Some(43)));
}

// ── The project's therapy 837P file ──────────────────────────────────────────

/// Each claim of `therapy.837`, with its notes, gives the report of the YAML
/// claim it was written from (byte offsets aside: they point into each file).
#[test]
fn therapy_837_with_notes_gives_the_yaml_claims_reports() {
    let map = payer_map();
    let notes = Notes::read("therapy.notes.yaml", None, &fixture("therapy.notes.yaml"))
        .expect("notes read");
    let text = fixture("therapy.837");
    let equivalents = [
        ("CLM-PASS-1", "medicare-part-b/pass.yaml"),
        ("SYN-MCR-P02", "medicare-part-b/pairing-97530-97535-xu.yaml"),
        (
            "SYN-MCR-S02",
            "medicare-part-b/seed-case-2-knee-stairs-45min-pta.yaml",
        ),
        (
            "SYN-MCR-T01",
            "medicare-part-b/telehealth-pos10-95-last-day-2027-12-31.yaml",
        ),
        (
            "SYN-MCR-T03",
            "medicare-part-b/telehealth-pos02-without-95.yaml",
        ),
        (
            "HMO-2026-0204",
            "commercial-hmo-example/prior-auth-units-exceeded.yaml",
        ),
        (
            "HMO-2026-0101",
            "commercial-hmo-example/pairing-97530-97140-with-59.yaml",
        ),
    ];
    let mut compared = 0;
    for (_, result) in read(&text, PayerChoice::Map(&map)) {
        let Ok(mut claim) = result else {
            continue;
        };
        assert!(notes.apply(&mut claim).expect("notes apply"));
        let (_, yaml) = equivalents
            .iter()
            .find(|(id, _)| *id == claim.id.value)
            .unwrap_or_else(|| panic!("no YAML claim for {}", claim.id.value));
        let yaml_text = std::fs::read_to_string(root().join("tests/payers").join(yaml)).unwrap();
        let yaml_claim = read_claim(&yaml_text, InputFormat::Yaml).unwrap();
        assert_eq!(
            without_offsets(report_json(&claim)),
            without_offsets(report_json(&yaml_claim)),
            "{yaml}"
        );
        compared += 1;
    }
    assert_eq!(compared, equivalents.len());
}

/// Without the notes, the rules that need minutes and the session note are
/// `undetermined`, as for a YAML claim without them.
#[test]
fn therapy_837_without_notes_is_incomplete_not_passed() {
    let map = payer_map();
    let text = fixture("therapy.837");
    let read = read(&text, PayerChoice::Map(&map));
    let (_, Ok(claim)) = &read[0] else {
        panic!("{:#?}", read[0])
    };
    let report = report_json(claim);
    assert_eq!(report["status"], "incomplete");
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["missing"]
            .as_array()
            .unwrap()
            .contains(&"/lines/0/minutes".into())));
}

#[test]
fn discipline_comes_from_taxonomy_else_modifiers_and_says_which() {
    let map = payer_map();
    let text = fixture("therapy.837");
    let read = read(&text, PayerChoice::Map(&map));
    let from = |id: &str| {
        let claim = read
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .find(|c| c.id.value == id)
            .unwrap();
        (
            claim.provider.discipline.value.keyword(),
            claim.provider.role.value.keyword(),
            claim.provenance.as_ref().unwrap().discipline_from.clone(),
        )
    };
    assert_eq!(
        from("SYN-MCR-S02"),
        (
            "PT",
            "assistant",
            DisciplineSource::Taxonomy("225200000X".into())
        )
    );
    // Written without PRV: GO on its lines says OT.
    assert_eq!(
        from("SYN-MCR-P02"),
        ("OT", "therapist", DisciplineSource::Modifiers)
    );
}

#[test]
fn a_bad_claim_is_an_error_in_its_place_and_the_others_read() {
    let map = payer_map();
    let text = fixture("therapy.837");
    let read = read(&text, PayerChoice::Map(&map));
    assert_eq!(read.len(), 8);
    let (line, Err(errors)) = &read[3] else {
        panic!("{:#?}", read[3])
    };
    assert_eq!(*line, 55);
    assert_eq!(errors[0].path, "/lines/0/code");
    assert_eq!(
        errors[0].message,
        "segment 60 (`SV1` at byte 1689), SV101-2: invalid procedure code `9753`: a procedure code has five characters"
    );
    assert_eq!(text.get(1689..1692), Some("SV1"));
    assert!(read
        .iter()
        .enumerate()
        .all(|(i, (_, r))| (i == 3) == r.is_err()));
}

#[test]
fn an_unmapped_payer_is_an_error_for_its_claim_only() {
    let map = PayerMap::read("map.yaml", "SYNMCR01: medicare-part-b\n").unwrap();
    let text = fixture("therapy.837");
    let read = read(&text, PayerChoice::Map(&map));
    let unmapped: Vec<&ClaimError> = read
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .flatten()
        .filter(|e| e.path == "/payer")
        .collect();
    assert_eq!(unmapped.len(), 2, "the two HMO claims");
    assert!(unmapped[0]
        .message
        .starts_with("the payer id `SYNHMO01` (NM109 of the claim's `NM1*PR`) is not in the payer map `map.yaml`"));
}

// ── `ppl eval` on 837P files ─────────────────────────────────────────────────

fn ppl(args: &[&str]) -> (i32, String, String) {
    let run = super::run::ppl_in(Some(root()), args, None);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn eval_therapy_837_ndjson_and_human_snapshots() {
    let args = [
        "eval",
        "--payer-map",
        "tests/x12/payers.yaml",
        "--notes",
        "tests/x12/therapy.notes.yaml",
    ];
    let (code, ndjson, stderr) =
        ppl(&[&args[..], &["--format", "ndjson", "tests/x12/therapy.837"]].concat());
    // A claim could not be read: exit 2, and every other claim is reported.
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(ndjson.lines().count(), 8);
    insta::assert_snapshot!("therapy_837_ndjson", ndjson);
    let (_, human, stderr) =
        ppl(&[&args[..], &["--format", "human", "tests/x12/therapy.837"]].concat());
    insta::assert_snapshot!(
        "therapy_837_human",
        format!("{human}\n--- stderr\n{stderr}")
    );
}

#[test]
fn eval_refuses_the_4010_file_and_a_file_that_is_not_x12() {
    let Some(samples) = super::run::shared_samples() else {
        return;
    };
    let path = samples.join("11_pyx12_simple_837p_4010_refG1.txt");
    let (code, stdout, stderr) =
        ppl(&["eval", "--payer", "medicare-part-b", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("this is an 837 of the older 4010 version, `004010X098A1`; ppl reads X12 837P claims, version `005010X222A1`"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let not_x12 = dir.path().join("claims.837");
    std::fs::write(&not_x12, "id: CLM-1\n").unwrap();
    let (code, _, stderr) = ppl(&[
        "eval",
        "--payer",
        "medicare-part-b",
        not_x12.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("this is not an X12 file: an X12 interchange starts with an `ISA` segment"),
        "{stderr}"
    );
}

#[test]
fn eval_without_payer_or_map_says_to_give_one() {
    let Some(samples) = super::run::shared_samples() else {
        return;
    };
    let path = samples.join("10_uhin_837.edi");
    let (code, stdout, _) = ppl(&["eval", "--format", "ndjson", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("give `--payer ID` (one policy for the whole file) or `--payer-map FILE`"),
        "{stdout}"
    );
    let (code, stdout, _) = ppl(&[
        "eval",
        "--format",
        "ndjson",
        "--payer",
        "medicare-part-b",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with(r#"{"claim_id":"1606","payer":"medicare-part-b","status":"pass""#));
}

// ── The notes file ───────────────────────────────────────────────────────────

#[test]
fn notes_are_checked_by_the_claim_contract_and_placed_in_their_file() {
    let text = "CLM-PASS-1:\n  lines: { \"1\": { minuts: 30 } }\n  documentation: { total_timed_minutes: -3 }\n";
    let errors = Notes::read("n.yaml", None, text).err().unwrap();
    let found: Vec<(Option<usize>, &str)> = errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, Some(2));
    assert!(found[0]
        .1
        .starts_with("notes for claim `CLM-PASS-1`: unknown field `minuts`"));
    assert_eq!(found[1].0, Some(3));
}

#[test]
fn notes_for_a_line_the_claim_lacks_make_that_claim_an_error() {
    let map = payer_map();
    let notes = Notes::read(
        "n.ndjson",
        Some(Path::new("n.ndjson")),
        "{\"claim_id\": \"CLM-PASS-1\", \"lines\": {\"2\": {\"minutes\": 10}}}\n{\"claim_id\": \"SYN-MCR-P02\", \"lines\": {\"2\": {\"minutes\": 30}}}\n",
    )
    .unwrap();
    let mut read = read(&fixture("therapy.837"), PayerChoice::Map(&map));
    let (_, Ok(first)) = &mut read[0] else {
        panic!()
    };
    let errors = notes.apply(first).unwrap_err();
    assert_eq!(
        errors[0].message,
        "the notes `n.ndjson` for claim `CLM-PASS-1` (line 1): minutes for line 2, and the claim has 1 line"
    );
    let (_, Ok(second)) = &mut read[1] else {
        panic!()
    };
    assert!(notes.apply(second).unwrap());
    assert_eq!(second.lines[1].minutes.as_ref().unwrap().value, 30);
    assert_eq!(second.lines[1].minutes.as_ref().unwrap().span.start, None);
}
