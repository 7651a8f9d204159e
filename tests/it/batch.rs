//! `ppl eval` on NDJSON batches as a clearinghouse runs it: streamed, in input
//! order, the same bytes for any number of threads, bad lines as error records in
//! place, a summary that adds up, and progress only when asked or on a terminal.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::run::Output;

fn ppl(args: &[&str], stdin: Option<&[u8]>) -> Output {
    super::run::ppl_output(None, args, stdin)
}

/// A generated corpus over several chunks of 1,024 lines, with what breaks
/// batches mixed in: invalid JSON (every 500th line), a line that is not UTF-8,
/// blank lines, a claim that reads but breaks the contract, CRLF line ends.
fn corpus() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let mut generated = Vec::new();
    ppl::corpus::write_sample_corpus(&mut generated, 2_600, 500).unwrap();
    let mut bytes = Vec::new();
    for (index, line) in generated.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match index {
            700 => bytes.extend_from_slice(b"{\"id\": \"BAD-UTF8\", \"payer\": \"\xff\"}\n"),
            1_500 => bytes.extend_from_slice(b"\n   \n"),
            1_800 => bytes.extend_from_slice(
                b"{\"id\": \"NO-LINES\", \"payer\": \"medicare-part-b\", \"lines\": []}\r\n",
            ),
            _ => {}
        }
        bytes.extend_from_slice(line);
        bytes.extend_from_slice(if index % 7 == 0 { b"\r\n" } else { b"\n" });
    }
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("day.ndjson");
    std::fs::write(&path, &bytes).unwrap();
    (folder, path, bytes)
}

/// What the batch must print: each line read and evaluated alone through the library.
fn expected_output(bytes: &[u8]) -> Vec<u8> {
    let policies =
        ppl::compile::compile(&ppl::check::check(ppl::check::Workspace::embedded())).unwrap();
    let mut out = Vec::new();
    let mut offset = 0;
    for (index, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let number = index + 1;
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let record = |message: String, path: String| {
            Err(ppl::report::ErrorRecord {
                input_line: number,
                error: ppl::report::ErrorDetail { message, path },
            })
        };
        let result = match std::str::from_utf8(line) {
            Err(error) => record(
                format!("the line is not UTF-8 (byte {})", error.valid_up_to()),
                String::new(),
            ),
            Ok(text) => match ppl::claim::read_ndjson_line(text, number, start) {
                Err(errors) => {
                    let more = errors.len() - 1;
                    let message = if more > 0 {
                        format!("{} (and {more} more)", errors[0].message)
                    } else {
                        errors[0].message.clone()
                    };
                    record(message, errors[0].path.clone())
                }
                Ok(claim) => match ppl::eval::evaluate(&claim, &policies) {
                    Ok(report) => Ok(report),
                    Err(error) => record(error.to_string(), error.path()),
                },
            },
        };
        out.extend_from_slice(ppl::report::render_ndjson_line(&result).as_bytes());
        out.push(b'\n');
    }
    out
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_batch_gives_the_same_bytes_on_1_2_and_4_threads_each_line_judged_alone_in_place() {
    let (_folder, path, bytes) = corpus();
    let expected = expected_output(&bytes);
    let lines: Vec<Value> = expected
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    // The corpus is what it claims: over two chunks, with every kind of bad line.
    assert_eq!(
        lines.len(),
        2_602,
        "2,600 generated lines, one not UTF-8, one without lines"
    );
    let records: Vec<&Value> = lines.iter().filter(|l| l["input_line"].is_u64()).collect();
    assert_eq!(
        records.len(),
        7,
        "5 invalid JSON, 1 not UTF-8, 1 without lines"
    );
    assert!(records.iter().any(|r| r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not UTF-8")));
    assert!(lines.iter().any(|l| l["status"] == "fail"));
    for threads in ["1", "2", "4"] {
        let run = ppl(
            &[
                "eval",
                "--format",
                "ndjson",
                "--threads",
                threads,
                path_str(&path),
            ],
            None,
        );
        assert_eq!(run.code, 2, "error records make the batch exit 2");
        assert!(run.stderr.is_empty(), "{}", run.stderr);
        assert!(
            run.stdout == expected,
            "{threads} threads: the output differs from evaluating each line alone"
        );
    }
    // From standard input (no name to tell the format by) the same.
    let run = ppl(&["eval", "--format", "ndjson", "-"], Some(&bytes));
    assert!(run.stdout == expected, "stdin: {}", run.stderr);
}

#[test]
fn the_summary_adds_up_to_the_reports() {
    let (_folder, path, _) = corpus();
    let run = ppl(
        &[
            "eval",
            "--format",
            "ndjson",
            "--summary-format",
            "json",
            path_str(&path),
        ],
        None,
    );
    let reports: Vec<Value> = run
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let summary: Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(summary["summary_version"], 1);
    assert_eq!(summary["claims"], reports.len());
    for status in ["pass", "warn", "incomplete", "fail"] {
        let count = reports.iter().filter(|r| r["status"] == status).count();
        assert_eq!(summary["status"][status], count, "{status}");
    }
    let unreadable = reports.iter().filter(|r| r["input_line"].is_u64()).count();
    assert_eq!(summary["unreadable"], unreadable);
    // Rules by findings, most first, each count as in the reports.
    let rules = summary["rules"].as_array().unwrap();
    assert!(rules.len() > 5);
    for pair in rules.windows(2) {
        assert!(pair[0]["findings"].as_u64() >= pair[1]["findings"].as_u64());
    }
    let top = rules[0]["rule"].as_str().unwrap();
    let findings: usize = reports
        .iter()
        .filter_map(|r| r["findings"].as_array())
        .map(|f| f.iter().filter(|f| f["rule"] == top).count())
        .sum();
    assert_eq!(rules[0]["findings"], findings);
    let denied_lines: usize = reports
        .iter()
        .filter_map(|r| {
            let findings = r["findings"].as_array()?;
            let lines = r["lines"].as_array()?.len();
            let denies = |line: usize| {
                findings
                    .iter()
                    .any(|f| f["severity"] == "deny" && (f["line"].is_null() || f["line"] == line))
            };
            Some((0..lines).filter(|&line| denies(line)).count())
        })
        .sum();
    assert_eq!(summary["denied_charges"]["lines"], denied_lines);
    assert!(denied_lines > 100);

    // The human summary says the same in words.
    let run = ppl(&["eval", "--summary", path_str(&path)], None);
    let first = run.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{} claims: {} pass, {} warn, {} incomplete, {} fail, {} unreadable",
            summary["claims"],
            summary["status"]["pass"],
            summary["status"]["warn"],
            summary["status"]["incomplete"],
            summary["status"]["fail"],
            summary["unreadable"]
        )
    );
    assert!(run.stderr.contains("charges on denied lines: $"));
    assert!(run.stderr.contains(&format!("  {top} ")), "{}", run.stderr);
}

#[test]
fn progress_shows_only_when_asked_off_a_terminal() {
    let (_folder, path, _) = corpus();
    let quiet = ppl(&["eval", "--format", "ndjson", path_str(&path)], None);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let asked = ppl(
        &["eval", "--format", "ndjson", "--progress", path_str(&path)],
        None,
    );
    let last = asked.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("done: {}: 2602 claims in ", path.display())),
        "{}",
        asked.stderr
    );
    assert!(last.ends_with(" claims/s"));
    assert!(
        asked.stdout == quiet.stdout,
        "progress never touches the reports"
    );
    let refused = ppl(
        &[
            "eval",
            "--format",
            "ndjson",
            "--progress",
            "--no-progress",
            path_str(&path),
        ],
        None,
    );
    assert!(refused.stderr.is_empty(), "{}", refused.stderr);
}

#[test]
fn reports_come_out_before_the_input_ends() {
    // Two chunks of claims, then the input stays open: the first reports must
    // arrive all the same, or a day's batch would be held in memory.
    let mut generated = Vec::new();
    ppl::corpus::write_sample_corpus(&mut generated, 2_100, 0).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ppl"))
        .args(["eval", "--format", "ndjson", "--threads", "2", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(&generated).unwrap();
    input.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        let _ = sender.send(first);
    });
    let first = receiver.recv_timeout(Duration::from_secs(120));
    drop(input);
    let _ = child.wait();
    let first = first.expect("a report before the input ended");
    assert!(first.contains("\"claim_id\":\"SYN-0000000\""), "{first}");
}

#[test]
fn zero_threads_is_refused() {
    let run = ppl(&["eval", "--threads", "0", "-"], Some(b"{}\n{}\n"));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--threads"), "{}", run.stderr);
}
