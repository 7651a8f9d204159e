//! Every ```ppl example in the language reference and the tutorial parses:
//! the documents show the language as it is.

fn ppl_blocks(text: &str) -> Vec<(usize, &str)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("```ppl\n") {
        let body_start = start + "```ppl\n".len();
        let Some(length) = rest[body_start..].find("```") else {
            break;
        };
        let line = text[..offset + body_start].lines().count() + 1;
        blocks.push((line, &rest[body_start..body_start + length]));
        offset += body_start + length + 3;
        rest = &rest[body_start + length + 3..];
    }
    blocks
}

#[test]
fn examples_in_the_docs_parse() {
    let mut examples = 0;
    for document in ["docs/language.md", "docs/tutorial.md"] {
        let text = std::fs::read_to_string(document).expect("document");
        for (line, block) in ppl_blocks(&text) {
            examples += 1;
            // Fragments (a rule on its own) get a header so they parse as a file.
            let has_header = block
                .lines()
                .any(|l| l.starts_with("payer ") || l.starts_with("library "));
            let source = if has_header {
                block.to_owned()
            } else {
                format!("payer docs-example \"Docs example\"\n{block}")
            };
            let mut sources = ppl::source::SourceMap::new();
            let id = sources.add(format!("{document}:{line}"), source.clone());
            let parsed = ppl::syntax::parse(&source, id);
            let rendered =
                ppl::diagnostics::render_human(&parsed.diagnostics, &sources, false, 100);
            assert!(
                parsed.diagnostics.is_empty(),
                "{document} example at line {line} does not parse:\n{rendered}"
            );
        }
    }
    assert!(examples >= 30, "only {examples} examples found");
}
