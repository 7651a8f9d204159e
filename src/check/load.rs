//! Reading policy files: the paths a user names, and the policies and
//! libraries they `extend` or `include` by id.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::source::{FileId, SourceMap};
use crate::syntax::{self, ItemKind, PolicyFile};

/// A path on the command line that could not be read at all (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{path}`: {reason}")]
pub struct LoadError {
    pub path: PathBuf,
    pub reason: String,
}

/// One parsed policy file.
pub struct LoadedFile {
    pub id: FileId,
    pub path: PathBuf,
    /// `None` when the file's header could not be parsed.
    pub ast: Option<PolicyFile>,
    /// Named on the command line (or found in a named folder), not only reached by id.
    pub named: bool,
}

/// Where policy and data files are read from.
#[derive(Clone, Copy, Default)]
pub enum FileSource {
    /// The file system.
    #[default]
    Disk,
    /// Files built into the binary: (path, bytes).
    Embedded(&'static [(&'static str, &'static [u8])]),
}

impl FileSource {
    /// Opens a file for reading, line by line.
    pub fn open(&self, path: &Path) -> std::io::Result<Box<dyn std::io::BufRead>> {
        match self {
            FileSource::Disk => Ok(Box::new(std::io::BufReader::new(std::fs::File::open(
                path,
            )?))),
            FileSource::Embedded(files) => {
                let wanted = normalize(path);
                files
                    .iter()
                    .find(|(name, _)| Path::new(name) == wanted)
                    .map(|(_, bytes)| {
                        Box::new(std::io::Cursor::new(*bytes)) as Box<dyn std::io::BufRead>
                    })
                    .ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "not among the built-in policy files",
                        )
                    })
            }
        }
    }

    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        let mut text = String::new();
        self.open(path)?.read_to_string(&mut text)?;
        Ok(text)
    }
}

/// `policies/lib/../data/x.txt` → `policies/data/x.txt`, without the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<std::path::Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(parts.last(), Some(std::path::Component::Normal(_))) =>
            {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

/// Every policy file of one run.
#[derive(Default)]
pub struct Workspace {
    /// Where the files are read from.
    pub source: FileSource,
    pub sources: SourceMap,
    pub files: Vec<LoadedFile>,
    /// Policy id → index into `files` (the first file that declares it).
    pub by_policy_id: BTreeMap<String, usize>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Workspace {
    /// Reads the `.ppl` files at `paths` (folders are searched recursively, in
    /// name order, so every run sees the same files in the same order).
    pub fn load(paths: &[PathBuf]) -> Result<Self, LoadError> {
        let mut workspace = Workspace::default();
        let mut found = Vec::new();
        for path in paths {
            collect(path, &mut found)?;
        }
        found.sort();
        found.dedup();
        for path in found {
            let bytes = std::fs::read(&path).map_err(|error| LoadError {
                path: path.clone(),
                reason: error.to_string(),
            })?;
            let text = crate::source::utf8_text(bytes).map_err(|reason| LoadError {
                path: path.clone(),
                reason,
            })?;
            workspace.add(path, text, true);
        }
        Ok(workspace)
    }

    /// The shipped policies built into the binary (see `build.rs`).
    pub fn embedded() -> Self {
        let files = crate::embedded::FILES;
        let mut workspace = Workspace {
            source: FileSource::Embedded(files),
            ..Workspace::default()
        };
        for (name, bytes) in files {
            if name.ends_with(".ppl") {
                let text = String::from_utf8_lossy(bytes).into_owned();
                workspace.add(PathBuf::from(name), text, true);
            }
        }
        workspace
    }

    /// Adds one policy text (used by `load`, by tests and by the fuzz target).
    pub fn add(&mut self, path: PathBuf, text: String, named: bool) -> usize {
        let id = self.sources.add(path.clone(), text);
        let parsed = syntax::parse(self.sources.text(id), id);
        self.diagnostics.extend(parsed.diagnostics);
        let index = self.files.len();
        if let Some(ast) = &parsed.file {
            self.by_policy_id
                .entry(ast.header.id.value.clone())
                .or_insert(index);
        }
        self.files.push(LoadedFile {
            id,
            path,
            ast: parsed.file,
            named,
        });
        index
    }

    /// Finds the policy `id`: among the files read, else as `ID.ppl` next to
    /// `from` or in its `lib/` folder (read and parsed on first use).
    pub fn find(&mut self, id: &str, from: &Path) -> Option<usize> {
        if let Some(&index) = self.by_policy_id.get(id) {
            return Some(index);
        }
        let folder = from.parent().unwrap_or(Path::new("."));
        let file_name = format!("{id}.ppl");
        for candidate in [folder.join(&file_name), folder.join("lib").join(&file_name)] {
            if self.files.iter().any(|file| file.path == candidate) {
                continue;
            }
            if let Ok(text) = self.source.read_to_string(&candidate) {
                let index = self.add(candidate, text, false);
                if self.by_policy_id.get(id) == Some(&index) {
                    return Some(index);
                }
            }
        }
        None
    }

    /// The ids a policy file names with `extends` and `include`.
    pub fn dependencies(&self, index: usize) -> Vec<String> {
        let Some(ast) = self.files.get(index).and_then(|file| file.ast.as_ref()) else {
            return Vec::new();
        };
        ast.items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Extends(id) | ItemKind::Include(id) => Some(id.value.clone()),
                _ => None,
            })
            .collect()
    }
}

fn collect(path: &Path, found: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let metadata = std::fs::metadata(path).map_err(|error| LoadError {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    if metadata.is_file() {
        found.push(path.to_owned());
        return Ok(());
    }
    let files = crate::files::files_under(path, &["ppl"]).map_err(|walk| LoadError {
        path: walk.path,
        reason: walk.error.to_string(),
    })?;
    found.extend(files);
    Ok(())
}
