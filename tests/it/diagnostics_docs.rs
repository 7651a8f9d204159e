//! Every diagnostic code has a page in `docs/diagnostics/` (which `ppl explain`
//! prints), and each page's example really gives that code while its fix
//! really checks clean.

use ppl::diagnostics::DiagnosticCode;

/// The first ```ppl block after `heading`, if the page has one.
fn ppl_block<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let section = page.split(heading).nth(1)?;
    let section = section.split("\n## ").next()?;
    let start = section.find("```ppl\n")? + "```ppl\n".len();
    let rest = section.get(start..)?;
    rest.get(..rest.find("```")?)
}

fn check_text(text: &str) -> ppl::check::Checked {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("example.ppl");
    std::fs::write(&path, text).expect("write example");
    ppl::check::check_paths(&[path]).expect("check example")
}

#[test]
fn every_code_has_a_page_with_example_and_fix() {
    for code in DiagnosticCode::ALL {
        let page = code.page();
        let title = format!("# {} {}", code.id(), code.slug());
        assert!(
            page.starts_with(&title),
            "{} page must start with `{title}`",
            code.id()
        );
        assert!(
            page.contains("## Example"),
            "{} page has no `## Example`",
            code.id()
        );
        assert!(
            page.contains("## Fix"),
            "{} page has no `## Fix`",
            code.id()
        );
    }
}

#[test]
fn every_page_belongs_to_a_code() {
    for entry in std::fs::read_dir("docs/diagnostics").expect("docs/diagnostics") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            DiagnosticCode::lookup(&stem).is_some(),
            "{} has no code in the registry",
            path.display()
        );
    }
}

#[test]
fn examples_give_their_code_and_fixes_check_clean() {
    let mut examples = 0;
    for code in DiagnosticCode::ALL {
        let page = code.page();
        if let Some(example) = ppl_block(page, "## Example") {
            examples += 1;
            let checked = check_text(example);
            let found: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.id()).collect();
            assert!(
                found.contains(&code.id()),
                "{} example gives {found:?}",
                code.id()
            );
        }
        if let Some(fix) = ppl_block(page, "## Fix") {
            let checked = check_text(fix);
            let found: Vec<&str> = checked.diagnostics.iter().map(|d| d.code.id()).collect();
            assert!(found.is_empty(), "{} fix still gives {found:?}", code.id());
        }
    }
    assert!(examples >= 30, "only {examples} pages have a ppl example");
}
