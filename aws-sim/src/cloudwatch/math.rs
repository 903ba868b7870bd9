//! The metric math of the simulated GetMetricData: `+ - * /`, unary minus, parentheses, numeric
//! constants and query ids, evaluated per timestamp as CloudWatch does (an operation on two
//! time series keeps the timestamps both have; a division by zero drops the datapoint). Any
//! function (`FILL(`, `METRICS(`, `SEARCH(` …) and Metrics Insights are refused: the simulator
//! does not implement them. Pure: parsing and arithmetic only.

use std::collections::BTreeMap;

use crate::time::Secs;

/// A time series: value by timestamp.
pub(crate) type Series = BTreeMap<Secs, f64>;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A numeric constant.
    Number(f64),
    /// Another query's result, by id.
    Id(String),
    /// `-e`.
    Neg(Box<Expr>),
    /// `a op b`.
    Binary(Box<Expr>, Op, Box<Expr>),
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A constant.
    Scalar(f64),
    /// A time series.
    Series(Series),
}

/// A token of an expression.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Ident(String),
    Op(char),
    Open,
    Close,
}

/// Splits an expression into tokens.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        match c {
            c if c.is_whitespace() => {}
            '+' | '-' | '*' | '/' => tokens.push(Token::Op(c)),
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let number: String = chars[start..i].iter().collect();
                let value = number
                    .parse()
                    .map_err(|_| format!("invalid number {number}"))?;
                tokens.push(Token::Number(value));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(') {
                    return Err(format!(
                        "the function {name} is not supported by the simulator (only + - * /, \
                         parentheses, numbers and query ids are)"
                    ));
                }
                tokens.push(Token::Ident(name));
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(tokens)
}

/// Parses an expression; the error says what is wrong (without naming the query).
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    if text
        .trim_start()
        .get(..7)
        .is_some_and(|head| head.eq_ignore_ascii_case("SELECT "))
    {
        return Err("Metrics Insights queries are not supported by the simulator".to_owned());
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.sum()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(t) => Err(format!("unexpected {t:?} after a complete expression")),
    }
}

/// A recursive-descent parser over the tokens (sum → product → unary → atom).
struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_op(&self, ops: &[char]) -> Option<char> {
        match self.tokens.get(self.at) {
            Some(Token::Op(c)) if ops.contains(c) => Some(*c),
            _ => None,
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(c) = self.peek_op(&['+', '-']) {
            self.at += 1;
            let op = if c == '+' { Op::Add } else { Op::Sub };
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(c) = self.peek_op(&['*', '/']) {
            self.at += 1;
            let op = if c == '*' { Op::Mul } else { Op::Div };
            left = Expr::Binary(Box::new(left), op, Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_op(&['-']).is_some() {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Number(n)) => Ok(Expr::Number(n)),
            Some(Token::Ident(name)) => Ok(Expr::Id(name)),
            Some(Token::Open) => {
                let inner = self.sum()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing closing parenthesis".to_owned()),
                }
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("unexpected end of expression".to_owned()),
        }
    }
}

impl Expr {
    /// The query ids the expression reads, in order of appearance.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Expr::Number(_) => Vec::new(),
            Expr::Id(id) => vec![id.as_str()],
            Expr::Neg(e) => e.ids(),
            Expr::Binary(a, _, b) => {
                let mut ids = a.ids();
                ids.extend(b.ids());
                ids
            }
        }
    }

    /// The value of the expression, with `lookup` giving each id's series.
    pub fn evaluate(&self, lookup: &impl Fn(&str) -> Series) -> Value {
        match self {
            Expr::Number(n) => Value::Scalar(*n),
            Expr::Id(id) => Value::Series(lookup(id)),
            Expr::Neg(e) => apply(Value::Scalar(0.0), Op::Sub, e.evaluate(lookup)),
            Expr::Binary(a, op, b) => apply(a.evaluate(lookup), *op, b.evaluate(lookup)),
        }
    }
}

/// One operation on two numbers; `None` for a division by zero.
fn arithmetic(a: f64, op: Op, b: f64) -> Option<f64> {
    match op {
        Op::Add => Some(a + b),
        Op::Sub => Some(a - b),
        Op::Mul => Some(a * b),
        Op::Div => (b != 0.0).then(|| a / b),
    }
}

/// One operation on two values, per timestamp.
fn apply(a: Value, op: Op, b: Value) -> Value {
    match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => {
            Value::Scalar(arithmetic(x, op, y).unwrap_or(f64::NAN))
        }
        (Value::Series(s), Value::Scalar(y)) => Value::Series(
            s.into_iter()
                .filter_map(|(t, x)| Some((t, arithmetic(x, op, y)?)))
                .collect(),
        ),
        (Value::Scalar(x), Value::Series(s)) => Value::Series(
            s.into_iter()
                .filter_map(|(t, y)| Some((t, arithmetic(x, op, y)?)))
                .collect(),
        ),
        (Value::Series(s), Value::Series(r)) => Value::Series(
            s.into_iter()
                .filter_map(|(t, x)| Some((t, arithmetic(x, op, *r.get(&t)?)?)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(Secs, f64)]) -> Series {
        points.iter().copied().collect()
    }

    #[test]
    fn precedence_parentheses_and_unary_minus() {
        let lookup = |_: &str| Series::new();
        let eval = |text: &str| parse(text).unwrap().evaluate(&lookup);
        assert_eq!(eval("1 + 2 * 3"), Value::Scalar(7.0));
        assert_eq!(eval("(1 + 2) * 3"), Value::Scalar(9.0));
        assert_eq!(eval("-2 - -3"), Value::Scalar(1.0));
        assert_eq!(eval("10 / 4 / 5"), Value::Scalar(0.5));
        assert_eq!(eval("0.5*4"), Value::Scalar(2.0));
    }

    #[test]
    fn series_keep_common_timestamps_and_drop_divisions_by_zero() {
        let errors = series(&[(0, 3.0), (60, 0.0), (120, 6.0)]);
        let requests = series(&[(0, 100.0), (60, 0.0), (180, 50.0)]);
        let lookup = |id: &str| {
            if id == "e" {
                errors.clone()
            } else {
                requests.clone()
            }
        };
        let rate = parse("100 * e / r").unwrap();
        assert_eq!(rate.ids(), ["e", "r"]);
        assert_eq!(rate.evaluate(&lookup), Value::Series(series(&[(0, 3.0)])));
        let sum = parse("e + r").unwrap().evaluate(&lookup);
        assert_eq!(sum, Value::Series(series(&[(0, 103.0), (60, 0.0)])));
    }

    #[test]
    fn functions_insights_and_bad_syntax_are_refused() {
        let err = parse("FILL(m1, 0)").unwrap_err();
        assert!(err.contains("function FILL is not supported"), "{err}");
        assert!(parse("100 * METRICS()").unwrap_err().contains("METRICS"));
        assert!(
            parse("SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")")
                .unwrap_err()
                .contains("Metrics Insights")
        );
        assert!(parse("(a + b").is_err());
        assert!(parse("a +").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("a % b").is_err());
    }
}
