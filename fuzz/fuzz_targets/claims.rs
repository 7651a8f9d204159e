//! Any bytes as a claim input, the way `ppl eval` reads it: format detected,
//! read as one YAML/JSON claim or as an NDJSON batch, every claim that reads
//! evaluated against the shipped policies and rendered as JSON and for people.
//! Nothing may panic, hang or overflow the stack.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ppl::claim::{detect_format, read_claim, read_ndjson, Claim, InputFormat};
use ppl::compile::{CompileError, CompiledPolicies};
use ppl::report::{ClaimSource, PolicySources};

/// The policies built into the binary, checked and compiled once per process.
fn policies() -> &'static Result<CompiledPolicies, CompileError> {
    static POLICIES: OnceLock<Result<CompiledPolicies, CompileError>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        ppl::compile::compile(&ppl::check::check(ppl::check::Workspace::embedded()))
    })
}

fn evaluate(claim: &Claim, text: &str, policies: &CompiledPolicies) {
    let Ok(report) = ppl::eval::evaluate(claim, policies) else {
        return;
    };
    let _ = ppl::report::render_json(&report);
    let source = ClaimSource {
        name: "fuzz.claim",
        text,
    };
    let _ = ppl::report::render_human(&report, &source, &PolicySources::none(), false, 80);
}

fuzz_target!(|data: &[u8]| {
    // The shipped policies compile; if they ever stop, every input is a finding.
    let policies = policies().as_ref().expect("the shipped policies compile");
    let text = String::from_utf8_lossy(data);
    match detect_format(None, &text) {
        InputFormat::Ndjson => {
            for (_, claim) in read_ndjson(&text) {
                if let Ok(claim) = claim {
                    evaluate(&claim, &text, policies);
                }
            }
        }
        format => {
            if let Ok(claim) = read_claim(&text, format) {
                evaluate(&claim, &text, policies);
            }
        }
    }
});
