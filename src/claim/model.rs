//! The claim model: exactly the claim contract (`shared/spec/claim-v1.md`).
//!
//! One model, many readers: the YAML/JSON/NDJSON readers and the X12 837P
//! reader all produce [`Claim`]. Codes are validated and typed;
//! every value keeps the [`ClaimSpan`] it was read from, so a finding can point
//! at the place in the input (`/lines/1/modifiers`, with byte offsets).

use crate::codes::{DiagnosisCode, Modifier, PlaceOfService, ProcedureCode};
use crate::Date;

/// Where a value stands in the claim input: its path in the claim contract
/// and, when the claim came from text, the byte range in that text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClaimSpan {
    pub path: ClaimPath,
    pub start: Option<usize>,
    pub end: Option<usize>,
}

/// Most parts a claim path has: the contract's deepest values are an
/// activity's fields (`/documentation/activities/0/minutes`) and a line's
/// list items (`/lines/0/modifiers/1`), four parts each.
const MAX_PATH_PARTS: usize = 4;

/// A value's place in the claim contract, a JSON Pointer (RFC 6901) such as
/// `/lines/1/modifiers`, kept as its parts. The model's keys are the
/// contract's field names, so a path is built without allocating and written
/// out only when a report or an error shows it (reading a batch builds one
/// for every value of every claim).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClaimPath {
    parts: [PathPart; MAX_PATH_PARTS],
    len: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum PathPart {
    Key(&'static str),
    Index(u32),
}

impl Default for PathPart {
    fn default() -> Self {
        PathPart::Key("")
    }
}

impl ClaimPath {
    /// The whole claim (`""`).
    pub const ROOT: ClaimPath = ClaimPath {
        parts: [PathPart::Key(""); MAX_PATH_PARTS],
        len: 0,
    };

    /// This path and one more field name.
    #[must_use]
    pub fn key(self, name: &'static str) -> Self {
        self.push(PathPart::Key(name))
    }

    /// This path and one more list index.
    #[must_use]
    pub fn index(self, index: usize) -> Self {
        self.push(PathPart::Index(u32::try_from(index).unwrap_or(u32::MAX)))
    }

    /// `/lines/{index}/{name}`: a line's field.
    pub fn line(index: usize, name: &'static str) -> Self {
        Self::ROOT.key("lines").index(index).key(name)
    }

    fn push(mut self, part: PathPart) -> Self {
        // The contract has no deeper value (`MAX_PATH_PARTS`); were one added, a
        // path would stop at its parent rather than name another value.
        if let Some(slot) = self.parts.get_mut(usize::from(self.len)) {
            *slot = part;
            self.len += 1;
        }
        self
    }

    /// The pointer's text appended to `out` (what `Display` writes, without
    /// the formatting machinery: a batch writes one for every finding).
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        for part in self.parts() {
            out.push(b'/');
            match part {
                PathPart::Key(name) if name.contains(['~', '/']) => {
                    out.extend_from_slice(name.replace('~', "~0").replace('/', "~1").as_bytes());
                }
                PathPart::Key(name) => out.extend_from_slice(name.as_bytes()),
                PathPart::Index(index) => {
                    out.extend_from_slice(
                        crate::decimal::Decimal::new(u64::from(*index)).as_bytes(),
                    );
                }
            }
        }
    }

    fn parts(&self) -> &[PathPart] {
        self.parts.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl std::fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = Vec::new();
        self.write_to(&mut text);
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// A path written out in full (`"/member/id"`), for readers that name fixed
/// places; the same parts as when built with [`ClaimPath::key`] and
/// [`ClaimPath::index`].
impl From<&'static str> for ClaimPath {
    fn from(path: &'static str) -> Self {
        // Split at each `/` byte (`str::split` on a char costs more for paths this short).
        let mut out = ClaimPath::ROOT;
        let mut start = None;
        for (at, byte) in path
            .bytes()
            .enumerate()
            .chain(std::iter::once((path.len(), b'/')))
        {
            if byte != b'/' {
                continue;
            }
            if let Some(from) = start {
                let part = path.get(from..at).unwrap_or_default();
                let digits =
                    !part.is_empty() && part.len() <= 9 && part.bytes().all(|b| b.is_ascii_digit());
                out = if digits {
                    out.index(part.bytes().fold(0, |n, b| n * 10 + usize::from(b - b'0')))
                } else {
                    out.key(part)
                };
            }
            start = Some(at + 1);
        }
        out
    }
}

impl From<ClaimPath> for String {
    fn from(path: ClaimPath) -> Self {
        path.to_string()
    }
}

impl std::fmt::Debug for ClaimPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClaimPath({self})")
    }
}

impl serde::Serialize for ClaimPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A value and where it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub span: ClaimSpan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discipline {
    Pt,
    Ot,
    Slp,
    Physician,
    Other,
}

impl Discipline {
    /// As written in the contract and in policies (`PT`, `physician`).
    pub fn keyword(self) -> &'static str {
        match self {
            Discipline::Pt => "PT",
            Discipline::Ot => "OT",
            Discipline::Slp => "SLP",
            Discipline::Physician => "physician",
            Discipline::Other => "other",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Therapist,
    Assistant,
    Physician,
    Other,
}

impl Role {
    pub fn keyword(self) -> &'static str {
        match self {
            Role::Therapist => "therapist",
            Role::Assistant => "assistant",
            Role::Physician => "physician",
            Role::Other => "other",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modality {
    AudioVideo,
    AudioOnly,
}

/// Dollars as cents, so sums are exact.
pub type Cents = u64;

/// A diagnosis code: the text the claim gives (`I69.351`; an 837P may carry
/// ICD-9-CM), and its ICD-10-CM code, parsed once when the claim is read so
/// rules compare codes without parsing them again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub text: String,
    /// `None` for a code that is not ICD-10-CM (rules' diagnosis sets hold only ICD-10-CM).
    pub code: Option<DiagnosisCode>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub id: Located<String>,
    pub payer: Located<String>,
    pub plan: Option<Located<String>>,
    pub date_of_service: Option<Located<Date>>,
    pub place_of_service: Option<Located<PlaceOfService>>,
    pub member: Option<Member>,
    pub provider: Provider,
    /// The diagnoses in order: pointer 1 is the first.
    pub diagnoses: Vec<Located<Diagnosis>>,
    pub prior_authorization: Option<PriorAuthorization>,
    pub lines: Vec<Line>,
    pub documentation: Option<Documentation>,
    pub history: Option<History>,
    /// Where the whole claim stands (the root object).
    pub span: ClaimSpan,
    /// Where facts the input did not state came from (an X12 837P claim);
    /// `None` for a YAML/JSON claim, which states every field itself.
    pub provenance: Option<Provenance>,
}

/// How a claim read from an X12 837P file got the facts the 837P does not
/// state in the contract's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Provenance {
    /// Where the rendering provider's discipline and role came from.
    pub discipline_from: DisciplineSource,
    /// The payer id as the 837P writes it (2010BB NM109), and how it became `payer`.
    pub payer_id: Option<Located<String>>,
    pub payer_from: PayerSource,
    /// CLM02, the claim's total charge.
    pub total_charge: Option<Located<Cents>>,
    /// NTE remarks (2300), free text: never quoted in messages.
    pub remarks: Vec<Located<String>>,
    /// The 837P's own line numbers (LX01), one per line, in order.
    pub line_numbers: Vec<Located<String>>,
    /// Lines whose DTP*472 is a range (RD8): the line index and the range's last
    /// day. The line is judged on the range's first day.
    pub ranges: Vec<(usize, Located<Date>)>,
}

/// Where a claim's provider discipline and role came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisciplineSource {
    /// The NUCC taxonomy code of the rendering provider (PRV03).
    Taxonomy(String),
    /// The lines' GP/GO/GN modifiers (and CQ/CO for an assistant).
    Modifiers,
    /// Neither said: discipline and role are `other`.
    NotStated,
}

/// How an 837P claim's payer policy was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayerSource {
    /// `--payer ID`: one policy for every claim of the input.
    Flag,
    /// The payer map (`--payer-map FILE`) entry for the payer id.
    Map,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: Option<Located<String>>,
    pub birth_date: Option<Located<Date>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Provider {
    pub npi: Located<String>,
    pub discipline: Located<Discipline>,
    pub role: Located<Role>,
    pub taxonomy: Option<Located<String>>,
    pub credential: Option<Located<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorAuthorization {
    pub number: Located<String>,
    pub codes: Option<Located<Vec<ProcedureCode>>>,
    pub units: Option<Located<u32>>,
    pub from: Option<Located<Date>>,
    pub through: Option<Located<Date>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub code: Located<ProcedureCode>,
    pub modifiers: Located<Vec<Modifier>>,
    pub units: Located<u32>,
    pub minutes: Option<Located<u32>>,
    pub charge: Option<Located<Cents>>,
    pub date_of_service: Option<Located<Date>>,
    pub place_of_service: Option<Located<PlaceOfService>>,
    /// 1-based indexes into the claim's diagnoses; absent means pointer 1.
    pub diagnosis_pointers: Option<Located<Vec<u8>>>,
    /// Where the whole line stands.
    pub span: ClaimSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    pub code: Option<Located<ProcedureCode>>,
    pub description: Option<Located<String>>,
    pub minutes: Option<Located<u32>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlanOfCare {
    pub established: Option<Located<Date>>,
    pub certified: Option<Located<Date>>,
    pub through: Option<Located<Date>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Telehealth {
    pub modality: Option<Located<Modality>>,
    pub patient_consent: Option<Located<bool>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Documentation {
    pub objective: Option<Located<String>>,
    pub functional_goals: Option<Located<Vec<String>>>,
    pub performance: Option<Located<String>>,
    pub progress: Option<Located<String>>,
    pub activities: Option<Located<Vec<Activity>>>,
    pub caregiver_trained: Option<Located<bool>>,
    pub total_timed_minutes: Option<Located<u32>>,
    pub total_treatment_minutes: Option<Located<u32>>,
    pub plan_of_care: Option<PlanOfCare>,
    pub visits_since_progress_report: Option<Located<u32>>,
    pub telehealth: Option<Telehealth>,
    pub span: ClaimSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TherapyAllowed {
    pub pt_slp: Option<Located<Cents>>,
    pub ot: Option<Located<Cents>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct History {
    pub visits_this_year: Option<Located<u32>>,
    pub visits_under_authorization: Option<Located<u32>>,
    pub therapy_allowed_ytd: Option<TherapyAllowed>,
}

impl Claim {
    /// A line's date of service: its own, else the claim's.
    pub fn line_date(&self, line: &Line) -> Option<Date> {
        line.date_of_service
            .as_ref()
            .or(self.date_of_service.as_ref())
            .map(|date| date.value)
    }

    /// A line's place of service: its own, else the claim's.
    pub fn line_place(&self, line: &Line) -> Option<PlaceOfService> {
        line.place_of_service
            .as_ref()
            .or(self.place_of_service.as_ref())
            .map(|place| place.value)
    }
}
