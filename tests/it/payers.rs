//! Every shipped payer's behaviour, pinned: each sample claim under
//! `tests/payers/<payer-id>/` is evaluated against the shipped policies and its
//! report is snapshotted twice, as a biller reads it (the human format, no
//! colour, fixed width) and as a billing system reads it (JSON). The snapshots
//! live beside the claims, in `tests/payers/<payer-id>/snapshots/`, so a policy
//! change shows up as reviewed diffs in the payer's own folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ppl::check::Checked;
use ppl::claim::{read_claim, InputFormat};
use ppl::compile::CompiledPolicies;
use ppl::report::{self, ClaimSource, PolicySources};

/// The width of the human snapshots: wide enough that messages wrap rarely.
const HUMAN_WIDTH: usize = 100;

/// Each payer folder must hold at least this many sample claims (issue 4).
const MIN_CLAIMS_PER_PAYER: usize = 12;

struct Shipped {
    checked: Checked,
    compiled: CompiledPolicies,
}

fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let checked = ppl::check::check_paths(&["policies".into()]).expect("policies/");
        let compiled = ppl::compile::compile(&checked).expect("policies compile");
        Shipped { checked, compiled }
    })
}

fn payers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/payers")
}

/// The payer folders: one per shipped payer policy.
fn payer_folders() -> Vec<String> {
    let mut folders: Vec<String> = std::fs::read_dir(payers_dir())
        .expect("tests/payers/")
        .map(|entry| entry.expect("entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    folders
}

#[test]
fn payer_reports() {
    insta::glob!("../payers", "*/*.yaml", |path| {
        let payer = path
            .parent()
            .and_then(Path::file_name)
            .expect("a payer folder")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(path).expect("claim file");
        let claim = read_claim(&text, InputFormat::Yaml)
            .unwrap_or_else(|errors| panic!("{}: claim reads: {errors:?}", path.display()));
        assert_eq!(
            claim.payer.value,
            payer,
            "{}: a claim in the {payer} folder must name that payer",
            path.display()
        );
        let shipped = shipped();
        let report = ppl::eval::evaluate(&claim, &shipped.compiled)
            .unwrap_or_else(|error| panic!("{}: evaluates: {error}", path.display()));

        let file_name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let name = format!("tests/payers/{payer}/{file_name}");
        let source = ClaimSource {
            name: &name,
            text: &text,
        };
        let sources = PolicySources::new(&shipped.checked.workspace.sources);
        let human = report::render_human(&report, &source, &sources, false, HUMAN_WIDTH);
        let json = report::render_json(&report);

        insta::with_settings!({
            snapshot_path => payers_dir().join(&payer).join("snapshots"),
            // `human@eight-minutes.yaml.snap`: named after the claim alone,
            // whatever other payers' folders hold.
            snapshot_suffix => file_name.as_str(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!("human", human);
            insta::assert_snapshot!("json", json);
        });
    });
}

#[test]
fn every_shipped_payer_has_its_folder_of_sample_claims() {
    let compiled = &shipped().compiled;
    let payers: BTreeSet<String> = compiled.payers.keys().cloned().collect();
    let folders: BTreeSet<String> = payer_folders().into_iter().collect();
    assert_eq!(
        payers, folders,
        "tests/payers/ needs exactly one folder per shipped payer policy"
    );
    for payer in &folders {
        let claims = std::fs::read_dir(payers_dir().join(payer))
            .expect("payer folder")
            .filter(|entry| {
                entry
                    .as_ref()
                    .is_ok_and(|entry| entry.path().extension().is_some_and(|ext| ext == "yaml"))
            })
            .count();
        assert!(
            claims >= MIN_CLAIMS_PER_PAYER,
            "tests/payers/{payer}/ has {claims} claims; each payer needs at least {MIN_CLAIMS_PER_PAYER}"
        );
    }
}

/// What `cargo insta test --unreferenced=reject` does, without cargo-insta:
/// a snapshot whose claim was renamed or deleted fails the run instead of
/// lingering as a stale "expected" report nobody checks.
#[test]
fn every_payer_snapshot_belongs_to_a_sample_claim() {
    for payer in payer_folders() {
        let folder = payers_dir().join(&payer);
        let Ok(snapshots) = std::fs::read_dir(folder.join("snapshots")) else {
            continue;
        };
        for snapshot in snapshots {
            let name = snapshot.expect("entry").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
                continue;
            }
            // `human@eight-minutes.yaml.snap` names its claim after the `@`.
            let claim = name
                .strip_suffix(".snap")
                .and_then(|stem| stem.split_once('@'))
                .map(|(_, claim)| claim.to_owned())
                .unwrap_or_else(|| {
                    panic!("tests/payers/{payer}/snapshots/{name}: not a claim snapshot")
                });
            assert!(
                folder.join(&claim).is_file(),
                "tests/payers/{payer}/snapshots/{name} has no claim tests/payers/{payer}/{claim}: delete the snapshot"
            );
        }
    }
}
