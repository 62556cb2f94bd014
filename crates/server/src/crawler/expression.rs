//! The `Expression` filters of the catalog listings.
//!
//! - GetTables: a Hive-style name pattern, matched against the whole (lowercased)
//!   table name, case-insensitively: `|` separates alternatives, `*` and `.*` match any
//!   characters, `.` one character; everything else is literal.
//! - GetPartitions: a partition predicate over the partition keys —
//!   `key <op> literal` with `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, combined with
//!   `AND`, `OR`, `NOT` and parentheses; literals are `'quoted strings'` or numbers.
//!   Values compare as numbers when both sides are numbers, else as strings.

use super::glob::Glob;
use crate::protocol::ApiError;

/// A compiled GetTables name expression.
pub struct NamePattern {
    alternatives: Vec<Glob>,
}

impl NamePattern {
    /// Compiles `expression`; one too long to compile is InvalidInputException.
    pub fn new(expression: &str) -> Result<Self, ApiError> {
        let alternatives = expression
            .split('|')
            .map(|alternative| {
                let mut glob = String::new();
                let lowered = alternative.trim().to_lowercase();
                let mut chars = lowered.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '.' if chars.peek() == Some(&'*') => {
                            chars.next();
                            glob.push('*');
                        }
                        '.' => glob.push('?'),
                        '*' => glob.push('*'),
                        '[' | ']' | '{' | '}' | '\\' | '?' | ',' => {
                            glob.push('\\');
                            glob.push(c);
                        }
                        _ => glob.push(c),
                    }
                }
                Glob::new(&glob).map_err(|e| {
                    ApiError::InvalidInput(format!("Unsupported table name expression: {e}"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(NamePattern { alternatives })
    }

    /// Whether `name` matches one alternative.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.alternatives.iter().any(|g| g.matches(&name))
    }
}

/// A parsed GetPartitions predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Both hold.
    And(Box<Predicate>, Box<Predicate>),
    /// Either holds.
    Or(Box<Predicate>, Box<Predicate>),
    /// Does not hold.
    Not(Box<Predicate>),
    /// `key op literal`.
    Compare {
        /// Partition key (lowercased).
        key: String,
        /// Operator.
        op: String,
        /// Literal.
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Literal(String),
    Op(String),
    Open,
    Close,
}

fn invalid(expression: &str) -> ApiError {
    ApiError::InvalidInput(format!("Unsupported partition expression: {expression}"))
}

fn tokenize(text: &str) -> Result<Vec<Token>, ApiError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' | ')' => {
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
                i += 1;
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|x| *x == c)
                    .ok_or_else(|| invalid(text))?;
                tokens.push(Token::Literal(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if matches!(two.as_str(), "!=" | "<>" | "<=" | ">=") {
                    two
                } else if c == '!' {
                    return Err(invalid(text));
                } else {
                    c.to_string()
                };
                i += op.len();
                tokens.push(Token::Op(op));
            }
            _ if c.is_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '`' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.' | '`'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().filter(|c| **c != '`').collect();
                let numeric = word.parse::<f64>().is_ok();
                tokens.push(if numeric {
                    Token::Literal(word)
                } else {
                    Token::Ident(word)
                });
            }
            _ => return Err(invalid(text)),
        }
    }
    Ok(tokens)
}

impl Predicate {
    /// Parses a predicate; unsupported syntax is InvalidInputException.
    pub fn parse(text: &str) -> Result<Predicate, ApiError> {
        let tokens = tokenize(text)?;
        let mut pos = 0;
        let predicate = or(&tokens, &mut pos, text)?;
        if pos != tokens.len() {
            return Err(invalid(text));
        }
        Ok(predicate)
    }

    /// Whether the partition with `values` for `keys` satisfies the predicate; an
    /// unknown key never matches.
    pub fn holds(&self, keys: &[String], values: &[String]) -> bool {
        match self {
            Predicate::And(a, b) => a.holds(keys, values) && b.holds(keys, values),
            Predicate::Or(a, b) => a.holds(keys, values) || b.holds(keys, values),
            Predicate::Not(a) => !a.holds(keys, values),
            Predicate::Compare { key, op, value } => {
                let Some(actual) = keys
                    .iter()
                    .position(|k| k == key)
                    .and_then(|i| values.get(i))
                else {
                    return false;
                };
                let ordering = match (actual.parse::<f64>(), value.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a.total_cmp(&b),
                    _ => actual.as_str().cmp(value.as_str()),
                };
                use std::cmp::Ordering::*;
                match op.as_str() {
                    "=" => ordering == Equal,
                    "!=" | "<>" => ordering != Equal,
                    "<" => ordering == Less,
                    "<=" => ordering != Greater,
                    ">" => ordering == Greater,
                    _ => ordering != Less,
                }
            }
        }
    }
}

fn keyword(tokens: &[Token], pos: usize, word: &str) -> bool {
    matches!(tokens.get(pos), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
}

fn or(tokens: &[Token], pos: &mut usize, text: &str) -> Result<Predicate, ApiError> {
    let mut left = and(tokens, pos, text)?;
    while keyword(tokens, *pos, "or") {
        *pos += 1;
        let right = and(tokens, pos, text)?;
        left = Predicate::Or(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn and(tokens: &[Token], pos: &mut usize, text: &str) -> Result<Predicate, ApiError> {
    let mut left = unary(tokens, pos, text)?;
    while keyword(tokens, *pos, "and") {
        *pos += 1;
        let right = unary(tokens, pos, text)?;
        left = Predicate::And(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn unary(tokens: &[Token], pos: &mut usize, text: &str) -> Result<Predicate, ApiError> {
    if keyword(tokens, *pos, "not") {
        *pos += 1;
        return Ok(Predicate::Not(Box::new(unary(tokens, pos, text)?)));
    }
    if tokens.get(*pos) == Some(&Token::Open) {
        *pos += 1;
        let inner = or(tokens, pos, text)?;
        if tokens.get(*pos) != Some(&Token::Close) {
            return Err(invalid(text));
        }
        *pos += 1;
        return Ok(inner);
    }
    match (tokens.get(*pos), tokens.get(*pos + 1), tokens.get(*pos + 2)) {
        (
            Some(Token::Ident(key)),
            Some(Token::Op(op)),
            Some(Token::Literal(value) | Token::Ident(value)),
        ) => {
            *pos += 3;
            Ok(Predicate::Compare {
                key: key.to_lowercase(),
                op: op.clone(),
                value: value.clone(),
            })
        }
        _ => Err(invalid(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns() {
        let p = NamePattern::new("sales*|cust.mers").expect("valid");
        assert!(p.matches("sales_2024"));
        assert!(p.matches("Customers"));
        assert!(!p.matches("events"));
        let valid = |e: &str| NamePattern::new(e).expect("valid");
        assert!(valid(".*vent.*").matches("events"));
        assert!(!valid("event").matches("events"));
    }

    #[test]
    fn partition_predicates() {
        let keys = vec!["year".to_string(), "month".to_string()];
        let at = |y: &str, m: &str| vec![y.to_string(), m.to_string()];
        let p = Predicate::parse("year = '2024' AND month >= 2").expect("parse");
        assert!(p.holds(&keys, &at("2024", "02")));
        assert!(!p.holds(&keys, &at("2024", "01")));
        let q =
            Predicate::parse("(year='2023' or month<>'01') and not month = '12'").expect("parse");
        assert!(q.holds(&keys, &at("2023", "01")));
        assert!(q.holds(&keys, &at("2024", "03")));
        assert!(!q.holds(&keys, &at("2023", "12")));
        assert!(
            !Predicate::parse("day = 1")
                .expect("parse")
                .holds(&keys, &at("1", "1"))
        );
        assert!(Predicate::parse("year =").is_err());
        assert!(Predicate::parse("year = 'x").is_err());
        assert!(Predicate::parse("year = 1 extra").is_err());
    }
}
