//! Stage 1: text → syntax tree.
//!
//! The file is cut into chunks at each top-level item (a line that starts, in
//! the first column and outside braces, with `rule`, `codeset`, `table` …), and
//! each chunk is parsed on its own: a syntax error loses one item, not the rest
//! of the file, so `ppl check` can report every broken item in one run. Pest
//! types never leave this module.

mod ast;
mod build;
pub mod names;
mod parser;

pub use ast::*;
pub use build::{parse_date, MAX_NUMBER};

use pest::error::{ErrorVariant, InputLocation};
use pest::Parser as _;

use crate::diagnostics::{Diagnostic, DiagnosticCode};
use crate::source::FileId;
use parser::{PolicyParser, Rule};

/// How deep brackets and parentheses may nest. Real policies use two or three
/// levels; the limit keeps hostile input from exhausting the stack.
pub const MAX_NESTING: usize = 32;

/// A parse: the tree (when the header could be read) and what went wrong.
pub struct Parsed {
    pub file: Option<PolicyFile>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one policy file.
pub fn parse(text: &str, file: FileId) -> Parsed {
    let mut builder = build::Builder {
        file,
        offset: 0,
        diagnostics: Vec::new(),
    };
    let mut header = None;
    let mut items = Vec::new();
    for (index, chunk) in chunks(text).into_iter().enumerate() {
        let Some(source) = text.get(chunk.clone()) else {
            continue;
        };
        builder.offset = chunk.start;
        if let Some(diagnostic) = check_nesting(source, file, chunk.start) {
            builder.diagnostics.push(diagnostic);
            continue;
        }
        let rule = if index == 0 { Rule::file } else { Rule::rest };
        match PolicyParser::parse(rule, source) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { continue };
                if let Ok((chunk_header, chunk_items)) = builder.file(pair) {
                    if chunk_header.is_some() {
                        header = chunk_header;
                    }
                    items.extend(chunk_items);
                }
            }
            Err(error) => builder
                .diagnostics
                .push(syntax_error(&error, source, file, chunk.start)),
        }
    }
    let file = header.map(|header| PolicyFile { header, items });
    Parsed {
        file,
        diagnostics: builder.diagnostics,
    }
}

/// Words that start a top-level item.
const ITEM_KEYWORDS: &[&str] = &[
    "payer", "library", "extends", "include", "plan", "codeset", "const", "table", "rule",
    "override", "remove",
];

/// Byte ranges of the file's chunks: the header chunk first, then one chunk per
/// top-level item (with the comments above it).
fn chunks(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut starts = vec![0];
    let mut depth = 0usize;
    let mut offset = 0;
    let mut seen_item = false;
    // Where the comment block above the next item began, if one is open.
    let mut comment_start: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let first_word = line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or_default();
        let starts_item = ITEM_KEYWORDS.contains(&first_word)
            && line.starts_with(first_word)
            && (depth == 0 || first_word != "table");
        if starts_item {
            if seen_item {
                let start = comment_start.unwrap_or(offset);
                if starts.last() != Some(&start) {
                    starts.push(start);
                }
            }
            seen_item = true;
            // A new rule or item at the margin ends any unclosed block above it.
            depth = 0;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            comment_start.get_or_insert(offset);
        } else if !trimmed.trim().is_empty() {
            comment_start = None;
        }
        depth = braces_after(line, depth);
        offset += line.len();
    }
    let mut ranges = Vec::with_capacity(starts.len());
    for (index, &start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        ranges.push(start..end);
    }
    ranges
}

/// The brace depth after a line, ignoring braces in strings and comments.
fn braces_after(line: &str, mut depth: usize) -> usize {
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') => in_string = false,
            (false, '"') => in_string = true,
            (false, '#') => break,
            (false, '{') => depth += 1,
            (false, '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

/// Rejects brackets and parentheses nested deeper than [`MAX_NESTING`] before
/// the recursive parser sees them.
fn check_nesting(source: &str, file: FileId, offset: usize) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (at, c) in source.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') | (true, '\n') => in_string = false,
            (false, '"') => in_string = true,
            (false, '#') => in_comment = true,
            (false, '(' | '[') => {
                depth += 1;
                if depth > MAX_NESTING {
                    let span = Span::new(offset + at, offset + at + 1);
                    return Some(
                        Diagnostic::new(
                            DiagnosticCode::NestingTooDeep,
                            file,
                            span,
                            format!("brackets are nested more than {MAX_NESTING} deep"),
                        )
                        .with_label("too deep")
                        .with_help(
                            "split the condition into named code sets or simpler conditions",
                        ),
                    );
                }
            }
            (false, ')' | ']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Rewrites pest's error into words: what was found, what was expected.
fn syntax_error(
    error: &pest::error::Error<Rule>,
    source: &str,
    file: FileId,
    offset: usize,
) -> Diagnostic {
    let at = match error.location {
        InputLocation::Pos(at) => at,
        InputLocation::Span((start, _)) => start,
    };
    let found = describe_found(source, at);
    let end = at + found.1;
    let span = Span::new(offset + at, offset + end.max(at));
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => expected_words(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let message = format!("expected {expected}, found {}", found.0);
    let token = found.0.trim_matches('`');
    let help = crate::diagnostics::did_you_mean(token, backticked(&expected))
        .unwrap_or_else(|| syntax_help(&expected, source, at));
    Diagnostic::new(DiagnosticCode::SyntaxError, file, span, message)
        .with_label(format!("expected {expected}"))
        .with_help(help)
}

/// What stands at the error position, in words, and how many bytes to underline.
fn describe_found(source: &str, at: usize) -> (String, usize) {
    let rest = source.get(at..).unwrap_or_default();
    if rest.is_empty() {
        return ("the end of the file".to_owned(), 0);
    }
    if rest.starts_with("\r\n") || rest.starts_with('\n') {
        return ("the end of the line".to_owned(), 1);
    }
    let token: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(24)
        .collect();
    let token = if token.is_empty() {
        rest.chars().next().map(String::from).unwrap_or_default()
    } else {
        token
    };
    (format!("`{token}`"), token.len())
}

/// Turns the rules pest expected into a short phrase, most specific first.
fn expected_words(positives: &[Rule]) -> String {
    let mut words: Vec<&'static str> = Vec::new();
    for &rule in positives {
        let word = names::rule_name(rule);
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // Many alternatives at once (every setting, every item) read better as one phrase.
    if words.len() > 5 {
        if words.contains(&"a setting") || words.contains(&"`message`") {
            return "a setting (such as `codes`, `message` or `cite`) or `}`".to_owned();
        }
        if words
            .iter()
            .any(|w| w.contains("rule`") || w.contains("definition"))
        {
            return "a top-level item (`rule`, `codeset`, `const`, `table`, `include` …)"
                .to_owned();
        }
        words.truncate(5);
        return format!("{}, …", words.join(", "));
    }
    match words.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The words in backticks of an "expected" phrase, for "did you mean".
fn backticked(phrase: &str) -> Vec<&str> {
    phrase.split('`').skip(1).step_by(2).collect()
}

fn syntax_help(expected: &str, source: &str, at: usize) -> String {
    let before = source.get(..at).unwrap_or_default();
    if expected.contains("text in double quotes") {
        return "write text in double quotes, on one line: `\"...\"`".to_owned();
    }
    if expected.contains("a code or a range") {
        return "a code list is closed with `]`; codes are separated by spaces".to_owned();
    }
    if expected.contains("a date") {
        return "dates are written YYYY-MM-DD, for example `from 2026-01-01`".to_owned();
    }
    if before.trim_end().ends_with('{') || expected.starts_with("a setting") {
        return "each setting stands on its own line inside the rule's braces, and the rule ends with `}` on its own line"
            .to_owned();
    }
    "see `docs/language.md` for the form each line takes".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn parse_text(text: &str) -> Parsed {
        let mut sources = SourceMap::new();
        let id = sources.add("test.ppl", text);
        parse(text, id)
    }

    #[test]
    fn chunks_split_at_items_and_keep_comments_with_the_item_below() {
        let text = "payer p \"P\"\n\n# about timed\ncodeset timed: procedure = [97110]\nrule r units {\ntable x\n}\n";
        let ranges = chunks(text);
        assert_eq!(ranges.len(), 3);
        let second = ranges.get(1).and_then(|r| text.get(r.clone()));
        assert_eq!(
            second,
            Some("# about timed\ncodeset timed: procedure = [97110]\n")
        );
    }

    #[test]
    fn every_broken_item_is_reported_and_good_items_survive() {
        let text = "payer p \"P\"\ncodeset a: procedure = [97110\ncodeset b: procedure = [97112]\nconst c: = 4\n";
        let parsed = parse_text(text);
        assert_eq!(parsed.diagnostics.len(), 2, "{:?}", parsed.diagnostics);
        let items = parsed.file.map(|f| f.items.len());
        assert_eq!(items, Some(1));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!(
            "payer p \"P\"\nrule r general {{\n  require {}true{}\n}}\n",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let parsed = parse_text(&text);
        assert!(parsed
            .diagnostics
            .iter()
            .any(|d| d.code == DiagnosticCode::NestingTooDeep));
    }

    #[test]
    fn long_condition_chains_are_an_error_not_a_stack_overflow() {
        let chain = vec!["line.units > 1 units"; 5_000].join(" and ");
        let text = format!("payer p \"P\"\nrule r general {{\n  require {chain}\n}}\n");
        let parsed = parse_text(&text);
        assert!(parsed
            .diagnostics
            .iter()
            .any(|d| d.code == DiagnosticCode::NestingTooDeep));
        let negations = "not ".repeat(500);
        let text = format!("payer p \"P\"\nrule r general {{\n  require {negations}true\n}}\n");
        assert!(parse_text(&text)
            .diagnostics
            .iter()
            .any(|d| d.code == DiagnosticCode::NestingTooDeep));
    }

    #[test]
    fn conditions_may_continue_before_or_after_and() {
        let text = "payer p \"P\"\nrule r general {\n  require line.units > 1 units\n    and line.units < 9 units and\n    line.code in [97535]\n}\n";
        let parsed = parse_text(text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    }

    #[test]
    fn conditions_parse_with_precedence() {
        let text = "payer p \"P\"\nrule r general {\n  require not line.units > 2 units and line.code in [97535] or false\n}\n";
        let parsed = parse_text(text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let Some(file) = parsed.file else {
            panic!("no file")
        };
        let Some(ItemKind::Rule(rule)) = file.items.first().map(|i| &i.kind) else {
            panic!("no rule")
        };
        let Some(SettingKind::Require(expr)) = rule.settings.first().map(|s| &s.kind) else {
            panic!("no require")
        };
        let ExprKind::Or(left, _) = &expr.kind else {
            panic!("or should bind loosest: {expr:?}")
        };
        assert!(matches!(left.kind, ExprKind::And(..)));
    }
}
#[cfg(test)]
mod comment_pairs {
    use super::parser::{PolicyParser, Rule};
    use pest::Parser as _;

    #[test]
    fn comments_leave_no_pairs_in_the_tree() {
        let text = "payer p \"P\"  # a comment\n# another\nrule r general {  # here\n  for line  # there\n  require true\n}\n";
        let pairs = PolicyParser::parse(Rule::file, text)
            .map(|p| p.flatten().map(|p| p.as_rule()).collect::<Vec<_>>());
        let rules = pairs.unwrap_or_default();
        assert!(!rules.is_empty());
        assert!(!rules.contains(&Rule::comment_text), "{rules:?}");
    }
}
