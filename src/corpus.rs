//! A synthetic claim corpus in NDJSON, for measuring `ppl diff` and testing it
//! at scale. Deterministic: the same count gives the same bytes. Every claim is
//! made up (ids `SYN-…`, a test NPI); no patient data.
//!
//! The claims spread over every shipped payer, 2024-2026 dates of service,
//! PT/OT/SLP, one to four lines of common therapy codes, minutes that do and do
//! not support the units billed, charges (one line in twenty has none), and
//! year-to-date allowed amounts on both sides of the KX thresholds, so a
//! changed threshold or rule moves some claims and not others. One line in
//! `bad_every` (when non-zero) is not valid JSON, to exercise error reporting.

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

const CODES: [&str; 9] = [
    "97110", "97112", "97140", "97530", "97535", "97116", "97161", "92507", "97150",
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
    let (discipline, modifier) = match stream.below(3) {
        0 => ("PT", "GP"),
        1 => ("OT", "GO"),
        _ => ("SLP", "GN"),
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
    let line_count = 1 + stream.below(4);
    let mut lines = Vec::new();
    let mut total_minutes = 0;
    for _ in 0..line_count {
        let code = stream.pick(&CODES);
        let minutes = 5 + stream.below(40);
        total_minutes += minutes;
        // Mostly the units the minutes support; sometimes one more.
        let units = ((minutes + 7) / 15).max(1) + u64::from(stream.below(8) == 0);
        let mut modifiers = Vec::new();
        if stream.below(20) != 0 {
            modifiers.push(modifier);
        }
        if role == "assistant" && stream.below(2) == 0 {
            modifiers.push(if discipline == "OT" { "CO" } else { "CQ" });
        }
        if stream.below(6) == 0 {
            modifiers.push("KX");
        }
        let mut line = json!({
            "code": code,
            "modifiers": modifiers,
            "units": units,
            "minutes": minutes,
        });
        if stream.below(20) != 0 {
            let cents = 3_000 + stream.below(12_000);
            set(&mut line, "charge", json!(cents as f64 / 100.0));
        }
        lines.push(line);
    }
    let allowed = |stream: &mut Stream| stream.below(350_000) as f64 / 100.0;
    let mut claim = json!({
        "id": format!("SYN-{index:07}"),
        "payer": payer,
        "date_of_service": date,
        "place_of_service": if stream.below(10) == 0 { "02" } else { "11" },
        "provider": { "npi": "1234567893", "discipline": discipline, "role": role },
        "diagnoses": [if stream.below(15) == 0 { "Z71.89" } else { "I69.351" }],
        "lines": lines,
        "history": {
            "visits_this_year": stream.below(30),
            "therapy_allowed_ytd": { "pt_slp": allowed(stream), "ot": allowed(stream) }
        },
    });
    if stream.below(10) != 0 {
        set(
            &mut claim,
            "documentation",
            json!({
                "objective": "Synthetic session objective",
                "functional_goals": ["Synthetic functional goal"],
                "total_timed_minutes": total_minutes,
                "total_treatment_minutes": total_minutes,
                "plan_of_care": {
                    "established": format!("{year}-01-01"),
                    "certified": format!("{year}-01-03"),
                    "through": format!("{year}-12-31")
                },
                "visits_since_progress_report": stream.below(12)
            }),
        );
    }
    if stream.below(3) == 0 {
        set(
            &mut claim,
            "prior_authorization",
            json!({
                "number": format!("SYN-PA-{index}"),
                "codes": CODES,
                "units": 4 + stream.below(8),
                "from": format!("{year}-01-01"),
                "through": format!("{year}-12-31")
            }),
        );
    }
    claim
}

fn set(object: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(object) = object.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
}
