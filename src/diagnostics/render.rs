//! Rendering diagnostics for people (miette) and for machines (our JSON).

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use serde::Serialize;

use super::{Diagnostic, Level, Location};
use crate::source::SourceMap;

/// The version of the JSON shape below; bumped only for incompatible changes.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// miette's graphical handler as ppl renders with it, for `check` and `eval`
/// alike: unicode, colour only when asked, no links, a fixed width.
pub fn graphical_handler(color: bool, width: usize) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false)
}

/// Renders with miette's graphical handler. `color` off and a fixed `width`
/// give stable text for tests.
pub fn render_human(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    color: bool,
    width: usize,
) -> String {
    let handler = graphical_handler(color, width);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let source = match diagnostic.location {
            Location::Source { file, .. } => Some(WindowedSource { sources, file }),
            _ => None,
        };
        let view = View { diagnostic, source };
        if handler.render_report(&mut out, &view).is_err() {
            out.push_str(&format!(
                "{}: {}\n",
                diagnostic.code.id(),
                diagnostic.message
            ));
        }
        out.push('\n');
    }
    out
}

/// One diagnostic as miette sees it.
struct View<'a> {
    diagnostic: &'a Diagnostic,
    /// The file the diagnostic points into, read window by window.
    source: Option<WindowedSource<'a>>,
}

/// A policy file as miette reads it: miette finds a span's lines by scanning
/// from the start of the text, so each read is given only the lines around
/// the span (found by binary search), which keeps a run with thousands of
/// diagnostics on a large file linear. `ppl eval` reads policy rules through it too.
pub struct WindowedSource<'a> {
    pub sources: &'a SourceMap,
    pub file: crate::source::FileId,
}

impl SourceCode for WindowedSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let text = self.sources.text(self.file);
        let start = span.offset();
        let end = start + span.len();
        let (window, first_line) = self.sources.window(
            self.file,
            start,
            end,
            context_lines_before,
            context_lines_after,
        );
        let slice = text
            .get(window.clone())
            .ok_or(miette::MietteError::OutOfBounds)?;
        let local = miette::SourceSpan::new(start.saturating_sub(window.start).into(), span.len());
        let contents = slice.read_span(&local, context_lines_before, context_lines_after)?;
        let name = self.sources.path(self.file).display().to_string();
        Ok(Box::new(miette::MietteSpanContents::new_named(
            name,
            contents.data(),
            miette::SourceSpan::new(
                (contents.span().offset() + window.start).into(),
                contents.span().len(),
            ),
            contents.line() + first_line,
            contents.column(),
            contents.line_count(),
        )))
    }
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.diagnostic.location {
            Location::Data { path, line, column } => {
                write!(
                    f,
                    "{}:{line}:{column}: {}",
                    path.display(),
                    self.diagnostic.message
                )
            }
            Location::Path(path) => write!(f, "{}: {}", path.display(), self.diagnostic.message),
            Location::Source { .. } => f.write_str(&self.diagnostic.message),
        }
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.id()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|help| Box::new(help.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        match self.diagnostic.location {
            Location::Source { .. } => self.source.as_ref().map(|source| source as &dyn SourceCode),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let Location::Source { file, span } = self.diagnostic.location else {
            return None;
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            self.diagnostic.label.clone(),
            span,
        )];
        for related in &self.diagnostic.related {
            if related.file == file {
                labels.push(LabeledSpan::new_with_span(
                    Some(related.message.clone()),
                    related.span,
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// `ppl check --format json`: versioned, with byte offsets and 1-based line/column.
#[derive(Serialize)]
pub struct JsonReport {
    pub version: u32,
    pub diagnostics: Vec<JsonDiagnostic>,
    pub summary: JsonSummary,
}

#[derive(Serialize)]
pub struct JsonSummary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    pub message: String,
    pub file: String,
    pub span: Option<JsonSpan>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<JsonRelated>,
}

#[derive(Serialize)]
pub struct JsonSpan {
    /// Byte offsets into the file; null for data files that are not kept in memory.
    pub start: Option<usize>,
    pub end: Option<usize>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Serialize)]
pub struct JsonRelated {
    pub file: String,
    pub span: JsonSpan,
    pub message: String,
}

fn json_span(
    sources: &SourceMap,
    file: crate::source::FileId,
    span: crate::syntax::Span,
) -> JsonSpan {
    let (line, column) = sources.line_column(file, span.start);
    let (end_line, end_column) = sources.line_column(file, span.end);
    JsonSpan {
        start: Some(span.start),
        end: Some(span.end),
        line,
        column,
        end_line,
        end_column,
    }
}

/// Builds the JSON report (serialize it with serde_json).
pub fn render_json(diagnostics: &[Diagnostic], sources: &SourceMap, files: usize) -> JsonReport {
    let items = diagnostics
        .iter()
        .map(|diagnostic| {
            let (file, span) = match &diagnostic.location {
                Location::Source { file, span } => (
                    sources.path(*file).display().to_string(),
                    Some(json_span(sources, *file, *span)),
                ),
                Location::Data { path, line, column } => (
                    path.display().to_string(),
                    Some(JsonSpan {
                        start: None,
                        end: None,
                        line: *line,
                        column: *column,
                        end_line: *line,
                        end_column: *column,
                    }),
                ),
                Location::Path(path) => (path.display().to_string(), None),
            };
            JsonDiagnostic {
                code: diagnostic.code.id(),
                name: diagnostic.code.slug(),
                level: diagnostic.level,
                message: diagnostic.message.clone(),
                file,
                span,
                label: diagnostic.label.clone(),
                help: diagnostic.help.clone(),
                related: diagnostic
                    .related
                    .iter()
                    .map(|related| JsonRelated {
                        file: sources.path(related.file).display().to_string(),
                        span: json_span(sources, related.file, related.span),
                        message: related.message.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    JsonReport {
        version: JSON_FORMAT_VERSION,
        diagnostics: items,
        summary: JsonSummary {
            files,
            errors: diagnostics
                .iter()
                .filter(|d| d.level == Level::Error)
                .count(),
            warnings: diagnostics
                .iter()
                .filter(|d| d.level == Level::Warning)
                .count(),
        },
    }
}
