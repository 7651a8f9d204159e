//! Any text, parsed and checked as a policy file (and compiled when it checks
//! clean): nothing may panic, hang or overflow the stack.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut workspace = ppl::check::Workspace::default();
    // A path under a folder that does not exist: includes and data files are not found,
    // so the target never reads the file system it runs on.
    workspace.add("/nonexistent-fuzz/policy.ppl".into(), text, true);
    let checked = ppl::check::check(workspace);
    let _ = ppl::diagnostics::render_human(&checked.diagnostics, &checked.workspace.sources, false, 80);
    let _ = ppl::diagnostics::render_json(&checked.diagnostics, &checked.workspace.sources, 1);
    if !checked.has_errors() {
        let _ = ppl::compile::compile(&checked);
    }
});
