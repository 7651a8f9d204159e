//! `ppl diff OLD NEW CLAIMS`: a deliberately changed copy of the shipped
//! policies shows exactly the claims it changes; the same policies show none;
//! a bad claim is reported, not fatal; git revisions work as policy sets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::run::Run;

fn ppl_in(dir: &Path, args: &[&str]) -> Run {
    super::run::ppl_in(Some(dir), args, None)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ppl(args: &[&str]) -> Run {
    ppl_in(root(), args)
}

fn json(run: &Run) -> Value {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON report")
}

/// A copy of `policies/` in a temporary folder, with `edit` applied to the
/// text of `file`.
fn changed_copy(file: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    copy_dir(&root().join("policies"), folder.path());
    let path = folder.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit must change the policy");
    std::fs::write(path, edited).unwrap();
    folder
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The ids of the sample claims (all payers) with a finding of `rule` under the shipped policies.
fn claims_with_finding(rule: &str) -> BTreeSet<String> {
    let checked = ppl::check::check_paths(&[root().join("policies")]).unwrap();
    let compiled = ppl::compile::compile(&checked).unwrap();
    let mut ids = BTreeSet::new();
    for path in sample_claims() {
        let text = std::fs::read_to_string(&path).unwrap();
        let claim = ppl::claim::read_claim(&text, ppl::claim::InputFormat::Yaml).unwrap();
        let report = ppl::eval::evaluate(&claim, &compiled).unwrap();
        if report.findings.iter().any(|f| &*f.rule.id == rule) {
            ids.insert(claim.id.value.clone());
        }
    }
    ids
}

fn sample_claims() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for payer in std::fs::read_dir(root().join("tests/payers")).unwrap() {
        for file in std::fs::read_dir(payer.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                paths.push(path);
            }
        }
    }
    paths
}

fn changed_ids(report: &Value) -> BTreeSet<String> {
    report["changed_claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["claim_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_same_policies_change_nothing() {
    let report = json(&ppl(&[
        "diff",
        "policies",
        "policies",
        "tests/payers",
        "--format",
        "json",
    ]));
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["claims"].as_u64().unwrap() as usize,
        sample_claims().len()
    );
    assert_eq!(report["changed"], 0);
    assert_eq!(report["unreadable"], 0);
    assert_eq!(report["changed_claims"], serde_json::json!([]));
    assert_eq!(report["rules"], serde_json::json!([]));
    assert_eq!(report["to_fail"]["cents"], 0);
}

#[test]
fn a_removed_rule_changes_exactly_the_claims_it_fired_on() {
    let rule = "medicare.modifier.discipline";
    let expected = claims_with_finding(rule);
    assert!(
        expected.len() >= 3,
        "the samples exercise the rule: {expected:?}"
    );
    // medicare-advantage-example inherits the rule; removing it from Part B removes it there too.
    let new = changed_copy("medicare-part-b.ppl", |text| {
        let start = text
            .find("rule medicare.modifier.discipline provider")
            .unwrap();
        let end = start + text[start..].find("\n}\n").unwrap() + 3;
        format!("{}{}", &text[..start], &text[end..])
    });
    let report = json(&ppl(&[
        "diff",
        "policies",
        new.path().to_str().unwrap(),
        "tests/payers",
        "--format",
        "json",
    ]));
    assert_eq!(changed_ids(&report), expected);
    let rules = report["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0]["rule"], rule);
    assert_eq!(
        rules[0]["claims"].as_u64().unwrap() as usize,
        expected.len()
    );
    assert_eq!(rules[0]["added"], 0);
    for claim in report["changed_claims"].as_array().unwrap() {
        for finding in claim["findings"].as_array().unwrap() {
            assert_eq!(finding["change"], "removed");
            assert_eq!(finding["rule"], rule);
        }
    }
}

/// The Part B KX claim (PT+SLP allowed $2,615.40 in 2026, no KX), with a charge on its line.
const KX_CLAIM: &str = r#"{"id": "SYN-DIFF-KX", "payer": "medicare-part-b", "date_of_service": "2026-08-03", "place_of_service": "11", "provider": {"npi": "1234567893", "discipline": "PT", "role": "therapist"}, "diagnoses": ["G20.A1"], "lines": [{"code": "97535", "modifiers": ["GP"], "units": 2, "minutes": 30, "charge": 120.50}], "documentation": {"objective": "Train safe turning", "functional_goals": ["Carry a cup without freezing"], "total_timed_minutes": 30, "total_treatment_minutes": 30, "plan_of_care": {"established": "2026-07-13", "certified": "2026-07-15", "through": "2026-10-09"}, "visits_since_progress_report": 5}, "history": {"therapy_allowed_ytd": {"pt_slp": 2615.40, "ot": 0}}}"#;

/// The same claim below every threshold: no policy change here moves it.
const QUIET_CLAIM: &str = r#"{"id": "SYN-DIFF-QUIET", "payer": "medicare-part-b", "date_of_service": "2026-08-03", "place_of_service": "11", "provider": {"npi": "1234567893", "discipline": "PT", "role": "therapist"}, "diagnoses": ["G20.A1"], "lines": [{"code": "97535", "modifiers": ["GP"], "units": 2, "minutes": 30, "charge": 99.00}], "documentation": {"objective": "Train safe turning", "functional_goals": ["Carry a cup without freezing"], "total_timed_minutes": 30, "total_treatment_minutes": 30, "plan_of_care": {"established": "2026-07-13", "certified": "2026-07-15", "through": "2026-10-09"}, "visits_since_progress_report": 5}, "history": {"therapy_allowed_ytd": {"pt_slp": 100.00, "ot": 0}}}"#;

#[test]
fn a_raised_threshold_moves_the_claim_above_it_to_pass_with_its_dollars() {
    let new = changed_copy("medicare-part-b.ppl", |text| {
        text.replace(
            "const kx_threshold_pt_slp: dollars from 2026-01-01 through 2026-12-31 = $2,480.00",
            "const kx_threshold_pt_slp: dollars from 2026-01-01 through 2026-12-31 = $2,700.00",
        )
    });
    let corpus = tempfile::tempdir().unwrap();
    let claims = corpus.path().join("claims.ndjson");
    std::fs::write(
        &claims,
        format!("{QUIET_CLAIM}\n{KX_CLAIM}\n{{\"id\": \"BAD\", \"payer\": 12}}\n{QUIET_CLAIM}\n"),
    )
    .unwrap();
    let claims_arg = claims.to_str().unwrap();
    let report = json(&ppl(&[
        "diff",
        "policies",
        new.path().to_str().unwrap(),
        claims_arg,
        "--format",
        "json",
    ]));
    assert_eq!(report["claims"], 3);
    assert_eq!(report["changed"], 1);
    let change = &report["changed_claims"][0];
    assert_eq!(change["claim_id"], "SYN-DIFF-KX");
    assert_eq!(change["source"], format!("{claims_arg}:2"));
    assert_eq!(change["old_status"], "fail");
    assert_eq!(change["new_status"], "pass");
    assert_eq!(change["findings"][0]["change"], "removed");
    assert_eq!(
        change["findings"][0]["rule"],
        "medicare.threshold.kx-pt-slp"
    );
    assert_eq!(change["findings"][0]["old_severity"], "deny");
    assert_eq!(
        change["lines_moved"],
        serde_json::json!([{"line": 0, "direction": "to_pass", "charge_cents": 12050, "rules": ["medicare.threshold.kx-pt-slp"]}])
    );
    assert_eq!(
        report["to_pass"],
        serde_json::json!({"cents": 12050, "lines": 1, "lines_without_charge": 0})
    );
    assert_eq!(report["to_fail"]["cents"], 0);
    assert_eq!(
        report["status_changes"],
        serde_json::json!([{"old": "fail", "new": "pass", "claims": 1}])
    );
    // The bad line is reported with its place, and the claims after it are still compared.
    assert_eq!(report["unreadable"], 1);
    assert_eq!(report["errors"][0]["source"], format!("{claims_arg}:3:1"));
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("missing field `provider`"), "{message}");

    // Reversed, the same claim moves the other way; the human report says so.
    let run = ppl(&["diff", new.path().to_str().unwrap(), "policies", claims_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("3 claims compared, 1 changed, 1 unreadable"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("pass -> fail  $120.50 on 1 line\n"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains(&format!("SYN-DIFF-KX ({claims_arg}:2): pass -> fail")));
    assert!(run
        .stdout
        .contains("+ medicare.threshold.kx-pt-slp line 0 deny: 97535 has no KX modifier"));
    assert!(
        run.stdout
            .contains(&format!("{claims_arg}:3:1: missing field `provider`")),
        "{}",
        run.stdout
    );
}

#[test]
fn policies_that_do_not_load_or_a_missing_corpus_cannot_run() {
    let run = ppl(&[
        "diff",
        "no-such-folder-or-revision",
        "policies",
        "tests/payers",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`no-such-folder-or-revision` is neither a folder nor a git revision"),
        "{}",
        run.stderr
    );
    let run = ppl(&["diff", "policies", "policies", "no-such-claims.ndjson"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read `no-such-claims.ndjson`"),
        "{}",
        run.stderr
    );
    let broken = changed_copy("medicare-part-b.ppl", |text| {
        format!("{text}\nrule broken {{\n")
    });
    let run = ppl(&[
        "diff",
        "policies",
        broken.path().to_str().unwrap(),
        "tests/payers",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("NEW"), "{}", run.stderr);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=ppl test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn git_revisions_of_policies_are_policy_sets() {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&root().join("policies"), &repo.path().join("policies"));
    std::fs::write(repo.path().join("claims.ndjson"), format!("{KX_CLAIM}\n")).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "shipped"]);
    let policy = repo.path().join("policies/medicare-part-b.ppl");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("= $2,480.00", "= $2,700.00")).unwrap();
    git(
        repo.path(),
        &["commit", "-q", "-am", "raise the 2026 thresholds"],
    );

    for (old, new) in [("HEAD~1", "HEAD"), ("HEAD~1:policies", "policies")] {
        let run = ppl_in(
            repo.path(),
            &["diff", old, new, "claims.ndjson", "--format", "json"],
        );
        let report = json(&run);
        assert_eq!(report["changed"], 1, "{old} {new}: {}", run.stdout);
        assert_eq!(report["changed_claims"][0]["new_status"], "pass");
    }
    let run = ppl_in(
        repo.path(),
        &["diff", "HEAD", "HEAD", "claims.ndjson", "--format", "json"],
    );
    assert_eq!(json(&run)["changed"], 0);
    let run = ppl_in(repo.path(), &["diff", "HEAD~5", "HEAD", "claims.ndjson"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("OLD:"), "{}", run.stderr);
}

#[test]
fn a_generated_corpus_over_several_chunks_keeps_input_order() {
    // 5,000 claims: more than one chunk of 4,096, so results from several chunks and threads merge.
    let corpus = tempfile::tempdir().unwrap();
    let claims = corpus.path().join("corpus.ndjson");
    ppl::corpus::write_sample_corpus(std::fs::File::create(&claims).unwrap(), 5_000, 1_000)
        .unwrap();
    let new = changed_copy("medicare-part-b.ppl", |text| {
        text.replace("= $2,480.00", "= $1,500.00")
    });
    let report = json(&ppl(&[
        "diff",
        "policies",
        new.path().to_str().unwrap(),
        claims.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(report["claims"], 4_995);
    assert_eq!(report["unreadable"], 5);
    // The claims that change, computed one by one through the library.
    let old = ppl::compile::compile(&ppl::check::check_paths(&[root().join("policies")]).unwrap())
        .unwrap();
    let newer =
        ppl::compile::compile(&ppl::check::check_paths(&[new.path().to_owned()]).unwrap()).unwrap();
    let text = std::fs::read_to_string(&claims).unwrap();
    let mut expected = Vec::new();
    for (_, claim) in ppl::claim::read_ndjson(&text) {
        let Ok(claim) = claim else { continue };
        let (a, b) = (
            ppl::eval::evaluate(&claim, &old),
            ppl::eval::evaluate(&claim, &newer),
        );
        if ppl::diff::compare(&claim, "", &a, &b).is_some() {
            expected.push(claim.id.value.clone());
        }
    }
    let got: Vec<String> = report["changed_claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["claim_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        expected.len() > 100,
        "the change moves many claims: {}",
        expected.len()
    );
    assert_eq!(got, expected);
}
