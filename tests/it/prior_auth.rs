//! Prior authorization: the two-rule recipe of docs/language.md §16 (one rule for
//! an absent or non-covering authorization, CARC 197; one for units beyond it,
//! CARC 198) gives each claim exactly the finding a biller expects.

use ppl::claim::{read_claim, InputFormat};
use ppl::compile::CompiledPolicies;
use ppl::report::{ClaimReport, FindingSeverity};

const POLICY: &str = r#"payer example-pa "Example payer for prior-authorization tests"

rule example-pa.absent prior_auth {
  codes [97110 97530 97535]
  required always
  verify [number window codes]
  carc 197
  message "{line.code} needs an authorization: {reason}"
  cite "Example Payer Therapy Policy §5"
}

rule example-pa.exceeded prior_auth {
  codes [97110 97530 97535]
  required always
  verify [units]
  carc 198
  message "{line.code} bills past the authorization: {reason}"
  cite "Example Payer Therapy Policy §5"
}
"#;

fn policies() -> &'static CompiledPolicies {
    static POLICIES: std::sync::OnceLock<CompiledPolicies> = std::sync::OnceLock::new();
    POLICIES.get_or_init(|| policies_from(POLICY))
}

fn policies_from(policy: &str) -> CompiledPolicies {
    let folder = tempfile::tempdir().expect("temp folder");
    let path = folder.path().join("example-pa.ppl");
    std::fs::write(&path, policy).expect("policy written");
    let checked = ppl::check::check_paths(&[folder.path().to_path_buf()]).expect("readable");
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    ppl::compile::compile(&checked).expect("compiles")
}

fn evaluate(authorization: &str, lines: &str) -> ClaimReport<'static> {
    evaluate_with(policies(), authorization, lines)
}

fn evaluate_with<'p>(
    policies: &'p CompiledPolicies,
    authorization: &str,
    lines: &str,
) -> ClaimReport<'p> {
    let text = format!(
        r#"id: CLM-PA-1
payer: example-pa
date_of_service: 2026-03-02
place_of_service: "11"
provider: {{ npi: "1234567893", discipline: OT, role: therapist }}
diagnoses: ["I69.351"]
{authorization}
lines:
{lines}
"#
    );
    let claim = read_claim(&text, InputFormat::Yaml).expect("claim reads");
    ppl::eval::evaluate(&claim, policies).expect("evaluates")
}

fn fired(report: &ClaimReport) -> Vec<(String, Option<usize>, Option<String>)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.id.to_string(),
                f.line,
                f.rule.carc.as_deref().map(str::to_owned),
            )
        })
        .collect()
}

const TWO_LINES: &str = r#"  - { code: "97535", modifiers: ["GO"], units: 2, minutes: 30 }
  - { code: "97530", modifiers: ["GO"], units: 2, minutes: 30 }"#;

#[test]
fn a_claim_without_authorization_is_denied_as_absent_not_as_exceeded() {
    let report = evaluate("", TWO_LINES);
    assert_eq!(
        fired(&report),
        vec![
            (
                "example-pa.absent".to_owned(),
                Some(0),
                Some("197".to_owned())
            ),
            (
                "example-pa.absent".to_owned(),
                Some(1),
                Some("197".to_owned())
            ),
        ]
    );
    // The finding underlines the line's code, not the whole claim.
    let span = report.findings[0].claim_span.as_ref().expect("a span");
    assert_eq!(span.path.to_string(), "/lines/0/code");
}

#[test]
fn authorized_units_are_counted_over_every_authorized_code_together() {
    let authorization = r#"prior_authorization: { number: "PA-1", codes: ["97535", "97530"], units: 3, from: 2026-03-01, through: 2026-04-30 }"#;
    let report = evaluate(authorization, TWO_LINES);
    let exceeded: Vec<_> = report
        .findings
        .iter()
        .filter(|f| &*f.rule.id == "example-pa.exceeded")
        .collect();
    assert_eq!(exceeded.len(), 2, "{:?}", fired(&report));
    assert!(exceeded.iter().all(|f| f.severity == FindingSeverity::Deny
        && f.message.contains("4 units billed, 3 authorized")));
    assert!(!report
        .findings
        .iter()
        .any(|f| &*f.rule.id == "example-pa.absent"));
}

#[test]
fn units_within_the_authorization_pass() {
    let authorization = r#"prior_authorization: { number: "PA-1", codes: ["97535", "97530"], units: 4, from: 2026-03-01, through: 2026-04-30 }"#;
    assert_eq!(fired(&evaluate(authorization, TWO_LINES)), vec![]);
}

#[test]
fn an_open_ended_window_names_the_missing_end_date() {
    let authorization = r#"prior_authorization: { number: "PA-1", codes: ["97535", "97530"], units: 4, from: 2026-03-01 }"#;
    let report = evaluate(authorization, TWO_LINES);
    let undetermined: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == FindingSeverity::Undetermined)
        .collect();
    assert_eq!(undetermined.len(), 2, "{:?}", fired(&report));
    assert!(undetermined
        .iter()
        .all(|f| f.missing == vec!["/prior_authorization/through".to_owned()]));
}

/// `present(RECORD)` asks whether the claim carries the record at all.
#[test]
fn present_of_a_whole_record_is_whether_the_claim_carries_it() {
    let policy = r#"payer example-pa "Example payer for prior-authorization tests"

rule example-pa.note general {
  for claim
  when present(prior_authorization) and present(documentation.plan_of_care) == false
  require present(history)
  severity info
  message "an authorization is on the claim, without a plan of care or history"
  cite "Example Payer Therapy Policy §5"
}
"#;
    let policies = policies_from(policy);
    let with_auth = r#"prior_authorization: { number: "PA-1" }"#;
    let fired_with = fired(&evaluate_with(&policies, with_auth, TWO_LINES));
    assert_eq!(fired_with, vec![("example-pa.note".to_owned(), None, None)]);
    assert_eq!(fired(&evaluate_with(&policies, "", TWO_LINES)), vec![]);
}
