//! The fenced code blocks of a Markdown document, with the headings they stand under: the
//! tests that check the documentation's examples against real output read them here.
//! `sync-protocol/tests/docs_examples.rs` compiles this file too, by path (the protocol
//! crate cannot depend on this one), so it uses nothing but std.

/// One fenced block.
#[derive(Clone, Debug)]
pub struct Block {
    /// 1-based line of the opening fence, for messages.
    pub line: usize,
    /// The `## ` heading above it.
    pub section: String,
    /// The `### ` heading above it, empty when there is none since the section began.
    pub subsection: String,
    /// What follows the opening fence (`json`, or empty).
    pub lang: String,
    /// The lines between the fences, without the fence's indentation.
    pub text: String,
}

/// Every fenced block of `markdown`, in order. Fences may be indented (inside list items).
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let (mut section, mut subsection) = (String::new(), String::new());
    let mut open: Option<(Block, usize)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some((block, indent)) = &mut open {
            if trimmed.trim_end() == "```" {
                out.push(block.clone());
                open = None;
            } else {
                let cut = line.len() - line.trim_start().len();
                block.text.push_str(&line[cut.min(*indent)..]);
                block.text.push('\n');
            }
        } else if let Some(lang) = trimmed.strip_prefix("```") {
            let block = Block {
                line: i + 1,
                section: section.clone(),
                subsection: subsection.clone(),
                lang: lang.trim().to_owned(),
                text: String::new(),
            };
            open = Some((block, line.len() - trimmed.len()));
        } else if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_owned();
            subsection.clear();
        } else if let Some(h) = line.strip_prefix("### ") {
            subsection = h.trim().to_owned();
        }
    }
    assert!(open.is_none(), "a code block is never closed");
    out
}
