//! Glob patterns of `S3Target.Exclusions`, with the semantics Glue documents: matched
//! against the object's path relative to the target path; `*` matches any characters
//! within one path segment, `**` any characters across segments, `?` one character
//! (not `/`), `[abc]`/`[a-z]`/`[!a-z]` a character class, `{a,b}` alternatives (which
//! may nest), and `\` escapes the next character. A `[` without its `]` and a `{`
//! without its `}` are literal, as is everything after such a `{`.
//!
//! A pattern is translated once into a regular expression, and the `regex` crate
//! matches in time linear in the path: `k` brace groups cost their length, not `2^k`
//! expansions. A pattern longer than [`MAX_PATTERN_CHARS`] or nesting groups deeper
//! than [`MAX_GROUP_DEPTH`] is refused (AWS documents no limit; these are far beyond
//! any useful exclusion).

use regex::Regex;

/// The longest pattern accepted, in characters.
pub const MAX_PATTERN_CHARS: usize = 4096;
/// The deepest nesting of `{}` groups accepted.
pub const MAX_GROUP_DEPTH: usize = 32;

/// A compiled exclusion pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    regex: Regex,
}

/// A character class: `[...]`, `[!...]` or `[^...]`, never matching `/`.
#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Glob {
    /// Compiles `pattern`; the error says why it is refused (too long, nested too
    /// deeply). A malformed class or group is read literally, never refused.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        if chars.len() > MAX_PATTERN_CHARS {
            return Err(format!(
                "An exclusion pattern may have at most {MAX_PATTERN_CHARS} characters, this one has {}.",
                chars.len()
            ));
        }
        let syntax = group_syntax(&chars);
        let mut regex = String::from("(?s)\\A");
        let mut depth = 0;
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            match c {
                '\\' if i < chars.len() => {
                    push_literal(&mut regex, chars[i]);
                    i += 1;
                }
                '*' => {
                    let run = chars[i..].iter().take_while(|c| **c == '*').count();
                    i += run;
                    regex.push_str(if run == 0 { "[^/]*" } else { ".*" });
                }
                '?' => regex.push_str("[^/]"),
                '[' => match class(&chars[i..]) {
                    Some((class, used)) => {
                        class.push_regex(&mut regex);
                        i += used;
                    }
                    None => push_literal(&mut regex, c),
                },
                '{' if syntax[i - 1] => {
                    depth += 1;
                    if depth > MAX_GROUP_DEPTH {
                        return Err(format!(
                            "An exclusion pattern may nest {{}} groups at most {MAX_GROUP_DEPTH} deep."
                        ));
                    }
                    regex.push_str("(?:");
                }
                ',' if syntax[i - 1] => regex.push('|'),
                '}' if syntax[i - 1] => {
                    depth -= 1;
                    regex.push(')');
                }
                _ => push_literal(&mut regex, c),
            }
        }
        regex.push_str("\\z");
        let regex =
            Regex::new(&regex).map_err(|e| format!("The exclusion pattern is too complex: {e}"))?;
        Ok(Glob { regex })
    }

    /// Whether `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }
}

/// Which characters of `chars` are group syntax: the `{` and `}` of each group and the
/// `,` at its top level. Escaped characters and class bodies are skipped; a `}` or `,`
/// outside any group is literal; a `{` that is never closed is literal and so is every
/// brace after it.
fn group_syntax(chars: &[char]) -> Vec<bool> {
    let mut syntax = vec![false; chars.len()];
    // Open groups, innermost last: the index of the `{` and of its top-level commas.
    let mut open: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 1,
            '[' => {
                if let Some((_, used)) = class(&chars[i + 1..]) {
                    i += used;
                }
            }
            '{' => open.push((i, Vec::new())),
            ',' => {
                if let Some((_, commas)) = open.last_mut() {
                    commas.push(i);
                }
            }
            '}' => {
                if let Some((start, commas)) = open.pop() {
                    for at in commas.into_iter().chain([start, i]) {
                        syntax[at] = true;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some((first_unclosed, _)) = open.first() {
        for at in syntax.iter_mut().skip(*first_unclosed) {
            *at = false;
        }
    }
    syntax
}

/// A class body after `[`: the class and how many characters it used (with `]`).
/// A `]` right after the `[` (or the negation) is a member; `a-z` is a range unless
/// the `-` is followed by the closing `]`.
fn class(chars: &[char]) -> Option<(Class, usize)> {
    let negated = matches!(chars.first(), Some('!') | Some('^'));
    let mut i = usize::from(negated);
    let mut ranges = Vec::new();
    while let Some(&c) = chars.get(i) {
        if c == ']' && !ranges.is_empty() {
            return Some((Class { negated, ranges }, i + 1));
        }
        match (chars.get(i + 1), chars.get(i + 2)) {
            (Some('-'), Some(&end)) if end != ']' => {
                ranges.push((c, end));
                i += 3;
            }
            _ => {
                ranges.push((c, c));
                i += 1;
            }
        }
    }
    None
}

impl Class {
    /// Appends the class as a regex class that excludes `/`; a reversed range
    /// (`z-a`) has no members.
    fn push_regex(&self, regex: &mut String) {
        let members = self.ranges.iter().filter(|(lo, hi)| lo <= hi);
        let mut body = String::new();
        for (lo, hi) in members {
            body.push_str(&format!(
                "\\x{{{:X}}}-\\x{{{:X}}}",
                u32::from(*lo),
                u32::from(*hi)
            ));
        }
        match (self.negated, body.is_empty()) {
            (true, _) => regex.push_str(&format!("[^/{body}]")),
            // No member: a class that matches nothing.
            (false, true) => regex.push_str("[^\\x{0}-\\x{10FFFF}]"),
            (false, false) => regex.push_str(&format!("[[{body}]&&[^/]]")),
        }
    }
}

fn push_literal(regex: &mut String, c: char) {
    regex.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).expect("valid pattern").matches(path)
    }

    #[test]
    fn stars_respect_segments() {
        assert!(m("*.csv", "a.csv"));
        assert!(!m("*.csv", "dir/a.csv"));
        assert!(m("**.csv", "dir/sub/a.csv"));
        assert!(m("**/*.csv", "dir/a.csv"));
        assert!(m("archive/**", "archive/2024/x.json"));
        assert!(!m("archive/**", "live/x.json"));
        assert!(m("dir/*/x", "dir/a/x"));
        assert!(!m("dir/*/x", "dir/a/b/x"));
        assert!(m("**", "line\nbreak/x"));
    }

    #[test]
    fn classes_alternatives_and_escapes() {
        assert!(m("file?.txt", "file1.txt"));
        assert!(!m("file?.txt", "file10.txt"));
        assert!(m("[a-c]*", "banana"));
        assert!(!m("[!a-c]*", "banana"));
        assert!(m("*.{csv,json}", "x.json"));
        assert!(!m("*.{csv,json}", "x.parquet"));
        assert!(m("{a,b{1,2}}/x", "b2/x"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("[", "["));
        assert!(m("[]]", "]"));
        assert!(!m("[!x]", "/"));
        assert!(!m("[z-a]", "m"));
        assert!(m("{a,b", "{a,b"));
        assert!(m("{a{b,c}", "{a{b,c}"));
        assert!(m("a}{b,c}", "a}c"));
        assert!(m("[{]x", "{x"));
        assert!(m(".+(x)|$", ".+(x)|$"));
    }

    #[test]
    fn forty_brace_groups_match() {
        // 2^40 alternatives if expanded.
        let pattern = format!("logs/{}.csv", "{a,bc}".repeat(40));
        let path = |parts: &str| format!("logs/{parts}.csv");
        assert!(m(&pattern, &path(&"abc".repeat(20))));
        assert!(m(&pattern, &path(&"bc".repeat(40))));
        assert!(m(&pattern, &path(&"a".repeat(40))));
        assert!(!m(&pattern, &path(&"a".repeat(39))));
        assert!(!m(&pattern, &path(&format!("{}b", "a".repeat(39)))));
        assert!(!m(&pattern, &path(&"a".repeat(41))));
    }

    #[test]
    fn absurd_patterns_are_refused_and_large_ones_compile() {
        let longest = "?".repeat(MAX_PATTERN_CHARS);
        assert!(m(&longest, &"x".repeat(MAX_PATTERN_CHARS)));
        let too_long = "a".repeat(MAX_PATTERN_CHARS + 1);
        assert!(Glob::new(&too_long).expect_err("too long").contains("4096"));
        let deepest = format!(
            "{}x{}",
            "{".repeat(MAX_GROUP_DEPTH),
            "}".repeat(MAX_GROUP_DEPTH)
        );
        assert!(m(&deepest, "x"));
        let too_deep = format!("{{{deepest}}}");
        assert!(Glob::new(&too_deep).expect_err("too deep").contains("32"));
        // The costliest constructs, as many as the length allows.
        for unit in ["*a", "[!a]", "[a-z]", "{a,*}", "**/"] {
            let pattern = unit.repeat(MAX_PATTERN_CHARS / unit.len());
            assert!(Glob::new(&pattern).is_ok(), "{unit}");
        }
    }

    /// The expansion-based matcher this module had before (exponential in the number
    /// of groups: a reference for small patterns only).
    mod reference {
        #[derive(Debug, Clone, PartialEq)]
        enum Token {
            Char(char),
            One,
            Star,
            DoubleStar,
            Class(super::Class),
        }

        pub fn matches(pattern: &str, path: &str) -> bool {
            let text: Vec<char> = path.chars().collect();
            expand_braces(pattern)
                .iter()
                .any(|p| match_tokens(&tokenize(p), &text))
        }

        /// `a{b,c}d` → `abd`, `acd`.
        pub fn expand_braces(pattern: &str) -> Vec<String> {
            let chars: Vec<char> = pattern.chars().collect();
            let mut depth = 0;
            let mut open = None;
            let mut i = 0;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 1,
                    '{' => {
                        if depth == 0 {
                            open = Some(i);
                        }
                        depth += 1;
                    }
                    '}' if depth > 0 => {
                        depth -= 1;
                        if depth == 0
                            && let Some(start) = open
                        {
                            let prefix: String = chars[..start].iter().collect();
                            let suffix: String = chars[i + 1..].iter().collect();
                            let mut out = Vec::new();
                            for option in split_top_level(&chars[start + 1..i]) {
                                out.extend(expand_braces(&format!("{prefix}{option}{suffix}")));
                            }
                            return out;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            vec![pattern.to_string()]
        }

        fn split_top_level(chars: &[char]) -> Vec<String> {
            let mut parts = vec![String::new()];
            let mut depth = 0;
            let mut escaped = false;
            for &c in chars {
                let last = parts.len() - 1;
                match c {
                    _ if escaped => {
                        escaped = false;
                        parts[last].push(c);
                    }
                    '\\' => {
                        escaped = true;
                        parts[last].push(c);
                    }
                    '{' => {
                        depth += 1;
                        parts[last].push(c);
                    }
                    '}' => {
                        depth -= 1;
                        parts[last].push(c);
                    }
                    ',' if depth == 0 => parts.push(String::new()),
                    _ => parts[last].push(c),
                }
            }
            parts
        }

        fn tokenize(pattern: &str) -> Vec<Token> {
            let chars: Vec<char> = pattern.chars().collect();
            let mut tokens = Vec::new();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                match c {
                    '\\' if i + 1 < chars.len() => {
                        tokens.push(Token::Char(chars[i + 1]));
                        i += 1;
                    }
                    '*' if chars.get(i + 1) == Some(&'*') => {
                        tokens.push(Token::DoubleStar);
                        i += 1;
                        while chars.get(i + 1) == Some(&'*') {
                            i += 1;
                        }
                    }
                    '*' => tokens.push(Token::Star),
                    '?' => tokens.push(Token::One),
                    '[' => match super::class(&chars[i + 1..]) {
                        Some((class, used)) => {
                            tokens.push(Token::Class(class));
                            i += used;
                        }
                        None => tokens.push(Token::Char('[')),
                    },
                    _ => tokens.push(Token::Char(c)),
                }
                i += 1;
            }
            tokens
        }

        fn match_tokens(tokens: &[Token], text: &[char]) -> bool {
            let n = text.len();
            let mut reach = vec![false; n + 1];
            reach[0] = true;
            for token in tokens {
                let mut next = vec![false; n + 1];
                match token {
                    Token::Star | Token::DoubleStar => {
                        let crosses = *token == Token::DoubleStar;
                        let mut open = false;
                        for j in 0..=n {
                            if reach[j] {
                                open = true;
                            }
                            next[j] = open;
                            if j < n && !crosses && text[j] == '/' {
                                open = false;
                            }
                        }
                    }
                    _ => {
                        for j in 0..n {
                            if reach[j] && single(token, text[j]) {
                                next[j + 1] = true;
                            }
                        }
                    }
                }
                reach = next;
            }
            reach[n]
        }

        fn single(token: &Token, c: char) -> bool {
            match token {
                Token::Char(expected) => *expected == c,
                Token::One => c != '/',
                Token::Class(class) => {
                    c != '/'
                        && class.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
                            != class.negated
                }
                Token::Star | Token::DoubleStar => false,
            }
        }
    }

    /// Small patterns over a small alphabet: literals, wildcards, classes, escapes,
    /// stray brackets and braces, and nested groups.
    fn small_pattern() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            4 => "[ab/.]",
            1 => Just("?".to_string()),
            1 => Just("*".to_string()),
            1 => Just("**".to_string()),
            1 => prop_oneof![
                Just("[ab]"), Just("[!a]"), Just("[^b/]"), Just("[a-c]"), Just("[]a]"),
                Just("[b-a]"), Just("\\*"), Just("\\{"), Just("\\,"), Just("["),
                Just("}"), Just(","), Just("{"),
            ]
            .prop_map(str::to_string),
        ];
        let leaf = prop::collection::vec(atom, 0..4).prop_map(|atoms| atoms.concat());
        leaf.prop_recursive(3, 12, 3, |inner| {
            let group = prop::collection::vec(inner.clone(), 1..4)
                .prop_map(|options| format!("{{{}}}", options.join(",")));
            prop::collection::vec(prop_oneof![inner, group], 1..4).prop_map(|p| p.concat())
        })
    }

    /// Where a `*` touches a group's brace or comma, expanding first glued it to a `*`
    /// of the neighbouring text (`a*{*b,c}` → `a**b`: crossing segments); the compiled
    /// matcher keeps them apart (one segment), as Java's globs, which Glue uses, do.
    fn stars_touch_groups(pattern: &str) -> bool {
        let chars: Vec<char> = pattern.chars().collect();
        let syntax = group_syntax(&chars);
        (0..chars.len()).any(|i| {
            syntax[i]
                && (i.checked_sub(1).and_then(|j| chars.get(j)) == Some(&'*')
                    || chars.get(i + 1) == Some(&'*'))
        })
    }

    /// Where a class holds a brace or a comma, expanding first (which did not know
    /// classes) split the class; the compiled matcher reads them as members, as Java's
    /// globs do.
    fn classes_hold_braces(pattern: &str) -> bool {
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            match c {
                '\\' => i += 1,
                '[' => {
                    if let Some((_, used)) = class(&chars[i + 1..]) {
                        if chars[i + 1..i + 1 + used]
                            .iter()
                            .any(|c| "{},".contains(*c))
                        {
                            return true;
                        }
                        i += used;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        false
    }

    /// Every path over `a`, `b`, `/` of up to four characters.
    fn short_paths() -> Vec<String> {
        let mut paths = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|p| ["a", "b", "/"].map(|c| format!("{p}{c}")))
                .collect();
            paths.extend(last.iter().cloned());
        }
        paths
    }

    proptest! {
        #[test]
        fn compiled_matcher_agrees_with_expansion(
            pattern in small_pattern(),
            extra in prop::collection::vec("[ab/.*{},\\[\\]c]{0,6}", 16),
        ) {
            prop_assume!(!stars_touch_groups(&pattern) && !classes_hold_braces(&pattern));
            prop_assume!(reference::expand_braces(&pattern).len() <= 64);
            let glob = Glob::new(&pattern).expect("small patterns compile");
            for path in short_paths().iter().chain(&extra) {
                prop_assert_eq!(
                    glob.matches(path),
                    reference::matches(&pattern, path),
                    "pattern {:?}, path {:?}", pattern, path
                );
            }
        }

        #[test]
        fn no_pattern_panics(
            pattern in prop_oneof!["\\PC{0,64}", "[{},\\[\\]!^\\-*?\\\\a/]{0,64}"],
            path in "\\PC{0,16}",
        ) {
            if let Ok(glob) = Glob::new(&pattern) {
                let _ = glob.matches(&path);
            }
        }
    }
}
