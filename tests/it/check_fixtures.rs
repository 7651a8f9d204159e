//! `tests/fixtures/check/{ok,err}/`: every entry (a `.ppl` file, or a folder of
//! them checked together) must check clean (`ok/`) or give at least one error
//! (`err/`). The expectation is asserted before the rendered diagnostics are
//! snapshotted, human (no colour, width 80) and JSON.

use std::path::{Path, PathBuf};

use ppl::check;
use ppl::diagnostics::{render_human, render_json};

fn entries(folder: &str) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("cannot read {folder}: {error}"))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir() || path.extension().is_some_and(|ext| ext == "ppl"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "{folder} has no fixtures");
    entries
}

fn name(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn checked(path: &Path) -> check::Checked {
    check::check_paths(&[path.to_path_buf()]).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn ok_fixtures_check_clean() {
    for path in entries("tests/fixtures/check/ok") {
        let checked = checked(&path);
        let rendered = render_human(&checked.diagnostics, &checked.workspace.sources, false, 80);
        assert!(
            checked.diagnostics.is_empty(),
            "{} should check clean (no errors, no warnings):\n{rendered}",
            path.display()
        );
        assert!(
            ppl::compile::compile(&checked).is_ok(),
            "{} should compile",
            path.display()
        );
    }
}

#[test]
fn err_fixtures_give_errors_and_match_their_snapshots() {
    for path in entries("tests/fixtures/check/err") {
        let checked = checked(&path);
        let rendered = render_human(&checked.diagnostics, &checked.workspace.sources, false, 80);
        assert!(
            checked.has_errors(),
            "{} should give at least one error:\n{rendered}",
            path.display()
        );
        let json = render_json(
            &checked.diagnostics,
            &checked.workspace.sources,
            checked.workspace.files.len(),
        );
        let name = name(&path);
        insta::with_settings!({ snapshot_path => "snapshots/check", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{name}.human"), rendered);
            insta::assert_json_snapshot!(format!("{name}.json"), json);
        });
    }
}
