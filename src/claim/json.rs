//! A strict JSON (RFC 8259) reader that keeps the byte range of every value.
//!
//! serde_json does not give value spans, and reading JSON through the YAML parser
//! would accept what JSON does not (comments, unquoted keys, single quotes) and
//! word its errors in YAML terms. This reader is small, allocation-light and
//! bounded: nesting stops at [`MAX_DEPTH`], numbers are kept as written.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use super::tree::{push_index, push_key, too_deep, Entry, Node, SyntaxError, Value, MAX_DEPTH};

/// Reads one JSON value that fills `text` (whitespace aside). Offsets in the
/// result are `base` plus offsets into `text`, so a line of an NDJSON batch
/// reports offsets into the whole batch.
/// The tree's lists, objects and unescaped text go into `arena`.
pub(super) fn parse<'a>(
    text: &'a str,
    base: usize,
    arena: &'a Bump,
) -> Result<Node<'a>, SyntaxError> {
    read(text, base, arena).map_err(|error| *error)
}

/// A syntax error, boxed inside the reader so that results stay small (they
/// are moved at every value).
type Failed = Box<SyntaxError>;

fn read<'a>(text: &'a str, base: usize, arena: &'a Bump) -> Result<Node<'a>, Failed> {
    let mut reader = Reader {
        text,
        arena,
        bytes: text.as_bytes(),
        pos: 0,
        base,
        // The scratch stacks live in the arena too, with room for a typical
        // claim (about 60 values, 4 levels deep), so they rarely grow.
        trail: BumpVec::with_capacity_in(8, arena),
        items: BumpVec::with_capacity_in(32, arena),
        entries: BumpVec::with_capacity_in(64, arena),
    };
    if text.starts_with('\u{feff}') {
        reader.pos = '\u{feff}'.len_utf8();
    }
    reader.skip_whitespace();
    if reader.peek().is_none() {
        return Err(reader.error_here("the input is empty: expected a claim object"));
    }
    let node = reader.value(0)?;
    reader.skip_whitespace();
    if reader.peek().is_some() {
        return Err(reader.error_here(
            "unexpected text after the end of the claim (one claim per JSON text; use NDJSON for batches)",
        ));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    arena: &'a Bump,
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    /// Where the value being read stands: written out as a JSON pointer only
    /// for an error, so a well-formed line builds no path text.
    trail: BumpVec<'a, Step<'a>>,
    /// The items and entries of the lists and objects being read, innermost
    /// last: each list or object is moved into the arena at its exact size
    /// when it closes.
    items: BumpVec<'a, Node<'a>>,
    entries: BumpVec<'a, Entry<'a>>,
}

/// One step of [`Reader::trail`].
enum Step<'a> {
    /// A key as written between its quotes, escapes and all.
    Key(&'a str),
    Index(usize),
}

/// Where the first `"`, `\\` or control byte of `bytes` is (`bytes.len()` if
/// none): the end of a string's plain run.
fn special_byte(bytes: &[u8]) -> usize {
    // The next quote or backslash (memchr scans many bytes at a time), then
    // back to the first control byte, if the run has one.
    let mut run = memchr::memchr2(b'"', b'\\', bytes).unwrap_or(bytes.len());
    let scanned = bytes.get(..run).unwrap_or_default();
    // The smallest byte, found many bytes at a time: a control byte is below 0x20.
    if scanned.iter().copied().min().unwrap_or(b' ') < 0x20 {
        run = scanned.iter().position(|&byte| byte < 0x20).unwrap_or(run);
    }
    run
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Bytes of the character at the current position (0 at the end).
    fn width(&self) -> usize {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
            .map_or(0, char::len_utf8)
    }

    /// An error at the current character (empty at the end of the text).
    fn error_here(&self, message: impl Into<String>) -> Failed {
        self.error_at(self.pos, self.pos + self.width(), message)
    }

    fn error_at(&self, start: usize, end: usize, message: impl Into<String>) -> Failed {
        Box::new(SyntaxError {
            message: message.into(),
            path: self.path(),
            start: self.base + start,
            end: self.base + end,
        })
    }

    /// The JSON pointer of the value being read.
    fn path(&self) -> String {
        let mut path = String::new();
        for step in &self.trail {
            match step {
                Step::Key(raw) if raw.contains('\\') => {
                    // Only for an error message: decode the escapes then.
                    let key: String = serde_json::from_str(&format!("\"{raw}\""))
                        .unwrap_or_else(|_| (*raw).to_owned());
                    push_key(&mut path, &key);
                }
                Step::Key(raw) => push_key(&mut path, raw),
                Step::Index(index) => push_index(&mut path, *index),
            }
        }
        path
    }

    /// What stands at the current position, for "expected …, found …".
    fn found(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            None => "the end of the input".to_owned(),
            Some(c) if c.is_ascii_graphic() => format!("`{c}`"),
            Some(c) => format!("character U+{:04X}", u32::from(c)),
        }
    }

    fn node(&self, value: Value<'a>, start: usize) -> Node<'a> {
        Node {
            value,
            start: self.base + start,
            end: self.base + self.pos,
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, Failed> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.list(depth + 1),
            Some(b'"') => {
                let text = self.string()?;
                Ok(self.node(Value::String(text), start))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => Err(self.error_here(format!("expected a JSON value, found {}", self.found()))),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value<'a>) -> Result<Node<'a>, Failed> {
        let start = self.pos;
        let matches = self
            .text
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(word));
        let ends = !matches!(
            self.bytes.get(self.pos + word.len()),
            Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_')
        );
        if !(matches && ends) {
            return Err(self.error_here(
                "expected a JSON value (text must be in double quotes; literals are `true`, `false`, `null`)",
            ));
        }
        self.pos += word.len();
        Ok(self.node(value, start))
    }

    fn number(&mut self) -> Result<Node<'a>, Failed> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error_here("a JSON number needs digits after `-`")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here("a JSON number needs digits after its decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here("a JSON number needs digits in its exponent"));
            }
            self.digits();
        }
        if matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'.')
        ) {
            return Err(self.error_here(
                "malformed JSON number (no leading zeros, no letters; codes must be strings in double quotes)",
            ));
        }
        let raw = self.text.get(start..self.pos).unwrap_or_default();
        Ok(self.node(Value::Number(raw), start))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// Reads a string starting at its opening quote; leaves `pos` after the
    /// closing one. Borrowed from the text unless it has escapes.
    fn string(&mut self) -> Result<&'a str, Failed> {
        let open = self.pos;
        self.pos += 1;
        let mut out: Option<String> = None;
        loop {
            let run_start = self.pos;
            self.pos += special_byte(self.bytes.get(self.pos..).unwrap_or_default());
            // `"`, `\` and control bytes are ASCII, so `pos` is on a char boundary.
            let text: &'a str = self.text;
            let run = text.get(run_start..self.pos).unwrap_or_default();
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(match out {
                        None => run,
                        Some(mut out) => {
                            out.push_str(run);
                            self.arena.alloc_str(&out)
                        }
                    });
                }
                Some(b'\\') => {
                    let out = out.get_or_insert_with(String::new);
                    out.push_str(run);
                    self.pos += 1;
                    self.escape(out)?;
                }
                Some(_) => {
                    return Err(self.error_here(
                        "a control character (such as a line break or tab) in a JSON string must be escaped",
                    ))
                }
                None => {
                    return Err(self.error_at(
                        open,
                        self.pos,
                        "unterminated string: the closing `\"` is missing",
                    ))
                }
            }
        }
    }

    /// Reads what follows a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), Failed> {
        let escape_start = self.pos.saturating_sub(1);
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let high = self.hex4(escape_start)?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    let pair = self
                        .text
                        .get(self.pos..)
                        .is_some_and(|rest| rest.starts_with("\\u"));
                    if !pair {
                        return Err(self.error_at(
                            escape_start,
                            self.pos,
                            "a `\\u` escape of a high surrogate must be followed by a low surrogate",
                        ));
                    }
                    self.pos += 2;
                    let low = self.hex4(escape_start)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error_at(
                            escape_start,
                            self.pos,
                            "a `\\u` escape of a high surrogate must be followed by a low surrogate",
                        ));
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                let Some(c) = char::from_u32(code) else {
                    return Err(self.error_at(
                        escape_start,
                        self.pos,
                        "a `\\u` escape names a lone surrogate, which is not a character",
                    ));
                };
                out.push(c);
                return Ok(());
            }
            _ => {
                return Err(self.error_at(
                    escape_start,
                    self.pos + self.width(),
                    "unknown escape in a JSON string (known: `\\\"` `\\\\` `\\/` `\\b` `\\f` `\\n` `\\r` `\\t` `\\uXXXX`)",
                ))
            }
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, Failed> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self.peek().and_then(|byte| char::from(byte).to_digit(16));
            let Some(digit) = digit else {
                return Err(self.error_at(
                    escape_start,
                    self.pos,
                    "a `\\u` escape needs four hex digits",
                ));
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn list(&mut self, depth: usize) -> Result<Node<'a>, Failed> {
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.error_here(too_deep()));
        }
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(self.node(Value::List(&[]), start));
        }
        let first = self.items.len();
        loop {
            self.trail.push(Step::Index(self.items.len() - first));
            self.skip_whitespace();
            let item = self.value(depth)?;
            self.items.push(item);
            self.skip_whitespace();
            self.trail.pop();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    let items = self.arena.alloc_slice_fill_iter(self.items.drain(first..));
                    return Ok(self.node(Value::List(items), start));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected `,` or `]` after a list item, found {}",
                        self.found()
                    )))
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, Failed> {
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.error_here(too_deep()));
        }
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(self.node(Value::Object(&[]), start));
        }
        let first = self.entries.len();
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error_here(format!(
                    "expected a field name in double quotes, found {}",
                    self.found()
                )));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_end = self.pos;
            let raw = self
                .text
                .get(key_start + 1..key_end - 1)
                .unwrap_or_default();
            self.trail.push(Step::Key(raw));
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error_here(format!(
                    "expected `:` after the field name, found {}",
                    self.found()
                )));
            }
            self.pos += 1;
            self.skip_whitespace();
            let node = self.value(depth)?;
            self.trail.pop();
            self.entries.push(Entry {
                key,
                key_start: self.base + key_start,
                key_end: self.base + key_end,
                node,
            });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    let entries = self
                        .arena
                        .alloc_slice_fill_iter(self.entries.drain(first..));
                    return Ok(self.node(Value::Object(entries), start));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected `,` or `}}` after a field, found {}",
                        self.found()
                    )))
                }
            }
        }
    }
}
