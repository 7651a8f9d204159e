//! Reading a test file: YAML text → the tests it holds, or every problem in it
//! with its line and column.
//!
//! The file is read with the claim reader's spanned YAML tree, so an inline
//! claim is decoded by the claim reader itself (its errors point into the test
//! file) and every key of the test file can be checked: an unknown key is an
//! error, never ignored, because a misspelt expectation would otherwise pass.

use std::path::Path;

use super::{ClaimInput, Expect, FiresExpectation, Located, Place, TestCase};
use crate::claim::tree::{Entry, Node, Value};
use crate::claim::{decode_claim_node, line_column, read_yaml_tree};
use crate::diagnostics::did_you_mean;
use crate::report::{FindingSeverity, Status};

const TEST_FIELDS: &[&str] = &["name", "claim", "claim_file", "expect"];
const EXPECT_FIELDS: &[&str] = &["status", "fires", "does_not_fire", "units_supported"];
const FIRES_FIELDS: &[&str] = &["rule", "severity", "line"];
const STATUSES: &[(&str, Status)] = &[
    ("pass", Status::Pass),
    ("warn", Status::Warn),
    ("incomplete", Status::Incomplete),
    ("fail", Status::Fail),
];
const SEVERITIES: &[(&str, FindingSeverity)] = &[
    ("deny", FindingSeverity::Deny),
    ("undetermined", FindingSeverity::Undetermined),
    ("warn", FindingSeverity::Warn),
    ("info", FindingSeverity::Info),
];

/// A problem in a test file, at its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub place: Place,
    /// Lowercase, no trailing period, keys and values in backticks.
    pub message: String,
}

/// Reads the tests of one test file. `file` is the path the tests are
/// reported under; `claim_file:` paths are relative to its folder.
pub fn read_tests(text: &str, file: &Path) -> Result<Vec<TestCase>, Vec<FileError>> {
    let arena = bumpalo::Bump::new();
    let root = read_yaml_tree(text, &arena).map_err(|error| {
        vec![FileError {
            place: Place {
                line: error.line.unwrap_or(1),
                column: error.column.unwrap_or(1),
            },
            // The claim reader's words for an empty text speak of a claim.
            message: if error.path.is_empty() && error.message.starts_with("the input is empty") {
                "the test file is empty: it holds no tests".to_owned()
            } else {
                error.message
            },
        }]
    })?;
    let mut reader = Reader {
        text,
        file,
        errors: Vec::new(),
    };
    let tests = reader.file(&root);
    if reader.errors.is_empty() {
        Ok(tests)
    } else {
        reader
            .errors
            .sort_by_key(|e| (e.place.line, e.place.column));
        Err(reader.errors)
    }
}

struct Reader<'a> {
    text: &'a str,
    file: &'a Path,
    errors: Vec<FileError>,
}

impl Reader<'_> {
    fn place(&self, at: usize) -> Place {
        let (line, column) = line_column(self.text, at);
        Place { line, column }
    }

    fn error(&mut self, at: usize, message: impl Into<String>) {
        let place = self.place(at);
        self.errors.push(FileError {
            place,
            message: message.into(),
        });
    }

    fn file(&mut self, root: &Node) -> Vec<TestCase> {
        let Value::List(items) = &root.value else {
            self.error(
                root.start,
                format!(
                    "a test file is a list of tests (each starting with `- name:`), found {}",
                    kind(root)
                ),
            );
            return Vec::new();
        };
        if items.is_empty() {
            self.error(root.start, "the test file holds no tests");
        }
        let mut tests: Vec<TestCase> = Vec::new();
        for (index, node) in items.iter().enumerate() {
            let Some(test) = self.test(node, index) else {
                continue;
            };
            if let Some(first) = tests.iter().find(|t| t.name == test.name) {
                let message = format!(
                    "two tests are named `{}` (the first at line {}); names must differ within a file",
                    test.name, first.place.line
                );
                self.error(node.start, message);
                continue;
            }
            tests.push(test);
        }
        tests
    }

    /// The fields of an object, each known and once; unknown and duplicate keys are errors.
    fn fields<'n>(
        &mut self,
        node: &'n Node<'n>,
        what: &str,
        known: &[&str],
    ) -> Option<Vec<&'n Entry<'n>>> {
        let Value::Object(entries) = &node.value else {
            self.error(
                node.start,
                format!("{what} must be a mapping of keys, found {}", kind(node)),
            );
            return None;
        };
        let mut fields: Vec<&Entry> = Vec::new();
        for entry in entries.iter() {
            if !known.contains(&entry.key) {
                let hint = did_you_mean(entry.key, known.iter().copied()).map_or_else(
                    || {
                        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                        format!(" (its keys are {})", list.join(", "))
                    },
                    |hint| format!("; {hint}"),
                );
                let message = format!("unknown key `{}` in {what}{hint}", entry.key);
                self.error(entry.key_start, message);
            } else if fields.iter().any(|seen| seen.key == entry.key) {
                self.error(
                    entry.key_start,
                    format!("duplicate key `{}` in {what}", entry.key),
                );
            } else {
                fields.push(entry);
            }
        }
        Some(fields)
    }

    fn test(&mut self, node: &Node, index: usize) -> Option<TestCase> {
        let what = format!("test {}", index + 1);
        let fields = self.fields(node, &what, TEST_FIELDS)?;
        let field = |name: &str| fields.iter().find(|e| e.key == name).map(|e| &e.node);
        let name = match field("name") {
            Some(name) => self.text_value(name, "`name`"),
            None => {
                self.error(node.start, format!("missing key `name` in {what}"));
                None
            }
        };
        let claim = match (field("claim"), field("claim_file")) {
            (Some(claim), None) => Some(ClaimInput::Inline(Box::new(
                decode_claim_node(self.text, claim).map_err(|errors| {
                    errors
                        .into_iter()
                        .map(|error| {
                            let place = self.place(error.start.unwrap_or(claim.start));
                            let path = if error.path.is_empty() {
                                "/"
                            } else {
                                error.path.as_str()
                            };
                            FileError {
                                place,
                                message: format!("{} (at claim `{path}`)", error.message),
                            }
                        })
                        .collect()
                }),
            ))),
            (None, Some(path)) => self.text_value(path, "`claim_file`").map(|relative| {
                let folder = self.file.parent().unwrap_or_else(|| Path::new(""));
                ClaimInput::File {
                    path: folder.join(relative),
                    place: self.place(path.start),
                }
            }),
            (Some(_), Some(path)) => {
                self.error(
                    path.start,
                    format!("{what} has both `claim` and `claim_file`: give one"),
                );
                None
            }
            (None, None) => {
                self.error(
                    node.start,
                    format!("{what} needs a claim: `claim:` (the claim itself) or `claim_file:` (a path relative to this file)"),
                );
                None
            }
        };
        let expect = match field("expect") {
            Some(expect) => self.expect(expect, &what),
            None => {
                self.error(
                    node.start,
                    format!("missing key `expect` in {what}: a test must say what has to come out"),
                );
                None
            }
        };
        Some(TestCase {
            name: name?,
            file: self.file.to_path_buf(),
            place: self.place(node.start),
            claim: claim?,
            expect: expect?,
        })
    }

    fn expect(&mut self, node: &Node, test: &str) -> Option<Expect> {
        let what = format!("`expect` of {test}");
        let fields = self.fields(node, &what, EXPECT_FIELDS)?;
        let mut expect = Expect::default();
        let mut ok = true;
        for entry in fields {
            let value = &entry.node;
            match entry.key {
                "status" => match self.word(value, "`status`", STATUSES) {
                    Some(status) => expect.status = Some(self.located(status, value)),
                    None => ok = false,
                },
                "fires" => {
                    for (index, item_node) in self.list(value, "`fires`").iter().enumerate() {
                        match self.fires(item_node, index) {
                            Some(fires) => expect.fires.push(self.located(fires, item_node)),
                            None => ok = false,
                        }
                    }
                }
                "does_not_fire" => {
                    for item_node in self.list(value, "`does_not_fire`") {
                        match self.text_value(item_node, "a rule id in `does_not_fire`") {
                            Some(rule) => {
                                expect.does_not_fire.push(self.located(rule, item_node));
                            }
                            None => ok = false,
                        }
                    }
                }
                "units_supported" => ok &= self.units_supported(value, &mut expect),
                // `fields` let only the keys above through.
                _ => {}
            }
        }
        if ok && expect.is_empty() {
            self.error(
                node.start,
                format!("{what} expects nothing: a test that checks nothing cannot fail (give `status`, `fires`, `does_not_fire` or `units_supported`)"),
            );
            return None;
        }
        ok.then_some(expect)
    }

    fn fires(&mut self, node: &Node, index: usize) -> Option<FiresExpectation> {
        let what = format!("item {} of `fires`", index + 1);
        let fields = self.fields(node, &what, FIRES_FIELDS)?;
        let field = |name: &str| fields.iter().find(|e| e.key == name).map(|e| &e.node);
        let rule = match field("rule") {
            Some(rule) => self.text_value(rule, "`rule`"),
            None => {
                self.error(node.start, format!("missing key `rule` in {what}"));
                None
            }
        };
        let severity = match field("severity") {
            Some(severity) => self.word(severity, "`severity`", SEVERITIES),
            None => {
                self.error(
                    node.start,
                    format!("missing key `severity` in {what} (`deny`, `undetermined`, `warn` or `info`)"),
                );
                None
            }
        };
        let line = match field("line") {
            Some(line) => Some(self.index(line, "`line`")?),
            None => None,
        };
        Some(FiresExpectation {
            rule: rule?,
            severity: severity?,
            line,
        })
    }

    fn units_supported(&mut self, node: &Node, expect: &mut Expect) -> bool {
        let Value::Object(entries) = &node.value else {
            self.error(
                node.start,
                format!(
                    "`units_supported` must map line numbers to units (`0: 2`), found {}",
                    kind(node)
                ),
            );
            return false;
        };
        let mut ok = true;
        for entry in entries.iter() {
            let Some(line) =
                entry.key.parse::<usize>().ok().filter(|_| {
                    !entry.key.is_empty() && entry.key.bytes().all(|b| b.is_ascii_digit())
                })
            else {
                self.error(
                    entry.key_start,
                    format!(
                        "`units_supported` keys are line numbers counted from 0, found `{}`",
                        entry.key
                    ),
                );
                ok = false;
                continue;
            };
            if expect.units_supported.iter().any(|u| u.value.0 == line) {
                self.error(
                    entry.key_start,
                    format!("line {line} is given twice in `units_supported`"),
                );
                ok = false;
                continue;
            }
            let units = match &entry.node.value {
                Value::Null => None,
                _ => match self.index(&entry.node, "units") {
                    Some(units) => match u32::try_from(units) {
                        Ok(units) => Some(units),
                        Err(_) => {
                            self.error(entry.node.start, "units too large");
                            ok = false;
                            continue;
                        }
                    },
                    None => {
                        ok = false;
                        continue;
                    }
                },
            };
            let located = Located {
                value: (line, units),
                place: self.place(entry.key_start),
            };
            expect.units_supported.push(located);
        }
        ok
    }

    fn located<T>(&self, value: T, node: &Node) -> Located<T> {
        Located {
            value,
            place: self.place(node.start),
        }
    }

    /// A list's items; one value alone is an error, not a list of one.
    fn list<'n>(&mut self, node: &'n Node<'n>, what: &str) -> &'n [Node<'n>] {
        match &node.value {
            Value::List(items) => items,
            _ => {
                self.error(
                    node.start,
                    format!(
                        "{what} must be a list (`- ...` lines or `[...]`), found {}",
                        kind(node)
                    ),
                );
                &[]
            }
        }
    }

    /// Text that is not empty (a name, a rule id, a path).
    fn text_value(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(text) if !text.trim().is_empty() => Some(text.to_string()),
            Value::String(_) => {
                self.error(node.start, format!("{what} is empty"));
                None
            }
            _ => {
                self.error(
                    node.start,
                    format!("{what} must be text, found {}", kind(node)),
                );
                None
            }
        }
    }

    /// One of `words`.
    fn word<T: Copy>(&mut self, node: &Node, what: &str, words: &[(&str, T)]) -> Option<T> {
        let known = || {
            words
                .iter()
                .map(|(word, _)| format!("`{word}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Value::String(text) = &node.value else {
            let message = format!("{what} must be one of {}, found {}", known(), kind(node));
            self.error(node.start, message);
            return None;
        };
        if let Some((_, value)) = words.iter().find(|(word, _)| word == text) {
            return Some(*value);
        }
        let hint = did_you_mean(text, words.iter().map(|(word, _)| *word))
            .map(|hint| format!("; {hint}"))
            .unwrap_or_default();
        let message = format!("{what} must be one of {}, found `{text}`{hint}", known());
        self.error(node.start, message);
        None
    }

    /// A whole number from 0.
    fn index(&mut self, node: &Node, what: &str) -> Option<usize> {
        match &node.value {
            Value::Number(raw) if raw.bytes().all(|b| b.is_ascii_digit()) => {
                match raw.parse::<usize>() {
                    Ok(value) => Some(value),
                    Err(_) => {
                        self.error(node.start, format!("{what}: `{raw}` is too large"));
                        None
                    }
                }
            }
            _ => {
                self.error(
                    node.start,
                    format!("{what} must be a whole number from 0, found {}", kind(node)),
                );
                None
            }
        }
    }
}

/// What a value is, for "found …" (values are not quoted: they may be anything).
fn kind(node: &Node) -> &'static str {
    match &node.value {
        Value::Null => "nothing",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::List(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors of a test file, as `LINE:COLUMN: message`.
    fn errors(text: &str) -> Vec<String> {
        match read_tests(text, Path::new("t.yaml")) {
            Ok(tests) => panic!("expected errors, read {} tests", tests.len()),
            Err(errors) => errors
                .iter()
                .map(|e| format!("{}:{}: {}", e.place.line, e.place.column, e.message))
                .collect(),
        }
    }

    #[test]
    fn a_test_file_is_a_list() {
        assert_eq!(
            errors("name: x\n"),
            ["1:1: a test file is a list of tests (each starting with `- name:`), found a mapping"]
        );
        assert_eq!(errors("[]\n"), ["1:1: the test file holds no tests"]);
        assert_eq!(
            errors("# only a comment\n"),
            ["1:1: the test file is empty: it holds no tests"]
        );
    }

    #[test]
    fn a_test_has_one_claim_and_expects_something() {
        assert_eq!(
            errors("- name: a\n  claim: {}\n  claim_file: c.yaml\n  expect: { status: pass }\n"),
            ["3:15: test 1 has both `claim` and `claim_file`: give one"]
        );
        assert_eq!(
            errors("- name: a\n  claim_file: c.yaml\n  expect: {}\n"),
            ["3:11: `expect` of test 1 expects nothing: a test that checks nothing cannot fail (give `status`, `fires`, `does_not_fire` or `units_supported`)"]
        );
        assert_eq!(
            errors("- name: a\n  expect: { status: pass }\n"),
            ["1:3: test 1 needs a claim: `claim:` (the claim itself) or `claim_file:` (a path relative to this file)"]
        );
    }

    #[test]
    fn expectations_are_checked_key_by_key() {
        let text = "- name: a\n  claim_file: c.yaml\n  expect:\n    status: passed\n    fires: [{ rule: r }]\n    does_not_fire: r\n    units_supported: { first: 1, 0: -1 }\n";
        assert_eq!(
            errors(text),
            [
                "4:13: `status` must be one of `pass`, `warn`, `incomplete`, `fail`, found `passed`; did you mean `pass`?",
                "5:13: missing key `severity` in item 1 of `fires` (`deny`, `undetermined`, `warn` or `info`)",
                "6:20: `does_not_fire` must be a list (`- ...` lines or `[...]`), found text",
                "7:24: `units_supported` keys are line numbers counted from 0, found `first`",
                "7:37: units must be a whole number from 0, found a number",
            ]
        );
    }

    #[test]
    fn names_differ_within_a_file() {
        let test = "- name: same\n  claim_file: c.yaml\n  expect: { status: pass }\n";
        assert_eq!(
            errors(&format!("{test}{test}")),
            ["4:3: two tests are named `same` (the first at line 1); names must differ within a file"]
        );
    }

    #[test]
    fn claim_files_are_found_beside_the_test_file() {
        let tests = read_tests(
            "- name: a\n  claim_file: ../claims/c.yaml\n  expect: { status: pass }\n",
            Path::new("suite/payer/t.yaml"),
        )
        .unwrap();
        match &tests[0].claim {
            ClaimInput::File { path, place } => {
                assert_eq!(path, Path::new("suite/payer/../claims/c.yaml"));
                assert_eq!((place.line, place.column), (2, 15));
            }
            ClaimInput::Inline(_) => panic!("a claim file"),
        }
    }
}
