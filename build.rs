//! Builds the shipped policies (`policies/`, with their data files) into the
//! binary, so `ppl eval` works from any directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, found);
        } else {
            found.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let policies = root.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut files = Vec::new();
    collect(&policies, &mut files);
    let mut out = String::from("/// The shipped policies and data files: (path relative to the repository, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file.strip_prefix(&root).unwrap_or(file);
        let name = relative.to_string_lossy().replace('\\', "/");
        let _ = writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            file.display().to_string()
        );
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_policies.rs");
    if let Err(error) = std::fs::write(&target, out) {
        println!("cargo:warning=cannot write {}: {error}", target.display());
    }
}
