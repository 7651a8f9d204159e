//! A report as one compact JSON line, written straight into a batch worker's
//! buffer.
//!
//! The `Serialize` derives in [`super::model`] define the JSON; this writes the
//! same bytes as `serde_json::to_writer` for a report, faster. In a batch,
//! serde_json's string escaping (a table lookup per byte) was most of the cost
//! of writing a report: 15 k of 21 k instructions a claim on the generated
//! corpus. Here a string is checked for bytes that need escaping in one pass
//! the compiler vectorises and copied whole; one that needs escaping, and the
//! parts that only `--explain` and 837P claims have, are written by serde_json
//! itself, so escaping stays exactly serde_json's. The tests compare the two
//! writers on every sample claim of every shipped payer and on a generated
//! corpus.

use serde::Serialize;

use super::{ClaimReport, Finding, FindingSeverity, FixOp, LineReport, Status};
use crate::claim::ClaimPath;

/// `report` as compact JSON, appended to `out` (no line end).
pub(crate) fn write_report(out: &mut Vec<u8>, report: &ClaimReport) {
    out.extend_from_slice(b"{\"claim_id\":");
    string(out, &report.claim_id);
    out.extend_from_slice(b",\"payer\":");
    string(out, report.payer);
    out.extend_from_slice(b",\"status\":\"");
    out.extend_from_slice(status(report.status).as_bytes());
    out.extend_from_slice(b"\",\"lines\":");
    list(out, &report.lines, line_report);
    out.extend_from_slice(b",\"findings\":");
    list(out, &report.findings, finding);
    if let Some(explanation) = &report.explanation {
        out.extend_from_slice(b",\"explanation\":");
        serde_value(out, explanation);
    }
    if let Some(provenance) = &report.provenance {
        out.extend_from_slice(b",\"provenance\":");
        serde_value(out, provenance);
    }
    out.push(b'}');
}

fn line_report(out: &mut Vec<u8>, line: &LineReport) {
    out.extend_from_slice(b"{\"index\":");
    number(out, line.index as u64);
    out.extend_from_slice(b",\"code\":\"");
    out.extend_from_slice(&line.code.chars());
    out.extend_from_slice(b"\",\"date_of_service\":");
    match crate::eval::value::date_chars(line.date_of_service) {
        Some(chars) => {
            out.push(b'"');
            out.extend_from_slice(&chars);
            out.push(b'"');
        }
        None => serde_value(out, &line.date_of_service.to_string()),
    }
    out.extend_from_slice(b",\"policy_version\":");
    string(out, line.policy_version);
    out.extend_from_slice(b",\"units_billed\":");
    number(out, u64::from(line.units_billed));
    out.extend_from_slice(b",\"units_supported\":");
    optional_number(out, line.units_supported.map(u64::from));
    out.push(b'}');
}

fn finding(out: &mut Vec<u8>, finding: &Finding) {
    out.extend_from_slice(b"{\"rule\":");
    string(out, &finding.rule.id);
    out.extend_from_slice(b",\"category\":\"");
    out.extend_from_slice(finding.category.keyword().as_bytes());
    out.extend_from_slice(b"\",\"severity\":\"");
    out.extend_from_slice(severity(finding.severity).as_bytes());
    out.extend_from_slice(b"\",\"missing\":");
    list(out, &finding.missing, |out, path| string(out, path));
    out.extend_from_slice(b",\"message\":");
    string(out, &finding.message);
    out.extend_from_slice(b",\"line\":");
    optional_number(out, finding.line.map(|line| line as u64));
    out.extend_from_slice(b",\"claim_span\":");
    match &finding.claim_span {
        Some(span) => {
            out.extend_from_slice(b"{\"path\":");
            claim_path(out, span.path);
            out.extend_from_slice(b",\"start\":");
            optional_number(out, span.start.map(|at| at as u64));
            out.extend_from_slice(b",\"end\":");
            optional_number(out, span.end.map(|at| at as u64));
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"policy_span\":{\"file\":");
    string(out, &finding.rule.policy_span.file);
    out.extend_from_slice(b",\"line\":");
    number(out, finding.rule.policy_span.line as u64);
    out.extend_from_slice(b",\"column\":");
    number(out, finding.rule.policy_span.column as u64);
    out.extend_from_slice(b"},\"help\":");
    optional_string(out, finding.rule.help.as_deref());
    out.extend_from_slice(b",\"carc\":");
    optional_string(out, finding.rule.carc.as_deref());
    out.extend_from_slice(b",\"rarc\":");
    optional_string(out, finding.rule.rarc.as_deref());
    out.extend_from_slice(b",\"citation\":");
    optional_string(out, finding.rule.citation.as_deref());
    out.extend_from_slice(b",\"fix\":");
    match &finding.fix {
        Some(fix) => {
            out.extend_from_slice(b"{\"op\":\"");
            out.extend_from_slice(fix_op(fix.op).as_bytes());
            out.extend_from_slice(b"\",\"line\":");
            number(out, fix.line as u64);
            out.extend_from_slice(b",\"value\":");
            string(out, &fix.value);
            if let Some(applied) = fix.applied {
                out.extend_from_slice(b",\"applied\":");
                out.extend_from_slice(if applied { b"true" } else { b"false" });
            }
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// A claim path as a JSON string, written in place; one that would need
/// escaping (no contract field name does) goes through [`string`].
fn claim_path(out: &mut Vec<u8>, path: ClaimPath) {
    let start = out.len();
    out.push(b'"');
    path.write_to(out);
    if plain(out.get(start + 1..).unwrap_or_default()) {
        out.push(b'"');
    } else {
        out.truncate(start);
        string(out, &path.to_string());
    }
}

/// A JSON string. Text with nothing to escape (almost all of it) is copied
/// whole; the rest is written by serde_json, so escaping is exactly its own.
fn string(out: &mut Vec<u8>, text: &str) {
    if plain(text.as_bytes()) {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        serde_value(out, text);
    }
}

/// Whether `bytes` go into a JSON string as they are (no quote, backslash or
/// control byte). No early exit, so the check runs over many bytes at a time.
fn plain(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |plain, &byte| {
        plain & (byte >= 0x20 && byte != b'"' && byte != b'\\')
    })
}

/// `items` as a JSON list, each written by `item`.
fn list<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (at, value) in items.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        item(out, value);
    }
    out.push(b']');
}

fn optional_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

fn number(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(crate::decimal::Decimal::new(value).as_bytes());
}

fn optional_number(out: &mut Vec<u8>, value: Option<u64>) {
    match value {
        Some(value) => number(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

/// A value written by serde_json (the rare parts of a report).
fn serde_value<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        // Not reachable with these types (plain data, string keys); if it ever
        // is, the line stays valid JSON.
        out.truncate(start);
        out.extend_from_slice(b"null");
    }
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Incomplete => "incomplete",
        Status::Fail => "fail",
    }
}

fn severity(severity: FindingSeverity) -> &'static str {
    match severity {
        FindingSeverity::Deny => "deny",
        FindingSeverity::Undetermined => "undetermined",
        FindingSeverity::Warn => "warn",
        FindingSeverity::Info => "info",
    }
}

fn fix_op(op: FixOp) -> &'static str {
    match op {
        FixOp::SetUnits => "set_units",
        FixOp::AddModifier => "add_modifier",
        FixOp::RemoveModifier => "remove_modifier",
        FixOp::ReplaceModifier => "replace_modifier",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::{detect_format, read_claim, read_ndjson_line};
    use crate::compile::CompiledPolicies;

    fn shipped() -> CompiledPolicies {
        crate::compile::compile(&crate::check::check(crate::check::Workspace::embedded())).unwrap()
    }

    fn assert_same_as_serde(report: &ClaimReport, what: &str) {
        let mut fast = Vec::new();
        write_report(&mut fast, report);
        let serde = serde_json::to_vec(report).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&serde),
            "{what}"
        );
    }

    #[test]
    fn writes_what_serde_json_writes_for_every_payer_sample_claim_plain_and_explained() {
        let policies = shipped();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/payers");
        let mut seen = 0;
        for payer in std::fs::read_dir(&root).unwrap() {
            for file in std::fs::read_dir(payer.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let claim = read_claim(&text, detect_format(Some(&path), &text)).unwrap();
                let what = path.display().to_string();
                assert_same_as_serde(&crate::eval::evaluate(&claim, &policies).unwrap(), &what);
                let explained = crate::eval::evaluate_explained(&claim, &policies).unwrap();
                assert_same_as_serde(&explained, &what);
                seen += 1;
            }
        }
        assert!(seen >= 100, "only {seen} sample claims found");
    }

    #[test]
    fn writes_what_serde_json_writes_for_a_generated_corpus() {
        let policies = shipped();
        let mut corpus = Vec::new();
        crate::corpus::write_sample_corpus(&mut corpus, 3_000, 1_000).unwrap();
        let text = String::from_utf8(corpus).unwrap();
        let mut findings = 0;
        for (index, line) in text.lines().enumerate() {
            let Ok(claim) = read_ndjson_line(line, index + 1, 0) else {
                continue;
            };
            let report = crate::eval::evaluate(&claim, &policies).unwrap();
            findings += report.findings.len();
            assert_same_as_serde(&report, &format!("corpus line {}", index + 1));
        }
        assert!(findings > 1_000, "the corpus should exercise findings");
    }

    #[test]
    fn text_that_needs_escaping_is_escaped_as_serde_json_does() {
        for text in [
            "plain",
            "a \"quoted\" word",
            "back\\slash",
            "tab\there",
            "\u{1}",
            "né",
            "",
        ] {
            let mut fast = Vec::new();
            string(&mut fast, text);
            assert_eq!(fast, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn claim_paths_are_written_as_serde_json_writes_them() {
        for path in [
            ClaimPath::ROOT,
            ClaimPath::line(0, "modifiers"),
            ClaimPath::line(4_000_000_000, "units"),
            ClaimPath::ROOT
                .key("documentation")
                .key("activities")
                .index(12)
                .key("minutes"),
            ClaimPath::ROOT.key("a/b~c"),
            ClaimPath::ROOT.key("say \"hi\""),
        ] {
            let mut fast = Vec::new();
            claim_path(&mut fast, path);
            assert_eq!(fast, serde_json::to_vec(&path).unwrap(), "{path}");
        }
    }

    #[test]
    fn numbers_are_written_in_full() {
        for value in [0, 7, 10, 99, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            number(&mut out, value);
            assert_eq!(out, value.to_string().into_bytes());
        }
    }
}
