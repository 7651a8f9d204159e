//! `ppl fmt`: prints a policy file in one canonical layout.
//!
//! The file is parsed and its tree printed again. What the tree does not hold
//! is taken from the source text:
//!
//! - Comments. The tree has none, so they are found by scanning the source (a
//!   `#` outside a double-quoted string runs to the end of the line) and given
//!   back by position. A whole-line comment goes above the next node (item,
//!   setting, table row, element of a wrapped code list) at that node's
//!   indentation. A comment at the end of a line stays at the end of the output
//!   line holding the code before it, after two spaces; whole-line comments
//!   right below it that start in its column continue it and stay aligned under
//!   it. A comment inside a node printed on one line (a condition written over
//!   several lines) moves to the line above that line. Comments after the last
//!   node of a block stay in the block, above its `}`; comments after the last
//!   item stay at the end.
//! - Blank lines. One blank line always separates top-level items, except that
//!   consecutive one-line items of the same kind (`include`, `extends`, `plan`,
//!   `const`, one-line `codeset`, `remove`) keep a blank line only where the
//!   source had one. Between settings, table rows and comments at most one
//!   blank line is kept where the source had one or more; never right after
//!   `{`, before `}`, inside a wrapped code list or inside a condition.
//!
//! Layout: two-space indent; one space between a key and its value; settings in
//! the analyst's order; code lists `[97110 97112 97161..97168]` without commas,
//! one element per line when the list would reach past column 100 or holds a
//! comment (so the comment keeps its code); `[PT OT]`, `[PT=GP OT=GO]`; money
//! `$2,480.00`; quantities `8 minutes`; strings re-escaped. Conditions have
//! single spaces around operators and parentheses exactly where written; one
//! that would reach past column 100 is broken after its loosest `and`/`or`,
//! each further operand on its own line one level deeper, and a parenthesised
//! part that still does not fit is broken the same way one level deeper again.
//!
//! The result is checked before it is returned: it must parse to the same tree
//! with the same comments in the same order, or formatting fails with
//! [`FormatError::Internal`] rather than hand back a file that means something
//! else.

use crate::source::SourceMap;
use crate::syntax::{
    self, Effective, Expr, ExprKind, Fix, HeaderKind, Item, ItemKind, Literal, PolicyFile,
    Requirement, RuleDef, SetElement, SetExpr, SetOp, SetTerm, Setting, SettingKind, Span,
    TableDef, TableRow, TableSource, Text,
};
use crate::Date;

/// A code list or condition whose line would reach past this column is broken.
pub const MAX_WIDTH: usize = 100;

/// Spaces per level of indentation.
const INDENT: &str = "  ";

/// Why a file was not formatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The file does not parse: `ppl check` says why. Nothing was changed.
    #[error("the file has syntax errors")]
    Syntax,
    /// The formatted text would not mean the same as the file, or would lose a
    /// comment: a bug in the formatter, caught before anything was written.
    #[error("internal error: the formatted text would not say the same as the file (a bug in `ppl fmt`; please report it)")]
    Internal,
}

/// Formats a policy file. Fails, changing nothing, when the file does not parse.
pub fn format(text: &str) -> Result<String, FormatError> {
    let source = normalize_newlines(text);
    let tree = parse_clean(&source)?;
    if source != text {
        // The file as written must parse too, not only its `\n` version.
        parse_clean(text)?;
    }
    let comments = scan_comments(&source);
    let mut printer = Printer::new(&source, &comments);
    printer.file(&tree);
    let output = printer.finish();

    let reparsed = parse_clean(&output).map_err(|_| FormatError::Internal)?;
    let kept: Vec<&str> = comments.iter().map(|c| c.text.as_str()).collect();
    let printed = scan_comments(&output);
    let printed: Vec<&str> = printed.iter().map(|c| c.text.as_str()).collect();
    if !same_tree(&reparsed, &tree) || kept != printed {
        return Err(FormatError::Internal);
    }
    Ok(output)
}

/// The tree of a file without error-level diagnostics.
fn parse_clean(text: &str) -> Result<PolicyFile, FormatError> {
    let mut sources = SourceMap::new();
    let id = sources.add("fmt.ppl", text);
    let parsed = syntax::parse(text, id);
    if parsed.diagnostics.iter().any(|d| d.is_error()) {
        return Err(FormatError::Syntax);
    }
    parsed.file.ok_or(FormatError::Syntax)
}

/// Tree equality (spans ignored) that does not recurse down a condition, so a
/// condition of many thousand operands cannot exhaust the stack.
fn same_tree(a: &PolicyFile, b: &PolicyFile) -> bool {
    a.header == b.header
        && a.items.len() == b.items.len()
        && a.items
            .iter()
            .zip(&b.items)
            .all(|(a, b)| match (&a.kind, &b.kind) {
                (ItemKind::Rule(a), ItemKind::Rule(b)) => same_rule(a, b),
                (a, b) => a == b,
            })
}

fn same_rule(a: &RuleDef, b: &RuleDef) -> bool {
    // Destructured, so a field added to rules cannot be forgotten here.
    let RuleDef {
        id,
        family,
        effective,
        settings,
        is_override,
        span: _,
    } = a;
    *id == b.id
        && *family == b.family
        && *effective == b.effective
        && *is_override == b.is_override
        && settings.len() == b.settings.len()
        && settings
            .iter()
            .zip(&b.settings)
            .all(|(a, b)| match (&a.kind, &b.kind) {
                (SettingKind::When(a), SettingKind::When(b))
                | (SettingKind::Require(a), SettingKind::Require(b)) => same_expr(a, b),
                (a, b) => a == b,
            })
}

/// Condition equality with an explicit stack instead of recursion.
fn same_expr(a: &Expr, b: &Expr) -> bool {
    let mut pending = vec![(a, b)];
    while let Some((a, b)) = pending.pop() {
        let same = match (&a.kind, &b.kind) {
            (ExprKind::Literal(a), ExprKind::Literal(b)) => a == b,
            (ExprKind::Path(a), ExprKind::Path(b)) => a == b,
            (ExprKind::Present(a), ExprKind::Present(b)) => a == b,
            (
                ExprKind::Aggregate {
                    function: f1,
                    path: p1,
                    filter: x1,
                },
                ExprKind::Aggregate {
                    function: f2,
                    path: p2,
                    filter: x2,
                },
            ) => {
                f1 == f2
                    && p1 == p2
                    && match (x1, x2) {
                        (Some(x1), Some(x2)) => {
                            pending.push((x1, x2));
                            true
                        }
                        (None, None) => true,
                        _ => false,
                    }
            }
            (ExprKind::Not(a), ExprKind::Not(b)) | (ExprKind::Group(a), ExprKind::Group(b)) => {
                pending.push((a, b));
                true
            }
            (ExprKind::And(l1, r1), ExprKind::And(l2, r2))
            | (ExprKind::Or(l1, r1), ExprKind::Or(l2, r2)) => {
                pending.push((l1, l2));
                pending.push((r1, r2));
                true
            }
            (ExprKind::Compare(o1, l1, r1), ExprKind::Compare(o2, l2, r2)) => {
                pending.push((l1, l2));
                pending.push((r1, r2));
                o1 == o2
            }
            (ExprKind::Arith(o1, l1, r1), ExprKind::Arith(o2, l2, r2)) => {
                pending.push((l1, l2));
                pending.push((r1, r2));
                o1 == o2
            }
            (
                ExprKind::Membership {
                    op: o1,
                    value: v1,
                    set: s1,
                },
                ExprKind::Membership {
                    op: o2,
                    value: v2,
                    set: s2,
                },
            ) => {
                pending.push((v1, v2));
                o1 == o2 && s1 == s2
            }
            _ => false,
        };
        if !same {
            return false;
        }
    }
    true
}

/// `\r\n` and a lone `\r` (both line breaks to the grammar) become `\n`.
fn normalize_newlines(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_owned()
    }
}

// ── Comments ─────────────────────────────────────────────────────────────────

/// A `#` comment: where it is in the source, and its text (from `#`, trailing
/// blanks dropped). `end` is where the text ends.
#[derive(Clone, Debug, PartialEq)]
struct Comment {
    start: usize,
    end: usize,
    text: String,
}

/// Every comment of the text, in order. A `#` inside a double-quoted string is
/// text; a string ends at its closing quote or at the end of the line.
fn scan_comments(source: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut skip_until = 0;
    for (at, c) in source.char_indices() {
        if at < skip_until {
            continue;
        }
        if in_string {
            match c {
                '\n' => in_string = false,
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                escaped = false;
            }
            '#' => {
                let rest = source.get(at..).unwrap_or_default();
                let line = rest.split('\n').next().unwrap_or_default();
                let text = line.trim_end();
                comments.push(Comment {
                    start: at,
                    end: at + text.len(),
                    text: text.to_owned(),
                });
                skip_until = at + line.len();
            }
            _ => {}
        }
    }
    comments
}

// ── Printing ─────────────────────────────────────────────────────────────────

/// What separates the next line from the one above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    /// Nothing.
    None,
    /// A blank line if the source had one (or more) there.
    Preserve,
    /// Always a blank line.
    Force,
}

#[derive(Debug)]
enum Line {
    Blank,
    Comment {
        indent: usize,
        text: String,
    },
    /// A node's line; `trailing` is its end-of-line comment and the comment
    /// lines that continue it, aligned under it.
    Content {
        indent: usize,
        text: String,
        trailing: Vec<String>,
    },
}

/// A top-level item that may stand next to others of its kind without a blank line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Extends,
    Include,
    Plan,
    Const,
    CodeSet,
    Remove,
}

struct Printer<'s> {
    source: &'s str,
    comments: &'s [Comment],
    /// The first comment not yet printed.
    next_comment: usize,
    lines: Vec<Line>,
    /// Where the text of the last line ends in the source, while that line is
    /// a content line that can still take a comment at its end.
    open_end: Option<usize>,
    /// While the last line is a content line with an end-of-line comment: the
    /// comment's source column, and where the last comment of it ends.
    continuation: Option<(usize, usize)>,
    /// How far the source has been printed (content or comments).
    printed_to: usize,
    /// The separation before the next line.
    sep: Sep,
    /// The separation between lines of this block (no blank lines in a code list).
    block_sep: Sep,
    indent: usize,
    /// The line being built: its text, where it starts in the source, its indentation.
    current: String,
    current_start: usize,
    current_indent: usize,
    /// Set on the line that continues after a wrapped list's `]`: comments met
    /// on it go inside the list, at this indentation.
    current_list_indent: Option<usize>,
}

impl<'s> Printer<'s> {
    fn new(source: &'s str, comments: &'s [Comment]) -> Self {
        Self {
            source,
            comments,
            next_comment: 0,
            lines: Vec::new(),
            open_end: None,
            continuation: None,
            printed_to: 0,
            sep: Sep::None,
            block_sep: Sep::Preserve,
            indent: 0,
            current: String::new(),
            current_start: 0,
            current_indent: 0,
            current_list_indent: None,
        }
    }

    fn finish(mut self) -> String {
        while matches!(self.lines.last(), Some(Line::Blank)) {
            self.lines.pop();
        }
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Blank => {}
                Line::Comment { indent, text } => {
                    out.push_str(&INDENT.repeat(*indent));
                    out.push_str(text);
                }
                Line::Content {
                    indent,
                    text,
                    trailing,
                } => {
                    out.push_str(&INDENT.repeat(*indent));
                    out.push_str(text);
                    let column = indent * INDENT.len() + text.chars().count() + 2;
                    for (index, comment) in trailing.iter().enumerate() {
                        if index == 0 {
                            out.push_str("  ");
                        } else {
                            out.push('\n');
                            out.push_str(&" ".repeat(column));
                        }
                        out.push_str(comment);
                    }
                }
            }
            out.push('\n');
        }
        out
    }

    // ── Source positions ─────────────────────────────────────────────────────

    /// Where the node ending at `end` really ends: pest spans can take in the
    /// blanks and comment after a node, which belong to no node.
    fn content_end(&self, mut end: usize) -> usize {
        loop {
            end = self.source.get(..end).map_or(end, |before| {
                before.trim_end_matches([' ', '\t', '\n']).len()
            });
            match self.comments.iter().find(|c| c.end == end && c.start < end) {
                Some(comment) => end = comment.start,
                None => return end,
            }
        }
    }

    /// Whether the source between two positions holds a blank line.
    fn has_blank(&self, from: usize, to: usize) -> bool {
        if from >= to {
            return false;
        }
        let Some(between) = self.source.get(from..to) else {
            return false;
        };
        let pieces: Vec<&str> = between.split('\n').collect();
        let inner = pieces.len().saturating_sub(1);
        pieces
            .iter()
            .take(inner)
            .skip(1)
            .any(|piece| piece.trim().is_empty())
    }

    fn same_line(&self, from: usize, to: usize) -> bool {
        self.source
            .get(from..to)
            .is_some_and(|between| !between.contains('\n'))
    }

    fn has_comment_inside(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| span.start < c.start && c.start < span.end)
    }

    /// The first `{` at or after `from` (the grammar allows only blanks before it).
    fn open_brace(&self, from: usize) -> usize {
        self.source
            .get(from..)
            .and_then(|rest| rest.find('{'))
            .map_or(from, |offset| from + offset)
    }

    /// The `}` that closes a block ending at `end`.
    fn close_brace(&self, end: usize) -> usize {
        let end = self.content_end(end);
        self.source
            .get(..end)
            .and_then(|before| before.rfind('}'))
            .unwrap_or(end)
    }

    // ── Lines ────────────────────────────────────────────────────────────────

    fn begin(&mut self, start: usize) {
        self.current.clear();
        self.current_start = start;
        self.current_indent = self.indent;
        self.current_list_indent = None;
    }

    fn push(&mut self, text: &str) {
        self.current.push_str(text);
    }

    fn column(&self) -> usize {
        self.current_indent * INDENT.len() + self.current.chars().count()
    }

    /// Ends the line being built, whose source text ends at `end`. Comments
    /// before `end` are printed first: above it, or at the end of the line above.
    fn end(&mut self, end: usize) {
        let start = self.current_start;
        match self.current_list_indent.take() {
            Some(list_indent) => {
                let block_sep = std::mem::replace(&mut self.block_sep, Sep::None);
                self.flush(end, list_indent, start);
                self.block_sep = block_sep;
                self.sep = Sep::None;
            }
            None => self.flush(end, self.current_indent, start),
        }
        self.separate(start);
        self.lines.push(Line::Content {
            indent: self.current_indent,
            text: std::mem::take(&mut self.current),
            trailing: Vec::new(),
        });
        self.open_end = Some(end);
        self.continuation = None;
        self.printed_to = self.printed_to.max(end);
        self.sep = self.block_sep;
    }

    /// Prints the comments that start before `limit`: a comment on the line of
    /// the last content line goes at its end (and whole-line comments right
    /// below it, starting in its column, continue it); any other comment goes
    /// on its own line.
    fn flush(&mut self, limit: usize, indent: usize, node_start: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.start >= limit {
                break;
            }
            let trails = self
                .open_end
                .is_some_and(|open| comment.start >= open && self.same_line(open, comment.start));
            let continues = self.continuation.is_some_and(|(column, last_end)| {
                self.column_of(comment.start) == column
                    && self.next_line_only(last_end, comment.start)
            });
            let attached = (trails || continues)
                && match self.lines.last_mut() {
                    Some(Line::Content { trailing, .. }) if trails == trailing.is_empty() => {
                        trailing.push(comment.text.clone());
                        true
                    }
                    _ => false,
                };
            if attached {
                let column = match self.continuation {
                    Some((column, _)) if continues => column,
                    _ => self.column_of(comment.start),
                };
                self.continuation = Some((column, comment.end));
            } else {
                // A comment from inside the node is separated as the node would be.
                self.separate(comment.start.min(node_start));
                self.lines.push(Line::Comment {
                    indent,
                    text: comment.text.clone(),
                });
                self.sep = self.block_sep;
                self.continuation = None;
            }
            self.open_end = None;
            self.printed_to = self.printed_to.max(comment.end);
            self.next_comment += 1;
        }
    }

    /// The column (in characters) of a source position.
    fn column_of(&self, at: usize) -> usize {
        let before = self.source.get(..at).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        before
            .get(line_start..)
            .map_or(0, |line| line.chars().count())
    }

    /// Whether `to` is on the line right after `from`, with only blanks before it.
    fn next_line_only(&self, from: usize, to: usize) -> bool {
        self.source.get(from..to).is_some_and(|between| {
            between.matches('\n').count() == 1 && between.trim_matches([' ', '\t', '\n']).is_empty()
        })
    }

    /// A blank line before the next line, if the separation asks for one.
    fn separate(&mut self, next_start: usize) {
        let blank = match self.sep {
            Sep::None => false,
            Sep::Force => true,
            Sep::Preserve => self.has_blank(self.printed_to, next_start),
        };
        if blank && !matches!(self.lines.last(), None | Some(Line::Blank)) {
            self.lines.push(Line::Blank);
        }
    }

    /// Prints what is left before the block's `}` at `close`, then the `}`.
    fn close_block(&mut self, close: usize, outer_indent: usize) {
        self.flush(close, self.indent, close);
        self.indent = outer_indent;
        self.sep = Sep::None;
        self.begin(close);
        self.push("}");
        self.end(close + 1);
    }

    // ── The file ─────────────────────────────────────────────────────────────

    fn file(&mut self, file: &PolicyFile) {
        let header = &file.header;
        self.sep = Sep::None;
        self.begin(header.span.start);
        self.push(match header.kind {
            HeaderKind::Payer => "payer ",
            HeaderKind::Library => "library ",
        });
        self.push(&header.id.value);
        if let Some(name) = &header.name {
            self.push(" ");
            self.push(&quote(&name.value));
        }
        self.end(self.content_end(header.span.end));

        let mut previous: Option<Group> = None;
        for item in &file.items {
            let group = self.group(item);
            self.sep = match (previous, group) {
                (Some(before), Some(now)) if before == now => Sep::Preserve,
                _ => Sep::Force,
            };
            self.item(item);
            previous = group;
        }
        self.sep = Sep::Preserve;
        self.flush(usize::MAX, 0, usize::MAX);
    }

    /// The group of a one-line item that may stand next to its kind.
    fn group(&self, item: &Item) -> Option<Group> {
        match &item.kind {
            ItemKind::Extends(_) => Some(Group::Extends),
            ItemKind::Include(_) => Some(Group::Include),
            ItemKind::Plan { .. } => Some(Group::Plan),
            ItemKind::Const(_) => Some(Group::Const),
            ItemKind::Remove(_) => Some(Group::Remove),
            ItemKind::CodeSet(def) => {
                let column = codeset_prefix(def).chars().count();
                (!self.set_expr_wraps(&def.expr, column)).then_some(Group::CodeSet)
            }
            ItemKind::Table(_) | ItemKind::Rule(_) => None,
        }
    }

    fn item(&mut self, item: &Item) {
        self.begin(item.span.start);
        match &item.kind {
            ItemKind::Extends(id) => {
                self.push("extends ");
                self.push(&id.value);
            }
            ItemKind::Include(id) => {
                self.push("include ");
                self.push(&id.value);
            }
            ItemKind::Plan { id, name } => {
                self.push("plan ");
                self.push(&id.value);
                self.push(" ");
                self.push(&quote(&name.value));
            }
            ItemKind::Remove(id) => {
                self.push("remove rule ");
                self.push(&id.value);
            }
            ItemKind::CodeSet(def) => {
                self.push(&codeset_prefix(def));
                self.set_expr(&def.expr);
            }
            ItemKind::Const(def) => {
                self.push("const ");
                self.push(&def.name.value);
                self.push(": ");
                self.push(def.ty.value.keyword());
                self.push(&effective_suffix(&def.effective));
                self.push(" = ");
                self.push(&literal(&def.value.value));
            }
            ItemKind::Table(def) => return self.table(def, item.span),
            ItemKind::Rule(rule) => return self.rule(rule),
        }
        self.end(self.content_end(item.span.end));
    }

    fn table(&mut self, def: &TableDef, span: Span) {
        self.push("table ");
        self.push(&def.name.value);
        self.push(": ");
        self.push(match def.kind.value {
            syntax::TableKind::Ptp => "ptp",
            syntax::TableKind::Mue => "mue",
        });
        self.push(&effective_suffix(&def.effective));
        match &def.source {
            TableSource::File(paths) => {
                self.push(" file");
                for path in paths {
                    self.push(" ");
                    self.push(&quote(&path.value));
                }
                self.end(self.content_end(span.end));
            }
            TableSource::Rows(rows) => {
                self.push(" {");
                let open = self.open_brace(def.kind.span.end.max(def.effective.span.end));
                self.end(open + 1);
                let outer = self.indent;
                self.indent = outer + 1;
                self.sep = Sep::None;
                for row in rows {
                    self.begin(row.span().start);
                    self.push(&table_row(row));
                    self.end(self.content_end(row.span().end));
                }
                self.close_block(self.close_brace(span.end), outer);
            }
        }
    }

    fn rule(&mut self, rule: &RuleDef) {
        if rule.is_override {
            self.push("override ");
        }
        self.push("rule ");
        self.push(&rule.id.value);
        self.push(" ");
        self.push(rule.family.value.keyword());
        self.push(&effective_suffix(&rule.effective));
        self.push(" {");
        let open = self.open_brace(rule.family.span.end.max(rule.effective.span.end));
        self.end(open + 1);
        let outer = self.indent;
        self.indent = outer + 1;
        self.sep = Sep::None;
        for setting in &rule.settings {
            self.begin(setting.span.start);
            let block_sep = self.block_sep;
            let end = self.setting(setting);
            self.end(end);
            self.block_sep = block_sep;
            self.sep = block_sep;
        }
        self.close_block(self.close_brace(rule.span.end), outer);
    }

    // ── Settings ─────────────────────────────────────────────────────────────

    /// Prints a setting; returns where its text ends in the source.
    fn setting(&mut self, setting: &Setting) -> usize {
        let kind = &setting.kind;
        if let SettingKind::Unknown(_) = kind {
            // The tree keeps only the name: print the line as written. (Pest
            // takes a `#` in it for a comment even inside quotes, so its span
            // can stop short: take the line, without the comment ppl sees.)
            let line_end = self
                .source
                .get(setting.span.start..)
                .and_then(|rest| rest.find('\n'))
                .map_or(self.source.len(), |offset| setting.span.start + offset);
            let end = self.content_end(line_end.max(setting.span.end));
            let raw = self.source.get(setting.span.start..end).unwrap_or_default();
            self.push(raw);
            return end;
        }
        self.push(kind.key());
        self.push(" ");
        match kind {
            SettingKind::Category(category) => self.push(category.keyword()),
            SettingKind::Severity(severity) => self.push(severity.keyword()),
            SettingKind::Message(template) => self.push(&quote(&template.text)),
            SettingKind::Help(text) | SettingKind::Cite(text) => self.push(&quote(text)),
            SettingKind::Carc(code)
            | SettingKind::Rarc(code)
            | SettingKind::Table(code)
            | SettingKind::Unknown(code) => self.push(&code.value),
            SettingKind::Fix(fix) => self.push(&fix_text(fix)),
            SettingKind::Codes(set)
            | SettingKind::Places(set)
            | SettingKind::Bypass(set)
            | SettingKind::ModifiersRequired(set)
            | SettingKind::ModifiersAccepted(set)
            | SettingKind::SupportedBy(set)
            | SettingKind::ExcludedBy(set) => self.set_expr(set),
            SettingKind::Plans(words)
            | SettingKind::Verify(words)
            | SettingKind::Disciplines(words)
            | SettingKind::Roles(words)
            | SettingKind::MustHave(words) => self.push(&word_list(words)),
            SettingKind::Method(method) => self.push(method.keyword()),
            SettingKind::DailyCapTable(name) => {
                self.push("table ");
                self.push(&name.value);
            }
            SettingKind::DailyCap(value) | SettingKind::VisitCap(value) => {
                self.push(&literal(&value.value))
            }
            SettingKind::Required(Requirement::Always) => self.push("always"),
            SettingKind::Required(Requirement::AfterVisits {
                visits,
                within_weeks,
            }) => {
                self.push(&format!("after {} visits", visits.value));
                if let Some(weeks) = within_weeks {
                    self.push(&format!(" within {} weeks", weeks.value));
                }
            }
            SettingKind::AudioOnly(allowed) => {
                self.push(if *allowed { "allowed" } else { "denied" })
            }
            SettingKind::Window(effective) => self.push(effective_suffix(effective).trim_start()),
            SettingKind::PlanOfCareCertifiedWithin(value) => {
                self.push("certified_within ");
                self.push(&literal(&value.value));
            }
            SettingKind::PlanOfCareCurrent => self.push("current"),
            SettingKind::ProgressReportWithin(value) => {
                self.push("within ");
                self.push(&literal(&value.value));
            }
            SettingKind::DisciplineModifiers(pairs) | SettingKind::AssistantModifiers(pairs) => {
                self.push(&modifier_map(pairs));
            }
            SettingKind::For(scope) => self.push(scope.keyword()),
            SettingKind::When(expr) | SettingKind::Require(expr) => {
                self.condition(expr, self.current_indent + 1, 0)
            }
        }
        self.content_end(setting.span.end)
    }

    // ── Code sets ────────────────────────────────────────────────────────────

    fn set_expr(&mut self, expr: &SetExpr) {
        self.set_term(&expr.first);
        for (op, term) in &expr.rest {
            self.push(set_op(*op));
            self.set_term(term);
        }
    }

    fn set_term(&mut self, term: &SetTerm) {
        match term {
            SetTerm::Name(name) => self.push(&name.value),
            SetTerm::Literal { elements, span } => {
                if self.literal_wraps(elements, *span, self.column()) {
                    self.wrapped_literal(elements, *span);
                } else {
                    self.push(&flat_literal(elements));
                }
            }
        }
    }

    /// Whether a set literal starting at `column` is printed one element per line.
    fn literal_wraps(&self, elements: &[SetElement], span: Span, column: usize) -> bool {
        self.has_comment_inside(span)
            || (!elements.is_empty() && column + flat_literal(elements).chars().count() > MAX_WIDTH)
    }

    /// Whether any literal of the set expression, printed from `column`, wraps.
    fn set_expr_wraps(&self, expr: &SetExpr, mut column: usize) -> bool {
        let terms = std::iter::once(("", &expr.first))
            .chain(expr.rest.iter().map(|(op, term)| (set_op(*op), term)));
        for (op, term) in terms {
            column += op.len();
            match term {
                SetTerm::Name(name) => column += name.value.chars().count(),
                SetTerm::Literal { elements, span } => {
                    if self.literal_wraps(elements, *span, column) {
                        return true;
                    }
                    column += flat_literal(elements).chars().count();
                }
            }
        }
        false
    }

    fn wrapped_literal(&mut self, elements: &[SetElement], span: Span) {
        self.push("[");
        self.end(span.start + 1);
        // The list is indented from the line it opens on (in a condition
        // broken over lines, that line may be a continuation).
        let outer = self.current_indent;
        let block_sep = std::mem::replace(&mut self.block_sep, Sep::None);
        self.sep = Sep::None;
        for element in elements {
            let element_span = element.span();
            self.begin(element_span.start);
            self.current_indent = outer + 1;
            self.push(&set_element(element));
            self.end(element_span.end);
        }
        let close = span.end.saturating_sub(1);
        self.flush(close, outer + 1, close);
        self.block_sep = block_sep;
        self.sep = Sep::None;
        self.begin(close);
        self.current_indent = outer;
        self.current_list_indent = Some(outer + 1);
        self.push("]");
    }

    // ── Conditions ───────────────────────────────────────────────────────────

    /// A condition: on one line when it fits; else broken after its loosest
    /// `and`/`or`, each further operand on a line of its own at `continuation`,
    /// and a group that does not fit broken the same way one level deeper.
    /// `suffix` is how much text follows on the last line (closing parentheses,
    /// an operator).
    fn condition(&mut self, expr: &Expr, continuation: usize, suffix: usize) {
        if self.fits(expr, suffix) {
            walk_expr(self, expr);
            return;
        }
        let mut expr = expr;
        while let ExprKind::Not(inner) = &expr.kind {
            self.push("not ");
            expr = inner;
        }
        match &expr.kind {
            ExprKind::Or(..) | ExprKind::And(..) => {
                let is_or = matches!(expr.kind, ExprKind::Or(..));
                let word = if is_or { "or" } else { "and" };
                let operands = chain(expr, is_or);
                let mut rest = operands.iter().peekable();
                while let Some(operand) = rest.next() {
                    let Some(next) = rest.peek() else {
                        self.condition(operand, continuation, suffix);
                        break;
                    };
                    self.condition(operand, continuation, word.len() + 1);
                    self.push(" ");
                    self.push(word);
                    // The line ends with the operator, wherever the source put
                    // it: a comment after the operand, on its line, stays at
                    // the end of this line.
                    self.end(self.content_end(operand.span.end));
                    // No blank lines inside a condition.
                    self.block_sep = Sep::None;
                    self.sep = Sep::None;
                    self.begin(next.span.start);
                    self.current_indent = continuation;
                }
            }
            ExprKind::Group(inner) => {
                self.push("(");
                self.condition(inner, continuation + 1, suffix + 1);
                self.push(")");
            }
            _ => walk_expr(self, expr),
        }
    }

    /// Whether the condition fits on the rest of the line, followed by `suffix`
    /// columns (and has no code list that a comment keeps wrapped).
    fn fits(&self, expr: &Expr, suffix: usize) -> bool {
        let mut flat = FlatExpr::default();
        walk_expr(&mut flat, expr);
        !flat
            .literals
            .iter()
            .any(|span| self.has_comment_inside(*span))
            && self.column() + flat.text.chars().count() + suffix <= MAX_WIDTH
    }
}

/// The operands of a chain of `or` (or of `and`), in order.
fn chain(expr: &Expr, is_or: bool) -> Vec<&Expr> {
    let mut rights = Vec::new();
    let mut left = expr;
    loop {
        match &left.kind {
            ExprKind::Or(l, r) if is_or => {
                rights.push(r.as_ref());
                left = l;
            }
            ExprKind::And(l, r) if !is_or => {
                rights.push(r.as_ref());
                left = l;
            }
            _ => break,
        }
    }
    rights.push(left);
    rights.reverse();
    rights
}

/// Where the text of a condition goes: the printer, or a flat string.
trait ExprSink {
    fn text(&mut self, text: &str);
    fn set(&mut self, set: &SetExpr);
}

impl ExprSink for Printer<'_> {
    fn text(&mut self, text: &str) {
        self.push(text);
    }

    fn set(&mut self, set: &SetExpr) {
        self.set_expr(set);
    }
}

/// A condition on one line, and where its code lists were written.
#[derive(Default)]
struct FlatExpr {
    text: String,
    literals: Vec<Span>,
}

impl ExprSink for FlatExpr {
    fn text(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn set(&mut self, set: &SetExpr) {
        let terms = std::iter::once(("", &set.first))
            .chain(set.rest.iter().map(|(op, term)| (set_op(*op), term)));
        for (op, term) in terms {
            self.text.push_str(op);
            match term {
                SetTerm::Name(name) => self.text.push_str(&name.value),
                SetTerm::Literal { elements, span } => {
                    self.text.push_str(&flat_literal(elements));
                    self.literals.push(*span);
                }
            }
        }
    }
}

/// Writes a condition with single spaces around operators and parentheses
/// where they were written. Binary operators chain to the left (`a and b and
/// c`): that side is walked in a loop, so a long chain does not nest calls.
fn walk_expr<S: ExprSink>(sink: &mut S, expr: &Expr) {
    let mut suffixes: Vec<(&'static str, Operand<'_>)> = Vec::new();
    let mut leftmost = expr;
    loop {
        let (operator, left, right) = match &leftmost.kind {
            ExprKind::Or(left, right) => ("or", left, Operand::Expr(right)),
            ExprKind::And(left, right) => ("and", left, Operand::Expr(right)),
            ExprKind::Compare(op, left, right) => (op.symbol(), left, Operand::Expr(right)),
            ExprKind::Arith(op, left, right) => (op.symbol(), left, Operand::Expr(right)),
            ExprKind::Membership { op, value, set } => (op.keyword(), value, Operand::Set(set)),
            _ => break,
        };
        suffixes.push((operator, right));
        leftmost = left;
    }
    while let ExprKind::Not(inner) = &leftmost.kind {
        sink.text("not ");
        leftmost = inner;
    }
    match &leftmost.kind {
        ExprKind::Literal(value) => sink.text(&literal(value)),
        ExprKind::Path(path) => sink.text(path),
        ExprKind::Present(path) => {
            sink.text("present(");
            sink.text(&path.value);
            sink.text(")");
        }
        ExprKind::Aggregate {
            function,
            path,
            filter,
        } => {
            sink.text(function.keyword());
            sink.text("(");
            sink.text(&path.value);
            if let Some(filter) = filter {
                sink.text(" where ");
                walk_expr(sink, filter);
            }
            sink.text(")");
        }
        ExprKind::Group(inner) => {
            sink.text("(");
            walk_expr(sink, inner);
            sink.text(")");
        }
        // `not` was written out above; a binary operation is written by the
        // loop unless it sits under a `not`.
        ExprKind::Not(_)
        | ExprKind::Or(..)
        | ExprKind::And(..)
        | ExprKind::Compare(..)
        | ExprKind::Arith(..)
        | ExprKind::Membership { .. } => walk_expr(sink, leftmost),
    }
    for (operator, operand) in suffixes.into_iter().rev() {
        sink.text(" ");
        sink.text(operator);
        sink.text(" ");
        match operand {
            Operand::Expr(expr) => walk_expr(sink, expr),
            Operand::Set(set) => sink.set(set),
        }
    }
}

/// The right side of a binary operator.
enum Operand<'a> {
    Expr(&'a Expr),
    Set(&'a SetExpr),
}

// ── Text of the parts ───────────────────────────────────────────────────────

fn codeset_prefix(def: &syntax::CodeSetDef) -> String {
    format!(
        "codeset {}: {}{} = ",
        def.name.value,
        def.kind.value.keyword(),
        effective_suffix(&def.effective)
    )
}

/// ` from DATE through DATE` (with its leading space), or nothing.
fn effective_suffix(effective: &Effective) -> String {
    let mut out = String::new();
    if let Some(from) = &effective.from {
        out.push_str(" from ");
        out.push_str(&date(from.value));
    }
    if let Some(through) = &effective.through {
        out.push_str(" through ");
        out.push_str(&date(through.value));
    }
    out
}

fn date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

fn set_op(op: SetOp) -> &'static str {
    match op {
        SetOp::Union => " + ",
        SetOp::Except => " except ",
    }
}

fn set_element(element: &SetElement) -> String {
    match element {
        SetElement::Code(code) => code.value.clone(),
        SetElement::Range { low, high } => format!("{}..{}", low.value, high.value),
    }
}

fn flat_literal(elements: &[SetElement]) -> String {
    let elements: Vec<String> = elements.iter().map(set_element).collect();
    format!("[{}]", elements.join(" "))
}

fn word_list(words: &[Text]) -> String {
    let words: Vec<&str> = words.iter().map(|word| word.value.as_str()).collect();
    format!("[{}]", words.join(" "))
}

fn modifier_map(pairs: &[(Text, Text)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(discipline, modifier)| format!("{}={}", discipline.value, modifier.value))
        .collect();
    format!("[{}]", pairs.join(" "))
}

fn fix_text(fix: &Fix) -> String {
    match fix {
        Fix::AddModifier(None) => "add_modifier".to_owned(),
        Fix::AddModifier(Some(modifier)) => format!("add_modifier {}", modifier.value),
        Fix::RemoveModifier(modifier) => format!("remove_modifier {}", modifier.value),
        Fix::ReplaceModifier { from, to } => {
            format!("replace_modifier {} with {}", from.value, to.value)
        }
        Fix::SetUnits => "set_units".to_owned(),
    }
}

fn table_row(row: &TableRow) -> String {
    match row {
        TableRow::Ptp {
            column_one,
            column_two,
            indicator,
            effective,
            ..
        } => format!(
            "{} {} indicator {}{}",
            column_one.value,
            column_two.value,
            indicator.value,
            effective_suffix(effective)
        ),
        TableRow::Mue {
            code,
            max_units,
            adjudication,
            effective,
            ..
        } => {
            let mai = adjudication
                .as_ref()
                .map(|mai| format!(" mai {}", mai.value))
                .unwrap_or_default();
            format!(
                "{} max {}{mai}{}",
                code.value,
                max_units.value,
                effective_suffix(effective)
            )
        }
    }
}

fn literal(value: &Literal) -> String {
    match value {
        Literal::Integer(number) => number.to_string(),
        Literal::Quantity(number, unit) => format!("{number} {}", unit.value_type().keyword()),
        Literal::Money(cents) => money(*cents),
        Literal::Date(value) => date(*value),
        Literal::Text(text) => quote(text),
        Literal::Flag(flag) => flag.to_string(),
    }
}

/// `$2,480.00`: thousands separated, always with cents.
fn money(cents: u64) -> String {
    let dollars = (cents / 100).to_string();
    let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
    for (index, digit) in dollars.chars().enumerate() {
        if index > 0 && (dollars.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// A string literal: `"` and `\` escaped.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn tree(text: &str) -> PolicyFile {
        match parse_clean(text) {
            Ok(tree) => tree,
            Err(error) => panic!("does not parse ({error}):\n{text}"),
        }
    }

    fn comment_texts(text: &str) -> Vec<String> {
        let mut texts: Vec<String> = scan_comments(&normalize_newlines(text))
            .into_iter()
            .map(|c| c.text)
            .collect();
        texts.sort();
        texts
    }

    fn fmt_ok(text: &str) -> String {
        match format(text) {
            Ok(out) => out,
            Err(error) => panic!("{error}:\n{text}"),
        }
    }

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fmt")
    }

    /// Every fixture pair: name, input, expected output.
    fn fixtures() -> Vec<(String, String, String)> {
        let mut pairs = Vec::new();
        for entry in std::fs::read_dir(fixture_dir()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".in.ppl") else {
                continue;
            };
            let expected = path.with_file_name(format!("{stem}.out.ppl"));
            let input = std::fs::read_to_string(&path).unwrap();
            let output = std::fs::read_to_string(&expected)
                .unwrap_or_else(|_| panic!("{} has no {}", name, expected.display()));
            pairs.push((stem.to_owned(), input, output));
        }
        pairs.sort();
        assert!(
            pairs.len() >= 8,
            "fixtures missing from {}",
            fixture_dir().display()
        );
        pairs
    }

    /// Every `.ppl` file under `dir`, at any depth.
    fn ppl_files(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                ppl_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "ppl") {
                found.push(path);
            }
        }
    }

    /// The invariants every formatted file keeps.
    fn check_invariants(name: &str, text: &str) {
        let once = fmt_ok(text);
        let twice = fmt_ok(&once);
        assert_eq!(once, twice, "{name}: formatting twice changed the output");
        assert!(
            same_tree(&tree(text), &tree(&once)),
            "{name}: formatting changed the tree"
        );
        assert_eq!(
            comment_texts(text),
            comment_texts(&once),
            "{name}: comments changed"
        );
        assert!(
            once.ends_with('\n') && !once.ends_with("\n\n"),
            "{name}: not one final newline"
        );
        assert!(
            !once.contains('\r'),
            "{name}: carriage return in the output"
        );
        for line in once.lines() {
            assert_eq!(line, line.trim_end(), "{name}: trailing blanks");
        }
    }

    #[test]
    fn fixtures_format_to_their_expected_output() {
        for (name, input, expected) in fixtures() {
            let got = fmt_ok(&input);
            assert!(
                got == expected,
                "{name}: format(in) != out\n--- got ---\n{got}--- expected ---\n{expected}"
            );
            assert_eq!(fmt_ok(&expected), expected, "{name}: format(out) != out");
            assert!(
                same_tree(&tree(&input), &tree(&expected)),
                "{name}: tree(in) != tree(out)"
            );
            let before = comment_texts(&input);
            assert_eq!(
                before,
                comment_texts(&expected),
                "{name}: comments of in and out differ"
            );
            for comment in &before {
                let wanted = before.iter().filter(|c| *c == comment).count();
                assert!(
                    expected.matches(comment.as_str()).count() >= wanted,
                    "{name}: `{comment}` lost"
                );
            }
        }
    }

    /// The other policy files of the repository that parse: `policies/` and
    /// the checker's fixtures. (Policies may be mid-edit by someone else; a
    /// file that does not parse is `ppl check`'s business, not the formatter's.)
    fn repository_policies() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        ppl_files(&root.join("policies"), &mut paths);
        ppl_files(&root.join("tests/fixtures"), &mut paths);
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if parse_clean(&text).is_ok() {
                files.push((path.display().to_string(), text));
            }
        }
        files
    }

    #[test]
    fn fixtures_and_repository_policies_are_idempotent_meaning_preserving_and_keep_comments() {
        for (name, input, expected) in fixtures() {
            check_invariants(&format!("{name}.in.ppl"), &input);
            check_invariants(&format!("{name}.out.ppl"), &expected);
        }
        for (name, text) in repository_policies() {
            check_invariants(&name, &text);
        }
    }

    /// Widens every blank between tokens, which must not change the output.
    /// Strings, the first column and lines with a comment are left alone (the
    /// column of an end-of-line comment decides whether the comment line below
    /// continues it).
    fn respace(text: &str) -> String {
        let mut out = String::new();
        for line in text.split_inclusive('\n') {
            if scan_comments(line).is_empty() {
                out.push_str(&respace_line(line));
            } else {
                out.push_str(line);
            }
        }
        out
    }

    fn respace_line(line: &str) -> String {
        let mut out = String::new();
        let mut in_string = false;
        let mut escaped = false;
        let mut at_line_start = true;
        for c in line.chars() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
            } else if c == '"' {
                in_string = true;
            } else if c == ' ' && !at_line_start {
                out.push_str(" \t ");
                continue;
            }
            if c != ' ' && c != '\t' {
                at_line_start = false;
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn blanks_between_tokens_do_not_change_the_output() {
        for (name, input, expected) in fixtures() {
            let parsed = tree(&input);
            let has_unknown = parsed.items.iter().any(|item| match &item.kind {
                ItemKind::Rule(rule) => rule
                    .settings
                    .iter()
                    .any(|s| matches!(s.kind, SettingKind::Unknown(_))),
                _ => false,
            });
            if has_unknown {
                // An unknown setting is kept as written, blanks and all.
                continue;
            }
            let spaced = respace(&input);
            assert_eq!(
                fmt_ok(&spaced),
                expected,
                "{name}: respaced input formats differently"
            );
        }
    }

    /// Every line of `text` with a comment added at its end (lines that have
    /// one keep theirs).
    fn comment_every_line_end(text: &str) -> String {
        let mut out = String::new();
        for (number, line) in text.lines().enumerate() {
            out.push_str(line);
            if !line.trim().is_empty() && scan_comments(line).is_empty() {
                out.push_str(&format!("   # end {number}"));
            }
            out.push('\n');
        }
        out
    }

    /// A comment line above every line of `text`, at its indentation.
    fn comment_above_every_line(text: &str) -> String {
        let mut out = String::new();
        for (number, line) in text.lines().enumerate() {
            if !line.trim().is_empty() {
                let indent = line.len() - line.trim_start().len();
                out.push_str(&line[..indent]);
                out.push_str(&format!("# above {number}\n"));
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    #[test]
    fn comments_anywhere_are_kept_and_formatting_stays_stable() {
        let mut texts: Vec<(String, String)> = fixtures()
            .into_iter()
            .map(|(name, input, _)| (name, input))
            .collect();
        texts.extend(repository_policies());
        for (name, text) in texts {
            let original = tree(&text);
            for (how, variant) in [
                ("comment at every line end", comment_every_line_end(&text)),
                ("comment above every line", comment_above_every_line(&text)),
            ] {
                let label = format!("{name} ({how})");
                assert!(
                    same_tree(&tree(&variant), &original),
                    "{label}: the variant means something else"
                );
                check_invariants(&label, &variant);
            }
        }
    }

    /// A name for each form of setting (no wildcard: a new form must be added here).
    fn setting_form(kind: &SettingKind) -> &'static str {
        match kind {
            SettingKind::Category(_) => "Category(_)",
            SettingKind::Severity(_) => "Severity(_)",
            SettingKind::Message(_) => "Message(_)",
            SettingKind::Help(_) => "Help(_)",
            SettingKind::Carc(_) => "Carc(_)",
            SettingKind::Rarc(_) => "Rarc(_)",
            SettingKind::Cite(_) => "Cite(_)",
            SettingKind::Fix(Fix::AddModifier(None)) => "Fix(Fix::AddModifier(None))",
            SettingKind::Fix(Fix::AddModifier(Some(_))) => "Fix(Fix::AddModifier(Some(_)))",
            SettingKind::Fix(Fix::RemoveModifier(_)) => "Fix(Fix::RemoveModifier(_))",
            SettingKind::Fix(Fix::ReplaceModifier { .. }) => "Fix(Fix::ReplaceModifier { .. })",
            SettingKind::Fix(Fix::SetUnits) => "Fix(Fix::SetUnits)",
            SettingKind::Codes(_) => "Codes(_)",
            SettingKind::Plans(_) => "Plans(_)",
            SettingKind::Places(_) => "Places(_)",
            SettingKind::Method(_) => "Method(_)",
            SettingKind::DailyCapTable(_) => "DailyCapTable(_)",
            SettingKind::DailyCap(_) => "DailyCap(_)",
            SettingKind::VisitCap(_) => "VisitCap(_)",
            SettingKind::Table(_) => "Table(_)",
            SettingKind::Bypass(_) => "Bypass(_)",
            SettingKind::Required(Requirement::Always) => "Required(Requirement::Always)",
            SettingKind::Required(Requirement::AfterVisits {
                within_weeks: None, ..
            }) => "Required(Requirement::AfterVisits { within_weeks: None, .. })",
            SettingKind::Required(Requirement::AfterVisits {
                within_weeks: Some(_),
                ..
            }) => "Required(Requirement::AfterVisits { within_weeks: Some(_), .. })",
            SettingKind::Verify(_) => "Verify(_)",
            SettingKind::ModifiersRequired(_) => "ModifiersRequired(_)",
            SettingKind::ModifiersAccepted(_) => "ModifiersAccepted(_)",
            SettingKind::Disciplines(_) => "Disciplines(_)",
            SettingKind::Roles(_) => "Roles(_)",
            SettingKind::AudioOnly(true) => "AudioOnly(true)",
            SettingKind::AudioOnly(false) => "AudioOnly(false)",
            SettingKind::Window(_) => "Window(_)",
            SettingKind::MustHave(_) => "MustHave(_)",
            SettingKind::PlanOfCareCertifiedWithin(_) => "PlanOfCareCertifiedWithin(_)",
            SettingKind::PlanOfCareCurrent => "PlanOfCareCurrent",
            SettingKind::ProgressReportWithin(_) => "ProgressReportWithin(_)",
            SettingKind::DisciplineModifiers(_) => "DisciplineModifiers(_)",
            SettingKind::AssistantModifiers(_) => "AssistantModifiers(_)",
            SettingKind::SupportedBy(_) => "SupportedBy(_)",
            SettingKind::ExcludedBy(_) => "ExcludedBy(_)",
            SettingKind::For(_) => "For(_)",
            SettingKind::When(_) => "When(_)",
            SettingKind::Require(_) => "Require(_)",
            SettingKind::Unknown(_) => "Unknown(_)",
        }
    }

    /// A name for each form of item (no wildcard: a new form must be added here).
    fn item_form(kind: &ItemKind) -> &'static str {
        match kind {
            ItemKind::Extends(_) => "Extends(_)",
            ItemKind::Include(_) => "Include(_)",
            ItemKind::Plan { .. } => "Plan { .. }",
            ItemKind::CodeSet(_) => "CodeSet(_)",
            ItemKind::Const(_) => "Const(_)",
            ItemKind::Table(TableDef {
                source: TableSource::File(_),
                ..
            }) => "Table(TableDef { source: TableSource::File(_), .. })",
            ItemKind::Table(TableDef {
                source: TableSource::Rows(_),
                ..
            }) => "Table(TableDef { source: TableSource::Rows(_), .. })",
            ItemKind::Rule(RuleDef {
                is_override: false, ..
            }) => "Rule(RuleDef { is_override: false, .. })",
            ItemKind::Rule(RuleDef {
                is_override: true, ..
            }) => "Rule(RuleDef { is_override: true, .. })",
            ItemKind::Remove(_) => "Remove(_)",
        }
    }

    #[test]
    fn fixtures_cover_every_item_and_setting_form() {
        let mut seen = std::collections::BTreeSet::new();
        for (_, input, _) in fixtures() {
            for item in tree(&input).items {
                seen.insert(item_form(&item.kind));
                if let ItemKind::Rule(rule) = &item.kind {
                    for setting in &rule.settings {
                        seen.insert(setting_form(&setting.kind));
                    }
                }
            }
        }
        for form in [
            "Category(_)",
            "Severity(_)",
            "Message(_)",
            "Help(_)",
            "Carc(_)",
            "Rarc(_)",
            "Cite(_)",
            "Fix(Fix::AddModifier(None))",
            "Fix(Fix::AddModifier(Some(_)))",
            "Fix(Fix::RemoveModifier(_))",
            "Fix(Fix::ReplaceModifier { .. })",
            "Fix(Fix::SetUnits)",
            "Codes(_)",
            "Plans(_)",
            "Places(_)",
            "Method(_)",
            "DailyCapTable(_)",
            "DailyCap(_)",
            "VisitCap(_)",
            "Table(_)",
            "Bypass(_)",
            "Required(Requirement::Always)",
            "Required(Requirement::AfterVisits { within_weeks: None, .. })",
            "Required(Requirement::AfterVisits { within_weeks: Some(_), .. })",
            "Verify(_)",
            "ModifiersRequired(_)",
            "ModifiersAccepted(_)",
            "Disciplines(_)",
            "Roles(_)",
            "AudioOnly(true)",
            "AudioOnly(false)",
            "Window(_)",
            "MustHave(_)",
            "PlanOfCareCertifiedWithin(_)",
            "PlanOfCareCurrent",
            "ProgressReportWithin(_)",
            "DisciplineModifiers(_)",
            "AssistantModifiers(_)",
            "SupportedBy(_)",
            "ExcludedBy(_)",
            "For(_)",
            "When(_)",
            "Require(_)",
            "Unknown(_)",
            "Extends(_)",
            "Include(_)",
            "Plan { .. }",
            "CodeSet(_)",
            "Const(_)",
            "Table(TableDef { source: TableSource::File(_), .. })",
            "Table(TableDef { source: TableSource::Rows(_), .. })",
            "Rule(RuleDef { is_override: false, .. })",
            "Rule(RuleDef { is_override: true, .. })",
            "Remove(_)",
        ] {
            assert!(seen.contains(form), "no fixture has {form}");
        }
    }

    #[test]
    fn crlf_and_lone_cr_become_newlines() {
        let text = "payer p \"P\"\r\n\r\n# c\r\nconst a: count = 1\r\nrule r general {\r\n  for line\r\n}\r\n";
        let expected =
            "payer p \"P\"\n\n# c\nconst a: count = 1\n\nrule r general {\n  for line\n}\n";
        assert_eq!(format(text), Ok(expected.to_owned()));
    }

    #[test]
    fn files_that_do_not_parse_are_not_formatted() {
        for text in [
            "payer p \"P\"\ncodeset a: procedure = [97110\n",
            "payer p \"P\"\nconst d: date = 2026-02-30\n",
            "rule r general {\n}\n",
            "",
        ] {
            assert_eq!(format(text), Err(FormatError::Syntax), "{text}");
        }
    }

    #[test]
    fn the_longest_condition_allowed_formats_and_a_longer_one_is_refused() {
        let condition = |operands: usize| {
            let chain = vec!["line.units > 1 units"; operands].join(" and ");
            format!("payer p \"P\"\nrule r general {{\n  for line\n  require {chain}\n}}\n")
        };
        let once = fmt_ok(&condition(99));
        assert_eq!(once.lines().count(), 99 + 5);
        assert_eq!(fmt_ok(&once), once);
        assert!(format(&condition(5_000)).is_err());
    }

    #[test]
    fn money_has_thousands_separators_and_cents() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(248_000), "$2,480.00");
        assert_eq!(money(99_999_999), "$999,999.99");
        assert_eq!(money(100_000_000), "$1,000,000.00");
    }

    #[test]
    fn strings_are_re_escaped() {
        assert_eq!(quote(r#"say "hi" \ bye"#), r#""say \"hi\" \\ bye""#);
    }

    #[test]
    fn a_hash_in_a_string_is_not_a_comment() {
        let comments = scan_comments("message \"a # b \\\" # c\" # real  \nhelp \"x\"");
        let texts: Vec<&str> = comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["# real"]);
    }

    #[test]
    fn output_ends_with_one_newline() {
        assert_eq!(
            format("\n\npayer p \"P\"\n\n\n\n"),
            Ok("payer p \"P\"\n".to_owned())
        );
        assert_eq!(format("library l"), Ok("library l\n".to_owned()));
    }
}
