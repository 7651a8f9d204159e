//! ppl — a declarative payer-policy engine for US outpatient therapy claims.

pub mod codes;
pub mod tables;

/// A calendar date (no time zone, no clock: ppl never reads the clock).
pub type Date = jiff::civil::Date;
pub mod diagnostics;
pub mod source;
pub mod syntax;
