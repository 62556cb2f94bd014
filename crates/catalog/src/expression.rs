//! The `Expression` filters of the catalog listings.
//!
//! - GetTables: a Hive-style name pattern, matched against the whole (lowercased)
//!   table name, case-insensitively: `|` separates alternatives, `*` and `.*` match any
//!   characters, `.` one character; everything else is literal.
//! - GetPartitions: a partition predicate over the partition keys —
//!   `key <op> literal` with `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`, combined with
//!   `AND`, `OR`, `NOT` and parentheses (nested at most [`MAX_NESTING`] deep); literals
//!   are `'quoted strings'` or numbers.
//!   Values compare as numbers when both sides are numbers, else as strings.

use weir_crawler::glob::Glob;
use weir_resources::ApiError;

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

/// How deeply parentheses and `NOT` may nest in a GetPartitions expression. The parser
/// recurses once per level (and evaluation and drop once per level of the tree), so
/// the bound keeps the stack small; deeper input is InvalidInputException.
pub const MAX_NESTING: usize = 64;

/// A parsed GetPartitions predicate. `AND` and `OR` chains are flat lists, so only
/// parentheses and `NOT` (at most [`MAX_NESTING`]) make the tree deep.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// Every one holds.
    And(Vec<Predicate>),
    /// At least one holds.
    Or(Vec<Predicate>),
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

/// Splits `text` into tokens in one forward pass (each character is looked at a
/// bounded number of times).
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
    /// Parses a predicate; unsupported syntax, or nesting deeper than
    /// [`MAX_NESTING`], is InvalidInputException.
    pub fn parse(text: &str) -> Result<Predicate, ApiError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser::new(&tokens, text);
        let predicate = parser.or()?;
        if parser.pos != tokens.len() {
            return Err(invalid(text));
        }
        Ok(predicate)
    }

    /// Whether the partition with `values` for `keys` satisfies the predicate; an
    /// unknown key never matches.
    pub fn holds(&self, keys: &[String], values: &[String]) -> bool {
        match self {
            Predicate::And(all) => all.iter().all(|p| p.holds(keys, values)),
            Predicate::Or(any) => any.iter().any(|p| p.holds(keys, values)),
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

/// Recursive descent over the tokens: `or := and (OR and)*`, `and := unary (AND
/// unary)*`, `unary := NOT unary | ( or ) | key op literal`. Every rule consumes a
/// token before it recurses or loops again, so the work is linear in the tokens.
struct Parser<'a> {
    tokens: &'a [Token],
    text: &'a str,
    pos: usize,
    /// Parentheses and `NOT`s open around the current position.
    depth: usize,
    /// Rules entered so far (the tests bound it by the number of tokens).
    #[cfg(test)]
    steps: usize,
}

impl<'a> Parser<'a> {
    fn new(tokens: &'a [Token], text: &'a str) -> Self {
        Parser {
            tokens,
            text,
            pos: 0,
            depth: 0,
            #[cfg(test)]
            steps: 0,
        }
    }

    fn step(&mut self) {
        #[cfg(test)]
        {
            self.steps += 1;
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Predicate, ApiError> {
        self.step();
        let mut any = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            any.push(self.and()?);
        }
        Ok(flat(any, Predicate::Or))
    }

    fn and(&mut self) -> Result<Predicate, ApiError> {
        self.step();
        let mut all = vec![self.unary()?];
        while self.keyword("and") {
            self.pos += 1;
            all.push(self.unary()?);
        }
        Ok(flat(all, Predicate::And))
    }

    fn unary(&mut self) -> Result<Predicate, ApiError> {
        self.step();
        if self.keyword("not") {
            self.pos += 1;
            let inner = self.nested(Self::unary)?;
            return Ok(Predicate::Not(Box::new(inner)));
        }
        if self.tokens.get(self.pos) == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.nested(Self::or)?;
            if self.tokens.get(self.pos) != Some(&Token::Close) {
                return Err(invalid(self.text));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let at = |i: usize| self.tokens.get(self.pos + i);
        match (at(0), at(1), at(2)) {
            (
                Some(Token::Ident(key)),
                Some(Token::Op(op)),
                Some(Token::Literal(value) | Token::Ident(value)),
            ) => {
                let compare = Predicate::Compare {
                    key: key.to_lowercase(),
                    op: op.clone(),
                    value: value.clone(),
                };
                self.pos += 3;
                Ok(compare)
            }
            _ => Err(invalid(self.text)),
        }
    }

    /// Runs `rule` one nesting level deeper, refusing to pass [`MAX_NESTING`].
    fn nested(
        &mut self,
        rule: fn(&mut Self) -> Result<Predicate, ApiError>,
    ) -> Result<Predicate, ApiError> {
        if self.depth >= MAX_NESTING {
            return Err(ApiError::InvalidInput(format!(
                "Unsupported partition expression: parentheses and NOT nest more than \
                 {MAX_NESTING} levels deep."
            )));
        }
        self.depth += 1;
        let inner = rule(self);
        self.depth -= 1;
        inner
    }
}

/// One operand as itself, several as `combine(operands)`.
fn flat(mut operands: Vec<Predicate>, combine: fn(Vec<Predicate>) -> Predicate) -> Predicate {
    match operands.len() {
        1 => operands.remove(0),
        _ => combine(operands),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // 2,047 characters: within GetPartitions' 2,048-character Expression.
        let api_sized = format!("{}a=1{}", "(".repeat(1022), ")".repeat(1022));
        let err = Predicate::parse(&api_sized).expect_err("too deep");
        assert_eq!(err.code(), "InvalidInputException");
        let nots = "NOT ".repeat(511) + "a=1";
        assert!(Predicate::parse(&nots).is_err());
        let huge = format!("{}a=1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(Predicate::parse(&huge).is_err());
    }

    /// Parses like [`Predicate::parse`] and also returns the rules entered and the
    /// number of tokens.
    fn parse_counting(text: &str) -> (Result<Predicate, ApiError>, usize, usize) {
        let tokens = match tokenize(text) {
            Ok(tokens) => tokens,
            Err(e) => return (Err(e), 0, 0),
        };
        let mut parser = Parser::new(&tokens, text);
        let result = parser.or();
        let complete = parser.pos == tokens.len();
        let result = result.and_then(|p| if complete { Ok(p) } else { Err(invalid(text)) });
        (result, parser.steps, tokens.len())
    }

    /// Text biased towards the grammar: deep nesting, long chains, stray quotes.
    fn grammar_soup() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            6 => Just("("),
            3 => Just(")"),
            3 => Just("NOT "),
            2 => Just(" AND "),
            2 => Just(" OR "),
            3 => Just("a"),
            3 => Just("="),
            2 => Just("'x y'"),
            2 => Just("12"),
            1 => Just("<>"),
            1 => Just("'"),
            1 => Just("!"),
            1 => Just("\u{e9}"),
        ];
        prop::collection::vec(piece, 0..800).prop_map(|pieces| pieces.concat())
    }

    /// A predicate tree whose `AND`/`OR` nodes have two or more operands.
    fn tree() -> impl Strategy<Value = Predicate> {
        let key = "[a-z][a-z0-9_]{0,5}"
            .prop_filter("keyword", |k| !["and", "or", "not"].contains(&k.as_str()));
        let value = prop_oneof!["[a-z0-9 _-]{0,6}", "[0-9]{1,3}", "[0-9]{1,2}\\.[0-9]"];
        let op = prop_oneof![
            Just("="),
            Just("!="),
            Just("<>"),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">=")
        ];
        let leaf = (key, op, value).prop_map(|(key, op, value)| Predicate::Compare {
            key,
            op: op.to_string(),
            value,
        });
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Predicate::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Predicate::Or),
                inner.prop_map(|p| Predicate::Not(Box::new(p))),
            ]
        })
    }

    /// The text of `tree`, parenthesizing every `AND`/`OR` and quoting every value.
    fn render(tree: &Predicate) -> String {
        let join = |all: &[Predicate], word: &str| {
            let parts: Vec<String> = all.iter().map(render).collect();
            format!("({})", parts.join(word))
        };
        match tree {
            Predicate::And(all) => join(all, " AND "),
            Predicate::Or(any) => join(any, " or "),
            Predicate::Not(inner) => format!("NOT {}", render(inner)),
            Predicate::Compare { key, op, value } => format!("{key} {op} '{value}'"),
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_parses_in_linear_steps(
            text in prop_oneof!["\\PC{0,300}", grammar_soup()],
        ) {
            let (result, steps, tokens) = parse_counting(&text);
            prop_assert!(steps <= 3 * (tokens + 1), "{} steps for {} tokens", steps, tokens);
            if let Ok(predicate) = result {
                let keys = vec!["a".to_string()];
                let _ = predicate.holds(&keys, &["12".to_string()]);
            } else if let Err(err) = Predicate::parse(&text) {
                prop_assert_eq!(err.code(), "InvalidInputException");
            }
        }

        #[test]
        fn nesting_is_accepted_up_to_the_bound(depth in 0..3 * MAX_NESTING, not in any::<bool>()) {
            let text = if not {
                "NOT ".repeat(depth) + "a = 1"
            } else {
                format!("{}a = 1{}", "(".repeat(depth), ")".repeat(depth))
            };
            let parsed = Predicate::parse(&text);
            prop_assert_eq!(parsed.is_ok(), depth <= MAX_NESTING, "{}", text);
        }

        #[test]
        fn rendered_trees_parse_back(tree in tree()) {
            prop_assert_eq!(Predicate::parse(&render(&tree)).ok(), Some(tree));
        }
    }
}
