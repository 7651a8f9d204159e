//! Evaluating claims against the shipped Medicare Part B policy: what a biller
//! relies on, finding by finding.

use std::sync::OnceLock;

use ppl::claim::{read_claim, InputFormat};
use ppl::compile::CompiledPolicies;
use ppl::report::{ClaimReport, FindingSeverity, FixOp, Status};

fn policies() -> &'static CompiledPolicies {
    static POLICIES: OnceLock<CompiledPolicies> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let checked = ppl::check::check_paths(&["policies".into()]).expect("policies/");
        ppl::compile::compile(&checked).expect("policies compile")
    })
}

/// The claim contract's example claim (synthetic), with `lines` and extra fields replaced.
fn claim(lines: &str, extra: &str) -> String {
    format!(
        r#"id: CLM-TEST-1
payer: medicare-part-b
date_of_service: 2026-03-02
place_of_service: "11"
provider: {{ npi: "1234567893", discipline: OT, role: therapist }}
diagnoses: ["I69.351", "R26.89"]
lines:
{lines}
documentation:
  objective: Train the patient to dress the upper body with a reacher
  functional_goals: ["Patient will dress the upper body independently within three sessions"]
  performance: Needed moderate verbal cues
  progress: Up from maximal to moderate cues
  total_timed_minutes: 45
  total_treatment_minutes: 50
  plan_of_care: {{ established: 2026-02-10, certified: 2026-02-12, through: 2026-05-10 }}
  visits_since_progress_report: 4
history:
  visits_this_year: 4
  therapy_allowed_ytd: {{ pt_slp: 0.00, ot: 900.00 }}
{extra}"#
    )
}

fn evaluate(text: &str) -> ClaimReport<'static> {
    let claim = read_claim(text, InputFormat::Yaml)
        .unwrap_or_else(|errors| panic!("claim reads: {errors:?}"));
    ppl::eval::evaluate(&claim, policies()).expect("evaluates")
}

fn fired<'r>(report: &'r ClaimReport, rule: &str) -> Vec<&'r ppl::report::Finding<'r>> {
    report
        .findings
        .iter()
        .filter(|f| &*f.rule.id == rule)
        .collect()
}

const GOOD_LINES: &str = r#"  - { code: "97535", modifiers: ["GO"], units: 2, minutes: 30, diagnosis_pointers: [1] }
  - { code: "97530", modifiers: ["GO", "59"], units: 1, minutes: 15, diagnosis_pointers: [1, 2] }"#;

#[test]
fn the_contract_example_passes() {
    let report = evaluate(&claim(GOOD_LINES, ""));
    assert_eq!(report.status, Status::Pass, "{:#?}", report.findings);
    assert_eq!(report.lines[0].units_supported, Some(2));
    assert_eq!(report.lines[1].units_supported, Some(1));
    assert!(report.lines[0]
        .policy_version
        .starts_with("medicare-part-b@"));
}

#[test]
fn units_the_minutes_do_not_support_are_denied_with_a_fix() {
    // CMS §20.2 Example 3: 97110 33 min, 97140 7 min → 2 + 1; billing 3 + 0 is wrong.
    let lines = r#"  - { code: "97110", modifiers: ["GO"], units: 3, minutes: 33 }
  - { code: "97140", modifiers: ["GO"], units: 1, minutes: 7 }"#;
    let report =
        evaluate(&claim(lines, "").replace("total_timed_minutes: 45", "total_timed_minutes: 40"));
    let units = fired(&report, "medicare.units.eight-minute");
    assert_eq!(units.len(), 1, "{units:#?}");
    assert_eq!(units[0].severity, FindingSeverity::Deny);
    assert_eq!(units[0].line, Some(0));
    let fix = units[0].fix.as_ref().expect("a fix");
    assert_eq!(
        (fix.op, fix.line, fix.value.as_str()),
        (FixOp::SetUnits, 0, "2")
    );
    assert_eq!(report.status, Status::Fail);
    assert_eq!(report.lines[0].units_supported, Some(2));
    assert_eq!(report.lines[1].units_supported, Some(1));
}

#[test]
fn billing_fewer_units_than_supported_is_information() {
    let lines = r#"  - { code: "97535", modifiers: ["GO"], units: 1, minutes: 30 }"#;
    let report =
        evaluate(&claim(lines, "").replace("total_timed_minutes: 45", "total_timed_minutes: 30"));
    let units = fired(&report, "medicare.units.eight-minute");
    assert_eq!(units.len(), 1);
    assert_eq!(units[0].severity, FindingSeverity::Info);
    assert!(
        units[0].message.contains("1 unit is left unbilled"),
        "{}",
        units[0].message
    );
}

#[test]
fn missing_minutes_leave_units_undetermined() {
    let lines = r#"  - { code: "97535", modifiers: ["GO"], units: 2 }"#;
    let report = evaluate(&claim(lines, ""));
    let units = fired(&report, "medicare.units.eight-minute");
    assert_eq!(units[0].severity, FindingSeverity::Undetermined);
    assert_eq!(units[0].missing, ["/lines/0/minutes"]);
    assert_eq!(report.lines[0].units_supported, None);
    assert_eq!(report.status, Status::Incomplete);
}

#[test]
fn a_therapy_code_without_its_discipline_modifier_is_denied() {
    let lines = r#"  - { code: "97535", units: 2, minutes: 30 }"#;
    let report =
        evaluate(&claim(lines, "").replace("total_timed_minutes: 45", "total_timed_minutes: 30"));
    let missing = fired(&report, "medicare.modifier.discipline");
    assert_eq!(missing.len(), 1, "{:#?}", report.findings);
    assert_eq!(missing[0].rule.carc.as_deref(), Some("4"));
    let fix = missing[0].fix.as_ref().expect("a fix");
    assert_eq!((fix.op, fix.value.as_str()), (FixOp::AddModifier, "GO"));
    assert_eq!(
        missing[0].claim_span.as_ref().map(|s| s.path.to_string()),
        Some("/lines/0/modifiers".to_owned())
    );
}

#[test]
fn a_code_pair_without_a_distinct_service_modifier_is_denied() {
    let lines = r#"  - { code: "97535", modifiers: ["GO"], units: 2, minutes: 30 }
  - { code: "97530", modifiers: ["GO"], units: 1, minutes: 15 }"#;
    let report = evaluate(&claim(lines, ""));
    let pairs = fired(&report, "ncci.ptp");
    assert_eq!(pairs.len(), 1, "{:#?}", report.findings);
    assert_eq!(pairs[0].rule.carc.as_deref(), Some("236"));
    assert_eq!(pairs[0].severity, FindingSeverity::Deny);
}

#[test]
fn the_kx_threshold_needs_the_history() {
    let without_history =
        claim(GOOD_LINES, "").replace("  therapy_allowed_ytd: { pt_slp: 0.00, ot: 900.00 }\n", "");
    let report = evaluate(&without_history);
    let kx = fired(&report, "medicare.threshold.kx-ot");
    assert_eq!(kx.len(), 2, "{:#?}", report.findings);
    assert!(kx
        .iter()
        .all(|f| f.severity == FindingSeverity::Undetermined));
    assert!(
        kx[0]
            .missing
            .contains(&"/history/therapy_allowed_ytd/ot".to_owned()),
        "{:?}",
        kx[0].missing
    );
    let over = evaluate(&claim(GOOD_LINES, "").replace("ot: 900.00", "ot: 2500.00"));
    let kx = fired(&over, "medicare.threshold.kx-ot");
    assert_eq!(kx.len(), 2);
    assert!(kx
        .iter()
        .all(|f| f.severity == FindingSeverity::Deny && f.rule.carc.as_deref() == Some("119")));
}

#[test]
fn documentation_that_is_absent_is_undetermined_and_lacking_is_denied() {
    let text = claim(GOOD_LINES, "");
    let start = text.find("documentation:").expect("documentation");
    let end = text.find("history:").expect("history");
    let without = format!("{}{}", &text[..start], &text[end..]);
    let report = evaluate(&without);
    let doc = fired(&report, "medicare.documentation.timed-minutes");
    assert_eq!(doc[0].severity, FindingSeverity::Undetermined);
    assert_eq!(doc[0].missing, ["/documentation"]);
    let lacking = evaluate(&text.replace("  total_timed_minutes: 45\n", ""));
    let doc = fired(&lacking, "medicare.documentation.timed-minutes");
    assert_eq!(doc.len(), 1, "{:#?}", lacking.findings);
    assert_eq!(doc[0].severity, FindingSeverity::Deny);
}

#[test]
fn evaluation_is_deterministic() {
    let text = claim(GOOD_LINES, "");
    let first = serde_json::to_string(&evaluate(&text)).expect("json");
    let second = serde_json::to_string(&evaluate(&text)).expect("json");
    assert_eq!(first, second);
}

#[test]
fn telehealth_needs_an_accepted_place_of_service() {
    let lines = r#"  - { code: "97535", modifiers: ["GO", "95"], units: 2, minutes: 30 }"#;
    let office = claim(lines, "").replace("total_timed_minutes: 45", "total_timed_minutes: 30");
    let report = evaluate(&office);
    let telehealth = fired(&report, "medicare.telehealth.therapy");
    assert_eq!(telehealth.len(), 1, "{:#?}", report.findings);
    assert!(
        telehealth[0].message.contains("place of service 11"),
        "{}",
        telehealth[0].message
    );
    let home = office.replace("place_of_service: \"11\"", "place_of_service: \"10\"");
    assert!(fired(&evaluate(&home), "medicare.telehealth.therapy").is_empty());
}

#[test]
fn explain_says_what_each_rule_looked_at() {
    let text = claim(GOOD_LINES, "");
    let claim = read_claim(&text, InputFormat::Yaml).expect("claim reads");
    let report = ppl::eval::evaluate_explained(&claim, policies()).expect("evaluates");
    let explanation = report.explanation.as_ref().expect("an explanation");
    let units = explanation
        .iter()
        .find(|e| &*e.rule == "medicare.units.eight-minute" && e.line == Some(0))
        .expect("the unit rule is explained for line 0");
    assert_eq!(units.verdict, ppl::report::Verdict::Passed);
    let seen: Vec<(&str, &str)> = units
        .looked_at
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    assert!(
        seen.contains(&("minutes documented for this line", "30")),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("units the minutes support", "2")),
        "{seen:?}"
    );
    let kx = explanation
        .iter()
        .find(|e| &*e.rule == "medicare.threshold.kx-ot" && e.line == Some(0))
        .expect("the KX rule is explained");
    assert!(
        kx.looked_at
            .iter()
            .any(|f| f.name == "kx_threshold_ot" && f.value == "$2,480.00"),
        "{:?}",
        kx.looked_at
    );
    // Without --explain the report carries no explanation (and its JSON no field).
    let plain = evaluate(&text);
    assert!(plain.explanation.is_none());
    assert!(!serde_json::to_string(&plain)
        .expect("json")
        .contains("explanation"));
}

/// Inputs the fuzzer once crashed on (kept in tests/data/claims/crashes/):
/// read, evaluated and rendered without a panic.
#[test]
fn inputs_that_once_crashed_are_handled() {
    for entry in std::fs::read_dir("tests/data/claims/crashes").expect("crash corpus") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("readable");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let claims: Vec<_> = match ppl::claim::detect_format(None, &text) {
            InputFormat::Ndjson => ppl::claim::read_ndjson(&text)
                .into_iter()
                .map(|(_, claim)| claim)
                .collect(),
            format => vec![read_claim(&text, format)],
        };
        for claim in claims {
            let Ok(claim) = claim else { continue };
            if let Ok(report) = ppl::eval::evaluate(&claim, policies()) {
                let _ = ppl::report::render_json(&report);
                let source = ppl::report::ClaimSource {
                    name: "crash",
                    text: &text,
                };
                let _ = ppl::report::render_human(
                    &report,
                    &source,
                    &ppl::report::PolicySources::none(),
                    false,
                    80,
                );
            }
        }
    }
}

/// Counts from a claim can be as large as the format allows: sums saturate,
/// never overflow (a debug build would panic, a release build would wrap).
#[test]
fn huge_minutes_and_units_do_not_overflow() {
    let lines = r#"  - { code: "97110", modifiers: ["GO"], units: 4294967295, minutes: 4294967295 }
  - { code: "97110", modifiers: ["GO"], units: 4294967295, minutes: 4294967295 }"#;
    let report = evaluate(&claim(lines, ""));
    assert_eq!(report.status, Status::Fail, "{:#?}", report.findings);
    // The MUE daily cap sees an enormous total, not a wrapped small one.
    assert!(
        !fired(&report, "ncci.mue").is_empty(),
        "{:#?}",
        report.findings
    );
}

/// A claim-wide rule is judged once, on the first visit with a line it is
/// about, even when that is not the claim's first date of service.
#[test]
fn a_claim_rule_is_judged_once_where_its_codes_appear() {
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        folder.path().join("example.ppl"),
        "payer example-claim-rule \"Example (synthetic)\"\n\nrule example.lines general {\n  for claim\n  codes [97535]\n  require count(lines) > 5\n  message \"claim {id} has too few lines\"\n  cite \"Example (synthetic)\"\n}\n",
    )
    .expect("policy");
    let checked = ppl::check::check_paths(&[folder.path().to_path_buf()]).expect("readable");
    assert!(!checked.has_errors());
    let policies = ppl::compile::compile(&checked).expect("compiles");
    let text = r#"id: CLM-TWO-DATES
payer: example-claim-rule
place_of_service: "11"
provider: { npi: "1234567893", discipline: PT, role: therapist }
diagnoses: ["I69.351"]
lines:
  - { code: "97110", modifiers: ["GP"], units: 1, minutes: 15, date_of_service: 2026-03-02 }
  - { code: "97535", modifiers: ["GP"], units: 1, minutes: 15, date_of_service: 2026-03-04 }
"#;
    let claim = read_claim(text, InputFormat::Yaml).expect("claim reads");
    let report = ppl::eval::evaluate(&claim, &policies).expect("evaluates");
    let fired = fired(&report, "example.lines");
    assert_eq!(fired.len(), 1, "{:#?}", report.findings);
    assert_eq!(fired[0].message, "claim CLM-TWO-DATES has too few lines");
}

#[test]
fn plan_of_care_certification_is_late_only_once_the_days_have_run_out() {
    let with_plan = |plan: &str| {
        claim(GOOD_LINES, "").replace(
            "plan_of_care: { established: 2026-02-10, certified: 2026-02-12, through: 2026-05-10 }",
            plan,
        )
    };
    // Not certified yet, 10 days after the plan: not late.
    let early = evaluate(&with_plan(
        "plan_of_care: { established: 2026-02-20, through: 2026-05-10 }",
    ));
    assert!(
        fired(&early, "medicare.documentation.plan-of-care-certified").is_empty(),
        "{:#?}",
        early.findings
    );
    // Not certified 51 days after: late.
    let late = evaluate(&with_plan(
        "plan_of_care: { established: 2026-01-10, through: 2026-04-10 }",
    ));
    let certified = fired(&late, "medicare.documentation.plan-of-care-certified");
    assert_eq!(certified.len(), 1, "{:#?}", late.findings);
    // A plan that starts after the date of service is not in force.
    let future = evaluate(&with_plan(
        "plan_of_care: { established: 2026-03-05, certified: 2026-03-06, through: 2026-06-01 }",
    ));
    let current = fired(&future, "medicare.documentation.plan-of-care-current");
    assert_eq!(current.len(), 1, "{:#?}", future.findings);
    assert_eq!(current[0].severity, FindingSeverity::Deny);
}

#[test]
fn a_visit_of_more_than_64_lines_is_judged_line_by_line() {
    // Rules group a visit's lines in 64-line words: lines 64 to 69 are in the second.
    let lines: Vec<String> = (0..70)
        .map(|index| {
            let modifiers = if [3, 66, 69].contains(&index) {
                ""
            } else {
                "GO"
            };
            format!(r#"  - {{ code: "97110", modifiers: [{modifiers:?}], units: 1, minutes: 15 }}"#)
                .replace(r#"[""]"#, "[]")
        })
        .collect();
    let report = evaluate(&claim(&lines.join("\n"), ""));
    let unmarked: Vec<Option<usize>> = fired(&report, "medicare.modifier.discipline")
        .iter()
        .map(|f| f.line)
        .collect();
    assert_eq!(unmarked, [Some(3), Some(66), Some(69)]);
    // The unit rule saw every line, in both words.
    assert_eq!(report.lines.len(), 70);
    assert!(report
        .lines
        .iter()
        .all(|line| line.units_supported == Some(1)));
}
