//! Stage 5: the evaluation report, for machines (JSON, NDJSON) and people (miette).

mod model;

pub use model::*;
