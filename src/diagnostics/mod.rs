//! Diagnostics: what `ppl check` says, with stable codes, places and help.
//!
//! Every stage reports through [`Diagnostic`]; the human rendering goes through
//! miette's graphical handler, the machine rendering is our own versioned JSON
//! (byte offsets plus 1-based line and column).

mod codes;
mod render;

pub use codes::DiagnosticCode;
pub use render::{
    graphical_handler, render_human, render_json, JsonReport, WindowedSource, JSON_FORMAT_VERSION,
};

use crate::source::{FileId, SourceMap};
use crate::syntax::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// Where a diagnostic points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A span in a policy file.
    Source { file: FileId, span: Span },
    /// A line (and column) of a data file that is not kept in memory.
    Data {
        path: std::path::PathBuf,
        line: usize,
        column: usize,
    },
    /// A path that could not be read at all.
    Path(std::path::PathBuf),
}

/// A second place a diagnostic points at ("the other version is here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: DiagnosticCode,
    pub level: Level,
    /// Lowercase, no trailing period, user input in backticks.
    pub message: String,
    pub location: Location,
    /// The text under the underline.
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// An error at a span of a policy file; its level comes from the code.
    pub fn new(code: DiagnosticCode, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Self {
            code,
            level: code.level(),
            message: message.into(),
            location: Location::Source { file, span },
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Related {
            file,
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// A stable order: by file path, then position, then code.
    pub fn sort_key(&self, sources: &SourceMap) -> (String, usize, usize, &'static str) {
        match &self.location {
            Location::Source { file, span } => (
                sources.path(*file).display().to_string(),
                span.start,
                span.end,
                self.code.id(),
            ),
            Location::Data { path, line, .. } => {
                (path.display().to_string(), *line, 0, self.code.id())
            }
            Location::Path(path) => (path.display().to_string(), 0, 0, self.code.id()),
        }
    }
}

/// Sorts diagnostics into the order they are reported in.
pub fn sort(diagnostics: &mut [Diagnostic], sources: &SourceMap) {
    diagnostics.sort_by(|a, b| a.sort_key(sources).cmp(&b.sort_key(sources)));
}

/// "did you mean `x`?" over a list of known names, when one is close enough.
pub fn did_you_mean<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in known {
        let score = strsim::jaro_winkler(unknown, candidate);
        if score > 0.8 && best.is_none_or(|(top, _)| score > top) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| format!("did you mean `{name}`?"))
}
