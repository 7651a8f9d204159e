//! `ppl test --junit FILE`: the results as JUnit XML, which CI systems show.
//!
//! One `<testsuite>` per test file, one `<testcase>` per test; a failed test
//! has a `<failure>` with the expected-versus-actual text, a test that could
//! not run an `<error>`. A test file that could not be read is one testcase
//! with an `<error>`, so CI shows it too. The few elements are written here
//! with every attribute and text escaped; characters XML 1.0 cannot carry are
//! replaced with U+FFFD.

use std::fmt::Write as _;

use super::{Outcome, SuiteReport};

pub fn render(report: &SuiteReport) -> String {
    let counts = report.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ppl test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        counts.tests + counts.unreadable_files,
        counts.failed,
        counts.errors + counts.unreadable_files
    );
    for file in &report.files {
        let path = file.path.display().to_string();
        let classname = classname(&path);
        let unreadable = usize::from(!file.problems.is_empty());
        let failures = file
            .tests
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Failed(_)))
            .count();
        let errors = file
            .tests
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Error(_)))
            .count()
            + unreadable;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
            escape(&path),
            file.tests.len() + unreadable
        );
        if unreadable > 0 {
            let _ = writeln!(
                out,
                "    <testcase name=\"(reading the test file)\" classname=\"{}\" file=\"{}\">",
                escape(&classname),
                escape(&path)
            );
            element(
                &mut out,
                "error",
                "the test file could not be read",
                &file.problems.join("\n"),
            );
            out.push_str("    </testcase>\n");
        }
        for test in &file.tests {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                escape(&test.name),
                escape(&classname),
                escape(&path),
                test.place.line
            );
            match &test.outcome {
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Failed(failure) => {
                    out.push_str(">\n");
                    let body: Vec<String> = failure
                        .mismatches
                        .iter()
                        .map(|m| {
                            format!(
                                "{path}:{}:{}: expected {}; got {}",
                                m.place.line, m.place.column, m.expected, m.actual
                            )
                        })
                        .collect();
                    let count = failure.mismatches.len();
                    let message = format!(
                        "{count} expectation{} not met",
                        if count == 1 { "" } else { "s" }
                    );
                    element(&mut out, "failure", &message, &body.join("\n"));
                    out.push_str("    </testcase>\n");
                }
                Outcome::Error(problems) => {
                    out.push_str(">\n");
                    element(
                        &mut out,
                        "error",
                        "the test could not run",
                        &problems.join("\n"),
                    );
                    out.push_str("    </testcase>\n");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `tests/policy/medicare-part-b/units.yaml` → `tests.policy.medicare-part-b.units`:
/// CI tools group test cases by the dotted class name.
fn classname(path: &str) -> String {
    let stem = path
        .strip_suffix(".yaml")
        .or_else(|| path.strip_suffix(".yml"))
        .unwrap_or(path);
    stem.trim_start_matches(['.', '/'])
        .replace(['/', '\\'], ".")
}

fn element(out: &mut String, name: &str, message: &str, body: &str) {
    let _ = writeln!(
        out,
        "      <{name} message=\"{}\">{}</{name}>",
        escape(message),
        escape_text(body)
    );
}

/// Escapes text for an attribute value.
pub fn escape(text: &str) -> String {
    escape_with(text, true)
}

/// Escapes element content, where line breaks may stay as they are.
fn escape_text(text: &str) -> String {
    escape_with(text, false)
}

fn escape_with(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if !attribute => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute values normalise raw newlines and tabs away: keep them as references.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if allowed_in_xml(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// XML 1.0's `Char` production.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_replaces_what_xml_cannot_carry() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\u{FFFE}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\u{FFFD}"
        );
        assert_eq!(escape("x\ny"), "x&#10;y");
    }

    #[test]
    fn classname_is_the_dotted_path_without_extension() {
        assert_eq!(
            classname("tests/policy/medicare-part-b/units.yaml"),
            "tests.policy.medicare-part-b.units"
        );
    }
}
