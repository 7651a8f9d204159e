//! Stage 5: the evaluation report, for machines (JSON, NDJSON) and people (miette).

mod model;
mod ndjson;
mod render;
mod summary;

pub use model::*;
pub use render::*;
pub use summary::*;
