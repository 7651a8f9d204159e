//! `ppl test`: the shipped policies' own suite (`tests/policy/`) must pass,
//! with every shipped payer under test; and the runner itself as compliance
//! staff meet it: a failed expectation shows expected against actual and
//! exits 1, a malformed test file says where and exits 2, `--coverage-min`
//! fails a run below it, `--junit` writes XML a CI system can read.

use super::run::Run;
use std::path::{Path, PathBuf};

use ppl::policy_test::{self, Outcome};

fn policy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy")
}

fn ppl_test(dir: &Path, args: &[&str]) -> Run {
    let args: Vec<&str> = std::iter::once("test")
        .chain(args.iter().copied())
        .collect();
    super::run::ppl_in(Some(dir), &args, None)
}

/// A folder holding `tests.yaml` with `text`, and the path of a sample claim
/// that text may name as `claim_file`.
fn suite(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("tests.yaml"), text).expect("write tests");
    dir
}

/// A clean Medicare OT visit: 8 minutes of 97535, one unit, nothing fires.
fn eight_minutes() -> String {
    format!(
        "{}/tests/payers/medicare-part-b/units-exactly-8-min.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_shipped_suite_passes_and_tests_every_shipped_payer() {
    let checked = ppl::check::check(ppl::check::Workspace::embedded());
    let compiled = ppl::compile::compile(&checked).expect("shipped policies compile");
    let report = policy_test::run(&[policy_dir()], &compiled).expect("tests/policy/ has tests");
    let mut problems = Vec::new();
    for file in &report.files {
        problems.extend(file.problems.iter().cloned());
        for test in &file.tests {
            match &test.outcome {
                Outcome::Passed => {}
                Outcome::Failed(failure) => problems.push(format!(
                    "{}:{}: {}: {:?}",
                    file.path.display(),
                    test.place.line,
                    test.name,
                    failure.mismatches
                )),
                Outcome::Error(errors) => problems.extend(errors.iter().cloned()),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        report.coverage.untested_payers.is_empty(),
        "shipped payers without tests in tests/policy/: {:?}",
        report.coverage.untested_payers
    );
    assert_eq!(report.coverage.payers.len(), compiled.payers.len());
    // The floor CI holds the suite to (.ci/run runs `ppl test --coverage-min 90`).
    let below: Vec<String> = report
        .coverage
        .below(90.0)
        .iter()
        .map(|p| format!("{} {}", p.payer, p.ratio().percent_text()))
        .collect();
    assert!(below.is_empty(), "rule coverage below 90%: {below:?}");
    assert_eq!(report.exit_code(Some(90.0)), 0);
}

#[test]
fn every_payer_folder_under_tests_policy_is_a_shipped_payer() {
    let checked = ppl::check::check(ppl::check::Workspace::embedded());
    let compiled = ppl::compile::compile(&checked).expect("compile");
    for entry in std::fs::read_dir(policy_dir()).expect("tests/policy/") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            compiled.payers.contains_key(name.as_ref()),
            "tests/policy/{name} is not named after a shipped payer"
        );
    }
}

#[test]
fn the_shipped_suite_runs_from_the_command_line_with_its_coverage() {
    let run = ppl_test(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["--coverage-min", "90"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("0 failed, 0 could not run"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("every payer reaches the minimum coverage of 90%"));
    for payer in [
        "medicare-part-b",
        "medicare-advantage-example",
        "commercial-ppo-example",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|line| line.trim_start().starts_with(payer)),
            "no coverage row for {payer}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_failed_expectation_shows_expected_against_actual_and_exits_1() {
    let dir = suite(&format!(
        "- name: eight minutes are two units\n  claim_file: {}\n  expect:\n    status: fail\n    fires:\n      - {{ rule: medicare.units.eight-minute, severity: deny, line: 0 }}\n    units_supported: {{ 0: 2 }}\n",
        eight_minutes()
    ));
    let run = ppl_test(dir.path(), &["tests.yaml"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let expected = [
        "  FAIL  eight minutes are two units (line 1)",
        "        4:13    expected status fail",
        "                got      status pass",
        "        6:9     expected fires medicare.units.eight-minute deny on line 0",
        "                got      it gave no finding",
        "        7:24    expected units supported on line 0: 2",
        "                got      units supported on line 0: 1",
        "        the claim came out pass, with no findings",
        "1 test in 1 file: 0 passed, 1 failed, 0 could not run",
    ];
    for line in expected {
        assert!(
            run.stdout.contains(line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_rule_that_must_not_fire_but_does_fails_with_what_it_gave() {
    let claim = format!(
        "{}/tests/payers/medicare-part-b/units-7-min-alone-deny.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let dir = suite(&format!(
        "- name: seven minutes\n  claim_file: {claim}\n  expect:\n    does_not_fire: [medicare.units.eight-minute]\n    fires:\n      - {{ rule: medicare.units.eight-minute, severity: deny, line: 3 }}\n"
    ));
    // Line 3 does not exist: the test cannot run, whatever the rule did.
    let run = ppl_test(dir.path(), &["tests.yaml"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("tests.yaml:6:9: the claim has no line 3 (it has 1 line, counted from 0)"),
        "{}",
        run.stdout
    );

    std::fs::write(
        dir.path().join("tests.yaml"),
        format!("- name: seven minutes\n  claim_file: {claim}\n  expect:\n    does_not_fire: [medicare.units.eight-minute]\n    fires:\n      - {{ rule: medicare.units.eight-minute, severity: warn }}\n"),
    )
    .expect("write");
    let run = ppl_test(dir.path(), &["tests.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run
        .stdout
        .contains("expected does not fire medicare.units.eight-minute"));
    assert!(run
        .stdout
        .contains("expected fires medicare.units.eight-minute warn\n"));
    assert!(run.stdout.contains("got      it gave deny on line 0"));
    assert!(run
        .stdout
        .contains("line 0  deny         medicare.units.eight-minute: 97535 is billed"));
}

#[test]
fn a_malformed_test_file_says_where_and_exits_2() {
    let dir = suite(&format!(
        "- name: typo\n  claim_file: {}\n  expect:\n    stauts: pass\n    fires:\n      - {{ rule: ncci.mue, severity: denied }}\n",
        eight_minutes()
    ));
    let run = ppl_test(dir.path(), &["tests.yaml"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "tests.yaml:4:5: unknown key `stauts` in `expect` of test 1; did you mean `status`?"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(
        "tests.yaml:6:37: `severity` must be one of `deny`, `undetermined`, `warn`, `info`, found `denied`; did you mean `deny`?"
    ), "{}", run.stdout);
    assert!(run.stdout.contains("1 test file could not be read"));

    // Not YAML at all.
    std::fs::write(dir.path().join("tests.yaml"), "- name: [unclosed\n").expect("write");
    let run = ppl_test(dir.path(), &["tests.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("tests.yaml:2:1: invalid YAML"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bad_inline_claim_or_unknown_rule_is_an_error_and_the_other_tests_still_run() {
    let dir = suite(&format!(
        r#"- name: bad claim
  claim:
    id: X1
    payer: medicare-part-b
    date_of_service: 2026-03-02
    provider: {{ npi: "1234567893", discipline: PT, role: therapist }}
    lines:
      - {{ code: 97110, units: 1 }}
  expect:
    status: pass
- name: misspelt rule
  claim_file: {claim}
  expect:
    does_not_fire: [medicare.units.eight-minutes]
- name: clean visit
  claim_file: {claim}
  expect:
    status: pass
"#,
        claim = eight_minutes()
    ));
    let run = ppl_test(dir.path(), &["tests.yaml"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("tests.yaml:8:17: `code` must be a string"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(at claim `/lines/0/code`)"));
    assert!(run.stdout.contains(
        "tests.yaml:14:21: payer `medicare-part-b` has no rule `medicare.units.eight-minutes`; did you mean `medicare.units.eight-minute`?"
    ), "{}", run.stdout);
    assert!(run.stdout.contains("  PASS  clean visit"));
    assert!(run
        .stdout
        .contains("3 tests in 1 file: 1 passed, 0 failed, 2 could not run"));
}

#[test]
fn coverage_min_fails_the_run_below_it() {
    let dir = suite(&format!(
        "- name: clean visit\n  claim_file: {}\n  expect:\n    status: pass\n",
        eight_minutes()
    ));
    // One clean claim: every rule that applied passed, none fired, so nothing is covered.
    let run = ppl_test(dir.path(), &["tests.yaml", "--coverage-min", "1"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run
        .stdout
        .contains("coverage below the minimum of 1%: medicare-part-b 0.0%"));
    assert!(run
        .stdout
        .contains("medicare-part-b  medicare.units.eight-minute: no test saw it fire"));
    assert!(run.stdout.contains(
        "payers no test evaluated a claim against (not counted): commercial-hmo-example"
    ));

    let run = ppl_test(dir.path(), &["tests.yaml", "--coverage-min", "0"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    let run = ppl_test(dir.path(), &["tests.yaml", "--coverage-min", "101"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a percentage from 0 to 100"),
        "{}",
        run.stderr
    );
}

#[test]
fn junit_output_is_well_formed_xml_with_the_right_counts() {
    let claim = eight_minutes();
    let dir = suite(&format!(
        r#"- name: passes <&> "quoted"
  claim_file: {claim}
  expect:
    status: pass
- name: fails
  claim_file: {claim}
  expect:
    status: fail
- name: cannot run
  claim_file: no-such-claim.yaml
  expect:
    status: pass
"#
    ));
    std::fs::write(dir.path().join("broken.yaml"), "- name: x\n  expect: {}\n").expect("write");
    let run = ppl_test(dir.path(), &[".", "--junit", "results.xml"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let xml = std::fs::read_to_string(dir.path().join("results.xml")).expect("junit written");
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("4"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("errors"), Some("2"));
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 2);
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4);
    let count = |tag: &str| root.descendants().filter(|n| n.has_tag_name(tag)).count();
    assert_eq!(count("failure"), 1);
    assert_eq!(count("error"), 2);
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert!(names.contains(&r#"passes <&> "quoted""#), "{names:?}");
    let failure = root
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .and_then(|n| n.text())
        .expect("failure text");
    assert!(
        failure.contains("expected status fail; got status pass"),
        "{failure}"
    );
    let tests_suite = suites
        .iter()
        .find(|s| {
            s.attribute("name")
                .is_some_and(|n| n.ends_with("tests.yaml"))
        })
        .expect("the tests.yaml suite");
    assert_eq!(tests_suite.attribute("tests"), Some("3"));
    assert_eq!(tests_suite.attribute("failures"), Some("1"));
    assert_eq!(tests_suite.attribute("errors"), Some("1"));
}

#[test]
fn a_folder_without_test_files_cannot_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = ppl_test(dir.path(), &["."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no test files"), "{}", run.stderr);
    // The default folder, tests/policy/, is missing here.
    let run = ppl_test(dir.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read `tests/policy`"),
        "{}",
        run.stderr
    );
}

/// The console output and the JUnit XML that `docs/testing-policies.md` shows
/// are what `ppl test` prints for the example file today.
#[test]
fn the_output_shown_in_the_docs_is_real() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/testing-policies.md")).expect("doc");
    let junit = tempfile::NamedTempFile::new().expect("temp file");
    let junit_path = junit.path().to_str().expect("UTF-8 path");
    let run = ppl_test(
        root,
        &["docs/examples/policy-test.yaml", "--junit", junit_path],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let command = "$ ppl test docs/examples/policy-test.yaml\n";
    let shown = doc
        .split_once(command)
        .and_then(|(_, rest)| rest.split_once("$ echo $?\n1\n"))
        .map(|(output, _)| output)
        .expect("the doc shows the example run");
    assert_eq!(shown, run.stdout, "update docs/testing-policies.md");
    let xml = std::fs::read_to_string(junit.path()).expect("junit");
    let shown_xml = doc
        .split_once("```xml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(xml, _)| xml)
        .expect("the doc shows the JUnit XML");
    assert_eq!(shown_xml, xml, "update docs/testing-policies.md");
}
