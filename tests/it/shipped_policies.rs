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

#[test]
fn the_policies_built_into_the_binary_are_the_shipped_ones_and_check_clean() {
    let workspace = ppl::check::Workspace::embedded();
    let paths: Vec<String> = workspace
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert!(
        paths.contains(&"policies/medicare-part-b.ppl".to_owned()),
        "{paths:?}"
    );
    let checked = ppl::check::check(workspace);
    let rendered = ppl::diagnostics::render_human(
        &checked.diagnostics,
        &checked.workspace.sources,
        false,
        100,
    );
    assert!(checked.diagnostics.is_empty(), "{rendered}");
    let compiled = ppl::compile::compile(&checked).expect("compiles");
    let medicare = compiled.payers.get("medicare-part-b").expect("medicare");
    // The NCCI sample tables were read from the built-in data files too.
    assert!(medicare.rules.iter().any(|rule| &*rule.id == "ncci.ptp"));
}
