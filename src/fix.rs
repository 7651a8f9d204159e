//! `ppl eval --fix`: the claim text with every machine-applicable fix applied.
//!
//! Fixes are edits at the byte spans the claim was read from, so the rest of
//! the file (its layout, comments, key order) is left exactly as it was.

use std::collections::BTreeMap;

use crate::claim::{Claim, InputFormat};
use crate::codes::Modifier;
use crate::report::{ClaimReport, FixOp};

/// A claim line holds at most four modifiers (837P SV101-3..6).
const MAX_MODIFIERS: usize = 4;

/// Replace `start..end` of the text with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The edits that apply the fixes of `report` to the text `claim` was read
/// from; marks each fix `applied` or not (a fix that would give a line more
/// than four modifiers, or needs a span the claim does not have, is left for
/// a person).
pub fn fixes(
    text: &str,
    claim: &Claim,
    report: &mut ClaimReport,
    format: InputFormat,
) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut modifiers: BTreeMap<usize, Vec<Modifier>> = BTreeMap::new();
    let mut units: BTreeMap<usize, String> = BTreeMap::new();
    for finding in &mut report.findings {
        let Some(fix) = finding.fix.as_mut() else {
            continue;
        };
        let Some(line) = claim.lines.get(fix.line) else {
            fix.applied = Some(false);
            continue;
        };
        let current = modifiers
            .entry(fix.line)
            .or_insert_with(|| line.modifiers.value.clone());
        let applied = match fix.op {
            FixOp::SetUnits => {
                let ok = line.units.span.start.is_some()
                    && fix.value.parse::<u32>().is_ok_and(|u| u >= 1);
                if ok {
                    units.insert(fix.line, fix.value.clone());
                }
                ok
            }
            FixOp::AddModifier => match Modifier::parse(&fix.value) {
                Ok(modifier) if current.contains(&modifier) => true,
                Ok(modifier) if current.len() < MAX_MODIFIERS => {
                    current.push(modifier);
                    true
                }
                _ => false,
            },
            FixOp::RemoveModifier => match Modifier::parse(&fix.value) {
                Ok(modifier) => {
                    current.retain(|m| *m != modifier);
                    true
                }
                Err(_) => false,
            },
            FixOp::ReplaceModifier => {
                let pair = fix
                    .value
                    .split_once('>')
                    .map(|(from, to)| (Modifier::parse(from), Modifier::parse(to)));
                match pair {
                    Some((Ok(from), Ok(to))) => {
                        for modifier in current.iter_mut() {
                            if *modifier == from {
                                *modifier = to;
                            }
                        }
                        true
                    }
                    _ => false,
                }
            }
        };
        fix.applied = Some(applied);
    }
    for (index, value) in units {
        if let Some(line) = claim.lines.get(index) {
            if let (Some(start), Some(end)) = (line.units.span.start, line.units.span.end) {
                edits.push(Edit {
                    start,
                    end,
                    text: value,
                });
            }
        }
    }
    for (index, list) in modifiers {
        let Some(line) = claim.lines.get(index) else {
            continue;
        };
        if list == line.modifiers.value {
            continue;
        }
        let written = format!(
            "[{}]",
            list.iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        match (line.modifiers.span.start, line.modifiers.span.end) {
            (Some(start), Some(end)) => edits.push(Edit {
                start,
                end,
                text: written,
            }),
            // No `modifiers` yet: add the key at the start of the line's mapping.
            _ => {
                if let Some(edit) = insert_key(text, line.span.start, format, &written) {
                    edits.push(edit);
                }
            }
        }
    }
    edits
}

/// Adds `modifiers: LIST` to a line's mapping that has none: after the `{`
/// of a flow or JSON object; in a block mapping, on a line of its own before
/// the first key, indented like it.
fn insert_key(text: &str, start: Option<usize>, format: InputFormat, list: &str) -> Option<Edit> {
    let start = start?;
    let rest = text.get(start..)?;
    let key = if format == InputFormat::Yaml {
        "modifiers"
    } else {
        "\"modifiers\""
    };
    if let Some(inside) = rest.strip_prefix('{') {
        let at = start + 1 + (inside.len() - inside.trim_start().len());
        return Some(Edit {
            start: at,
            end: at,
            text: format!("{key}: {list}, "),
        });
    }
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |at| at + 1);
    Some(Edit {
        start,
        end: start,
        text: format!("{key}: {list}\n{}", " ".repeat(start - line_start)),
    })
}

/// Applies edits (which must not overlap) to the text.
pub fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.start));
    let mut out = text.to_owned();
    for edit in edits {
        if edit.start <= edit.end
            && edit.end <= out.len()
            && out.is_char_boundary(edit.start)
            && out.is_char_boundary(edit.end)
        {
            out.replace_range(edit.start..edit.end, &edit.text);
        }
    }
    out
}
