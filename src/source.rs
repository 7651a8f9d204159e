//! The policy sources of one run, by id, with line and column lookup.

use std::path::{Path, PathBuf};

/// Bytes as text, or where they stop being UTF-8: `line 3, column 7`.
pub fn utf8_text(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let before = error.as_bytes().get(..valid).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
        let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
            .chars()
            .count()
            + 1;
        format!(
            "not UTF-8 text: the bytes at line {line}, column {column} (byte {valid}) are not UTF-8; save the file as UTF-8"
        )
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

struct SourceFile {
    path: PathBuf,
    /// The text, named by its path for miette's report header.
    named: miette::NamedSource<String>,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
}

/// Every policy file read in one run.
#[derive(Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let path = path.into();
        let named = miette::NamedSource::new(path.display().to_string(), text);
        self.files.push(SourceFile {
            path,
            named,
            line_starts,
        });
        id
    }

    fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn path(&self, id: FileId) -> &Path {
        self.file(id)
            .map_or(Path::new(""), |file| file.path.as_path())
    }

    pub fn text(&self, id: FileId) -> &str {
        self.file(id).map_or("", |file| file.named.inner().as_str())
    }

    /// The file as miette renders it.
    pub fn named(&self, id: FileId) -> Option<&miette::NamedSource<String>> {
        self.file(id).map(|file| &file.named)
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len()).map(|index| FileId(u32::try_from(index).unwrap_or(u32::MAX)))
    }

    /// The byte range of the lines around `start..end`, with up to `before`
    /// lines above and `after` lines below, and the 0-based index of its first line.
    pub fn window(
        &self,
        id: FileId,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> (std::ops::Range<usize>, usize) {
        let Some(file) = self.file(id) else {
            return (0..0, 0);
        };
        let text_len = file.named.inner().len();
        let line_of = |offset: usize| {
            file.line_starts
                .partition_point(|&s| s <= offset)
                .saturating_sub(1)
        };
        let first_line = line_of(start).saturating_sub(before);
        let last_line = line_of(end) + after + 1;
        let window_start = file.line_starts.get(first_line).copied().unwrap_or(0);
        let window_end = file
            .line_starts
            .get(last_line + 1)
            .copied()
            .unwrap_or(text_len)
            .min(text_len);
        (window_start..window_end, first_line)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, id: FileId, offset: usize) -> (usize, usize) {
        let Some(file) = self.file(id) else {
            return (1, 1);
        };
        let line_index = file
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let line_start = file.line_starts.get(line_index).copied().unwrap_or(0);
        let column = file
            .named
            .inner()
            .get(line_start..offset.min(file.named.inner().len()))
            .map_or(0, |prefix| prefix.chars().count());
        (line_index + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_utf8_says_where() {
        assert_eq!(utf8_text(b"ok\n".to_vec()), Ok("ok\n".to_owned()));
        let error = utf8_text(b"payer p\n# caf\xe9\n".to_vec()).unwrap_err();
        assert!(error.contains("line 2, column 6"), "{error}");
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let mut sources = SourceMap::new();
        let id = sources.add("a.ppl", "ab\n§cd\n");
        assert_eq!(sources.line_column(id, 0), (1, 1));
        assert_eq!(sources.line_column(id, 3), (2, 1));
        // `c` comes after the two-byte `§`: byte 5, second character of line 2.
        assert_eq!(sources.line_column(id, 5), (2, 2));
        assert_eq!(sources.line_column(id, 8), (3, 1));
    }
}
