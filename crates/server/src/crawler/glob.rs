//! Glob patterns of `S3Target.Exclusions`, with the semantics Glue documents: matched
//! against the object's path relative to the target path; `*` matches any characters
//! within one path segment, `**` any characters across segments, `?` one character
//! (not `/`), `[abc]`/`[a-z]`/`[!a-z]` a character class, `{a,b}` alternatives, and
//! `\` escapes the next character.

/// A compiled exclusion pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    alternatives: Vec<Vec<Token>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    One,
    Star,
    DoubleStar,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Glob {
    /// Compiles `pattern` (never fails: a malformed class is read literally).
    pub fn new(pattern: &str) -> Self {
        Glob {
            alternatives: expand_braces(pattern).iter().map(|p| tokenize(p)).collect(),
        }
    }

    /// Whether `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        let text: Vec<char> = path.chars().collect();
        self.alternatives
            .iter()
            .any(|tokens| match_tokens(tokens, &text))
    }
}

/// `a{b,c}d` → `abd`, `acd` (nested braces expand recursively; at most 256 results).
fn expand_braces(pattern: &str) -> Vec<String> {
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
                        for rest in expand_braces(&format!("{prefix}{option}{suffix}")) {
                            if out.len() < 256 {
                                out.push(rest);
                            }
                        }
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
            '[' => match class(&chars[i + 1..]) {
                Some((token, used)) => {
                    tokens.push(token);
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

/// A class body after `[`: the token and how many characters it used (with `]`).
fn class(chars: &[char]) -> Option<(Token, usize)> {
    let negated = matches!(chars.first(), Some('!') | Some('^'));
    let mut i = usize::from(negated);
    let mut ranges = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c == ']' && !ranges.is_empty() {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|e| *e != ']') {
            ranges.push((c, chars[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    None
}

/// Dynamic programming over (token, character) positions: linear in their product.
fn match_tokens(tokens: &[Token], text: &[char]) -> bool {
    let n = text.len();
    // reach[j]: the first k tokens can match text[..j].
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
        Token::Class { negated, ranges } => {
            c != '/' && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
        Token::Star | Token::DoubleStar => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).matches(path)
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
    }
}
