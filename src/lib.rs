//! ppl — a declarative payer-policy engine for US outpatient therapy claims.
//!
//! ```text
//! grammar/ppl.pest → syntax  (text → typed tree with spans; every syntax error)
//!                  → check   (names, types, claim fields, codes, dates, versions, tables)
//!                  → compile (indexed, effective-dated rules: the form evaluation runs)
//!                  → eval    (claim + compiled policy → findings)       [next issue]
//!                  → report  (human via miette, JSON per the contract)  [next issue]
//! ```
//!
//! One function per stage: [`syntax::parse`], [`check::check`], [`compile::compile`].

pub mod batch;
pub mod check;
pub mod claim;
pub mod cli;
mod cli_diff;
mod cli_eval;
mod cli_progress;
mod cli_test;
pub mod codes;
pub mod codeset;
pub mod compile;
pub mod corpus;
mod decimal;
pub mod diagnostics;
pub mod diff;
pub mod doc;
pub mod embedded;
pub mod eval;
pub mod files;
pub mod fix;
pub mod format;
pub mod policy_test;
pub mod report;
pub mod source;
pub mod syntax;
pub mod tables;

/// A calendar date (no time zone, no clock: ppl never reads the clock).
pub type Date = jiff::civil::Date;
