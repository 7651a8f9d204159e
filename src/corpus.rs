//! A synthetic claim corpus in NDJSON, for measuring batches (`ppl eval`,
//! `ppl diff`) and testing them at scale. Deterministic: the same count gives
//! the same bytes. Every claim is made up (ids `SYN-…`, a test NPI, made-up
//! members); no patient data.
//!
//! The claims look like a therapy practice's day: every shipped payer (Medicare
//! Part B weighted double), 2024-2026 dates of service, PT/OT/SLP each with its
//! own codes, one to five lines, timed codes billed by the minute and untimed
//! ones (evaluations, group therapy, SLP treatment) billed as one unit, charges,
//! a member, diagnosis pointers, a session note on most claims, and year-to-date
//! allowed amounts on both sides of the KX thresholds. About 1 KB a claim.
//!
//! The usual billing mistakes come at roughly the rates practices report (a
//! tenth of claims or so carries one): a missing GP/GO/GN modifier (1 line in
//! 25), one unit more than the minutes support (1 timed line in 12), two units
//! of an untimed code (1 in 30), a missing session note (1 claim in 10), KX where
//! it is not due or missing where it is, telehealth on an office place of
//! service, a non-covered diagnosis (1 in 15), and NCCI pairs without a
//! distinct-service modifier when the codes fall that way. One line in
//! `bad_every` (when non-zero) is not valid JSON, to exercise error records.

use std::io::Write;

/// The payers of the shipped policies, Medicare Part B weighted double.
const PAYERS: [&str; 6] = [
    "medicare-part-b",
    "medicare-part-b",
    "medicare-advantage-example",
    "commercial-ppo-example",
    "commercial-hmo-example",
    "medicaid-example",
];

/// Codes of the three disciplines; the untimed ones are in [`UNTIMED`].
const PT_CODES: [&str; 9] = [
    "97110", "97110", "97112", "97116", "97140", "97530", "97161", "97162", "97150",
];
const OT_CODES: [&str; 8] = [
    "97110", "97530", "97535", "97140", "97112", "97165", "97166", "97150",
];
const SLP_CODES: [&str; 5] = ["92507", "92507", "92526", "92523", "97535"];
/// Billed once a session whatever its length.
const UNTIMED: [&str; 8] = [
    "97161", "97162", "97165", "97166", "97150", "92507", "92526", "92523",
];

/// NCCI pairs (of the sample PTP table) a distinct-service modifier may bypass,
/// and pairs it may not, which practices rarely bill together.
const BYPASSABLE_PAIRS: [(&str, &str); 8] = [
    ("97140", "97530"),
    ("97530", "97535"),
    ("97530", "97116"),
    ("97161", "97140"),
    ("97162", "97140"),
    ("97150", "97110"),
    ("97150", "97112"),
    ("97150", "97116"),
];
const NEVER_PAIRS: [(&str, &str); 9] = [
    ("97161", "97530"),
    ("97161", "97150"),
    ("97162", "97530"),
    ("97162", "97150"),
    ("97165", "97530"),
    ("97165", "97150"),
    ("97166", "97530"),
    ("97166", "97150"),
    ("97162", "97161"),
];

fn paired(pairs: &[(&str, &str)], billed: &[&str], code: &str) -> bool {
    pairs
        .iter()
        .any(|&(a, b)| (a == code && billed.contains(&b)) || (b == code && billed.contains(&a)))
}

const DIAGNOSES: [&str; 6] = [
    "I69.351", "M54.50", "M25.561", "R26.89", "R13.12", "S83.511A",
];

const GOALS: [&str; 4] = [
    "Walk 150 feet with a rolling walker, no rest, within 6 weeks",
    "Dress upper body on his own in under 10 minutes",
    "Swallow thin liquids with no signs of aspiration at meals",
    "Climb 12 stairs with one rail and standby assistance",
];

/// A small deterministic generator (SplitMix64): no dependency, same stream everywhere.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(index).copied().unwrap_or_default()
    }
}

/// Writes `count` claims, one JSON object a line.
pub fn write_sample_corpus(
    mut out: impl Write,
    count: usize,
    bad_every: usize,
) -> std::io::Result<()> {
    let mut stream = Stream(0x5EED_C1A1);
    for index in 0..count {
        if bad_every > 0 && index % bad_every == bad_every - 1 {
            writeln!(
                out,
                "{{\"id\": \"SYN-{index:07}\", \"payer\": \"medicare-part-b\" \"lines\": []}}"
            )?;
            continue;
        }
        let claim = sample_claim(&mut stream, index);
        serde_json::to_writer(&mut out, &claim).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn sample_claim(stream: &mut Stream, index: usize) -> serde_json::Value {
    use serde_json::json;
    let payer = stream.pick(&PAYERS);
    let (discipline, modifier, codes, credential, taxonomy): (_, _, &[&str], _, _) =
        match stream.below(3) {
            0 => ("PT", "GP", &PT_CODES, "DPT", "225100000X"),
            1 => ("OT", "GO", &OT_CODES, "OTR/L", "225X00000X"),
            _ => ("SLP", "GN", &SLP_CODES, "CCC-SLP", "235Z00000X"),
        };
    let year = 2024 + stream.below(3);
    let month = 1 + stream.below(12);
    let day = 1 + stream.below(28);
    let date = format!("{year}-{month:02}-{day:02}");
    let role = if stream.below(10) == 0 {
        "assistant"
    } else {
        "therapist"
    };
    let telehealth = stream.below(25) == 0;
    let diagnoses = vec![
        if stream.below(15) == 0 {
            "Z71.89"
        } else {
            stream.pick(&DIAGNOSES)
        },
        stream.pick(&DIAGNOSES),
    ];
    let line_count = 1 + stream.below(5);
    let mut lines = Vec::new();
    let mut total_minutes = 0;
    let mut codes_billed: Vec<&str> = Vec::new();
    let mut units_billed = 0;
    // Year-to-date allowed amounts: most claims below the KX thresholds (about
    // $2,400), some above; KX is mostly on the claims that need it.
    let allowed = |stream: &mut Stream| match stream.below(4) {
        0 => (240_000 + stream.below(150_000)) as f64 / 100.0,
        _ => stream.below(240_000) as f64 / 100.0,
    };
    let (pt_slp, ot) = (allowed(stream), allowed(stream));
    let over_threshold = if discipline == "OT" { ot } else { pt_slp } >= 2_330.0;
    for _ in 0..line_count {
        let code = stream.pick(codes);
        // One line a code; pairs NCCI never allows together only now and then.
        if codes_billed.contains(&code)
            || (paired(&NEVER_PAIRS, &codes_billed, code) && stream.below(20) != 0)
        {
            continue;
        }
        let untimed = UNTIMED.contains(&code);
        // Minutes that support the units both per code and pooled (CMS §20.2).
        let supported = match stream.below(20) {
            0 => 3,
            1..=5 => 2,
            _ => 1,
        };
        let minutes = 15 * supported + stream.below(6);
        total_minutes += minutes;
        let units = if untimed {
            // Untimed: one unit a session; sometimes billed as two.
            1 + u64::from(stream.below(30) == 0)
        } else {
            // Sometimes one unit more than the minutes support.
            supported + u64::from(stream.below(12) == 0)
        };
        let mut modifiers = Vec::new();
        if stream.below(25) != 0 {
            modifiers.push(modifier);
        }
        if role == "assistant" && stream.below(7) != 0 {
            modifiers.push(if discipline == "OT" { "CO" } else { "CQ" });
        }
        if paired(&BYPASSABLE_PAIRS, &codes_billed, code) && stream.below(10) != 0 {
            modifiers.push("59");
        }
        if telehealth && stream.below(4) != 0 {
            modifiers.push("95");
        }
        if (over_threshold && stream.below(12) != 0) || stream.below(40) == 0 {
            modifiers.push("KX");
        }
        modifiers.truncate(4);
        codes_billed.push(code);
        units_billed += units;
        let mut line = json!({
            "code": code,
            "modifiers": modifiers,
            "units": units,
        });
        if !untimed && stream.below(25) != 0 {
            set(&mut line, "minutes", json!(minutes));
        }
        if stream.below(20) != 0 {
            let cents = 3_000 + stream.below(12_000);
            set(&mut line, "charge", json!(cents as f64 / 100.0));
        }
        if stream.below(3) == 0 {
            set(&mut line, "diagnosis_pointers", json!([1, 2]));
        }
        lines.push(line);
    }
    let place = match (telehealth, stream.below(5)) {
        (true, 0) => "11", // telehealth billed as an office visit
        (true, 1 | 2) => "02",
        (true, _) => "10",
        (false, 0) => "22",
        (false, _) => "11",
    };
    let mut claim = json!({
        "id": format!("SYN-{index:07}"),
        "payer": payer,
        "date_of_service": date,
        "place_of_service": place,
        "member": {
            "id": format!("SYNM{:09}", stream.below(1_000_000_000)),
            "birth_date": format!("{}-{:02}-{:02}", 1930 + stream.below(70), 1 + stream.below(12), 1 + stream.below(28))
        },
        "provider": {
            "npi": "1234567893",
            "discipline": discipline,
            "role": role,
            "taxonomy": taxonomy,
            "credential": if role == "assistant" { "PTA" } else { credential }
        },
        "diagnoses": diagnoses,
        "lines": lines,
        "history": {
            "visits_this_year": stream.below(30),
            "therapy_allowed_ytd": { "pt_slp": pt_slp, "ot": ot }
        },
    });
    if stream.below(10) != 0 {
        // A plan of care begun up to 60 days before, signed within days (now and
        // then late), for the 90 days a certification covers (now and then longer).
        let service = crate::Date::new(
            i16::try_from(year).unwrap_or(2026),
            i8::try_from(month).unwrap_or(1),
            i8::try_from(day).unwrap_or(1),
        )
        .unwrap_or_default();
        let established = later(service, -i64::try_from(stream.below(60)).unwrap_or(0));
        let certified_after = if stream.below(40) == 0 {
            45
        } else {
            1 + stream.below(5) as i64
        };
        let lasts = if stream.below(30) == 0 { 120 } else { 89 };
        let mut documentation = json!({
            "objective": "Synthetic session objective: improve safe transfers and gait on level ground",
            "functional_goals": [stream.pick(&GOALS), stream.pick(&GOALS)],
            "performance": "Tolerated the session well; needed two verbal cues",
            "progress": "Progressing toward the goals as planned",
            "total_timed_minutes": total_minutes,
            "total_treatment_minutes": total_minutes + stream.below(10),
            "plan_of_care": {
                "established": established.to_string(),
                "certified": later(established, certified_after).to_string(),
                "through": later(established, lasts).to_string()
            },
            "visits_since_progress_report": if stream.below(25) == 0 { 11 } else { 1 + stream.below(10) }
        });
        if telehealth {
            set(
                &mut documentation,
                "telehealth",
                json!({ "modality": "audio_video", "patient_consent": stream.below(8) != 0 }),
            );
        }
        set(&mut claim, "documentation", documentation);
    }
    // Medicare Part B needs no authorization; the other payers mostly get one.
    let authorized = if payer == "medicare-part-b" {
        stream.below(10) == 0
    } else {
        stream.below(12) != 0
    };
    if authorized {
        set(
            &mut claim,
            "prior_authorization",
            json!({
                "number": format!("SYN-PA-{index}"),
                "codes": codes_billed,
                "units": units_billed + stream.below(8),
                "from": format!("{year}-01-01"),
                "through": format!("{year}-12-31")
            }),
        );
    }
    claim
}

/// `date` moved by `days` (the same date if that leaves the calendar).
fn later(date: crate::Date, days: i64) -> crate::Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(date)
}

fn set(object: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(object) = object.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
}
