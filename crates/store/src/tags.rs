//! How a resource's tags are stored, by every backend: alternating key and value lines
//! with escaped newlines, kept dependency-free so the store never needs a JSON library.

use std::collections::BTreeMap;

/// The stored text of `tags`.
pub(crate) fn tags_to_text(tags: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (key, value) in tags {
        out.push_str(&escape(key));
        out.push('\n');
        out.push_str(&escape(value));
        out.push('\n');
    }
    out
}

/// The tags stored as `text` by [`tags_to_text`].
pub(crate) fn tags_from_text(text: &str) -> BTreeMap<String, String> {
    let mut lines = text.split('\n');
    let mut tags = BTreeMap::new();
    while let (Some(key), Some(value)) = (lines.next(), lines.next()) {
        tags.insert(unescape(key), unescape(value));
    }
    tags
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}
