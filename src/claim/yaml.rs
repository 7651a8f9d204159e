//! YAML text to the spanned tree, through saphyr-parser's events.
//!
//! saphyr-parser is a pull parser (a state machine, no recursion) whose events
//! carry spans; its markers count characters, so they are turned into byte
//! offsets here. Plain scalars are typed by the YAML 1.2 core schema: `02` and
//! `97535` unquoted are numbers, which is how the reader can tell the user to
//! quote a code. Anchors, aliases and tags other than `!!str` are refused: a claim
//! needs none of them, and aliases would let a small text expand without bound.

use bumpalo::Bump;
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};

use super::tree::{child, item, too_deep, Entry, Node, SyntaxError, Value, MAX_DEPTH};

/// Reads the one YAML document of `text`.
/// Reads the one YAML document of `text`; the tree's lists, objects and text
/// go into `arena`.
pub(super) fn parse<'a>(text: &'a str, arena: &'a Bump) -> Result<Node<'a>, SyntaxError> {
    Builder::new(text, arena).run()
}

/// Character index to byte offset.
struct Offsets {
    /// Byte offset of each character, then the text's length; `None` for ASCII
    /// text, where the two are the same.
    table: Option<Vec<usize>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let table = (!text.is_ascii()).then(|| {
            text.char_indices()
                .map(|(at, _)| at)
                .chain(std::iter::once(text.len()))
                .collect()
        });
        Self {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, marker: Marker) -> usize {
        let index = marker.index();
        match &self.table {
            None => index.min(self.len),
            Some(table) => table.get(index).copied().unwrap_or(self.len),
        }
    }
}

enum Frame<'a> {
    List {
        start: usize,
        flow: bool,
        items: Vec<Node<'a>>,
    },
    Object {
        start: usize,
        flow: bool,
        entries: Vec<Entry<'a>>,
        /// The key read, waiting for its value.
        key: Option<(&'a str, usize, usize)>,
    },
}

struct Builder<'a> {
    text: &'a str,
    arena: &'a Bump,
    offsets: Offsets,
    stack: Vec<Frame<'a>>,
    root: Option<Node<'a>>,
    documents: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, arena: &'a Bump) -> Self {
        Self {
            text,
            arena,
            offsets: Offsets::new(text),
            stack: Vec::new(),
            root: None,
            documents: 0,
        }
    }

    /// The JSON pointer of the value being read.
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.stack {
            path = match frame {
                Frame::List { items, .. } => item(&path, items.len()),
                Frame::Object {
                    key: Some((key, ..)),
                    ..
                } => child(&path, key),
                Frame::Object { key: None, .. } => path,
            };
        }
        path
    }

    fn error(&self, span: Span, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            message: message.into(),
            path: self.path(),
            start: self.offsets.byte(span.start),
            end: self.offsets.byte(span.end),
        }
    }

    fn run(mut self) -> Result<Node<'a>, SyntaxError> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(next) = parser.next_event() {
            let (event, span) = match next {
                Ok(event) => event,
                Err(error) => {
                    let at = self.offsets.byte(*error.marker());
                    let width = self
                        .text
                        .get(at..)
                        .and_then(|rest| rest.chars().next())
                        .map_or(0, char::len_utf8);
                    let message = if error.info() == "recursion limit exceeded" {
                        too_deep()
                    } else {
                        format!("invalid YAML: {}", error.info())
                    };
                    return Err(SyntaxError {
                        message,
                        path: self.path(),
                        start: at,
                        end: at + width,
                    });
                }
            };
            match event {
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(self.error(
                            span,
                            "a second YAML document: a claim file holds one claim (use NDJSON for batches)",
                        ));
                    }
                }
                Event::Alias(_) => {
                    return Err(
                        self.error(span, "YAML aliases (`*name`) are not supported in a claim")
                    )
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.refuse_extras(span, anchor, tag.as_deref(), true)?;
                    let is_str = tag.is_some();
                    self.scalar(&text, style, is_str, span)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.refuse_extras(span, anchor, tag.as_deref(), false)?;
                    self.open(false, span)?;
                }
                Event::MappingStart(anchor, tag) => {
                    self.refuse_extras(span, anchor, tag.as_deref(), false)?;
                    self.open(true, span)?;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
            }
        }
        self.root.ok_or_else(|| SyntaxError {
            message: "the input is empty: expected a claim".to_owned(),
            path: String::new(),
            start: 0,
            end: 0,
        })
    }

    fn refuse_extras(
        &self,
        span: Span,
        anchor: usize,
        tag: Option<&Tag>,
        scalar: bool,
    ) -> Result<(), SyntaxError> {
        if anchor != 0 {
            return Err(self.error(span, "YAML anchors (`&name`) are not supported in a claim"));
        }
        match tag {
            None => Ok(()),
            Some(tag) if scalar && tag.is_yaml_core_schema() && tag.suffix == "str" => Ok(()),
            Some(_) => Err(self.error(
                span,
                "YAML tags are not supported in a claim (only `!!str` on a single value)",
            )),
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        forced_string: bool,
        span: Span,
    ) -> Result<(), SyntaxError> {
        let start = self.offsets.byte(span.start);
        let end = self.offsets.byte(span.end);
        if let Some(Frame::Object {
            key: key @ None, ..
        }) = self.stack.last_mut()
        {
            *key = Some((self.arena.alloc_str(text), start, end));
            return Ok(());
        }
        let value = if style == ScalarStyle::Plain && !forced_string {
            resolve_plain(text, self.arena)
        } else {
            Value::String(self.arena.alloc_str(text))
        };
        self.attach(Node { value, start, end }, span)
    }

    fn open(&mut self, mapping: bool, span: Span) -> Result<(), SyntaxError> {
        if let Some(Frame::Object { key: None, .. }) = self.stack.last() {
            return Err(self.error(
                span,
                "a field name must be plain text, not a list or an object",
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(span, too_deep()));
        }
        let flow = !span.is_empty();
        let mut start = self.offsets.byte(span.start);
        if !mapping && !flow {
            start = self.dash_before(start);
        }
        self.stack.push(if mapping {
            Frame::Object {
                start,
                flow,
                entries: Vec::new(),
                key: None,
            }
        } else {
            Frame::List {
                start,
                flow,
                items: Vec::new(),
            }
        });
        Ok(())
    }

    /// A block list's start event stands at its first item; its text starts at the `-`.
    fn dash_before(&self, start: usize) -> usize {
        let before = self.text.get(..start).unwrap_or_default();
        let trimmed = before.trim_end_matches([' ', '\t']);
        match trimmed.strip_suffix('-') {
            Some(rest) => rest.len(),
            None => start,
        }
    }

    fn close(&mut self, span: Span) -> Result<(), SyntaxError> {
        let Some(frame) = self.stack.pop() else {
            return Err(self.error(span, "invalid YAML: unbalanced end of a list or object"));
        };
        // A flow end event may also cover the spaces after its `]` or `}`.
        let close_start = self.offsets.byte(span.start);
        let close_end = match self.text.as_bytes().get(close_start) {
            Some(b']' | b'}') => close_start + 1,
            _ => self.offsets.byte(span.end),
        };
        let node = match frame {
            Frame::List { start, flow, items } => {
                let end = if flow {
                    close_end
                } else {
                    items.last().map_or(start, |last| last.end)
                };
                Node {
                    value: Value::List(self.arena.alloc_slice_fill_iter(items)),
                    start,
                    end,
                }
            }
            Frame::Object {
                start,
                flow,
                entries,
                ..
            } => {
                let end = if flow {
                    close_end
                } else {
                    entries.last().map_or(start, |last| last.node.end)
                };
                Node {
                    value: Value::Object(self.arena.alloc_slice_fill_iter(entries)),
                    start,
                    end,
                }
            }
        };
        self.attach(node, span)
    }

    fn attach(&mut self, node: Node<'a>, span: Span) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            None => {
                if self.root.is_some() {
                    return Err(self.error(span, "invalid YAML: a second value after the claim"));
                }
                self.root = Some(node);
            }
            Some(Frame::List { items, .. }) => items.push(node),
            Some(Frame::Object { entries, key, .. }) => match key.take() {
                Some((key, key_start, key_end)) => entries.push(Entry {
                    key,
                    key_start,
                    key_end,
                    node,
                }),
                None => {
                    return Err(self.error(
                        span,
                        "a field name must be plain text, not a list or an object",
                    ))
                }
            },
        }
        Ok(())
    }
}

/// The YAML 1.2 core schema's reading of a plain (unquoted) scalar.
fn resolve_plain<'a>(text: &str, arena: &'a Bump) -> Value<'a> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_core_number(text) => Value::Number(arena.alloc_str(text)),
        _ => Value::String(arena.alloc_str(text)),
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`,
/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf`, `.nan`.
fn is_core_number(text: &str) -> bool {
    if let Some(octal) = text.strip_prefix("0o") {
        return !octal.is_empty() && octal.bytes().all(|b| matches!(b, b'0'..=b'7'));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !exponent.is_empty() && digits(exponent)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema_numbers() {
        for number in [
            "0", "02", "97535", "-5", "+5", "1.5", "1.", ".5", "1e3", "1.5E-3", "0o17", "0x1F",
            ".inf", "-.inf", ".nan",
        ] {
            assert!(is_core_number(number), "{number}");
        }
        for text in [
            "G0283",
            "1-2",
            "2026-03-02",
            ".",
            "e3",
            "1e",
            "0x",
            "1.2.3",
            "+",
            "97535a",
            "1_000",
        ] {
            assert!(!is_core_number(text), "{text}");
        }
    }

    #[test]
    fn spans_are_byte_offsets_even_after_non_ascii_text() {
        let text = "a: é\nb: [x, \"y\"]\n";
        let arena = Bump::new();
        let node = parse(text, &arena).unwrap();
        let Value::Object(entries) = node.value else {
            panic!()
        };
        let list = &entries[1].node;
        assert_eq!(&text[list.start..list.end], "[x, \"y\"]");
    }

    #[test]
    fn block_list_span_starts_at_its_dash() {
        let text = "lines:\n  - a\n  - b\nx: 1\n";
        let arena = Bump::new();
        let node = parse(text, &arena).unwrap();
        let Value::Object(entries) = node.value else {
            panic!()
        };
        let list = &entries[0].node;
        assert_eq!(&text[list.start..list.end], "- a\n  - b");
    }
}
