//! One 837P transaction set (ST … SE) to claims: the HL hierarchy (billing
//! provider 2000A, subscriber 2000B, patient 2000C), each claim (2300) with its
//! rendering provider (2310B), service lines (2400) and their rendering
//! provider (2420A). Each claim collects every problem of its own segments and
//! of the loops above it; one bad claim never touches another.

use super::segments::{Element, Segment};
use super::{PayerChoice, X12Options};
use crate::claim::decode::{npi_is_valid, parse_money, Money};
use crate::claim::model::{
    Cents, Claim, ClaimPath, ClaimSpan, Diagnosis, Discipline, DisciplineSource, Line, Located,
    Member, PayerSource, PriorAuthorization, Provenance, Provider, Role,
};
use crate::claim::ClaimError;
use crate::codes::{DiagnosisCode, Modifier, PlaceOfService, ProcedureCode};
use crate::Date;

/// Most diagnoses a claim carries (HI01 to HI12).
const MAX_DIAGNOSES: usize = 12;
/// Most modifiers a line carries (SV101-3 to SV101-6).
const MAX_MODIFIERS: usize = 4;

/// A claim read, or every problem found in it; and the byte where its CLM
/// segment starts (the caller turns it into an input line).
pub(crate) struct ClaimRead {
    pub at: usize,
    pub result: Result<Claim, Vec<ClaimError>>,
}

/// A provider as a loop names it: NM1*85 / NM1*82 and its PRV.
#[derive(Clone, Debug, Default)]
struct ProviderLoop {
    npi: Option<Located<String>>,
    taxonomy: Option<Located<String>>,
    /// Where the loop's NM1 stands, for problems about the provider as a whole.
    at: Option<(usize, usize)>,
}

/// 2000A: the billing provider and any problem in its segments.
#[derive(Clone, Debug, Default)]
struct Billing {
    provider: ProviderLoop,
    errors: Vec<ClaimError>,
}

/// 2000B (and 2000C under it): the subscriber, the payer and the patient.
#[derive(Clone, Debug, Default)]
struct Subscriber {
    member_id: Option<Located<String>>,
    birth_date: Option<Located<Date>>,
    patient_birth_date: Option<Located<Date>>,
    payer_id: Option<Located<String>>,
    /// Where NM1*PR stands (or the HL, when there is none).
    payer_at: Option<(usize, usize)>,
    errors: Vec<ClaimError>,
}

/// A diagnosis pointer and the bytes it stands at.
type PointerAt = (u8, usize, usize);

/// One 2400 service line as read.
#[derive(Debug, Default)]
struct LineLoop {
    number: Option<Located<String>>,
    at: (usize, usize),
    code: Option<Located<ProcedureCode>>,
    modifiers: Option<Located<Vec<Modifier>>>,
    /// Where each modifier stands, for the discipline's provenance.
    modifier_spans: Vec<(Modifier, usize, usize)>,
    units: Option<Located<u32>>,
    minutes: Option<Located<u32>>,
    charge: Option<Located<Cents>>,
    date: Option<Located<Date>>,
    through: Option<Located<Date>>,
    place: Option<Located<PlaceOfService>>,
    pointers: Option<(Located<Vec<u8>>, Vec<PointerAt>)>,
    authorization: Option<Located<String>>,
    rendering: Option<ProviderLoop>,
    seen_sv1: bool,
}

/// Where in the claim the segments being read belong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// 2300 itself, or a 2310 provider loop (`entity` says which).
    Claim,
    /// 2320/2330: another payer's subscriber and payer; not this claim's facts.
    OtherSubscriber,
    /// 2400 and its sub-loops.
    Line,
}

/// One 2300 claim being read.
struct ClaimLoop {
    start: usize,
    end: usize,
    number: usize,
    errors: Vec<ClaimError>,
    id: Option<Located<String>>,
    total_charge: Option<Located<Cents>>,
    place: Option<Located<PlaceOfService>>,
    date: Option<Located<Date>>,
    diagnoses: Vec<Located<Diagnosis>>,
    diagnoses_seen: bool,
    /// A diagnosis could not be read: pointers are not checked against the rest.
    diagnoses_failed: bool,
    authorization: Option<Located<String>>,
    remarks: Vec<Located<String>>,
    rendering: Option<ProviderLoop>,
    lines: Vec<LineLoop>,
    place_now: Place,
    billing: Billing,
    subscriber: Subscriber,
}

/// The reader of one transaction set.
pub(crate) struct Transaction<'o> {
    options: &'o X12Options<'o>,
    billing: Option<Billing>,
    subscriber: Option<Subscriber>,
    /// The entity code of the last NM1 (`85`, `IL`, `PR`, `82`, …).
    entity: String,
    claim: Option<ClaimLoop>,
    pub out: Vec<ClaimRead>,
}

/// `segment 25 (SV1, byte 812), SV101-2: …`
fn element_error(
    segment: &Segment<'_>,
    element: &Element<'_>,
    path: impl Into<String>,
    message: impl std::fmt::Display,
) -> ClaimError {
    ClaimError::new(
        format!(
            "segment {} (`{}` at byte {}), {}: {message}",
            segment.number,
            segment.id,
            segment.start,
            element.name(segment.id)
        ),
        path,
        element.start,
        element.end,
    )
}

/// A problem with a segment as a whole (a required element missing).
fn segment_error(
    segment: &Segment<'_>,
    path: impl Into<String>,
    message: impl std::fmt::Display,
) -> ClaimError {
    ClaimError::new(
        format!(
            "segment {} (`{}` at byte {}): {message}",
            segment.number, segment.id, segment.start
        ),
        path,
        segment.start,
        segment.end,
    )
}

fn located<T>(value: T, path: impl Into<ClaimPath>, start: usize, end: usize) -> Located<T> {
    Located {
        value,
        span: ClaimSpan {
            path: path.into(),
            start: Some(start),
            end: Some(end),
        },
    }
}

/// `text` in backticks when it is short and plain (a code or an id), else a
/// description: an element in the wrong place may hold a name.
fn shown(text: &str) -> String {
    if text.len() <= 24 && text.bytes().all(|b| b.is_ascii_graphic() && b != b'`') {
        format!("`{text}`")
    } else {
        "a value".to_owned()
    }
}

/// A D8 date, `CCYYMMDD`.
fn d8(text: &str) -> Option<Date> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = text.get(..4)?.parse::<i16>().ok()?;
    let month = text.get(4..6)?.parse::<i8>().ok()?;
    let day = text.get(6..8)?.parse::<i8>().ok()?;
    Date::new(year, month, day).ok()
}

/// An ICD-9-CM code as 837P writes it under BK/BF: `4779`, `V7389`, `E8809`.
fn is_icd9(code: &str) -> bool {
    let bytes = code.as_bytes();
    match bytes.first() {
        Some(b'V') => {
            (3..=5).contains(&bytes.len()) && bytes.iter().skip(1).all(u8::is_ascii_digit)
        }
        Some(b'E') => {
            (4..=5).contains(&bytes.len()) && bytes.iter().skip(1).all(u8::is_ascii_digit)
        }
        Some(_) => (3..=5).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_digit),
        None => false,
    }
}

/// Discipline and role from a NUCC taxonomy code, for the codes that say them:
/// PT 225100000X (and its specialties 2251…), PTA 225200000X, OT 225X… , OTA
/// 224Z…, SLP 235Z…, and physicians (the 20… group).
pub(crate) fn from_taxonomy(code: &str) -> Option<(Discipline, Role)> {
    let starts = |prefix: &str| code.starts_with(prefix);
    if starts("2251") {
        Some((Discipline::Pt, Role::Therapist))
    } else if starts("2252") {
        Some((Discipline::Pt, Role::Assistant))
    } else if starts("225X") {
        Some((Discipline::Ot, Role::Therapist))
    } else if starts("224Z") {
        Some((Discipline::Ot, Role::Assistant))
    } else if starts("235Z") {
        Some((Discipline::Slp, Role::Therapist))
    } else if starts("20") {
        Some((Discipline::Physician, Role::Physician))
    } else {
        None
    }
}

impl<'o> Transaction<'o> {
    /// A transaction set's reader; `claims` is how many claims to make room for.
    pub fn new(options: &'o X12Options<'o>, claims: usize) -> Self {
        Self {
            options,
            billing: None,
            subscriber: None,
            entity: String::new(),
            claim: None,
            out: Vec::with_capacity(claims),
        }
    }

    /// A segment that could not be read at all: the claim (or loop) it stands in
    /// carries the problem.
    pub fn fail(&mut self, message: String, start: usize, end: usize) {
        self.context_error(ClaimError::new(message, "", start, end));
    }

    /// A problem in a loop above the claims: every claim under it carries it.
    fn context_error(&mut self, error: ClaimError) {
        if let Some(claim) = &mut self.claim {
            claim.errors.push(error);
        } else if let Some(subscriber) = &mut self.subscriber {
            subscriber.errors.push(error);
        } else if let Some(billing) = &mut self.billing {
            billing.errors.push(error);
        } else {
            self.out.push(ClaimRead {
                at: error.start.unwrap_or(0),
                result: Err(vec![error]),
            });
        }
    }

    pub fn segment(&mut self, segment: &Segment<'_>) {
        if let Some(claim) = &mut self.claim {
            claim.end = segment.end;
        }
        // Dispatched on the id as one number: a string `match` compares the id
        // with each arm in turn, and a claim has about forty segments.
        const fn code(id: &[u8]) -> u32 {
            let mut code = 0u32;
            let mut rest = id;
            while let [byte, after @ ..] = rest {
                code = code << 8 | *byte as u32;
                rest = after;
            }
            code
        }
        const HL: u32 = code(b"HL");
        const NM1: u32 = code(b"NM1");
        const PRV: u32 = code(b"PRV");
        const DMG: u32 = code(b"DMG");
        const SBR: u32 = code(b"SBR");
        const CLM: u32 = code(b"CLM");
        const HI: u32 = code(b"HI");
        const REF: u32 = code(b"REF");
        const DTP: u32 = code(b"DTP");
        const NTE: u32 = code(b"NTE");
        const LX: u32 = code(b"LX");
        const SV1: u32 = code(b"SV1");
        // Segment ids are two or three characters; a longer one matches no arm.
        let id = segment.id.as_bytes();
        let id = if id.len() <= 3 { code(id) } else { 0 };
        match id {
            HL => self.hl(segment),
            NM1 => self.nm1(segment),
            PRV => self.prv(segment),
            DMG => self.dmg(segment),
            SBR => {
                if let Some(claim) = &mut self.claim {
                    // 2320: from here to the first LX, another payer's facts.
                    if claim.place_now == Place::Claim {
                        claim.place_now = Place::OtherSubscriber;
                    }
                }
            }
            CLM => self.clm(segment),
            HI => self.hi(segment),
            REF => self.reference(segment),
            DTP => self.dtp(segment),
            NTE => self.nte(segment),
            LX => self.lx(segment),
            SV1 => self.sv1(segment),
            _ => {}
        }
    }

    /// The end of the transaction set: the last claim is complete.
    pub fn finish(&mut self) {
        self.close_claim();
    }

    fn close_claim(&mut self) {
        if let Some(claim) = self.claim.take() {
            let at = claim.start;
            let result = claim.build(self.options);
            self.out.push(ClaimRead { at, result });
        }
    }

    fn hl(&mut self, segment: &Segment<'_>) {
        self.close_claim();
        self.entity.clear();
        match segment.element(3).map(|e| e.text) {
            Some("20") => {
                self.billing = Some(Billing::default());
                self.subscriber = None;
            }
            Some("22") => {
                self.subscriber = Some(Subscriber {
                    payer_at: Some((segment.start, segment.end)),
                    ..Subscriber::default()
                });
            }
            Some("23") => {
                // A new patient: the last one's birth date is not this one's.
                if let Some(subscriber) = &mut self.subscriber {
                    subscriber.patient_birth_date = None;
                }
                if self.subscriber.is_none() {
                    self.context_error(segment_error(
                        segment,
                        "",
                        "a patient loop (HL03 `23`) must stand under a subscriber loop (`22`)",
                    ));
                }
            }
            Some(other) => {
                let error = segment_error(
                    segment,
                    "",
                    format!(
                        "HL03 {} is not a level of an 837P: `20` billing provider, `22` subscriber, `23` patient",
                        shown(other)
                    ),
                );
                self.context_error(error);
            }
            None => {
                let error =
                    segment_error(segment, "", "HL03 (the hierarchical level code) is missing");
                self.context_error(error);
            }
        }
    }

    /// An NPI from NM108 `XX` and NM109.
    fn npi(segment: &Segment<'_>, path: &'static str) -> Result<Located<String>, ClaimError> {
        let Some(id) = segment.element(9) else {
            return Err(segment_error(
                segment,
                path,
                "NM109 (the provider's NPI) is missing",
            ));
        };
        match segment.element(8).map(|e| e.text) {
            Some("XX") => {}
            other => {
                let found = other.map_or_else(|| "nothing".to_owned(), shown);
                return Err(segment_error(
                    segment,
                    path,
                    format!("NM108 must be `XX` (an NPI follows), found {found}"),
                ));
            }
        }
        let text = id.text;
        if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(element_error(
                segment,
                &id,
                path,
                format!("an NPI is 10 digits, found {}", shown(text)),
            ));
        }
        if !npi_is_valid(text) {
            return Err(element_error(
                segment,
                &id,
                path,
                format!(
                    "`{text}` is not a valid NPI: its check digit does not match (Luhn with prefix 80840)"
                ),
            ));
        }
        Ok(located(text.to_owned(), path, id.start, id.end))
    }

    fn nm1(&mut self, segment: &Segment<'_>) {
        let entity = segment.element(1).map_or("", |e| e.text).to_owned();
        self.entity.clone_from(&entity);
        let at = Some((segment.start, segment.end));
        if let Some(claim) = &mut self.claim {
            let provider = || {
                let mut provider = ProviderLoop {
                    at,
                    ..ProviderLoop::default()
                };
                match Self::npi(segment, "/provider/npi") {
                    Ok(npi) => provider.npi = Some(npi),
                    Err(error) => return (provider, Some(error)),
                }
                (provider, None)
            };
            match (claim.place_now, entity.as_str()) {
                (Place::Claim, "82") => {
                    let (loop_, error) = provider();
                    claim.errors.extend(error);
                    claim.rendering = Some(loop_);
                }
                (Place::Line, "82") => {
                    let (loop_, error) = provider();
                    claim.errors.extend(error);
                    if let Some(line) = claim.lines.last_mut() {
                        line.rendering = Some(loop_);
                    }
                }
                _ => {}
            }
            return;
        }
        match entity.as_str() {
            "85" => {
                if let Some(billing) = &mut self.billing {
                    billing.provider.at = at;
                    match Self::npi(segment, "/provider/npi") {
                        Ok(npi) => billing.provider.npi = Some(npi),
                        Err(error) => billing.errors.push(error),
                    }
                }
            }
            "IL" => {
                if let Some(subscriber) = &mut self.subscriber {
                    subscriber.member_id = segment
                        .element(9)
                        .map(|id| located(id.text.to_owned(), "/member/id", id.start, id.end));
                }
            }
            "PR" => {
                if let Some(subscriber) = &mut self.subscriber {
                    subscriber.payer_at = at;
                    match segment.element(9) {
                        Some(id) => {
                            subscriber.payer_id =
                                Some(located(id.text.to_owned(), "/payer", id.start, id.end));
                        }
                        None => subscriber.errors.push(segment_error(
                            segment,
                            "/payer",
                            "NM109 (the payer id) is missing",
                        )),
                    }
                }
            }
            _ => {}
        }
    }

    fn prv(&mut self, segment: &Segment<'_>) {
        let Some(code) = segment.element(3) else {
            let error = segment_error(
                segment,
                "/provider/taxonomy",
                "PRV03 (the taxonomy code) is missing",
            );
            self.context_error(error);
            return;
        };
        let valid = code.text.len() == 10
            && code
                .text
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        let taxonomy = if valid {
            Ok(located(
                code.text.to_owned(),
                "/provider/taxonomy",
                code.start,
                code.end,
            ))
        } else {
            Err(element_error(
                segment,
                &code,
                "/provider/taxonomy",
                format!(
                    "a NUCC taxonomy code is 10 digits or capital letters (`225X00000X`), found {}",
                    shown(code.text)
                ),
            ))
        };
        let target: Option<&mut ProviderLoop> = match &mut self.claim {
            Some(claim) if self.entity == "82" => match claim.place_now {
                Place::Claim => claim.rendering.as_mut(),
                Place::Line => claim
                    .lines
                    .last_mut()
                    .and_then(|line| line.rendering.as_mut()),
                Place::OtherSubscriber => None,
            },
            Some(_) => None,
            None if segment.element(1).map(|e| e.text) == Some("BI") => {
                self.billing.as_mut().map(|billing| &mut billing.provider)
            }
            None => None,
        };
        let Some(target) = target else {
            return;
        };
        match taxonomy {
            Ok(taxonomy) => target.taxonomy = Some(taxonomy),
            Err(error) => self.context_error(error),
        }
    }

    fn dmg(&mut self, segment: &Segment<'_>) {
        if self.claim.is_some() {
            return;
        }
        let Some(subscriber) = &mut self.subscriber else {
            return;
        };
        let slot = match self.entity.as_str() {
            "IL" => &mut subscriber.birth_date,
            "QC" => &mut subscriber.patient_birth_date,
            _ => return,
        };
        let Some(date) = segment.element(2) else {
            return;
        };
        // A birth date is patient data: never quoted back.
        match d8(date.text) {
            Some(value) if segment.element(1).map(|e| e.text) == Some("D8") => {
                *slot = Some(located(value, "/member/birth_date", date.start, date.end));
            }
            _ => subscriber.errors.push(element_error(
                segment,
                &date,
                "/member/birth_date",
                "the birth date must be a D8 date (DMG01 `D8`, DMG02 `CCYYMMDD`)",
            )),
        }
    }

    fn clm(&mut self, segment: &Segment<'_>) {
        self.close_claim();
        let mut claim = ClaimLoop {
            start: segment.start,
            end: segment.end,
            number: segment.number,
            errors: Vec::new(),
            id: None,
            total_charge: None,
            place: None,
            date: None,
            diagnoses: Vec::new(),
            diagnoses_seen: false,
            diagnoses_failed: false,
            authorization: None,
            remarks: Vec::new(),
            rendering: None,
            lines: Vec::new(),
            place_now: Place::Claim,
            billing: self.billing.clone().unwrap_or_default(),
            subscriber: self.subscriber.clone().unwrap_or_default(),
        };
        if self.billing.is_none() {
            claim.errors.push(segment_error(
                segment,
                "/provider",
                "the claim stands under no billing provider loop (HL with HL03 `20`)",
            ));
        }
        if self.subscriber.is_none() {
            claim.errors.push(segment_error(
                segment,
                "/payer",
                "the claim stands under no subscriber loop (HL with HL03 `22`)",
            ));
        }
        match segment.element(1) {
            Some(id) => claim.id = Some(located(id.text.to_owned(), "/id", id.start, id.end)),
            None => claim.errors.push(segment_error(
                segment,
                "/id",
                "CLM01 (the claim id) is missing",
            )),
        }
        if let Some(charge) = segment.element(2) {
            match money(segment, &charge, ClaimPath::ROOT) {
                Ok(cents) => claim.total_charge = Some(cents),
                Err(error) => claim.errors.push(error),
            }
        }
        match segment.component(5, 1) {
            Some(place) => {
                match place_of_service(segment, &place, ClaimPath::ROOT.key("place_of_service")) {
                    Ok(place) => claim.place = Some(place),
                    Err(error) => claim.errors.push(error),
                }
            }
            None => claim.errors.push(segment_error(
                segment,
                "/place_of_service",
                "CLM05-1 (the place of service) is missing",
            )),
        }
        self.entity.clear();
        self.claim = Some(claim);
    }

    fn hi(&mut self, segment: &Segment<'_>) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        if claim.place_now != Place::Claim {
            return;
        }
        // Only the diagnosis HI; the 2300 also has HI for anesthesia, conditions.
        let first = segment.component(1, 1).map(|e| e.text);
        if !matches!(first, Some("ABK" | "BK" | "ABF" | "BF")) {
            return;
        }
        let icd10 = first.is_some_and(|qualifier| qualifier.starts_with('A'));
        if claim.diagnoses_seen {
            claim.errors.push(segment_error(
                segment,
                "/diagnoses",
                "a second diagnosis `HI` segment: an 837P claim carries its diagnoses in one",
            ));
            return;
        }
        claim.diagnoses_seen = true;
        let before = claim.errors.len();
        for position in 1..=segment.element_count() {
            let path = ClaimPath::ROOT.key("diagnoses").index(position - 1);
            let Some(element) = segment.element(position) else {
                continue;
            };
            if position > MAX_DIAGNOSES {
                claim.errors.push(element_error(
                    segment,
                    &element,
                    "/diagnoses",
                    format!("a claim carries at most {MAX_DIAGNOSES} diagnoses"),
                ));
                break;
            }
            let mut parts = element.components(segment.component);
            let qualifier = parts.next().flatten();
            let code = parts.next().flatten();
            let (Some(qualifier), Some(code)) = (qualifier, code) else {
                claim.errors.push(element_error(
                    segment,
                    &element,
                    path,
                    format!(
                        "a diagnosis is two components, a qualifier (`ABK`, `ABF`, `BK`, `BF`) and a code; found {} alone",
                        shown(element.text)
                    ),
                ));
                continue;
            };
            let expected = match (position, icd10) {
                (1, true) => "ABK",
                (1, false) => "BK",
                (_, true) => "ABF",
                (_, false) => "BF",
            };
            if qualifier.text != expected {
                claim.errors.push(element_error(
                    segment,
                    &qualifier,
                    path,
                    format!(
                        "the qualifier must be `{expected}` here (`ABK`/`ABF` for ICD-10-CM, `BK`/`BF` for ICD-9-CM), found {}",
                        shown(qualifier.text)
                    ),
                ));
                continue;
            }
            let value = if icd10 {
                match DiagnosisCode::parse(code.text) {
                    // Written as the claim contract writes it: `I69.351`.
                    Ok(parsed) if !code.text.contains('.') => Diagnosis {
                        text: match (code.text.get(..3), code.text.get(3..)) {
                            (Some(category), Some(detail)) if !detail.is_empty() => {
                                format!("{category}.{detail}")
                            }
                            _ => code.text.to_owned(),
                        },
                        code: Some(parsed),
                    },
                    Ok(parsed) => Diagnosis {
                        text: code.text.to_owned(),
                        code: Some(parsed),
                    },
                    Err(error) => {
                        claim.errors.push(element_error(
                            segment,
                            &code,
                            path,
                            format!(
                                "invalid ICD-10-CM code {}: {}",
                                shown(code.text),
                                error.reason
                            ),
                        ));
                        continue;
                    }
                }
            } else if is_icd9(code.text) {
                Diagnosis {
                    text: code.text.to_owned(),
                    code: None,
                }
            } else {
                claim.errors.push(element_error(
                    segment,
                    &code,
                    path,
                    format!(
                        "invalid ICD-9-CM code {} (qualifier `{expected}`): three to five digits, or `V` or `E` and digits",
                        shown(code.text)
                    ),
                ));
                continue;
            };
            claim
                .diagnoses
                .push(located(value, path, code.start, code.end));
        }
        claim.diagnoses_failed = claim.errors.len() > before;
    }

    fn reference(&mut self, segment: &Segment<'_>) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        if segment.element(1).map(|e| e.text) != Some("G1") {
            return;
        }
        let Some(number) = segment.element(2) else {
            claim.errors.push(segment_error(
                segment,
                "/prior_authorization/number",
                "REF02 (the prior authorization number) is missing",
            ));
            return;
        };
        let value = located(
            number.text.to_owned(),
            "/prior_authorization/number",
            number.start,
            number.end,
        );
        match claim.place_now {
            Place::Claim => claim.authorization = Some(value),
            Place::Line => {
                if let Some(line) = claim.lines.last_mut() {
                    line.authorization = Some(value);
                }
            }
            Place::OtherSubscriber => {}
        }
    }

    fn dtp(&mut self, segment: &Segment<'_>) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        if segment.element(1).map(|e| e.text) != Some("472")
            || claim.place_now == Place::OtherSubscriber
        {
            return;
        }
        let line_index = claim.lines.len().checked_sub(1);
        let path = match (claim.place_now, line_index) {
            (Place::Line, Some(index)) => ClaimPath::line(index, "date_of_service"),
            _ => ClaimPath::ROOT.key("date_of_service"),
        };
        let Some(value) = segment.element(3) else {
            claim
                .errors
                .push(segment_error(segment, path, "DTP03 (the date) is missing"));
            return;
        };
        let format = segment.element(2).map(|e| e.text);
        let dates = match format {
            Some("D8") => d8(value.text).map(|date| (date, None)),
            Some("RD8") => value.text.split_once('-').and_then(|(from, through)| {
                let (from, through) = (d8(from)?, d8(through)?);
                (through >= from).then_some((from, Some(through)))
            }),
            _ => {
                let found = format.map_or_else(|| "nothing".to_owned(), shown);
                claim.errors.push(segment_error(
                    segment,
                    path,
                    format!("DTP02 must be `D8` (a date) or `RD8` (a range), found {found}"),
                ));
                return;
            }
        };
        let Some((from, through)) = dates else {
            let shape = if format == Some("RD8") {
                "`CCYYMMDD-CCYYMMDD`, a real range from its first day to its last"
            } else {
                "`CCYYMMDD`, a real date"
            };
            claim.errors.push(element_error(
                segment,
                &value,
                path,
                format!(
                    "the date of service must be {shape}, found {}",
                    shown(value.text)
                ),
            ));
            return;
        };
        // The first day stands for the line; a range's last day is kept in the provenance.
        let from_end = value.start + 8;
        let date = located(from, path, value.start, from_end.min(value.end));
        let through = through
            .filter(|&through| through != from)
            .map(|through| located(through, path, value.end.saturating_sub(8), value.end));
        match (claim.place_now, claim.lines.last_mut()) {
            (Place::Line, Some(line)) => {
                line.date = Some(date);
                line.through = through;
            }
            _ => claim.date = Some(date),
        }
    }

    fn nte(&mut self, segment: &Segment<'_>) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        if claim.place_now == Place::Claim {
            if let Some(text) = segment.element(2) {
                claim
                    .remarks
                    .push(located(text.text.to_owned(), "", text.start, text.end));
            }
        }
    }

    fn lx(&mut self, segment: &Segment<'_>) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        claim.place_now = Place::Line;
        self.entity.clear();
        let index = claim.lines.len();
        let number = segment.element(1).map(|number| {
            located(
                number.text.to_owned(),
                ClaimPath::ROOT.key("lines").index(index),
                number.start,
                number.end,
            )
        });
        claim.lines.push(LineLoop {
            number,
            at: (segment.start, segment.end),
            ..LineLoop::default()
        });
    }

    fn sv1(&mut self, segment: &Segment<'_>) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        let index = claim.lines.len().saturating_sub(1);
        let path = ClaimPath::ROOT.key("lines").index(index);
        let errors = &mut claim.errors;
        let Some(line) = claim
            .lines
            .last_mut()
            .filter(|_| claim.place_now == Place::Line)
        else {
            errors.push(segment_error(
                segment,
                "/lines",
                "a service line (`SV1`) must follow its `LX` segment",
            ));
            return;
        };
        if line.seen_sv1 {
            errors.push(segment_error(
                segment,
                path,
                "a second `SV1` in one service line (`LX`)",
            ));
            return;
        }
        line.seen_sv1 = true;
        line.at.1 = segment.end;
        let code_path = path.key("code");
        // SV101: HC:code:modifier…
        match segment.element(1) {
            None => errors.push(segment_error(
                segment,
                code_path,
                "SV101 (the procedure code) is missing",
            )),
            Some(composite) => {
                let parts: Vec<Option<Element<'_>>> =
                    composite.components(segment.component).collect();
                let qualifier = parts.first().copied().flatten();
                match qualifier {
                    Some(qualifier) if qualifier.text == "HC" => {}
                    Some(qualifier) => errors.push(element_error(
                        segment,
                        &qualifier,
                        code_path,
                        format!(
                            "the code qualifier must be `HC` (CPT/HCPCS), found {}",
                            shown(qualifier.text)
                        ),
                    )),
                    None => errors.push(element_error(
                        segment,
                        &composite,
                        code_path,
                        "SV101-1 (the code qualifier `HC`) is missing",
                    )),
                }
                match parts.get(1).copied().flatten() {
                    Some(code) => match ProcedureCode::parse(code.text) {
                        Ok(parsed) => {
                            line.code = Some(located(parsed, code_path, code.start, code.end));
                        }
                        Err(error) => errors.push(element_error(
                            segment,
                            &code,
                            code_path,
                            format!(
                                "invalid procedure code {}: {}",
                                shown(code.text),
                                error.reason
                            ),
                        )),
                    },
                    None => errors.push(element_error(
                        segment,
                        &composite,
                        code_path,
                        "SV101-2 (the procedure code) is missing",
                    )),
                }
                let modifiers_path = path.key("modifiers");
                let mut modifiers = Vec::new();
                let mut span: Option<(usize, usize)> = None;
                let mut good = true;
                for (offset, part) in parts.iter().skip(2).take(MAX_MODIFIERS).enumerate() {
                    let Some(part) = part else {
                        continue;
                    };
                    let item = modifiers_path.index(modifiers.len());
                    match Modifier::parse(part.text) {
                        Ok(modifier) => {
                            modifiers.push(modifier);
                            line.modifier_spans.push((modifier, part.start, part.end));
                            span = Some((span.map_or(part.start, |s| s.0), part.end));
                        }
                        Err(error) => {
                            good = false;
                            errors.push(element_error(
                                segment,
                                part,
                                item,
                                format!(
                                    "invalid modifier {} (SV101-{}): {}",
                                    shown(part.text),
                                    offset + 3,
                                    error.reason
                                ),
                            ));
                        }
                    }
                }
                if good {
                    line.modifiers = Some(match span {
                        Some((start, end)) => located(modifiers, modifiers_path, start, end),
                        None => Located {
                            value: modifiers,
                            span: ClaimSpan {
                                path: modifiers_path,
                                start: None,
                                end: None,
                            },
                        },
                    });
                }
            }
        }
        // SV102: the line's charge.
        if let Some(charge) = segment.element(2) {
            match money(segment, &charge, path.key("charge")) {
                Ok(cents) => line.charge = Some(cents),
                Err(error) => errors.push(error),
            }
        }
        // SV103/SV104: units (UN) or minutes (MJ).
        let units_path = path.key("units");
        let basis = segment.element(3);
        let quantity = segment.element(4);
        match (basis, quantity) {
            (Some(basis), Some(quantity)) => {
                let count = whole(quantity.text);
                match (basis.text, count) {
                    ("UN", Some(count)) if count >= 1 => {
                        line.units = Some(located(count, units_path, quantity.start, quantity.end));
                    }
                    ("UN", _) => errors.push(element_error(
                        segment,
                        &quantity,
                        units_path,
                        format!(
                            "units must be a whole number of at least 1, found {}",
                            shown(quantity.text)
                        ),
                    )),
                    ("MJ", count) => {
                        let minutes =
                            count.map_or_else(|| shown(quantity.text), |c| format!("{c}"));
                        errors.push(element_error(
                            segment,
                            &basis,
                            units_path,
                            format!("the line is billed in minutes (SV103 `MJ`, {minutes}); ppl's unit rules judge units, so bill therapy codes in units (SV103 `UN`)"),
                        ));
                    }
                    (other, _) => errors.push(element_error(
                        segment,
                        &basis,
                        units_path,
                        format!(
                            "SV103 must be `UN` (units) or `MJ` (minutes), found {}",
                            shown(other)
                        ),
                    )),
                }
            }
            _ => errors.push(segment_error(
                segment,
                units_path,
                "SV103 and SV104 (the unit basis and the count) are required",
            )),
        }
        // SV105: the line's place of service.
        if let Some(place) = segment.element(5) {
            match place_of_service(segment, &place, path.key("place_of_service")) {
                Ok(place) => line.place = Some(place),
                Err(error) => errors.push(error),
            }
        }
        // SV107: diagnosis pointers, 1-based, up to four.
        if let Some(composite) = segment.element(7) {
            let pointers_path = path.key("diagnosis_pointers");
            let mut pointers = Vec::new();
            let mut good = true;
            for part in composite.components(segment.component).flatten() {
                match whole(part.text).and_then(|value| u8::try_from(value).ok()) {
                    Some(value) if (1..=12).contains(&value) => {
                        pointers.push((value, part.start, part.end));
                    }
                    _ => {
                        good = false;
                        errors.push(element_error(
                            segment,
                            &part,
                            pointers_path,
                            format!(
                                "a diagnosis pointer is a number from 1 to 12, found {}",
                                shown(part.text)
                            ),
                        ));
                    }
                }
            }
            if good && !pointers.is_empty() {
                let values = pointers.iter().map(|p| p.0).collect();
                line.pointers = Some((
                    located(values, pointers_path, composite.start, composite.end),
                    pointers,
                ));
            }
        }
    }
}

/// A whole number as X12 writes a quantity (`2`, `2.0`); `None` otherwise.
fn whole(text: &str) -> Option<u32> {
    let digits = match text.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn money(
    segment: &Segment<'_>,
    element: &Element<'_>,
    path: ClaimPath,
) -> Result<Located<Cents>, ClaimError> {
    let problem = match parse_money(element.text) {
        Money::Cents(cents) => return Ok(located(cents, path, element.start, element.end)),
        Money::Negative => "must not be negative",
        Money::TooManyDecimals => "has more than 2 decimals",
        Money::TooLarge => "is too large",
        Money::NotDecimal => "must be an amount in dollars (`120.50`)",
    };
    Err(element_error(
        segment,
        element,
        path,
        format!("the amount {} {problem}", shown(element.text)),
    ))
}

fn place_of_service(
    segment: &Segment<'_>,
    element: &Element<'_>,
    path: ClaimPath,
) -> Result<Located<PlaceOfService>, ClaimError> {
    PlaceOfService::parse(element.text)
        .map(|place| located(place, path, element.start, element.end))
        .map_err(|error| {
            element_error(
                segment,
                element,
                path,
                format!(
                    "invalid place of service {}: {}",
                    shown(element.text),
                    error.reason
                ),
            )
        })
}

impl ClaimLoop {
    fn build(mut self, options: &X12Options<'_>) -> Result<Claim, Vec<ClaimError>> {
        let mut errors = std::mem::take(&mut self.billing.errors);
        errors.append(&mut self.subscriber.errors);
        errors.append(&mut self.errors);
        let clm = (self.start, self.end);
        let whole_claim =
            |message: String, path: &str| ClaimError::new(message, path, clm.0, clm.1);
        let number = self.number;

        // The payer: one policy for the whole input, or the payer map's entry.
        let payer_id = self.subscriber.payer_id.clone();
        let (payer_at_start, payer_at_end) = payer_id
            .as_ref()
            .and_then(|id| Some((id.span.start?, id.span.end?)))
            .or(self.subscriber.payer_at)
            .unwrap_or(clm);
        let (payer, plan, payer_from) = match &options.payer {
            PayerChoice::Flag(policy) => (
                Some(located(
                    policy.to_string(),
                    "/payer",
                    payer_at_start,
                    payer_at_end,
                )),
                None,
                PayerSource::Flag,
            ),
            PayerChoice::Map(map) => match &payer_id {
                None => {
                    errors.push(whole_claim(
                        format!("segment {number} (`CLM`): the claim's subscriber loop has no payer (`NM1*PR` with its id in NM109)"),
                        "/payer",
                    ));
                    (None, None, PayerSource::Map)
                }
                Some(id) => match map.get(&id.value) {
                    Some(entry) => (
                        Some(located(
                            entry.policy.clone(),
                            "/payer",
                            payer_at_start,
                            payer_at_end,
                        )),
                        entry
                            .plan
                            .clone()
                            .map(|plan| located(plan, "/plan", payer_at_start, payer_at_end)),
                        PayerSource::Map,
                    ),
                    None => {
                        errors.push(ClaimError::new(
                            format!(
                                "the payer id {} (NM109 of the claim's `NM1*PR`) is not in the payer map `{}`: add it there, or give `--payer ID` for a file bound for one payer",
                                shown(&id.value),
                                map.name()
                            ),
                            "/payer",
                            payer_at_start,
                            payer_at_end,
                        ));
                        (None, None, PayerSource::Map)
                    }
                },
            },
            PayerChoice::None => {
                errors.push(ClaimError::new(
                    format!(
                        "no payer policy for the payer id {}: give `--payer ID` (one policy for the whole file) or `--payer-map FILE` (payer ids to policies)",
                        payer_id.as_ref().map_or_else(|| "(none)".to_owned(), |id| shown(&id.value))
                    ),
                    "/payer",
                    payer_at_start,
                    payer_at_end,
                ));
                (None, None, PayerSource::Map)
            }
        };

        // Lines: each needs its SV1; their authorizations must agree with the claim's.
        if self.lines.is_empty() {
            errors.push(whole_claim(
                format!(
                    "segment {number} (`CLM`): the claim has no service line (`LX` with `SV1`)"
                ),
                "/lines",
            ));
        }
        let mut authorization = self.authorization.clone();
        for (index, line) in self.lines.iter().enumerate() {
            if !line.seen_sv1 {
                errors.push(ClaimError::new(
                    format!("service line {} has no `SV1` segment", index + 1),
                    format!("/lines/{index}"),
                    line.at.0,
                    line.at.1,
                ));
            }
            if let Some(line_auth) = &line.authorization {
                match &authorization {
                    Some(auth) if auth.value != line_auth.value => errors.push(ClaimError::new(
                        format!(
                            "line {} carries prior authorization {} and the claim {}: ppl judges one authorization per claim, so split the claim",
                            index + 1,
                            shown(&line_auth.value),
                            shown(&auth.value)
                        ),
                        "/prior_authorization/number",
                        line_auth.span.start.unwrap_or(clm.0),
                        line_auth.span.end.unwrap_or(clm.1),
                    )),
                    Some(_) => {}
                    None => authorization = Some(line_auth.clone()),
                }
            }
            // Pointers must point at a diagnosis the claim has.
            if let Some((_, pointers)) = &line.pointers {
                for &(value, start, end) in pointers {
                    if usize::from(value) > self.diagnoses.len()
                        && self.diagnoses_seen
                        && !self.diagnoses_failed
                    {
                        errors.push(ClaimError::new(
                            format!(
                                "line {}: diagnosis pointer `{value}` (SV107) points past the claim's {} diagnoses",
                                index + 1,
                                self.diagnoses.len()
                            ),
                            format!("/lines/{index}/diagnosis_pointers"),
                            start,
                            end,
                        ));
                    }
                }
            }
        }
        if !self.diagnoses_seen {
            errors.push(whole_claim(
                format!("segment {number} (`CLM`): the claim has no diagnosis (`HI` with `ABK`)"),
                "/diagnoses",
            ));
        }
        if self.date.is_none() {
            for (index, line) in self.lines.iter().enumerate() {
                if line.date.is_none() && line.seen_sv1 {
                    errors.push(ClaimError::new(
                        format!(
                            "service line {} has no date of service (`DTP*472`)",
                            index + 1
                        ),
                        format!("/lines/{index}/date_of_service"),
                        line.at.0,
                        line.at.1,
                    ));
                }
            }
        }

        // The rendering provider: 2310B, else the billing provider; a line's
        // 2420A must be the same clinician.
        let rendering = self
            .rendering
            .clone()
            .unwrap_or_else(|| self.billing.provider.clone());
        let mut taxonomy = rendering.taxonomy.clone();
        for (index, line) in self.lines.iter().enumerate() {
            let Some(line_provider) = &line.rendering else {
                continue;
            };
            match (&rendering.npi, &line_provider.npi) {
                (Some(claim_npi), Some(line_npi)) if claim_npi.value != line_npi.value => {
                    errors.push(ClaimError::new(
                        format!(
                            "line {} names rendering provider `{}` (2420A) and the claim `{}`: ppl judges one rendering provider per claim, so split the claim",
                            index + 1,
                            line_npi.value,
                            claim_npi.value
                        ),
                        "/provider/npi",
                        line_npi.span.start.unwrap_or(clm.0),
                        line_npi.span.end.unwrap_or(clm.1),
                    ));
                }
                _ => {}
            }
            if taxonomy.is_none() {
                taxonomy.clone_from(&line_provider.taxonomy);
            }
        }
        let npi = rendering.npi.clone();
        if npi.is_none() && errors.is_empty() {
            errors.push(whole_claim(
                format!("segment {number} (`CLM`): no rendering provider NPI (2310B `NM1*82`, or the billing provider's `NM1*85`)"),
                "/provider/npi",
            ));
        }
        let (discipline, role, discipline_from, discipline_at) =
            self.discipline(taxonomy.as_ref(), rendering.at.unwrap_or(clm));

        if !errors.is_empty() {
            return Err(errors);
        }
        let lines: Option<Vec<Line>> = self
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                Some(Line {
                    code: line.code.clone()?,
                    modifiers: line.modifiers.clone()?,
                    units: line.units.clone()?,
                    minutes: line.minutes.clone(),
                    charge: line.charge.clone(),
                    date_of_service: line.date.clone(),
                    place_of_service: line.place.clone(),
                    diagnosis_pointers: line
                        .pointers
                        .as_ref()
                        .map(|(pointers, _)| pointers.clone()),
                    span: ClaimSpan {
                        path: ClaimPath::ROOT.key("lines").index(index),
                        start: Some(line.at.0),
                        end: Some(line.at.1),
                    },
                })
            })
            .collect();
        let (Some(lines), Some(id), Some(payer), Some(npi)) = (lines, self.id.clone(), payer, npi)
        else {
            return Err(vec![whole_claim(
                format!("segment {number} (`CLM`): the claim could not be read"),
                "",
            )]);
        };
        let provider_span = |path: &'static str| ClaimSpan {
            path: path.into(),
            start: Some(discipline_at.0),
            end: Some(discipline_at.1),
        };
        let birth_date = self
            .subscriber
            .patient_birth_date
            .clone()
            .or(self.subscriber.birth_date.clone());
        let member =
            (self.subscriber.member_id.is_some() || birth_date.is_some()).then(|| Member {
                id: self.subscriber.member_id.clone(),
                birth_date,
            });
        Ok(Claim {
            id,
            payer,
            plan,
            date_of_service: self.date.clone(),
            place_of_service: self.place.clone(),
            member,
            provider: Provider {
                npi,
                discipline: Located {
                    value: discipline,
                    span: provider_span("/provider/discipline"),
                },
                role: Located {
                    value: role,
                    span: provider_span("/provider/role"),
                },
                taxonomy,
                credential: None,
            },
            diagnoses: self.diagnoses.clone(),
            prior_authorization: authorization.map(|number| PriorAuthorization {
                number,
                codes: None,
                units: None,
                from: None,
                through: None,
            }),
            documentation: None,
            history: None,
            span: ClaimSpan {
                path: "".into(),
                start: Some(self.start),
                end: Some(self.end),
            },
            provenance: Some(Provenance {
                discipline_from,
                payer_id,
                payer_from,
                total_charge: self.total_charge.clone(),
                remarks: self.remarks.clone(),
                line_numbers: self
                    .lines
                    .iter()
                    .filter_map(|line| line.number.clone())
                    .collect(),
                ranges: self
                    .lines
                    .iter()
                    .enumerate()
                    .filter_map(|(index, line)| Some((index, line.through.clone()?)))
                    .collect(),
            }),
            lines,
        })
    }

    /// Discipline and role: from the taxonomy when it says them, else from the
    /// lines' GP/GO/GN (CQ/CO for an assistant), else `other`.
    fn discipline(
        &self,
        taxonomy: Option<&Located<String>>,
        provider_at: (usize, usize),
    ) -> (Discipline, Role, DisciplineSource, (usize, usize)) {
        if let Some(taxonomy) = taxonomy {
            if let Some((discipline, role)) = from_taxonomy(&taxonomy.value) {
                let at = (
                    taxonomy.span.start.unwrap_or(provider_at.0),
                    taxonomy.span.end.unwrap_or(provider_at.1),
                );
                return (
                    discipline,
                    role,
                    DisciplineSource::Taxonomy(taxonomy.value.clone()),
                    at,
                );
            }
        }
        let mut found: Option<(Discipline, (usize, usize))> = None;
        let mut assistant = false;
        let mut conflict = false;
        for line in &self.lines {
            for &(modifier, start, end) in &line.modifier_spans {
                let discipline = match modifier.to_string().as_str() {
                    "GP" => Discipline::Pt,
                    "GO" => Discipline::Ot,
                    "GN" => Discipline::Slp,
                    "CQ" | "CO" => {
                        assistant = true;
                        continue;
                    }
                    _ => continue,
                };
                match found {
                    Some((seen, _)) if seen != discipline => conflict = true,
                    Some(_) => {}
                    None => found = Some((discipline, (start, end))),
                }
            }
        }
        match found {
            Some((discipline, at)) if !conflict => {
                let role = if assistant && discipline != Discipline::Slp {
                    Role::Assistant
                } else {
                    Role::Therapist
                };
                (discipline, role, DisciplineSource::Modifiers, at)
            }
            _ => (
                Discipline::Other,
                Role::Other,
                DisciplineSource::NotStated,
                provider_at,
            ),
        }
    }
}
