//! Integration tests: one binary, one module per area.

mod check_fixtures;
mod cli;
mod compile;
mod diagnostics_docs;
mod shipped_policies;
