//! The command line as users run it: exit codes, formats, explain.

fn ppl(args: &[&str]) -> (i32, String, String) {
    let run = super::run::ppl_in(None, args, None);
    (run.code, run.stdout, run.stderr)
}

#[test]
fn check_exit_codes_are_the_contract() {
    let (clean, out, _) = ppl(&["check", "tests/fixtures/check/ok/every-construct.ppl"]);
    assert_eq!(clean, 0, "{out}");
    assert!(out.contains("0 errors"), "{out}");
    let (broken, out, _) = ppl(&["check", "tests/fixtures/check/err/misspelled-field.ppl"]);
    assert_eq!(broken, 1, "{out}");
    assert!(out.contains("did you mean `minutes`?"), "{out}");
    assert!(
        out.contains("misspelled-field.ppl:5:16"),
        "file, line and column: {out}"
    );
    let (missing, _, err) = ppl(&["check", "no/such/path"]);
    assert_eq!(missing, 2);
    assert!(err.contains("cannot read `no/such/path`"), "{err}");
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("warn.ppl");
    let policy = "payer example-warn \"Example\"\n\nrule example.units units {\n  method total_time\n  codes [97535]\n  message \"{line.code}: {line.units} units\"\n}\n";
    std::fs::write(&path, policy).expect("write");
    let path = path.to_string_lossy().into_owned();
    let (plain, out, _) = ppl(&["check", &path]);
    assert_eq!(plain, 0, "a missing citation is a warning: {out}");
    assert!(out.contains("W0001"), "{out}");
    let (strict, _, _) = ppl(&["check", "--deny-warnings", &path]);
    assert_eq!(strict, 1);
}

#[test]
fn json_output_is_versioned_with_offsets_lines_and_columns() {
    let (code, out, _) = ppl(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/check/err/misspelled-field.ppl",
    ]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(report["version"], 1);
    let first = &report["diagnostics"][0];
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["span"]["line"], 5);
    assert_eq!(first["span"]["column"], 16);
    let start = first["span"]["start"].as_u64().expect("byte offset") as usize;
    let text =
        std::fs::read_to_string("tests/fixtures/check/err/misspelled-field.ppl").expect("fixture");
    assert_eq!(text.get(start..start + 6), Some("minuts"));
    assert_eq!(report["summary"]["errors"], 1);
}

#[test]
fn explain_prints_the_page_and_rejects_unknown_codes() {
    let (code, out, _) = ppl(&["explain", "E0101"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# E0101 unknown-field"), "{out}");
    let (by_name, out, _) = ppl(&["explain", "unknown-field"]);
    assert_eq!(by_name, 0);
    assert!(out.starts_with("# E0101"));
    let (unknown, _, err) = ppl(&["explain", "E0110x"]);
    assert_eq!(unknown, 2);
    assert!(err.contains("not a ppl diagnostic code"), "{err}");
}
