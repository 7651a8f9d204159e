//! The pest parser generated from `grammar/ppl.pest`. Its types stay in this
//! module and `build.rs`: the rest of the crate sees only the syntax tree.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/ppl.pest"]
pub struct PolicyParser;
