//! `ppl eval --fix -o FILE`: machine-applicable fixes written into the claim,
//! the rest of the file left as it was, and the report saying what was applied.

use std::process::Command;

const CLAIM: &str = r#"id: CLM-FIX-1
payer: medicare-part-b
date_of_service: 2026-03-02
place_of_service: "11"
provider: { npi: "1234567893", discipline: PT, role: therapist }
diagnoses: ["I69.351"]
lines:
  # block style, no modifiers yet
  - code: "97110"
    units: 3
    minutes: 33
  - {code: "97140", units: 1, minutes: 7}
documentation:
  total_timed_minutes: 40
"#;

#[test]
fn fixes_are_written_into_the_claim_and_reported_as_applied() {
    let folder = tempfile::tempdir().expect("temp dir");
    let input = folder.path().join("claim.yaml");
    let output = folder.path().join("fixed.yaml");
    std::fs::write(&input, CLAIM).expect("write claim");
    let run = Command::new(env!("CARGO_BIN_EXE_ppl"))
        .args(["eval", "--format", "json", "--fix", "-o"])
        .arg(&output)
        .arg(&input)
        .output()
        .expect("ppl runs");
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json report");
    let applied: Vec<(String, String, bool)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| !f["fix"].is_null())
        .map(|f| {
            let fix = &f["fix"];
            (
                fix["op"].as_str().unwrap_or_default().to_owned(),
                fix["value"].as_str().unwrap_or_default().to_owned(),
                fix["applied"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert!(
        applied.contains(&("set_units".to_owned(), "2".to_owned(), true)),
        "{applied:?}"
    );
    assert!(
        applied.contains(&("add_modifier".to_owned(), "GP".to_owned(), true)),
        "{applied:?}"
    );
    let fixed = std::fs::read_to_string(&output).expect("fixed claim written");
    // Units set, GP added to both lines, comment and layout kept.
    assert!(fixed.contains("  # block style, no modifiers yet\n  - modifiers: [\"GP\"]\n    code: \"97110\"\n    units: 2\n"), "{fixed}");
    assert!(
        fixed.contains("- {modifiers: [\"GP\"], code: \"97140\", units: 1, minutes: 7}"),
        "{fixed}"
    );
    // The fixed claim passes the rules the fixes were for.
    let again = Command::new(env!("CARGO_BIN_EXE_ppl"))
        .args(["eval", "--format", "json"])
        .arg(&output)
        .output()
        .expect("ppl runs");
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json report");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "deny")
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(!rules.contains(&"medicare.units.eight-minute"), "{rules:?}");
    assert!(
        !rules.contains(&"medicare.modifier.discipline"),
        "{rules:?}"
    );
}

#[test]
fn fix_needs_an_output_file() {
    let run = Command::new(env!("CARGO_BIN_EXE_ppl"))
        .args(["eval", "--fix", "claim.yaml"])
        .output()
        .expect("ppl runs");
    assert_eq!(run.status.code(), Some(2));
}
