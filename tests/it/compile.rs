//! The compiled form: rules indexed by code and date, sets evaluated per date,
//! inheritance applied, pairs looked up in O(1).

use ppl::codes::ProcedureCode;
use ppl::compile::{compile, CompiledPolicies};

fn compiled(path: &str) -> CompiledPolicies {
    let checked = ppl::check::check_paths(&[path.into()]).expect("readable");
    assert!(!checked.has_errors(), "{path} should check clean");
    compile(&checked).expect("compiles")
}

fn code(text: &str) -> ProcedureCode {
    ProcedureCode::parse(text).expect("valid code")
}

fn date(text: &str) -> ppl::Date {
    ppl::syntax::parse_date(text).expect("valid date")
}

fn rule_ids(policies: &CompiledPolicies, payer: &str, code_text: &str, on: &str) -> Vec<String> {
    let policy = policies.payers.get(payer).expect("payer compiled");
    let mut ids: Vec<String> = policy
        .rules_for(code(code_text), date(on))
        .map(|rule| rule.id.to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn rules_apply_by_code_and_date_of_service() {
    let policies = compiled("tests/fixtures/check/ok/every-construct.ppl");
    // 97550 joins the timed set from 2024: the midpoint rule (from 2024) applies to it then.
    let in_2024 = rule_ids(&policies, "example-everything", "97550", "2024-06-01");
    assert!(
        in_2024.contains(&"example.units.midpoint".to_owned()),
        "{in_2024:?}"
    );
    let in_2023 = rule_ids(&policies, "example-everything", "97550", "2023-06-01");
    assert!(
        !in_2023
            .iter()
            .any(|id| id.starts_with("example.units.midpoint")
                || id.starts_with("example.units.visit-cap")),
        "{in_2023:?}"
    );
    // The KX rule is dated 2025-2026 and has no `codes`: it applies to any line then only.
    assert!(
        rule_ids(&policies, "example-everything", "97535", "2026-03-02")
            .contains(&"example.kx".to_owned())
    );
    assert!(
        !rule_ids(&policies, "example-everything", "97535", "2027-01-01")
            .contains(&"example.kx".to_owned())
    );
    // A code no rule names gets only the rules without `codes` (the MUE cap reads its table).
    let unrelated = rule_ids(&policies, "example-everything", "99213", "2026-03-02");
    assert!(
        unrelated.contains(&"example.units.daily-cap".to_owned()),
        "{unrelated:?}"
    );
    assert!(
        !unrelated.contains(&"example.units.midpoint".to_owned()),
        "{unrelated:?}"
    );
}

#[test]
fn a_child_inherits_overrides_and_removes_rules() {
    let policies = compiled("tests/fixtures/check/ok/extends");
    let child = rule_ids(&policies, "example-child", "97535", "2026-03-02");
    assert_eq!(child, ["child.prior-auth", "parent.keep", "parent.replace"]);
    let policy = policies.payers.get("example-child").expect("child");
    let replace: Vec<_> = policy
        .rules
        .iter()
        .filter(|rule| &*rule.id == "parent.replace")
        .collect();
    assert_eq!(
        replace.len(),
        2,
        "both override versions replace the parent's one"
    );
    assert!(replace
        .iter()
        .all(|rule| rule.location.file.ends_with("child.ppl")));
    let parent = rule_ids(&policies, "example-parent", "97535", "2026-03-02");
    assert_eq!(parent, ["parent.drop", "parent.keep", "parent.replace"]);
}

#[test]
fn inline_pair_tables_honour_row_dates() {
    let policies = compiled("tests/fixtures/check/ok/every-construct.ppl");
    let policy = policies.payers.get("example-everything").expect("payer");
    let pairing = policy
        .rules
        .iter()
        .find(|rule| &*rule.id == "example.pairs")
        .expect("pairing rule");
    let ppl::compile::RuleCheck::Pairing { table, bypass } = &pairing.check else {
        panic!("pairing rule compiles to a pairing check");
    };
    assert_eq!(bypass.len(), 5);
    let table = table.on(date("2024-06-01")).expect("table in force");
    assert!(table
        .edit_on(code("97535"), code("97530"), date("2024-06-01"))
        .is_some());
    assert!(table
        .edit_on(code("97140"), code("97530"), date("2024-06-01"))
        .is_some());
    assert!(table
        .edit_on(code("97140"), code("97530"), date("2025-01-01"))
        .is_none());
    assert!(table
        .edit_on(code("97110"), code("97530"), date("2024-06-01"))
        .is_none());
}

#[test]
fn inline_daily_caps_honour_row_dates() {
    let policies = compiled("tests/fixtures/check/ok/every-construct.ppl");
    let policy = policies.payers.get("example-everything").expect("payer");
    let cap_rule = policy
        .rules
        .iter()
        .find(|rule| &*rule.id == "example.units.daily-cap")
        .expect("cap rule");
    let ppl::compile::RuleCheck::Units(ppl::compile::UnitsCheck::DailyCapTable(table)) =
        &cap_rule.check
    else {
        panic!("daily cap rule compiles to a cap table");
    };
    let cap = |code_text: &str, on: &str| {
        table
            .limit_on(code(code_text), date(on))
            .map(|limit| limit.max_units)
    };
    assert_eq!(cap("97535", "2025-06-01"), Some(4));
    assert_eq!(cap("97535", "2026-01-01"), Some(6));
    assert_eq!(cap("97530", "2026-01-01"), Some(6));
    assert_eq!(cap("97110", "2026-01-01"), None);
}

#[test]
fn a_table_read_from_several_cms_files_has_the_rows_of_all() {
    let policies = compiled("tests/fixtures/check/ok/tables-from-files");
    let policy = policies.payers.get("example-files").expect("payer");
    let rule = policy
        .rules
        .iter()
        .find(|rule| &*rule.id == "example.ptp")
        .expect("pairing rule");
    let ppl::compile::RuleCheck::Pairing { table, .. } = &rule.check else {
        panic!("pairing rule compiles to a pairing check");
    };
    assert!(
        table.on(date("2019-12-31")).is_none(),
        "the table starts in 2020"
    );
    let table = table
        .on(date("2024-06-01"))
        .expect("table in force from 2020");
    // From the first file, still active; from the second, deleted on 2025-01-01.
    assert!(table
        .edit_on(code("97530"), code("97140"), date("2026-01-01"))
        .is_some());
    assert!(table
        .edit_on(code("97530"), code("97535"), date("2024-12-31"))
        .is_some());
    assert!(table
        .edit_on(code("97530"), code("97535"), date("2025-01-01"))
        .is_none());
}

#[test]
fn a_policy_version_starts_wherever_a_rule_starts_or_stops() {
    let policies = compiled("policies");
    let medicare = policies.payers.get("medicare-part-b").expect("medicare");
    let version = |on: &str| medicare.version_on(date(on));
    // The targeted-review rules end 2027-12-31: 2028 is another version, not 2027's.
    assert_eq!(version("2027-12-31"), "medicare-part-b@2027-01-01");
    assert_eq!(version("2028-01-01"), "medicare-part-b@2028-01-01");
    // The CAA 2026 telehealth window starts 2026-01-31, inside one rule version.
    assert_eq!(version("2026-01-30"), "medicare-part-b@2026-01-01");
    assert_eq!(version("2026-03-02"), "medicare-part-b@2026-01-31");
    assert_eq!(version("1990-01-01"), "medicare-part-b@base");
}
