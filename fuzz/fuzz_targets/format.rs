//! Formatting any text that parses: never panics, is idempotent and keeps the meaning.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(once) = ppl::format::format(text) else { return };
    let twice = ppl::format::format(&once).expect("formatted text parses");
    assert_eq!(once, twice, "fmt is idempotent");
    let mut sources = ppl::source::SourceMap::new();
    let before = ppl::syntax::parse(text, sources.add("a.ppl", text));
    let after = ppl::syntax::parse(&once, sources.add("b.ppl", once.clone()));
    assert_eq!(before.file, after.file, "fmt keeps the meaning");
});
