//! Stage 4: evaluation (claim + compiled policy → findings). A pure function:
//! no clock, no I/O, no global state.
//!
//! So far: the unit arithmetic every unit rule needs.

pub mod units;
