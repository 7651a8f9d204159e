//! Finding input files under folders, the same way for every command: in
//! name order (so output order never depends on the file system), recursing
//! into subfolders, keeping the files whose extension is wanted.

use std::io;
use std::path::{Path, PathBuf};

/// A folder that could not be read, and why.
#[derive(Debug)]
pub struct WalkError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// The files under `folder` (and its subfolders) whose extension is one of
/// `extensions` (compared without case), sorted by path.
pub fn files_under(folder: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, WalkError> {
    let mut found = Vec::new();
    walk(folder, extensions, &mut found)?;
    Ok(found)
}

/// Whether `path` has one of `extensions` (compared without case).
pub fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        extensions
            .iter()
            .any(|wanted| e.eq_ignore_ascii_case(wanted))
    })
}

fn walk(folder: &Path, extensions: &[&str], found: &mut Vec<PathBuf>) -> Result<(), WalkError> {
    let failed = |error| WalkError {
        path: folder.to_owned(),
        error,
    };
    let mut children = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(failed)? {
        children.push(entry.map_err(failed)?.path());
    }
    children.sort();
    for child in children {
        if child.is_dir() {
            walk(&child, extensions, found)?;
        } else if has_extension(&child, extensions) {
            found.push(child);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_in_name_order_from_every_subfolder_and_only_with_a_wanted_extension() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        std::fs::create_dir(root.join("b")).unwrap();
        for name in ["z.yaml", "a.YML", "b/c.yaml", "notes.txt", "b/d.json"] {
            std::fs::write(root.join(name), "").unwrap();
        }
        let found = files_under(root, &["yaml", "yml"]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.YML", "b/c.yaml", "z.yaml"]);
        let missing = files_under(&root.join("nowhere"), &["yaml"]).unwrap_err();
        assert_eq!(missing.path, root.join("nowhere"));
    }
}
