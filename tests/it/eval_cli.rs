//! `ppl eval` as billers and billing systems run it: exit codes, the JSON and
//! NDJSON contracts, the human report, the built-in policies, and the unit
//! cases billers check by hand (the seed guide's case studies, the 8-minute rule).
//!
//! The claims are synthetic fixtures in `tests/claims/`; each says in a comment
//! what it expects.

use std::path::Path;

use serde_json::Value;

use super::run::Run;

/// The path of a fixture in `tests/claims/`, absolute so that tests may run
/// the binary from any folder.
fn claim(name: &str) -> String {
    format!("{}/tests/claims/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(claim(name)).expect("fixture")
}

fn ppl_with(dir: Option<&Path>, args: &[&str], stdin: Option<&str>) -> Run {
    super::run::ppl_in(dir, args, stdin)
}

fn ppl(args: &[&str]) -> Run {
    ppl_with(None, args, None)
}

/// `ppl eval --format json` of one claim file: the exit code and the report.
fn eval_json(file: &str) -> (i32, Value) {
    let run = ppl(&["eval", "--format", "json", &claim(file)]);
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {}{}", run.stdout, run.stderr));
    (run.code, report)
}

/// `ppl eval --format json -` of a claim text on standard input.
fn eval_json_stdin(text: &str) -> (i32, Value) {
    let run = ppl_with(None, &["eval", "--format", "json", "-"], Some(text));
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", run.stdout, run.stderr));
    (run.code, report)
}

fn units_supported(report: &Value) -> Vec<Value> {
    report["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| line["units_supported"].clone())
        .collect()
}

/// The findings of `rule`, in report order.
fn findings_of<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

const EIGHT_MINUTE: &str = "medicare.units.eight-minute";

// ── Exit codes ───────────────────────────────────────────────────────────────

#[test]
fn a_passing_claim_exits_0_and_a_failing_one_exits_1() {
    let (code, report) = eval_json("pass.yaml");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["status"], "pass");
    assert_eq!(report["findings"], serde_json::json!([]));

    let (code, report) = eval_json("fail.yaml");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["status"], "fail");
}

#[test]
fn an_incomplete_claim_exits_0_and_names_the_missing_facts() {
    let (code, report) = eval_json("incomplete.yaml");
    assert_eq!(code, 0, "undetermined is not a denial: {report:#}");
    assert_eq!(report["status"], "incomplete");
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.iter().all(|f| f["severity"] == "undetermined"));
    let missing: Vec<&str> = findings
        .iter()
        .flat_map(|f| f["missing"].as_array().expect("missing"))
        .map(|path| path.as_str().expect("path"))
        .collect();
    for needed in [
        "/documentation",
        "/lines/0/minutes",
        "/history/therapy_allowed_ytd/ot",
    ] {
        assert!(missing.contains(&needed), "{needed} in {missing:?}");
    }
    assert_eq!(units_supported(&report), [Value::Null]);
}

#[test]
fn a_missing_file_exits_2_and_names_it() {
    let missing = claim("no-such-claim.yaml");
    let run = ppl(&["eval", &missing]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot read `{missing}`")),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn an_unknown_field_exits_2_with_file_line_column_and_path() {
    let file = claim("unknown-field.yaml");
    let run = ppl(&["eval", &file]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "a claim that cannot be read is not judged");
    // `minuts: 30` stands on line 13, column 5 of the fixture.
    assert!(
        run.stderr.contains(&format!("{file}:13:5:")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`minuts`"), "{}", run.stderr);
    assert!(run.stderr.contains("/lines/0/minuts"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `minutes`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_payer_exits_2_with_did_you_mean() {
    let file = claim("unknown-payer.yaml");
    let run = ppl(&["eval", &file]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains(&file), "{}", run.stderr);
    assert!(run.stderr.contains("`medicare-part-bb`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean `medicare-part-b`?"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("/payer"), "{}", run.stderr);
}

#[test]
fn one_unreadable_file_makes_the_run_exit_2_but_the_others_are_still_judged() {
    let unreadable = claim("unknown-field.yaml");
    let run = ppl(&[
        "eval",
        "--format",
        "ndjson",
        &claim("pass.yaml"),
        &unreadable,
        &claim("fail.yaml"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&unreadable), "{}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    let judged: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("error").is_none())
        .map(|line| &line["claim_id"])
        .collect();
    assert_eq!(judged, ["CLM-PASS-1", "CLM-FAIL-1"], "{}", run.stdout);
    assert!(
        lines
            .iter()
            .all(|line| line.get("claim_id").is_some() || line.get("input_line").is_some()),
        "every other line is an error record: {}",
        run.stdout
    );
}

// ── JSON ─────────────────────────────────────────────────────────────────────

#[test]
fn json_output_has_the_contract_fields() {
    let (_, report) = eval_json("fail.yaml");
    let keys = |value: &Value| -> Vec<String> {
        value.as_object().expect("object").keys().cloned().collect()
    };
    let has_all = |value: &Value, fields: &[&str]| {
        let present = keys(value);
        for field in fields {
            assert!(present.iter().any(|k| k == field), "`{field}` in {value:#}");
        }
    };
    has_all(
        &report,
        &["claim_id", "payer", "status", "lines", "findings"],
    );
    assert_eq!(report["claim_id"], "CLM-FAIL-1");
    assert_eq!(report["payer"], "medicare-part-b");

    let line = &report["lines"][0];
    has_all(
        line,
        &[
            "index",
            "code",
            "date_of_service",
            "policy_version",
            "units_billed",
            "units_supported",
        ],
    );
    assert_eq!(line["index"], 0);
    assert_eq!(line["code"], "97535");
    assert_eq!(line["date_of_service"], "2026-03-02");
    assert!(
        line["policy_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("medicare-part-b@")),
        "{line}"
    );
    assert_eq!(line["units_billed"], 3);
    assert_eq!(line["units_supported"], 2);

    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for finding in findings {
        has_all(
            finding,
            &[
                "rule",
                "category",
                "severity",
                "missing",
                "message",
                "line",
                "claim_span",
                "policy_span",
                "help",
                "carc",
                "citation",
                "fix",
            ],
        );
        has_all(&finding["policy_span"], &["file", "line", "column"]);
    }

    // The missing GO modifier: CARC 4, and a fix a billing system can apply.
    let modifier = findings_of(&report, "medicare.modifier.discipline");
    let [modifier] = modifier.as_slice() else {
        panic!("one modifier finding: {report:#}")
    };
    assert_eq!(modifier["severity"], "deny");
    assert_eq!(modifier["category"], "modifier");
    assert_eq!(modifier["carc"], "4");
    assert_eq!(modifier["line"], 0);
    assert_eq!(
        modifier["fix"],
        serde_json::json!({"op": "add_modifier", "line": 0, "value": "GO"})
    );
    assert!(modifier["policy_span"]["file"]
        .as_str()
        .is_some_and(|file| file.ends_with("medicare-part-b.ppl")));

    // 3 units for 30 minutes: the span's byte offsets point at the `3` in the claim.
    let units = findings_of(&report, EIGHT_MINUTE);
    let [units] = units.as_slice() else {
        panic!("one unit finding: {report:#}")
    };
    assert_eq!(units["severity"], "deny");
    assert_eq!(units["category"], "units");
    assert_eq!(
        units["fix"],
        serde_json::json!({"op": "set_units", "line": 0, "value": "2"})
    );
    let span = &units["claim_span"];
    assert_eq!(span["path"], "/lines/0/units");
    let start = span["start"].as_u64().expect("start") as usize;
    let end = span["end"].as_u64().expect("end") as usize;
    assert_eq!(fixture_text("fail.yaml").get(start..end), Some("3"));
}

#[test]
fn the_same_input_gives_byte_identical_json() {
    for file in ["fail.yaml", "incomplete.yaml", "seven-plus-seven.yaml"] {
        let first = ppl(&["eval", "--format", "json", &claim(file)]);
        let second = ppl(&["eval", "--format", "json", &claim(file)]);
        assert!(!first.stdout.is_empty(), "{file}: {}", first.stderr);
        assert_eq!(first.stdout, second.stdout, "{file}");
    }
}

// ── NDJSON batches ───────────────────────────────────────────────────────────

fn check_batch_output(run: &Run) {
    assert_eq!(run.code, 2, "a line could not be read: {}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each output line is JSON"))
        .collect();
    let [first, second, third] = lines.as_slice() else {
        panic!("three input lines, three output lines: {}", run.stdout)
    };
    assert_eq!(first["claim_id"], "BATCH-1");
    assert_eq!(first["status"], "pass");
    assert_eq!(second["input_line"], 2);
    let error = second["error"].as_object().expect("error object");
    assert!(
        error
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "{second}"
    );
    assert!(error.get("path").is_some_and(Value::is_string), "{second}");
    assert_eq!(
        second.as_object().map(|o| o.len()),
        Some(2),
        "only `input_line` and `error`: {second}"
    );
    assert_eq!(third["claim_id"], "BATCH-3");
    assert_eq!(third["status"], "fail");
}

#[test]
fn an_ndjson_batch_keeps_one_output_line_per_input_line_in_order() {
    check_batch_output(&run_batch_file());
}

fn run_batch_file() -> Run {
    ppl(&["eval", &claim("batch.ndjson")])
}

#[test]
fn an_ndjson_batch_on_stdin_gives_the_same_output() {
    let from_file = run_batch_file();
    let from_stdin = ppl_with(None, &["eval", "-"], Some(&fixture_text("batch.ndjson")));
    check_batch_output(&from_stdin);
    assert_eq!(from_stdin.stdout, from_file.stdout);
    assert_eq!(from_stdin.code, from_file.code);
}

// ── Policies ─────────────────────────────────────────────────────────────────

#[test]
fn the_policies_are_built_in() {
    let elsewhere = tempfile::tempdir().expect("temp dir");
    assert!(!elsewhere.path().join("policies").exists());
    let run = ppl_with(
        Some(elsewhere.path()),
        &["eval", "--format", "json", &claim("fail.yaml")],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["payer"], "medicare-part-b");
    assert_eq!(findings_of(&report, EIGHT_MINUTE).len(), 1, "{report:#}");

    // The human report still quotes the rule from the built-in policy text.
    let human = ppl_with(
        Some(elsewhere.path()),
        &["eval", "--format", "human", &claim("fail.yaml")],
        None,
    );
    assert_eq!(human.code, 1, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("rule medicare.units.eight-minute units {"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_policies_folder_with_a_broken_policy_exits_2_and_says_so() {
    let folder = tempfile::tempdir().expect("temp dir");
    let policy = "payer broken-payer \"Broken\"\n\nrule broken.units units {\n  codes [97535]\n  method total_tim\n  message \"{line.code}\"\n}\n";
    std::fs::write(folder.path().join("broken.ppl"), policy).expect("write");
    let dir = folder.path().to_string_lossy().into_owned();
    let run = ppl(&["eval", "--policies", &dir, &claim("pass.yaml")]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "no claim is judged by broken policies");
    assert!(
        run.stderr.contains("the policies do not check"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("broken.ppl:5:10"), "{}", run.stderr);
    assert!(run.stderr.contains("`total_tim`"), "{}", run.stderr);
}

#[test]
fn a_policies_folder_that_does_not_exist_exits_2() {
    let folder = tempfile::tempdir().expect("temp dir");
    let missing = folder.path().join("nope").to_string_lossy().into_owned();
    let run = ppl(&["eval", "--policies", &missing, &claim("pass.yaml")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot read `{missing}`")),
        "{}",
        run.stderr
    );
}

// ── Units: the seed guide's case studies and the 8-minute rule ───────────────

#[test]
fn the_seed_guides_case_studies_pass_the_unit_rule() {
    for (file, minutes, units) in [
        ("seed-case-3-pediatric-15min.yaml", 15, 1),
        ("seed-case-1-stroke-30min.yaml", 30, 2),
        ("seed-case-2-knee-45min.yaml", 45, 3),
    ] {
        let (code, report) = eval_json(file);
        assert_eq!(code, 0, "{file}: {report:#}");
        assert_eq!(report["status"], "pass", "{file}: {report:#}");
        assert_eq!(units_supported(&report), [units], "{file}: {minutes} min");
        assert!(findings_of(&report, EIGHT_MINUTE).is_empty(), "{file}");

        // One unit more than the minutes support is denied, with the fix.
        let text = fixture_text(file);
        let billed = format!("units: {units}, minutes: {minutes}");
        assert!(text.contains(&billed), "{file}");
        let over = text.replace(
            &billed,
            &format!("units: {}, minutes: {minutes}", units + 1),
        );
        let (code, report) = eval_json_stdin(&over);
        assert_eq!(code, 1, "{file} +1 unit: {report:#}");
        let denied = findings_of(&report, EIGHT_MINUTE);
        let [denied] = denied.as_slice() else {
            panic!("{file} +1 unit: {report:#}")
        };
        assert_eq!(denied["severity"], "deny");
        assert_eq!(denied["fix"]["value"], units.to_string());
    }
}

#[test]
fn eight_minutes_support_one_unit_and_seven_none() {
    let (code, report) = eval_json("eight-minutes.yaml");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["status"], "pass");
    assert_eq!(units_supported(&report), [1]);

    let (code, report) = eval_json("seven-minutes.yaml");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(units_supported(&report), [0]);
    assert_eq!(findings_of(&report, EIGHT_MINUTE).len(), 1, "{report:#}");
}

#[test]
fn seven_plus_seven_minutes_of_two_codes_support_one_unit_in_total() {
    let (code, report) = eval_json("seven-plus-seven.yaml");
    assert_eq!(code, 1, "{report:#}");
    // 14 minutes in total: one unit, given to one code (the earlier line on a tie).
    assert_eq!(units_supported(&report), [1, 0]);
    let denied = findings_of(&report, EIGHT_MINUTE);
    let [denied] = denied.as_slice() else {
        panic!("only the second code's unit is denied: {report:#}")
    };
    assert_eq!(denied["severity"], "deny");
    assert_eq!(denied["line"], 1);
    assert_eq!(denied["claim_span"]["path"], "/lines/1/units");

    // Billed right: one unit of one code, the other's minutes in the day's total.
    let (code, report) = eval_json("seven-plus-seven-one-unit.yaml");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["status"], "pass");
    assert_eq!(units_supported(&report), [1]);
}

// ── The human report ─────────────────────────────────────────────────────────

#[test]
fn the_human_report_names_the_rule_the_carc_and_ends_with_the_summary() {
    let file = claim("fail.yaml");
    let run = ppl(&["eval", "--format", "human", &file]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = &run.stdout;
    assert!(!out.contains('\u{1b}'), "NO_COLOR: no escape codes");
    assert!(out.contains("medicare.modifier.discipline"), "{out}");
    assert!(out.contains(EIGHT_MINUTE), "{out}");
    assert!(out.contains("CARC 4"), "{out}");
    // Where in the claim: the line of the finding, by file, line and column.
    assert!(out.contains(&format!("{file}:10:5")), "{out}");
    assert!(
        out.contains(
            "claim CLM-FAIL-1 (medicare-part-b): fail — 2 deny, 0 undetermined, 0 warn, 0 info"
        ),
        "{out}"
    );
    assert!(
        out.contains("line 0  97535  2026-03-02  billed 3  supported 2"),
        "{out}"
    );
}

#[test]
fn a_passing_claim_in_human_format_is_its_summary() {
    let run = ppl(&["eval", "--format", "human", &claim("pass.yaml")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "claim CLM-PASS-1 (medicare-part-b): pass — 0 deny, 0 undetermined, 0 warn, 0 info\n"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("CARC"), "{}", run.stdout);
}

#[test]
fn a_note_that_lacks_a_required_fact_is_a_denial_not_undetermined() {
    let (code, report) = eval_json("note-without-goals.yaml");
    assert_eq!(code, 1, "{report:#}");
    let goals = findings_of(&report, "medicare.documentation.functional-goals");
    let [goals] = goals.as_slice() else {
        panic!("one goals finding: {report:#}")
    };
    assert_eq!(goals["severity"], "deny");
    assert_eq!(report["status"], "fail");
}

// ── docs/claims.md shows what ppl prints ─────────────────────────────────────

/// The ```console blocks of a document: each `$ ppl …` line with the output
/// lines under it, and `$ echo $?` with the exit code.
fn console_blocks(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (index, line) in text.lines().enumerate() {
        match current.as_mut() {
            None if line == "```console" => current = Some((index + 2, Vec::new())),
            None => {}
            Some(_) if line == "```" => blocks.extend(current.take()),
            Some((_, lines)) => lines.push(line),
        }
    }
    blocks
}

/// Whether `actual` matches `expected`, where an expected line `...` stands
/// for any number of lines and a line ending in `...` for any line that
/// starts with what comes before it.
fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&"...", rest)) => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((line, rest)) => actual.split_first().is_some_and(|(first, others)| {
            let same = match line.strip_suffix("...") {
                Some(prefix) => first.starts_with(prefix),
                None => first == line,
            };
            same && lines_match(rest, others)
        }),
    }
}

#[test]
fn the_examples_in_docs_claims_md_are_what_ppl_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/claims.md")).expect("docs/claims.md");
    let mut commands = 0;
    for (block_line, lines) in console_blocks(&text) {
        // Blocks that read the public X12 samples need them beside the project.
        if lines.iter().any(|line| line.contains("../shared/"))
            && super::run::shared_samples().is_none()
        {
            continue;
        }
        let mut last_code = None;
        let mut rest = lines.as_slice();
        while let Some((command, after)) = rest.split_first() {
            let command = command.strip_prefix("$ ").unwrap_or_else(|| {
                panic!("docs/claims.md:{block_line}: `{command}` is not a command")
            });
            let output_len = after
                .iter()
                .position(|l| l.starts_with("$ "))
                .unwrap_or(after.len());
            let (expected, next) = after.split_at(output_len);
            rest = next;
            let actual = if command == "echo $?" {
                let code: i32 = last_code.expect("`echo $?` follows a ppl command");
                format!("{code}\n")
            } else {
                let mut words: Vec<&str> = command.split_whitespace().collect();
                assert_eq!(
                    words.first(),
                    Some(&"ppl"),
                    "docs/claims.md:{block_line}: {command}"
                );
                words.remove(0);
                let stdin = match words.iter().position(|w| *w == "<") {
                    Some(at) => {
                        let file = words.get(at + 1).expect("a file after `<`");
                        let text = std::fs::read_to_string(root.join(file)).expect("stdin file");
                        words.truncate(at);
                        Some(text)
                    }
                    None => None,
                };
                let run = ppl_with(Some(root), &words, stdin.as_deref());
                last_code = Some(run.code);
                commands += 1;
                format!("{}{}", run.stdout, run.stderr)
            };
            let actual: Vec<&str> = actual.lines().collect();
            assert!(
                lines_match(expected, &actual),
                "docs/claims.md block at line {block_line}: `{command}` prints\n{}\n\nbut the document shows\n{}",
                actual.join("\n"),
                expected.join("\n")
            );
        }
    }
    assert!(commands >= 10, "only {commands} commands checked");
}

#[test]
fn an_empty_batch_is_an_error_not_a_pass() {
    let folder = tempfile::tempdir().expect("temp dir");
    let batch = folder.path().join("empty.ndjson");
    std::fs::write(&batch, "\n\n").expect("write");
    let batch = batch.display().to_string();
    let run = ppl(&["eval", "--format", "ndjson", &batch]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("holds no claims"));
}
