//! Readers for the CMS NCCI data files, and the indexed, effective-dated tables
//! built from them.
//!
//! - [`PtpTable`]: procedure-to-procedure (PTP) edits from the practitioner file
//!   (`ccipra-v…-f1.txt`, tab-separated), read by [`read_ptp`]. The evaluator asks
//!   "which edit binds this pair of codes on this date of service" through
//!   [`PtpTable::edit_on`], one hash probe and a walk over the pair's few versions.
//! - [`MueTable`]: medically unlikely edits (MUE) from the practitioner file
//!   (`MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv`), read by [`read_mue`].
//!
//! Both readers skip the preamble (copyright, title, multi-row header) by one rule:
//! data starts at the first row whose first field is a procedure code. After that,
//! every non-blank row must be valid; the readers report every bad row (up to
//! [`MAX_ERRORS`]) with its 1-based line, byte column and field number.
//!
//! The PTP reader streams: it reads one line at a time into a reused buffer and never
//! holds the file in memory. Only the first six fields are decoded (as ASCII); the
//! free-text rationale is skipped, so it may hold any bytes.

use std::fmt;
use std::io::{self, BufRead, Read, Write};

use rustc_hash::FxHashMap;

use crate::codes::ProcedureCode;
use crate::Date;

/// The most errors a reader reports; past this it adds one "and N more errors" entry.
pub const MAX_ERRORS: usize = 100;

// ---------------------------------------------------------------------------
// PTP edits
// ---------------------------------------------------------------------------

/// Whether an NCCI-associated modifier (59, XE/XS/XP/XU, anatomic, …) can bypass a
/// PTP edit: the "Modifier" column of the CMS file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModifierIndicator {
    /// `0`: no modifier bypasses the edit.
    NotAllowed,
    /// `1`: an appropriate modifier bypasses the edit.
    Allowed,
    /// `9`: not applicable (the code pair is no longer valid).
    NotApplicable,
}

impl ModifierIndicator {
    /// Reads the CMS digit `0`, `1` or `9`.
    pub fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            0 => Some(Self::NotAllowed),
            1 => Some(Self::Allowed),
            9 => Some(Self::NotApplicable),
            _ => None,
        }
    }

    /// The CMS digit: 0, 1 or 9.
    pub fn digit(self) -> u8 {
        match self {
            Self::NotAllowed => 0,
            Self::Allowed => 1,
            Self::NotApplicable => 9,
        }
    }
}

/// One row of the PTP file: when both codes are billed for the same patient on the
/// same date, the column two code is denied (unless the indicator allows a modifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtpEdit {
    pub column_one: ProcedureCode,
    pub column_two: ProcedureCode,
    /// First date of service the edit applies to (the CMS "Effective Date").
    pub from: Date,
    /// Last date of service the edit applies to, inclusive; `None` while the edit is
    /// active (CMS deletion date `*`).
    ///
    /// This is our reading of the CMS layout, not something the file states: the
    /// "Deletion Date" is the first date on which the edit no longer applies, so the
    /// reader stores `through = deletion - 1 day`. Under this reading a pair deleted and
    /// re-added on the same date (say, when its modifier indicator changes) has
    /// back-to-back versions that do not overlap, and a row deleted on its own
    /// effective date has `through < from` and is never in force.
    pub through: Option<Date>,
    pub indicator: ModifierIndicator,
}

impl PtpEdit {
    /// Whether the edit applies to a service on `date`.
    pub fn in_force_on(&self, date: Date) -> bool {
        self.from <= date && self.through.is_none_or(|through| date <= through)
    }

    /// Whether the edit never applied (deleted on or before its effective date).
    pub fn never_in_force(&self) -> bool {
        self.through.is_some_and(|through| through < self.from)
    }

    /// Whether some date has both edits in force.
    pub fn overlaps(&self, other: &PtpEdit) -> bool {
        !self.never_in_force()
            && !other.never_in_force()
            && self.through.is_none_or(|through| other.from <= through)
            && other.through.is_none_or(|through| self.from <= through)
    }

    fn sort_key(&self) -> (Date, Option<Date>, u32, u32, u8) {
        (
            self.from,
            self.through,
            self.column_one.packed(),
            self.column_two.packed(),
            self.indicator.digit(),
        )
    }
}

/// The index key of an unordered pair of codes: the smaller packed code in the high
/// half, so `(a, b)` and `(b, a)` share a key.
fn pair_key(a: ProcedureCode, b: ProcedureCode) -> u64 {
    let (low, high) = if a.packed() <= b.packed() {
        (a.packed(), b.packed())
    } else {
        (b.packed(), a.packed())
    };
    (u64::from(low) << 32) | u64::from(high)
}

/// End of a version chain.
const END: usize = usize::MAX;

#[derive(Debug, Clone)]
struct Stored {
    edit: PtpEdit,
    /// The previous version of the same pair (inserted earlier), or [`END`].
    next: usize,
}

/// PTP edits indexed by unordered code pair.
///
/// Layout: every edit lives in one `Vec`; a hash map from the pair key to the newest
/// version of that pair, and each version links to the one inserted before it. A pair
/// has one to a handful of versions, so a lookup is one hash probe and a short walk.
/// The index is kept up to date by [`insert`](Self::insert): lookups are correct at
/// any time, and [`finish`](Self::finish) is optional.
#[derive(Debug, Clone, Default)]
pub struct PtpTable {
    edits: Vec<Stored>,
    heads: FxHashMap<u64, usize>,
}

impl PtpTable {
    /// An empty table with room for `rows` edits.
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            edits: Vec::with_capacity(rows),
            heads: FxHashMap::with_capacity_and_hasher(rows, Default::default()),
        }
    }

    /// Adds an edit (a row of a CMS file, or one written inline in a policy). Versions
    /// of the same pair accumulate; [`overlapping_versions`](Self::overlapping_versions)
    /// finds the ones that conflict.
    pub fn insert(&mut self, edit: PtpEdit) {
        let index = self.edits.len();
        let next = self
            .heads
            .insert(pair_key(edit.column_one, edit.column_two), index)
            .unwrap_or(END);
        self.edits.push(Stored { edit, next });
    }

    /// Releases spare capacity once loading is done. Optional: the index is always
    /// current, so lookups are correct whether or not this is called.
    pub fn finish(&mut self) {
        self.edits.shrink_to_fit();
        self.heads.shrink_to_fit();
    }

    /// The edit in force on `date` for the pair `a`, `b` in either order (check
    /// [`PtpEdit::column_one`] to see which code the edit denies).
    ///
    /// If several versions are in force on that date (a conflict that
    /// [`overlapping_versions`](Self::overlapping_versions) reports), the one with the
    /// latest `from` wins, and among those the one inserted last.
    pub fn edit_on(&self, a: ProcedureCode, b: ProcedureCode, date: Date) -> Option<&PtpEdit> {
        let mut found: Option<&PtpEdit> = None;
        for edit in self.versions(a, b) {
            if edit.in_force_on(date) && found.is_none_or(|best| edit.from > best.from) {
                found = Some(edit);
            }
        }
        found
    }

    /// Every version of the pair `a`, `b` (either order), newest inserted first.
    pub fn versions(&self, a: ProcedureCode, b: ProcedureCode) -> Versions<'_> {
        Versions {
            edits: &self.edits,
            next: self.heads.get(&pair_key(a, b)).copied().unwrap_or(END),
        }
    }

    /// Every edit, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &PtpEdit> + '_ {
        self.edits.iter().map(|stored| &stored.edit)
    }

    /// Number of edits (rows), counting every version of a pair.
    pub fn len(&self) -> usize {
        self.edits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Number of distinct unordered code pairs.
    pub fn pairs(&self) -> usize {
        self.heads.len()
    }

    /// Versions of the same unordered pair whose date ranges overlap, so that on some
    /// date two edits claim the pair. `(a, b)` and `(b, a)` count as the same pair.
    /// Each conflict is listed once, the earlier-starting version first; the list is
    /// sorted by pair, then dates.
    pub fn overlapping_versions(&self) -> Vec<(PtpEdit, PtpEdit)> {
        let mut conflicts = Vec::new();
        let mut chain: Vec<PtpEdit> = Vec::new();
        for &head in self.heads.values() {
            chain.clear();
            chain.extend(
                Versions {
                    edits: &self.edits,
                    next: head,
                }
                .copied(),
            );
            if chain.len() < 2 {
                continue;
            }
            chain.sort_by_key(PtpEdit::sort_key);
            for (position, first) in chain.iter().enumerate() {
                for second in chain.iter().skip(position + 1) {
                    if first.overlaps(second) {
                        conflicts.push((*first, *second));
                    }
                }
            }
        }
        conflicts.sort_by_key(|(first, second)| {
            (
                pair_key(first.column_one, first.column_two),
                first.sort_key(),
                second.sort_key(),
            )
        });
        conflicts
    }
}

/// The versions of one pair: see [`PtpTable::versions`].
#[derive(Debug, Clone)]
pub struct Versions<'a> {
    edits: &'a [Stored],
    next: usize,
}

impl<'a> Iterator for Versions<'a> {
    type Item = &'a PtpEdit;

    fn next(&mut self) -> Option<&'a PtpEdit> {
        let stored = self.edits.get(self.next)?;
        self.next = stored.next;
        Some(&stored.edit)
    }
}

// ---------------------------------------------------------------------------
// MUE limits
// ---------------------------------------------------------------------------

/// One row of the MUE file: the most units of `code` a provider can report for one
/// patient (per line or per date of service, as `adjudication` says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MueLimit {
    pub code: ProcedureCode,
    pub max_units: u32,
    /// The MUE Adjudication Indicator (MAI): 1 claim-line edit, 2 date-of-service edit
    /// based on policy, 3 date-of-service edit based on clinical benchmarks.
    pub adjudication: u8,
}

/// MUE limits by code. The file has no per-row dates: the table as a whole is
/// effective-dated by whoever declares it.
#[derive(Debug, Clone, Default)]
pub struct MueTable {
    limits: FxHashMap<ProcedureCode, MueLimit>,
}

impl MueTable {
    /// Adds a limit, replacing (and returning) any earlier limit for the same code.
    pub fn insert(&mut self, limit: MueLimit) -> Option<MueLimit> {
        self.limits.insert(limit.code, limit)
    }

    pub fn limit(&self, code: ProcedureCode) -> Option<&MueLimit> {
        self.limits.get(&code)
    }

    /// Every limit, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &MueLimit> + '_ {
        self.limits.values()
    }

    pub fn len(&self) -> usize {
        self.limits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A problem in a CMS data file, located in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based byte column within the line where the offending field's text starts
    /// (after leading spaces and, in CSV, an opening quote); for a missing field, the
    /// column just past the end of the line; 1 when the error concerns the whole line
    /// or file.
    pub column: usize,
    /// 1-based field number, when the error concerns one field.
    pub field: Option<usize>,
    pub message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if let Some(field) = self.field {
            write!(f, " (field {field})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TableError {}

/// Collects errors up to [`MAX_ERRORS`], then counts the rest.
#[derive(Default)]
struct Errors {
    list: Vec<TableError>,
    omitted: usize,
    first_omitted_line: usize,
}

impl Errors {
    fn push(&mut self, error: TableError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        } else {
            if self.omitted == 0 {
                self.first_omitted_line = error.line;
            }
            self.omitted += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn into_vec(mut self) -> Vec<TableError> {
        if self.omitted > 0 {
            let plural = if self.omitted == 1 { "" } else { "s" };
            self.list.push(TableError {
                line: self.first_omitted_line,
                column: 1,
                field: None,
                message: format!("and {} more error{plural}", self.omitted),
            });
        }
        self.list
    }
}

/// A problem with one field of a row, before the row's line is known.
struct FieldError {
    /// 1-based field number.
    field: usize,
    /// 0-based byte offset of the field in the line.
    offset: usize,
    message: String,
}

impl FieldError {
    fn locate(self, line: usize, line_offset: usize) -> TableError {
        TableError {
            line,
            column: line_offset + self.offset + 1,
            field: Some(self.field),
            message: self.message,
        }
    }
}

/// User text for a message: lossy UTF-8, cut to a readable length.
fn shown(bytes: &[u8]) -> String {
    const LIMIT: usize = 40;
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= LIMIT {
        text.into_owned()
    } else {
        let mut cut: String = text.chars().take(LIMIT).collect();
        cut.push('…');
        cut
    }
}

// ---------------------------------------------------------------------------
// Field parsing (bytes, no allocation on the happy path)
// ---------------------------------------------------------------------------

/// A field with surrounding ASCII whitespace removed and its byte offset in the line.
#[derive(Clone, Copy)]
struct Field<'a> {
    number: usize,
    offset: usize,
    text: &'a [u8],
}

impl<'a> Field<'a> {
    fn new(number: usize, offset: usize, raw: &'a [u8]) -> Self {
        let start_trimmed = raw.trim_ascii_start();
        Self {
            number,
            offset: offset + (raw.len() - start_trimmed.len()),
            text: start_trimmed.trim_ascii_end(),
        }
    }

    fn error(&self, message: String) -> FieldError {
        FieldError {
            field: self.number,
            offset: self.offset,
            message,
        }
    }

    fn code(&self) -> Option<ProcedureCode> {
        std::str::from_utf8(self.text)
            .ok()
            .and_then(|text| ProcedureCode::parse(text).ok())
    }

    fn parse_code(&self, what: &str) -> Result<ProcedureCode, FieldError> {
        let text = std::str::from_utf8(self.text).unwrap_or("");
        ProcedureCode::parse(text).map_err(|error| {
            self.error(format!(
                "{what} `{}` is not a procedure code ({})",
                shown(self.text),
                error.reason
            ))
        })
    }

    fn parse_date(&self, what: &str) -> Result<Date, FieldError> {
        match parse_yyyymmdd(self.text) {
            Ok(date) => Ok(date),
            Err(DateProblem::NotYyyymmdd) => {
                Err(self.error(format!("{what} `{}` is not YYYYMMDD", shown(self.text))))
            }
            Err(DateProblem::NotACalendarDate) => Err(self.error(format!(
                "{what} `{}` is not a calendar date",
                shown(self.text)
            ))),
        }
    }
}

enum DateProblem {
    NotYyyymmdd,
    NotACalendarDate,
}

fn digit(byte: u8) -> Option<i16> {
    byte.is_ascii_digit().then(|| i16::from(byte - b'0'))
}

/// Reads `YYYYMMDD` (exactly eight ASCII digits forming a valid Gregorian date).
fn parse_yyyymmdd(text: &[u8]) -> Result<Date, DateProblem> {
    let &[y1, y2, y3, y4, m1, m2, d1, d2] = text else {
        return Err(DateProblem::NotYyyymmdd);
    };
    let number = |bytes: &[u8]| -> Option<i16> {
        bytes
            .iter()
            .try_fold(0i16, |acc, &byte| Some(acc * 10 + digit(byte)?))
    };
    let (Some(year), Some(month), Some(day)) = (
        number(&[y1, y2, y3, y4]),
        number(&[m1, m2]),
        number(&[d1, d2]),
    ) else {
        return Err(DateProblem::NotYyyymmdd);
    };
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
        return Err(DateProblem::NotACalendarDate);
    };
    Date::new(year, month, day).map_err(|_| DateProblem::NotACalendarDate)
}

/// Strips a trailing `\n` or `\r\n`.
fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

// ---------------------------------------------------------------------------
// PTP reader
// ---------------------------------------------------------------------------

/// Fields of a PTP row that matter (the rationale, field 7, is never decoded).
const PTP_FIELDS: usize = 6;

/// Splits the first six tab-separated fields; returns them and how many were found
/// (at most six).
fn split_ptp_fields(line: &[u8]) -> ([Field<'_>; PTP_FIELDS], usize) {
    let mut fields = [Field {
        number: 0,
        offset: 0,
        text: &[],
    }; PTP_FIELDS];
    let mut count = 0;
    let mut offset = 0;
    for (slot, raw) in fields.iter_mut().zip(line.split(|&byte| byte == b'\t')) {
        count += 1;
        *slot = Field::new(count, offset, raw);
        offset += raw.len() + 1;
    }
    (fields, count)
}

/// The preamble rule: a data row has at least six fields and a code in the first.
fn is_ptp_data_row(line: &[u8]) -> bool {
    let (fields, count) = split_ptp_fields(line);
    let [first, ..] = fields;
    count == PTP_FIELDS && first.code().is_some()
}

fn parse_ptp_row(line: &[u8]) -> Result<PtpEdit, Vec<FieldError>> {
    let (fields, count) = split_ptp_fields(line);
    if count < PTP_FIELDS {
        return Err(vec![FieldError {
            field: count + 1,
            offset: line.len(),
            message: format!(
                "expected 7 tab-separated fields (at least the first 6), found {count}"
            ),
        }]);
    }
    let [column_one, column_two, prior_1996, effective, deletion, modifier] = fields;

    let column_one_code = column_one.parse_code("column 1 code");
    let column_two_code = column_two.parse_code("column 2 code");
    let flag = match prior_1996.text {
        b"" | b"*" => Ok(()),
        other => Err(prior_1996.error(format!(
            "prior-1996 flag must be `*` or blank, found `{}`",
            shown(other)
        ))),
    };
    let from = effective.parse_date("effective date");
    let deleted = match deletion.text {
        b"*" => Ok(None),
        _ => deletion.parse_date("deletion date").map(Some),
    };
    let indicator = match modifier.text {
        b"0" => Some(ModifierIndicator::NotAllowed),
        b"1" => Some(ModifierIndicator::Allowed),
        b"9" => Some(ModifierIndicator::NotApplicable),
        _ => None,
    }
    .ok_or_else(|| {
        modifier.error(format!(
            "modifier indicator must be 0, 1 or 9, found `{}`",
            shown(modifier.text)
        ))
    });

    match (
        column_one_code,
        column_two_code,
        flag,
        from,
        deleted,
        indicator,
    ) {
        (
            Ok(column_one_code),
            Ok(column_two_code),
            Ok(()),
            Ok(from),
            Ok(deleted),
            Ok(indicator),
        ) => {
            let through = match deleted {
                None => None,
                Some(deleted) if deleted < from => {
                    return Err(vec![deletion.error(format!(
                        "deletion date `{}` is before effective date `{}`",
                        shown(deletion.text),
                        shown(effective.text)
                    ))]);
                }
                Some(deleted) => Some(deleted.yesterday().map_err(|_| {
                    vec![deletion.error(format!(
                        "deletion date `{}` has no day before it",
                        shown(deletion.text)
                    ))]
                })?),
            };
            Ok(PtpEdit {
                column_one: column_one_code,
                column_two: column_two_code,
                from,
                through,
                indicator,
            })
        }
        (column_one_code, column_two_code, flag, from, deleted, indicator) => Err([
            column_one_code.err(),
            column_two_code.err(),
            flag.err(),
            from.err(),
            deleted.err(),
            indicator.err(),
        ]
        .into_iter()
        .flatten()
        .collect()),
    }
}

/// Reads a CMS PTP practitioner file (`ccipra-v…-f1.txt`) into a new table.
///
/// Streams the input line by line. On failure returns every problem found (up to
/// [`MAX_ERRORS`] and a count of the rest): bad rows, an I/O error (at the line being
/// read), or a file with no data rows.
pub fn read_ptp(reader: impl BufRead) -> Result<PtpTable, Vec<TableError>> {
    let mut table = PtpTable::default();
    read_ptp_into(&mut table, reader)?;
    table.finish();
    Ok(table)
}

/// Reads a CMS PTP file into an existing table (CMS splits the practitioner edits over
/// files `-f1` to `-f4`); returns the number of rows read.
///
/// On failure the table may hold the rows read before the first bad one; discard it.
pub fn read_ptp_into(
    table: &mut PtpTable,
    mut reader: impl BufRead,
) -> Result<usize, Vec<TableError>> {
    let mut loader = PtpLoader {
        table,
        errors: Errors::default(),
        line_number: 0,
        in_data: false,
        rows: 0,
    };
    let mut buffer = Vec::with_capacity(256);
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => loader.line(&buffer),
            Err(error) => {
                loader.errors.push(TableError {
                    line: loader.line_number + 1,
                    column: 1,
                    field: None,
                    message: format!("cannot read the file: {error}"),
                });
                break;
            }
        }
    }
    loader.finish()
}

/// The state of [`read_ptp_into`] between lines.
struct PtpLoader<'t> {
    table: &'t mut PtpTable,
    errors: Errors,
    /// Lines seen so far (1-based number of the last one).
    line_number: usize,
    in_data: bool,
    rows: usize,
}

impl PtpLoader<'_> {
    /// Handles one line, with its line end if it has one.
    fn line(&mut self, raw: &[u8]) {
        self.line_number += 1;
        let mut line = strip_line_end(raw);
        let mut line_offset = 0;
        if self.line_number == 1 {
            if let Some(rest) = line.strip_prefix(BOM) {
                line = rest;
                line_offset = BOM.len();
            }
        }
        if !self.in_data {
            if !is_ptp_data_row(line) {
                return;
            }
            self.in_data = true;
        }
        if is_blank(line) {
            return;
        }
        match parse_ptp_row(line) {
            Ok(edit) => {
                self.rows += 1;
                if self.errors.is_empty() {
                    self.table.insert(edit);
                }
            }
            Err(problems) => {
                for problem in problems {
                    self.errors
                        .push(problem.locate(self.line_number, line_offset));
                }
            }
        }
    }

    fn finish(mut self) -> Result<usize, Vec<TableError>> {
        if !self.in_data && self.errors.is_empty() {
            self.errors.push(TableError {
                line: 1,
                column: 1,
                field: None,
                message: "no data rows found; is this a CMS PTP file?".to_owned(),
            });
        }
        if self.errors.is_empty() {
            Ok(self.rows)
        } else {
            Err(self.errors.into_vec())
        }
    }
}

// ---------------------------------------------------------------------------
// MUE reader
// ---------------------------------------------------------------------------

/// 1-based byte column where field `index` (0-based) of a one-line CSV record starts.
fn csv_column(line: &[u8], index: usize) -> usize {
    if index == 0 {
        return 1;
    }
    let mut in_quotes = false;
    let mut field = 0;
    for (offset, &byte) in line.iter().enumerate() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                field += 1;
                if field == index {
                    return offset + 2;
                }
            }
            b'\r' | b'\n' if !in_quotes => return offset + 1,
            _ => {}
        }
    }
    line.len() + 1
}

fn parse_mue_record(record: &csv::ByteRecord) -> Result<MueLimit, Vec<FieldError>> {
    // Offsets are filled in by the caller (it knows the raw line); here they are 0.
    let field = |index: usize| Field::new(index + 1, 0, record.get(index).unwrap_or_default());
    if record.len() < 3 {
        return Err(vec![FieldError {
            field: record.len() + 1,
            offset: 0,
            message: format!(
                "expected 4 comma-separated fields (at least code, MUE value and adjudication indicator), found {}",
                record.len()
            ),
        }]);
    }
    let (code, value, adjudication) = (field(0), field(1), field(2));
    let code = code.parse_code("code");
    let max_units = match value.text {
        digits if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(digits)
                .ok()
                .and_then(|text| text.parse::<u32>().ok())
        }
        _ => None,
    }
    .ok_or_else(|| {
        value.error(format!(
            "MUE value must be a whole number of units, found `{}`",
            shown(value.text)
        ))
    });
    let indicator = match adjudication.text {
        [digit @ b'1'..=b'3'] => Some(digit - b'0'),
        [digit @ b'1'..=b'3', next, ..] if !next.is_ascii_alphanumeric() => Some(digit - b'0'),
        _ => None,
    }
    .ok_or_else(|| {
        adjudication.error(format!(
            "MUE adjudication indicator must start with 1, 2 or 3, found `{}`",
            shown(adjudication.text)
        ))
    });
    match (code, max_units, indicator) {
        (Ok(code), Ok(max_units), Ok(adjudication)) => Ok(MueLimit {
            code,
            max_units,
            adjudication,
        }),
        (code, max_units, indicator) => Err([code.err(), max_units.err(), indicator.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

/// Reads a CMS MUE practitioner file (`MCR_MUE_PractitionerServices_Eff_….csv`).
///
/// The file is small (thousands of rows, about a megabyte), so it is read into memory
/// first; that lets errors name the byte column of the bad field. A code listed twice
/// is an error.
pub fn read_mue(mut reader: impl Read) -> Result<MueTable, Vec<TableError>> {
    let mut input = Vec::new();
    if let Err(error) = reader.read_to_end(&mut input) {
        let lines = input.iter().filter(|&&byte| byte == b'\n').count();
        return Err(vec![TableError {
            line: lines + 1,
            column: 1,
            field: None,
            message: format!("cannot read the file: {error}"),
        }]);
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input.as_slice());
    let mut record = csv::ByteRecord::new();
    let mut table = MueTable::default();
    let mut first_lines: FxHashMap<ProcedureCode, usize> = FxHashMap::default();
    let mut errors = Errors::default();
    let mut in_data = false;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let line = error.position().map_or(1, |position| position.line());
                errors.push(TableError {
                    line: usize::try_from(line).unwrap_or(usize::MAX),
                    column: 1,
                    field: None,
                    message: format!("cannot read the file: {error}"),
                });
                break;
            }
        }
        let (mut line, mut start) = record.position().map_or((1, 0), |position| {
            (
                usize::try_from(position.line()).unwrap_or(usize::MAX),
                usize::try_from(position.byte()).unwrap_or(usize::MAX),
            )
        });
        // With CRLF line ends, csv places a record at the `\n` that ends the line before
        // it (the `\r` already ended that record); step over it to the record's own line.
        while let Some(&byte) = input.get(start) {
            match byte {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
            start += 1;
        }
        if !in_data {
            let first = Field::new(1, 0, record.get(0).unwrap_or_default());
            if first.code().is_none() {
                continue;
            }
            in_data = true;
        }
        if record.iter().all(is_blank) {
            continue;
        }
        let raw_line = input.get(start..).unwrap_or_default();
        let locate = |problem: FieldError| {
            let index = problem.field.saturating_sub(1);
            let field_start = csv_column(raw_line, index);
            // Skip spaces (and an opening quote) the way `Field::new` trimmed them.
            let leading = raw_line
                .get(field_start.saturating_sub(1)..)
                .unwrap_or_default()
                .iter()
                .take_while(|byte| byte.is_ascii_whitespace() || **byte == b'"')
                .count();
            let column = if problem.field > record.len() {
                field_start
            } else {
                field_start + leading
            };
            TableError {
                line,
                column,
                field: Some(problem.field),
                message: problem.message,
            }
        };
        match parse_mue_record(&record) {
            Ok(limit) => match first_lines.get(&limit.code) {
                Some(&first_line) => errors.push(locate(FieldError {
                    field: 1,
                    offset: 0,
                    message: format!(
                        "duplicate MUE for `{}`; first on line {first_line}",
                        limit.code
                    ),
                })),
                None => {
                    first_lines.insert(limit.code, line);
                    table.insert(limit);
                }
            },
            Err(problems) => {
                for problem in problems {
                    errors.push(locate(problem));
                }
            }
        }
    }
    if !in_data && errors.is_empty() {
        errors.push(TableError {
            line: 1,
            column: 1,
            field: None,
            message: "no data rows found; is this a CMS MUE file?".to_owned(),
        });
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        Err(errors.into_vec())
    }
}

// ---------------------------------------------------------------------------
// Synthetic data for benchmarks
// ---------------------------------------------------------------------------

/// Preamble and header of [`write_sample_ptp`] files, in the CMS layout (written by
/// us; no CMS or AMA text).
const SAMPLE_PREAMBLE: &str = "\
SYNTHETIC DATA written by ppl::tables::write_sample_ptp: invented rows in the CMS PTP layout, not CMS edits\r
Copyright notice placeholder: no CPT descriptors or CMS text are included\r
Column1/Column2 Edits (synthetic)\r
Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tPTP Edit Rationale\r
\t\t\t\t*=no data\t0=not allowed\t\r
\t\t\t\t\t1=allowed\t\r
\t\t\t\t\t9=not applicable\t\r
";

const SAMPLE_RATIONALES: [&str; 6] = [
    "Synthetic rationale: standards of practice",
    "Synthetic rationale: mutually exclusive",
    "Synthetic rationale: coding instruction",
    "Synthetic rationale: more extensive procedure",
    "Synthetic rationale: misuse of column two code",
    "Synthetic rationale: HCPCS/CPT descriptor",
];

/// Numeric codes 10000–99999, then HCPCS `A0000`–`V9999`.
const SAMPLE_CODE_SPACE: usize = 90_000 + 22 * 10_000;

/// Column two codes per column one code in the sample.
const SAMPLE_GROUP: usize = 24;

fn sample_code(index: usize) -> [u8; 5] {
    let index = index % SAMPLE_CODE_SPACE;
    let (first, rest) = if index < 90_000 {
        let number = index + 10_000;
        (b'0' + ((number / 10_000) % 10) as u8, number % 10_000)
    } else {
        let hcpcs = index - 90_000;
        (b'A' + ((hcpcs / 10_000) % 26) as u8, hcpcs % 10_000)
    };
    [
        first,
        b'0' + ((rest / 1000) % 10) as u8,
        b'0' + ((rest / 100) % 10) as u8,
        b'0' + ((rest / 10) % 10) as u8,
        b'0' + (rest % 10) as u8,
    ]
}

/// A quarter start, as (year, month).
type Quarter = (u16, u8);

fn add_quarters((year, month): Quarter, quarters: u32) -> Quarter {
    let index = u32::from(year) * 4 + u32::from(month - 1) / 3 + quarters;
    ((index / 4) as u16, ((index % 4) * 3 + 1) as u8)
}

/// A 64-bit LCG (Knuth's MMIX constants): deterministic, no dependencies.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

/// Writes a synthetic PTP file of `rows` data rows in the CMS layout (preamble,
/// four-row header, CRLF line ends), the same bytes for the same `rows`.
///
/// Each column one code gets 24 column two codes; every sixth row is a new version of
/// the row before it (deleted and re-added on the same quarter start), about one row in
/// ten carries a deletion date, and the rationale varies in length like the real files.
#[doc(hidden)]
pub fn write_sample_ptp(out: impl Write, rows: usize) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    out.write_all(SAMPLE_PREAMBLE.as_bytes())?;
    let mut random = Lcg(0x2545_f491_4f6c_dd1d);
    let mut successor_from: Option<Quarter> = None;
    for row in 0..rows {
        let group = row / SAMPLE_GROUP;
        let slot = row % SAMPLE_GROUP;
        let column_one = sample_code(group);
        // A successor version keeps the pair of the row before it.
        let pair_slot = if slot % 6 == 5 { slot - 1 } else { slot };
        let mut partner = (group * 7919 + pair_slot * 3571 + 1) % SAMPLE_CODE_SPACE;
        if sample_code(partner) == column_one {
            partner += 1;
        }
        let column_two = sample_code(partner);

        let roll = random.next();
        let from = successor_from
            .take()
            .unwrap_or((1996 + (roll % 30) as u16, ((roll >> 8) % 4 * 3 + 1) as u8));
        let has_successor = slot % 6 == 4 && row + 1 < rows;
        let deletion = if has_successor || (roll >> 12) % 10 == 0 {
            let until = add_quarters(from, 1 + (roll >> 16) % 12);
            if has_successor {
                successor_from = Some(until);
            }
            Some(until)
        } else {
            None
        };
        let indicator = match (roll >> 20) % 20 {
            0 => 9,
            1..=4 => 0,
            _ => 1,
        };
        let flag = if from == (1996, 1) { "*" } else { "" };
        let rationale = SAMPLE_RATIONALES
            .get((roll as usize >> 24) % SAMPLE_RATIONALES.len())
            .copied()
            .unwrap_or_default();

        out.write_all(&column_one)?;
        out.write_all(b"\t")?;
        out.write_all(&column_two)?;
        write!(out, "\t{flag}\t{:04}{:02}01\t", from.0, from.1)?;
        match deletion {
            Some((year, month)) => write!(out, "{year:04}{month:02}01")?,
            None => out.write_all(b"*")?,
        }
        write!(out, "\t{indicator}\t{rationale}\r\n")?;
    }
    out.flush()
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
    use jiff::civil::date;

    const PTP_FIXTURE: &[u8] =
        include_bytes!("../tests/data/tables/ptp_practitioner_synthetic.txt");
    const PTP_CRLF_FIXTURE: &[u8] =
        include_bytes!("../tests/data/tables/ptp_practitioner_synthetic_crlf.txt");
    const PTP_BAD_FIXTURE: &[u8] =
        include_bytes!("../tests/data/tables/ptp_bad_rows_synthetic.txt");
    const MUE_FIXTURE: &[u8] =
        include_bytes!("../tests/data/tables/mue_practitioner_synthetic.csv");
    const MUE_BAD_FIXTURE: &[u8] =
        include_bytes!("../tests/data/tables/mue_bad_rows_synthetic.csv");

    fn code(text: &str) -> ProcedureCode {
        ProcedureCode::parse(text).unwrap()
    }

    fn edit(
        one: &str,
        two: &str,
        from: Date,
        through: Option<Date>,
        indicator: ModifierIndicator,
    ) -> PtpEdit {
        PtpEdit {
            column_one: code(one),
            column_two: code(two),
            from,
            through,
            indicator,
        }
    }

    fn errors_of(result: Result<PtpTable, Vec<TableError>>) -> Vec<TableError> {
        match result {
            Ok(table) => panic!("expected errors, read {} rows", table.len()),
            Err(errors) => errors,
        }
    }

    #[test]
    fn preamble_and_multi_row_header_are_skipped() {
        let table = read_ptp(PTP_FIXTURE).unwrap();
        assert_eq!(table.len(), 6);
        assert_eq!(table.pairs(), 5);
        let first = table
            .edit_on(code("97140"), code("97530"), date(2020, 1, 1))
            .unwrap();
        assert_eq!(
            *first,
            edit(
                "97140",
                "97530",
                date(2020, 1, 1),
                None,
                ModifierIndicator::Allowed
            )
        );
    }

    #[test]
    fn star_deletion_date_means_still_active() {
        let table = read_ptp(PTP_FIXTURE).unwrap();
        let old = table
            .edit_on(code("97110"), code("97150"), date(2031, 6, 1))
            .unwrap();
        assert_eq!(old.through, None);
        assert_eq!(old.from, date(1996, 1, 1));
        assert_eq!(old.indicator, ModifierIndicator::Allowed);
    }

    #[test]
    fn crlf_and_lf_files_read_the_same() {
        let lf = read_ptp(PTP_FIXTURE).unwrap();
        let crlf = read_ptp(PTP_CRLF_FIXTURE).unwrap();
        assert!(PTP_CRLF_FIXTURE.windows(2).any(|pair| pair == b"\r\n"));
        assert_eq!(
            lf.iter().collect::<Vec<_>>(),
            crlf.iter().collect::<Vec<_>>()
        );
        // And a CRLF file built from the LF one.
        let converted = String::from_utf8_lossy(PTP_FIXTURE).replace('\n', "\r\n");
        let again = read_ptp(converted.as_bytes()).unwrap();
        assert_eq!(
            lf.iter().collect::<Vec<_>>(),
            again.iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_rows_are_all_reported_with_line_and_column() {
        let errors = errors_of(read_ptp(PTP_BAD_FIXTURE));
        let found: Vec<(usize, usize, Option<usize>, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column, e.field, e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (9, 14, Some(4), "effective date `2020013` is not YYYYMMDD"),
                (10, 25, Some(6), "modifier indicator must be 0, 1 or 9, found `2`"),
                (
                    11,
                    23,
                    Some(5),
                    "deletion date `20190101` is before effective date `20200101`"
                ),
                (
                    12,
                    1,
                    Some(1),
                    "column 1 code `9753X` is not a procedure code (a procedure code is five digits (CPT), four digits and F, T or U (CPT Category II, III, PLA), or a capital letter and four digits (HCPCS))"
                ),
                (13, 14, Some(4), "effective date `20200230` is not a calendar date"),
                (13, 23, Some(5), "deletion date `never` is not YYYYMMDD"),
                (14, 13, Some(3), "prior-1996 flag must be `*` or blank, found `x`"),
                (
                    15,
                    22,
                    Some(5),
                    "expected 7 tab-separated fields (at least the first 6), found 4"
                ),
            ]
        );
        assert_eq!(
            errors[0].to_string(),
            "line 9, column 14 (field 4): effective date `2020013` is not YYYYMMDD"
        );
    }

    #[test]
    fn errors_are_capped_with_a_count_of_the_rest() {
        let mut text = String::from("97140\t97530\t\t20200101\t*\t1\tok\n");
        for _ in 0..150 {
            text.push_str("97140\t97530\t\t20200101\t*\t7\tbad\n");
        }
        let errors = errors_of(read_ptp(text.as_bytes()));
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[MAX_ERRORS - 1].line, 101);
        let last = errors.last().unwrap();
        assert_eq!(
            (last.line, last.message.as_str()),
            (102, "and 50 more errors")
        );
    }

    #[test]
    fn non_utf8_rationale_does_not_fail_the_row() {
        let bytes = b"97140\t97530\t\t20200101\t*\t1\tRationale \xff\xfe latin-1 \xe9\r\n";
        let table = read_ptp(&bytes[..]).unwrap();
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_file_without_data_rows_is_an_error() {
        let errors = errors_of(read_ptp(&b"Copyright line\nColumn 1\tColumn 2\n"[..]));
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "no data rows found; is this a CMS PTP file?"
        );
        let errors = errors_of(read_ptp(&b""[..]));
        assert_eq!(
            errors[0].message,
            "no data rows found; is this a CMS PTP file?"
        );
    }

    /// Yields `data`, then fails.
    struct FailingReader<'a> {
        data: &'a [u8],
    }

    impl Read for FailingReader<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.data.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.data.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn an_io_error_is_reported_at_the_line_being_read() {
        let reader = io::BufReader::new(FailingReader {
            data: b"97140\t97530\t\t20200101\t*\t1\tok\n97161\t975",
        });
        let errors = errors_of(read_ptp(reader));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert_eq!(errors[0].message, "cannot read the file: disk on fire");
    }

    #[test]
    fn lookup_works_in_either_order() {
        let table = read_ptp(PTP_FIXTURE).unwrap();
        let day = date(2021, 3, 15);
        let forward = table.edit_on(code("97140"), code("97530"), day);
        let backward = table.edit_on(code("97530"), code("97140"), day);
        assert!(forward.is_some());
        assert_eq!(forward, backward);
        assert_eq!(forward.unwrap().column_one, code("97140"));
        assert_eq!(table.edit_on(code("97140"), code("97110"), day), None);
    }

    #[test]
    fn date_boundaries_follow_effective_and_deletion_dates() {
        let table = read_ptp(PTP_FIXTURE).unwrap();
        let (eval, activity) = (code("97161"), code("97530"));
        // 97161/97530: 20200101 deleted 20200401 (indicator 0), again from 20201001 (indicator 1).
        assert_eq!(table.edit_on(eval, activity, date(2019, 12, 31)), None);
        let first = table.edit_on(eval, activity, date(2020, 1, 1)).unwrap();
        assert_eq!(first.indicator, ModifierIndicator::NotAllowed);
        assert_eq!(first.through, Some(date(2020, 3, 31)));
        assert!(table.edit_on(eval, activity, date(2020, 3, 31)).is_some());
        assert_eq!(table.edit_on(eval, activity, date(2020, 4, 1)), None);
        assert_eq!(table.edit_on(eval, activity, date(2020, 9, 30)), None);
        let second = table.edit_on(activity, eval, date(2020, 10, 1)).unwrap();
        assert_eq!(second.indicator, ModifierIndicator::Allowed);
        assert_eq!(table.versions(eval, activity).count(), 2);
        // Deleted on its effective date: never in force.
        let never = table.versions(code("G0283"), code("97032")).next().unwrap();
        assert!(never.never_in_force());
        assert_eq!(
            table.edit_on(code("G0283"), code("97032"), date(2015, 1, 1)),
            None
        );
    }

    #[test]
    fn overlapping_versions_are_found() {
        let mut table = read_ptp(PTP_FIXTURE).unwrap();
        assert_eq!(table.overlapping_versions(), vec![]);
        // Back-to-back versions (through = deletion - 1) do not overlap.
        let a = edit(
            "97530",
            "97116",
            date(2020, 1, 1),
            Some(date(2020, 6, 30)),
            ModifierIndicator::NotAllowed,
        );
        let b = edit(
            "97530",
            "97116",
            date(2020, 7, 1),
            None,
            ModifierIndicator::Allowed,
        );
        // Overlaps `b` from 2021-01-01, written in the other column order.
        let c = edit(
            "97116",
            "97530",
            date(2021, 1, 1),
            Some(date(2021, 12, 31)),
            ModifierIndicator::NotAllowed,
        );
        table.insert(b);
        table.insert(a);
        assert_eq!(table.overlapping_versions(), vec![]);
        table.insert(c);
        table.finish();
        assert_eq!(table.overlapping_versions(), vec![(b, c)]);
        // The later-starting version wins where both are in force.
        assert_eq!(
            table.edit_on(code("97530"), code("97116"), date(2021, 5, 1)),
            Some(&c)
        );
        assert_eq!(
            table.edit_on(code("97530"), code("97116"), date(2022, 1, 1)),
            Some(&b)
        );
        assert_eq!(
            table.edit_on(code("97530"), code("97116"), date(2020, 2, 1)),
            Some(&a)
        );
    }

    #[test]
    fn inserts_without_finish_are_visible() {
        let mut table = PtpTable::default();
        assert!(table.is_empty());
        table.insert(edit(
            "97110",
            "97530",
            date(2024, 1, 1),
            None,
            ModifierIndicator::Allowed,
        ));
        assert_eq!(table.len(), 1);
        assert!(table
            .edit_on(code("97530"), code("97110"), date(2024, 1, 1))
            .is_some());
    }

    #[test]
    fn mue_with_quoted_preamble_and_multiline_header() {
        let table = read_mue(MUE_FIXTURE).unwrap();
        assert_eq!(table.len(), 4);
        assert_eq!(
            table.limit(code("97110")),
            Some(&MueLimit {
                code: code("97110"),
                max_units: 6,
                adjudication: 3
            })
        );
        assert_eq!(
            table
                .limit(code("97140"))
                .map(|l| (l.max_units, l.adjudication)),
            Some((4, 2))
        );
        assert_eq!(
            table
                .limit(code("G0283"))
                .map(|l| (l.max_units, l.adjudication)),
            Some((1, 1))
        );
        assert_eq!(
            table
                .limit(code("97535"))
                .map(|l| (l.max_units, l.adjudication)),
            Some((8, 3))
        );
        assert_eq!(table.limit(code("97530")), None);
    }

    #[test]
    fn mue_bad_rows_are_reported_with_line_and_column() {
        let errors = read_mue(MUE_BAD_FIXTURE).unwrap_err();
        let found: Vec<(usize, usize, Option<usize>, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column, e.field, e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (6, 7, Some(2), "MUE value must be a whole number of units, found `six`"),
                (7, 10, Some(3), "MUE adjudication indicator must start with 1, 2 or 3, found `4 Something`"),
                (8, 1, Some(1), "duplicate MUE for `97110`; first on line 5"),
                (
                    9,
                    9,
                    Some(3),
                    "expected 4 comma-separated fields (at least code, MUE value and adjudication indicator), found 2"
                ),
            ]
        );
    }

    #[test]
    fn mue_lines_are_right_with_lf_and_blank_lines() {
        let input = "\"pre\namble\"\nHCPCS,MUE\n97110,six,3 X,Y\n\n\r\n97140,4, 9 Z,Y\r\n";
        let errors = read_mue(input.as_bytes()).unwrap_err();
        let found: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(found, vec![(4, 7), (7, 10)]);
    }

    #[test]
    fn mue_without_data_rows_is_an_error() {
        let errors = read_mue(&b"\"Copyright\nsecond line\"\nHCPCS,MUE\n"[..]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "no data rows found; is this a CMS MUE file?"
        );
    }

    #[test]
    fn sample_generator_is_deterministic_and_readable() {
        let mut first = Vec::new();
        write_sample_ptp(&mut first, 1000).unwrap();
        let mut second = Vec::new();
        write_sample_ptp(&mut second, 1000).unwrap();
        assert_eq!(first, second);
        let table = read_ptp(first.as_slice()).unwrap();
        assert_eq!(table.len(), 1000);
        assert!(table.pairs() < 1000);
        assert_eq!(table.overlapping_versions(), vec![]);
    }
}
