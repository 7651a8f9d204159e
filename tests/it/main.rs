//! Integration tests: one binary, one module per area.

// A test fails by panicking: unwrapping and indexing are how tests say "this must hold".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod batch;
mod check_fixtures;
mod cli;
mod compile;
mod diagnostics_docs;
mod diff;
mod doc;
mod docs_examples;
mod eval;
mod eval_cli;
mod eval_fix;
mod payers;
mod policy_tests;
mod prior_auth;
mod run;
mod shipped_policies;
mod x12;
