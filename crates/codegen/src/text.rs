//! Text helpers: doc-comment extraction, identifier case conversion,
//! Java → Rust regex translation, and the literals of model bounds.

use anyhow::{Context, Result};

/// First sentence of an HTML documentation string, tags stripped, entities
/// decoded, whitespace collapsed, and the characters rustdoc would read as
/// links or HTML (`[`, `]`, `<`, `>`, a leading `#`) escaped.
/// `None` when there is no usable text.
pub fn first_sentence(html: Option<&str>) -> Option<String> {
    let html = html?;
    let mut plain = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                plain.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => plain.push(c),
        }
    }
    let plain = plain
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    // Cut after the first ". " that ends a sentence (not "e.g. ", "i.e. ",
    // "etc. " ...), keeping the period.
    let mut end = collapsed.len();
    for (i, _) in collapsed.match_indices(". ") {
        let before = collapsed[..i].rsplit(' ').next().unwrap_or("");
        let abbreviation = matches!(
            before.to_ascii_lowercase().as_str(),
            "e.g" | "i.e" | "etc" | "vs" | "approx" | "no"
        ) || (before.len() == 1
            && before.chars().all(|c| c.is_ascii_uppercase()));
        if !abbreviation {
            end = i + 1;
            break;
        }
    }
    let sentence = &collapsed[..end];
    let sentence = sentence.trim();
    if sentence.is_empty() {
        return None;
    }
    let mut out = String::new();
    for c in sentence.chars() {
        if matches!(c, '[' | ']' | '<' | '>') || (out.is_empty() && c == '#') {
            out.push('\\');
        }
        out.push(c);
    }
    Some(out)
}

/// `CamelCase` / `ACRONYMCase` → `snake_case` (`DPUSeconds` → `dpu_seconds`,
/// `S3Targets` → `s3_targets`).
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                if prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower)
                {
                    out.push('_');
                }
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' || c == '_' {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Rust identifier for a field: snake case, keywords escaped with `r#`.
pub fn field_ident(member: &str) -> String {
    let s = snake_case(member);
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe",
        "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
        "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    if matches!(s.as_str(), "self" | "crate" | "super") {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// Rust variant name of an enum value: the value split into words at every
/// character that is not an ASCII letter or digit, each word with its first
/// letter and every letter right after a digit upper-cased and the other
/// letters lower-cased (`ACTIVATED` → `Activated`, `nulls-first` →
/// `NullsFirst`, `G.1X` → `G1X`). Fails for a value that yields no name or
/// one that starts with a digit.
pub fn variant_ident(value: &str) -> Result<String> {
    let mut out = String::new();
    for word in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut upper_next = true;
        for c in word.chars() {
            out.push(if upper_next {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
            upper_next = c.is_ascii_digit();
        }
    }
    match out.chars().next() {
        Some(first) if first.is_ascii_alphabetic() => Ok(out),
        _ => anyhow::bail!("enum value {value:?} has no Rust variant name"),
    }
}

/// Coral-style member path segment: the member name with its first letter
/// lower-cased.
pub fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether a Java pattern uses constructs the `regex` crate lacks
/// (look-around, back-references).
pub fn needs_fancy_regex(pattern: &str) -> bool {
    pattern.contains("(?=")
        || pattern.contains("(?!")
        || pattern.contains("(?<=")
        || pattern.contains("(?<!")
}

/// Translates a Java regex (as written in the model) into `regex` crate
/// syntax, anchored for a full match.
pub fn translate_pattern(java: &str) -> String {
    let pair = r"\uD800\uDC00-\uDBFF\uDFFF";
    let s = java.replace(pair, r"\x{10000}-\x{10FFFF}");
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n == 'u'
                && i + 5 < chars.len()
                && chars[i + 2..i + 6].iter().all(|h| h.is_ascii_hexdigit())
            {
                let hex: String = chars[i + 2..i + 6].iter().collect();
                out.push_str(&format!(r"\x{{{hex}}}"));
                i += 6;
                continue;
            }
            // Java's shorthand classes are ASCII-only; the regex crate's
            // are Unicode-aware, so spell them out.
            let ascii = match (n, in_class) {
                ('w', false) => Some("[0-9A-Za-z_]"),
                ('w', true) => Some("0-9A-Za-z_"),
                ('d', false) => Some("[0-9]"),
                ('d', true) => Some("0-9"),
                ('s', false) => Some(r"[\t\n\x0B\x0C\r ]"),
                ('s', true) => Some(r"\t\n\x0B\x0C\r "),
                ('W', false) => Some("[^0-9A-Za-z_]"),
                ('D', false) => Some("[^0-9]"),
                ('S', false) => Some(r"[^\t\n\x0B\x0C\r ]"),
                _ => None,
            };
            if let Some(ascii) = ascii {
                out.push_str(ascii);
            } else {
                out.push(c);
                out.push(n);
            }
            i += 2;
            continue;
        }
        if c == '.' && !in_class {
            // Java's `.` excludes every line terminator, not only `\n`.
            out.push_str(r"[^\n\r\x{85}\x{2028}\x{2029}]");
            i += 1;
            continue;
        }
        if c == '[' && !in_class {
            in_class = true;
        } else if c == ']' && in_class {
            in_class = false;
        } else if c == '-' && in_class {
            // Java treats a '-' right after a range (`0-9-_`) as a literal;
            // the regex crate rejects it, so escape such dashes.
            let prev_is_range_end = i >= 2 && chars[i - 2] == '-' && chars[i - 1] != '[';
            if prev_is_range_end {
                out.push_str(r"\-");
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    format!("^(?:{out})$")
}

/// `Some(n)` of an unsigned model bound (lengths), or `None`.
pub(crate) fn bound_u64(name: &str, n: &Option<serde_json::Number>) -> Result<String> {
    Ok(match n {
        None => "None".to_owned(),
        Some(n) => format!(
            "Some({})",
            n.as_u64()
                .with_context(|| format!("{name}: bad length bound {n}"))?
        ),
    })
}

/// `Some(n)` of a signed model bound (integer ranges), or `None`.
pub(crate) fn bound_i64(name: &str, n: &Option<serde_json::Number>) -> Result<String> {
    Ok(match n {
        None => "None".to_owned(),
        Some(n) => format!(
            "Some({})",
            n.as_i64()
                .with_context(|| format!("{name}: bad integer bound {n}"))?
        ),
    })
}

/// A model number as a Rust float literal (`5` → `5.0`).
pub(crate) fn float_literal(n: &serde_json::Number) -> String {
    let t = n.to_string();
    if t.contains('.') || t.contains('e') {
        t
    } else {
        format!("{t}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake() {
        assert_eq!(snake_case("DPUSeconds"), "dpu_seconds");
        assert_eq!(snake_case("S3Targets"), "s3_targets");
        assert_eq!(snake_case("Name"), "name");
        assert_eq!(snake_case("JdbcTargets"), "jdbc_targets");
        assert_eq!(snake_case("DynamoDBTargets"), "dynamo_db_targets");
        assert_eq!(field_ident("Type"), "r#type");
    }

    #[test]
    fn variants() {
        assert_eq!(variant_ident("ACTIVATED").unwrap(), "Activated");
        assert_eq!(variant_ident("ON_DEMAND").unwrap(), "OnDemand");
        assert_eq!(variant_ident("nulls-first").unwrap(), "NullsFirst");
        assert_eq!(variant_ident("Standard").unwrap(), "Standard");
        assert_eq!(variant_ident("G.1X").unwrap(), "G1X");
        assert_eq!(variant_ident("G.025X").unwrap(), "G025X");
        assert!(variant_ident("1X").is_err());
        assert!(variant_ident("-").is_err());
    }

    #[test]
    fn patterns() {
        assert_eq!(
            translate_pattern(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*"),
            r"^(?:[\x{0020}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}\t]*)$"
        );
        assert_eq!(
            translate_pattern("[a-zA-Z0-9-_$#.]+"),
            r"^(?:[a-zA-Z0-9\-_$#.]+)$"
        );
        assert!(regex::Regex::new(&translate_pattern("[a-zA-Z0-9-_$#.]+")).is_ok());
        let word = regex::Regex::new(&translate_pattern(r"^((\w+\.)+\w+|auto)$")).unwrap();
        assert!(word.is_match("glue_1.0"));
        assert!(!word.is_match("glüe.1"));
        let any = regex::Regex::new(&translate_pattern(".*")).unwrap();
        assert!(any.is_match("a b"));
        assert!(!any.is_match("a\rb"));
        assert!(!any.is_match("a\nb"));
    }

    #[test]
    fn docs() {
        assert_eq!(
            first_sentence(Some("<p>A <code>x</code> [y]. More.</p>")).as_deref(),
            Some(r"A x \[y\].")
        );
    }
}
