//! Any bytes as an 837P file, the way `ppl eval` reads one: every claim that
//! reads is evaluated against the shipped policies and rendered as JSON and for
//! people (its spans point into the X12 text). Nothing may panic or hang.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ppl::claim::{read_x12, PayerChoice, X12Options};
use ppl::compile::{CompileError, CompiledPolicies};
use ppl::report::{ClaimSource, PolicySources};

fn policies() -> &'static Result<CompiledPolicies, CompileError> {
    static POLICIES: OnceLock<Result<CompiledPolicies, CompileError>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        ppl::compile::compile(&ppl::check::check(ppl::check::Workspace::embedded()))
    })
}

fuzz_target!(|data: &[u8]| {
    let policies = policies().as_ref().expect("the shipped policies compile");
    let text = String::from_utf8_lossy(data);
    let options = X12Options {
        payer: PayerChoice::Flag("medicare-part-b"),
    };
    let Ok(claims) = read_x12(&text, &options) else {
        return;
    };
    for (_, claim) in claims {
        let Ok(claim) = claim else {
            continue;
        };
        let Ok(report) = ppl::eval::evaluate(&claim, policies) else {
            continue;
        };
        let _ = ppl::report::render_json(&report);
        let source = ClaimSource {
            name: "fuzz.837",
            text: &text,
        };
        let _ = ppl::report::render_human(&report, &source, &PolicySources::none(), false, 80);
    }
});
