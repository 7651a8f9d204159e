//! X12 text to segments: each interchange's ISA defines its own delimiters,
//! and every segment and element keeps its byte range in the input.
//!
//! Layout is free: segments may be split by newlines or not, with CRLF, blank
//! lines and indentation between them, and a UTF-8 byte-order mark before the
//! first ISA. Nothing here looks at what a segment means.

use super::X12Error;

/// The delimiters one interchange uses, as its ISA segment defines them: the
/// element separator is the byte after `ISA`, the component separator is ISA16,
/// the segment terminator the byte after it, the repetition separator ISA11.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delimiters {
    pub element: u8,
    pub component: u8,
    pub segment: u8,
    /// None when ISA11 is a letter (4010's `U`) rather than a separator.
    pub repetition: Option<u8>,
}

/// One segment and where its parts stand in the input.
#[derive(Clone, Debug)]
pub(crate) struct Segment<'t> {
    /// 1-based position in the file, counting every segment of every interchange.
    pub number: usize,
    /// Byte range of the segment, without its terminator.
    pub start: usize,
    pub end: usize,
    pub id: &'t str,
    /// The whole input; elements are found in `start..end` when asked for, so a
    /// segment costs no allocation.
    text: &'t str,
    separator: u8,
    pub component: u8,
}

/// One element (or one component of a composite element) of a segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Element<'t> {
    pub text: &'t str,
    pub start: usize,
    pub end: usize,
    /// 1-based element position in its segment.
    pub position: usize,
    /// 1-based component position, for components of a composite.
    pub component: Option<usize>,
}

impl<'t> Segment<'t> {
    /// The segment's elements after its id, empty ones included, with their offsets.
    fn elements(&self) -> impl Iterator<Item = (usize, &'t str)> + 't {
        let body = self.text.get(self.start..self.end).unwrap_or_default();
        let start = self.start;
        let mut at = start;
        split_at_byte(body, self.separator)
            .map(move |text| {
                let from = at;
                at += text.len() + 1;
                (from, text)
            })
            .skip(1)
    }

    /// Element `position` (1-based), if present and not empty.
    pub fn element(&self, position: usize) -> Option<Element<'t>> {
        let (start, text) = self.elements().nth(position.checked_sub(1)?)?;
        (!text.is_empty()).then_some(Element {
            text,
            start,
            end: start + text.len(),
            position,
            component: None,
        })
    }

    /// How many elements the segment has, empty ones included.
    pub fn element_count(&self) -> usize {
        self.elements().count()
    }

    /// Component `index` (1-based) of element `position`, if present and not empty.
    pub fn component(&self, position: usize, index: usize) -> Option<Element<'t>> {
        self.element(position)?
            .components(self.component)
            .nth(index.checked_sub(1)?)?
    }
}

impl<'t> Element<'t> {
    /// The components of a composite element, in order; empty ones are `None`.
    pub fn components(self, separator: u8) -> impl Iterator<Item = Option<Element<'t>>> {
        let mut at = self.start;
        split_at_byte(self.text, separator)
            .enumerate()
            .map(move |(index, text)| {
                let start = at;
                at += text.len() + 1;
                (!text.is_empty()).then_some(Element {
                    text,
                    start,
                    end: start + text.len(),
                    position: self.position,
                    component: Some(index + 1),
                })
            })
    }

    /// `SV101-2`: the element (and component) as the implementation guide names it.
    pub fn name(&self, segment_id: &str) -> String {
        match self.component {
            Some(component) => format!("{segment_id}{:02}-{component}", self.position),
            None => format!("{segment_id}{:02}", self.position),
        }
    }
}

/// A segment id is two or three capital letters or digits, starting with a letter.
pub(crate) fn is_segment_id(id: &str) -> bool {
    (2..=3).contains(&id.len())
        && id.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Bytes before the first ISA that layout allows: a byte-order mark, whitespace.
fn skip_layout(bytes: &[u8], mut at: usize) -> usize {
    if bytes.get(at..at + 3) == Some(&[0xEF, 0xBB, 0xBF]) {
        at += 3;
    }
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// Whether the text starts, after layout, with an ISA segment.
pub(crate) fn starts_with_isa(text: &str) -> bool {
    let bytes = text.as_bytes();
    let at = skip_layout(bytes, 0);
    bytes.get(at..at + 3) == Some(b"ISA")
}

/// A delimiter must not be a letter, a digit or a space: those are data.
/// Only ASCII bytes qualify, so splitting at one never cuts a character.
/// `text` cut at every `separator`: the pieces `str::split` gives, found with
/// memchr rather than a character searcher (which confirms each match with a
/// `memcmp`). Delimiters are ASCII ([`is_delimiter`]), so every cut falls on a
/// character boundary.
fn split_at_byte(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(separator, current.as_bytes()) {
            Some(at) => {
                rest = current.get(at + 1..);
                current.get(..at)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii() && !byte.is_ascii_alphanumeric() && byte != b' '
}

/// The delimiters of the ISA segment starting at `at`.
fn read_isa(text: &str, at: usize) -> Result<Delimiters, X12Error> {
    let bytes = text.as_bytes();
    let cut_short = || {
        X12Error::at("the `ISA` segment is cut short: it needs 16 elements, a component separator (ISA16) and a segment terminator", at, text.len())
    };
    let element = *bytes.get(at + 3).ok_or_else(cut_short)?;
    if !is_delimiter(element) || element.is_ascii_whitespace() {
        return Err(X12Error::at(
            "the byte after `ISA` must be the element separator, and a letter, digit or space cannot be one",
            at + 3,
            at + 4,
        ));
    }
    // ISA16 is the one byte after the 16th element separator; the terminator follows it.
    let mut separators = 0;
    let mut repetition_at = None;
    let mut position = at + 3;
    while separators < 16 {
        let byte = *bytes.get(position).ok_or_else(cut_short)?;
        if byte == element {
            separators += 1;
            if separators == 11 {
                repetition_at = Some(position + 1);
            }
        } else if byte == b'\n' && separators < 16 {
            return Err(cut_short());
        }
        position += 1;
    }
    let component = *bytes.get(position).ok_or_else(cut_short)?;
    let segment = *bytes.get(position + 1).ok_or_else(cut_short)?;
    if !is_delimiter(component) || component == element {
        return Err(X12Error::at(
            "ISA16 must be the component separator: one byte that is not a letter, digit, space or the element separator",
            position,
            position + 1,
        ));
    }
    if !is_delimiter(segment) || segment == element || segment == component {
        return Err(X12Error::at(
            "the byte after ISA16 must be the segment terminator, different from the element and component separators",
            position + 1,
            position + 2,
        ));
    }
    // ISA11: a separator in 5010; 4010 files (and some 5010 ones) put `U` there.
    let repetition = repetition_at
        .and_then(|at| {
            let value = bytes.get(at..at + 2)?;
            match value {
                [byte, next] if *next == element => Some(*byte),
                _ => None,
            }
        })
        .filter(|&byte| {
            is_delimiter(byte) && byte != element && byte != component && byte != segment
        });
    Ok(Delimiters {
        element,
        component,
        segment,
        repetition,
    })
}

/// Every segment of every interchange, in order, and the problems of layout
/// (a file cut short, text between interchanges). A text that does not start
/// with an ISA, or whose ISA defines no usable delimiters, is an error.
pub(crate) fn segments(text: &str) -> Result<(Vec<Segment<'_>>, Vec<X12Error>), X12Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut at = skip_layout(bytes, 0);
    if bytes.get(at..at + 3) != Some(b"ISA") {
        return Err(X12Error::at(
            "this is not an X12 file: an X12 interchange starts with an `ISA` segment",
            at,
            (at + 3).min(text.len()),
        ));
    }
    while at < bytes.len() {
        if bytes.get(at..at + 3) != Some(b"ISA") {
            problems.push(X12Error::at(
                "text after the interchange's `IEA` segment is not another interchange (`ISA`)",
                at,
                text.len(),
            ));
            break;
        }
        let delimiters = read_isa(text, at)?;
        // One allocation for the interchange's segments, not a doubling per thousand.
        let terminators = bytes.get(at..).map_or(0, |rest| {
            memchr::memchr_iter(delimiters.segment, rest).count()
        });
        out.reserve(terminators + 1);
        let mut closed = false;
        while at < bytes.len() {
            // Layout between segments: newlines, indentation, blank lines.
            while bytes.get(at).is_some_and(|&b| {
                b.is_ascii_whitespace() && b != delimiters.segment && b != delimiters.element
            }) {
                at += 1;
            }
            if at >= bytes.len() {
                break;
            }
            let terminator = bytes
                .get(at..)
                .and_then(|rest| memchr::memchr(delimiters.segment, rest))
                .map(|offset| at + offset);
            let end = terminator.unwrap_or(bytes.len());
            // CR/LF before the terminator (a file that also breaks lines) is layout.
            let mut content_end = end;
            while content_end > at
                && bytes
                    .get(content_end - 1)
                    .is_some_and(|&b| b == b'\r' || b == b'\n')
            {
                content_end -= 1;
            }
            let segment = split(text, out.len() + 1, at, content_end, delimiters);
            let is_iea = segment.id == "IEA";
            if terminator.is_none() {
                problems.push(X12Error::at(
                    format!(
                        "the file ends inside segment {} (`{}`): it has no terminator `{}`, so the file may be cut short",
                        segment.number,
                        if is_segment_id(segment.id) { segment.id } else { "?" },
                        char::from(delimiters.segment)
                    ),
                    at,
                    content_end,
                ));
            }
            if content_end > at {
                out.push(segment);
            }
            at = end.saturating_add(1);
            if is_iea {
                closed = true;
                break;
            }
        }
        if !closed {
            problems.push(X12Error::at(
                "the file ends without the interchange's `IEA` segment: it may be cut short",
                text.len(),
                text.len(),
            ));
        }
        at = skip_layout(bytes, at.min(bytes.len()));
    }
    Ok((out, problems))
}

fn split<'t>(
    text: &'t str,
    number: usize,
    start: usize,
    end: usize,
    delimiters: Delimiters,
) -> Segment<'t> {
    let body = text.get(start..end).unwrap_or_default();
    let id_end = memchr::memchr(delimiters.element, body.as_bytes()).unwrap_or(body.len());
    Segment {
        number,
        start,
        end,
        id: body.get(..id_end).unwrap_or_default(),
        text,
        separator: delimiters.element,
        component: delimiters.component,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn splitting_at_a_byte_gives_what_str_split_gives() {
        for text in [
            "",
            "*",
            "a",
            "a*",
            "*a",
            "a**b*",
            "SV1*HC:97110:GP*40*UN*1***1:2",
            "né*x",
        ] {
            let ours: Vec<&str> = super::split_at_byte(text, b'*').collect();
            let theirs: Vec<&str> = text.split('*').collect();
            assert_eq!(ours, theirs, "{text:?}");
        }
    }
}
