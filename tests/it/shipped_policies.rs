//! The shipped policies check clean, format as they are, and compile.

#[test]
fn shipped_policies_check_clean_without_warnings() {
    let checked = ppl::check::check_paths(&["policies".into()]).expect("policies/ is readable");
    let rendered = ppl::diagnostics::render_human(
        &checked.diagnostics,
        &checked.workspace.sources,
        false,
        100,
    );
    assert!(
        checked.diagnostics.is_empty(),
        "policies/ should check clean:\n{rendered}"
    );
    let compiled = ppl::compile::compile(&checked).expect("compiles");
    assert!(compiled.payers.contains_key("medicare-part-b"));
}
