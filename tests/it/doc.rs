//! `ppl doc PAYER`: the Markdown page billers read. The shipped payers' pages
//! are snapshots (read them as a biller would when they change); the tests
//! below pin what a biller relies on: inheritance marked, `--as-of` leaving out
//! what is not in force, overrides and removals shown, errors said plainly.

use super::run::Run;
use std::path::Path;

fn ppl(args: &[&str]) -> Run {
    super::run::ppl_in(None, args, None)
}

/// The section of the page under `### `RULE``, up to the next rule.
fn section<'a>(page: &'a str, rule: &str) -> &'a str {
    let heading = format!("### `{rule}`\n");
    let start = page
        .find(&heading)
        .unwrap_or_else(|| panic!("no section for {rule}"));
    let rest = &page[start + heading.len()..];
    let end = rest
        .find("\n### ")
        .or_else(|| rest.find("\n## "))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn medicare_part_b_page() {
    let run = ppl(&["doc", "medicare-part-b"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("doc-medicare-part-b", run.stdout);
}

#[test]
fn medicare_advantage_page() {
    let run = ppl(&["doc", "medicare-advantage-example"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("doc-medicare-advantage-example", run.stdout);
}

#[test]
fn medicare_advantage_page_as_of_a_date() {
    let run = ppl(&["doc", "medicare-advantage-example", "--as-of", "2026-03-02"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(
        "doc-medicare-advantage-example-as-of-2026-03-02",
        run.stdout
    );
}

#[test]
fn inherited_rules_are_marked_and_the_plans_own_are_not() {
    let page = ppl(&["doc", "medicare-advantage-example"]).stdout;
    assert!(page.contains("This policy **extends `medicare-part-b`**"));
    assert!(section(&page, "medicare.units.eight-minute")
        .contains("*Inherited from `medicare-part-b`.*"));
    let own = section(&page, "medicare-advantage-example.pa.authorization");
    assert!(own.contains("*This payer's own requirement.*"), "{own}");
    assert!(!own.contains("Inherited"));
    assert!(own.contains("**Denied**, expect CARC 197"));
    // A payer that extends nothing marks nothing.
    let base = ppl(&["doc", "medicare-part-b"]).stdout;
    assert!(!base.contains("Inherited from"));
    assert!(!base.contains("own requirement"));
}

#[test]
fn as_of_keeps_only_what_is_in_force_that_day() {
    let page = ppl(&["doc", "medicare-advantage-example", "--as-of", "2024-06-01"]).stdout;
    // Prior authorization starts 2024-09-01.
    assert!(!page.contains("pa.authorization"), "{page}");
    // The 2024 KX threshold, not the other years'.
    assert!(page.contains("| `kx_threshold_pt_slp` | $2,330.00 |"));
    assert!(!page.contains("$2,480.00"));
    // One version of the PTP rule: the 2015 one, without a per-version heading.
    let ptp = section(&page, "ncci.ptp");
    assert!(!ptp.contains("####"), "{ptp}");
    assert!(ptp.contains("59, XE, XP, XS or XU"));
    // The code list as of that date: caregiver training joins the telehealth list in 2025.
    let telehealth = section(&page, "medicare.telehealth.therapy");
    assert!(!telehealth.contains("97550"), "{telehealth}");
    assert!(telehealth.contains("- from 2020-03-01 through 2024-12-31"));
    assert!(!telehealth.contains("2025-04-01"));

    let later = ppl(&["doc", "medicare-advantage-example", "--as-of", "2028-01-01"]).stdout;
    assert!(section(&later, "medicare.telehealth.therapy")
        .contains("none covers 2028-01-01, so telehealth is not covered then"));
}

#[test]
fn without_as_of_every_version_is_shown_with_its_dates() {
    let page = ppl(&["doc", "medicare-part-b"]).stdout;
    let ptp = section(&page, "ncci.ptp");
    assert!(ptp.contains("#### Through 2014-12-31"));
    assert!(ptp.contains("#### From 2015-01-01"));
    let telehealth = section(&page, "medicare.telehealth.therapy");
    assert!(telehealth.contains("through 2024-12-31: 97110"));
    assert!(telehealth.contains("from 2025-01-01: 97110"));
    assert!(page.contains("| `kx_threshold_ot` | $2,150.00 | from 2022-01-01 through 2022-12-31 |"));
}

#[test]
fn family_settings_read_as_sentences() {
    let page = ppl(&["doc", "medicare-part-b"]).stdout;
    assert!(section(&page, "medicare.units.eight-minute").contains("counted by the 8-minute rule"));
    assert!(section(&page, "medicare.modifier.discipline")
        .contains("GP for PT, GO for OT and GN for SLP"));
    let kx = section(&page, "medicare.threshold.kx-pt-slp");
    assert!(kx.contains("the payer requires that the line's modifiers include KX."));
    assert!(kx.contains("- **As the policy writes it:** `for line`"));
    assert!(page.contains("- `always_therapy`: 92507"));
}

/// A plan that extends Medicare, overrides one rule and removes another.
const CHILD: &str = r#"payer child-plan "Child Plan (test)"

extends medicare-part-b

remove rule medicare.coding.caregiver-training

override rule medicare.units.eight-minute units {
  codes timed
  method midpoint
  message "{line.code}: {units_billed} billed, {units_supported} supported"
}
"#;

#[test]
fn overrides_and_removals_are_shown() {
    let folder = tempfile::tempdir().unwrap();
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for name in [
        "medicare-part-b.ppl",
        "lib/therapy-codes.ppl",
        "lib/ncci.ppl",
    ] {
        let target = folder.path().join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(policies.join(name), target).unwrap();
    }
    std::fs::create_dir_all(folder.path().join("data")).unwrap();
    for name in ["ptp-practitioner-sample.txt", "mue-practitioner-sample.csv"] {
        std::fs::copy(
            policies.join("data").join(name),
            folder.path().join("data").join(name),
        )
        .unwrap();
    }
    std::fs::write(folder.path().join("child-plan.ppl"), CHILD).unwrap();
    let output = folder.path().join("child.md");
    let run = ppl(&[
        "doc",
        "child-plan",
        "--policies",
        folder.path().to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "", "the page goes to the file");
    let page = std::fs::read_to_string(output).unwrap();
    assert!(page.starts_with("# Child Plan (test)\n"));
    let units = section(&page, "medicare.units.eight-minute");
    assert!(units.contains("*Overrides the rule of the same id in `medicare-part-b`.*"));
    assert!(units.contains("midpoint rule"), "{units}");
    assert!(units.contains("`child-plan.ppl` line") || units.contains("child-plan.ppl"));
    assert!(page.contains(
        "## Removed requirements\n\nThese requirements of `medicare-part-b` do not apply to this payer:\n\n- `medicare.coding.caregiver-training`"
    ));
    assert!(!page.contains("### `medicare.coding.caregiver-training`"));
}

#[test]
fn an_unknown_payer_or_date_is_an_error() {
    let run = ppl(&["doc", "medicare-part-c"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no payer policy has the id `medicare-part-c`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("medicare-part-b"), "{}", run.stderr);
    let run = ppl(&["doc", "medicare-part-b", "--as-of", "2026-02-30"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not a date"), "{}", run.stderr);
}
