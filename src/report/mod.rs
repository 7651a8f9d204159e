//! Stage 5: the evaluation report, for machines (JSON, NDJSON) and people (miette).

mod model;
mod render;

pub use model::*;
pub use render::*;
