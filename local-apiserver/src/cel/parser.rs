//! CEL grammar: builds an expression tree from tokens and expands the macros (`has`, `all`,
//! `exists`, `exists_one`, `map`, `filter`). Rejects functions the evaluator does not implement,
//! so an unsupported rule is found when a CRD is registered, not when an object is written.

use super::error::CelError;
use super::lexer::Tok;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(String),
}

/// Binary operators, including the logical ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Comprehension macros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
}

/// A CEL expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Lit(Lit),
    Ident(String),
    Select(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)` or `target.f(args)`.
    Call {
        target: Option<Box<Expr>>,
        func: String,
        args: Vec<Expr>,
    },
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `has(operand.field)`.
    Has(Box<Expr>, String),
    /// `range.macro(var, filter?, body)`.
    Comprehension {
        kind: Macro,
        range: Box<Expr>,
        var: String,
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
}

/// Functions called without a receiver.
const GLOBAL_FUNCTIONS: &[&str] = &[
    "size", "int", "uint", "double", "string", "bool", "dyn", "matches",
];
/// Functions called on a receiver.
const MEMBER_FUNCTIONS: &[&str] = &[
    "size",
    "startsWith",
    "endsWith",
    "contains",
    "matches",
    "lowerAscii",
    "upperAscii",
    "trim",
    "indexOf",
    "lastIndexOf",
    "substring",
    "replace",
    "split",
    "join",
    "isSorted",
    "sum",
    "min",
    "max",
];

/// Parses a token list into an expression.
pub(crate) fn parse(tokens: Vec<Tok>) -> Result<Expr, CelError> {
    // Bounds the tree depth, hence the recursion of parsing, evaluating and dropping it.
    if tokens.len() > MAX_TOKENS {
        return Err(CelError::new(format!(
            "expression longer than {MAX_TOKENS} tokens"
        )));
    }
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos != p.toks.len() {
        return Err(CelError::new(format!(
            "unexpected token {:?}",
            p.toks[p.pos]
        )));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 50;
const MAX_TOKENS: usize = 1000;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<(), CelError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(CelError::new(format!(
                "expected {t:?}, found {:?}",
                self.peek()
            )))
        }
    }

    fn expr(&mut self) -> Result<Expr, CelError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CelError::new("expression nested too deeply"));
        }
        let cond = self.binary(0)?;
        let e = if self.eat(&Tok::Question) {
            let a = self.expr()?;
            self.expect(&Tok::Colon)?;
            let b = self.expr()?;
            Expr::Cond(Box::new(cond), Box::new(a), Box::new(b))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(e)
    }

    /// Precedence climbing over the binary operators; level 0 is `||`.
    fn binary(&mut self, level: usize) -> Result<Expr, CelError> {
        const LEVELS: usize = 5;
        if level == LEVELS {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        loop {
            let op = match (level, self.peek()) {
                (0, Some(Tok::Or)) => BinOp::Or,
                (1, Some(Tok::And)) => BinOp::And,
                (2, Some(Tok::Eq)) => BinOp::Eq,
                (2, Some(Tok::Ne)) => BinOp::Ne,
                (2, Some(Tok::Lt)) => BinOp::Lt,
                (2, Some(Tok::Le)) => BinOp::Le,
                (2, Some(Tok::Gt)) => BinOp::Gt,
                (2, Some(Tok::Ge)) => BinOp::Ge,
                (2, Some(Tok::In)) => BinOp::In,
                (3, Some(Tok::Plus)) => BinOp::Add,
                (3, Some(Tok::Minus)) => BinOp::Sub,
                (4, Some(Tok::Star)) => BinOp::Mul,
                (4, Some(Tok::Slash)) => BinOp::Div,
                (4, Some(Tok::Percent)) => BinOp::Rem,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self) -> Result<Expr, CelError> {
        if self.eat(&Tok::Bang) {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat(&Tok::Minus) {
            return Ok(match self.unary()? {
                Expr::Lit(Lit::Int(i)) => Expr::Lit(Lit::Int(-i)),
                Expr::Lit(Lit::Double(d)) => Expr::Lit(Lit::Double(-d)),
                other => Expr::Neg(Box::new(other)),
            });
        }
        self.member()
    }

    fn member(&mut self) -> Result<Expr, CelError> {
        let mut e = self.primary()?;
        loop {
            if self.eat(&Tok::Dot) {
                let Some(Tok::Ident(name)) = self.peek().cloned() else {
                    return Err(CelError::new("expected a field or method name after '.'"));
                };
                self.pos += 1;
                if self.eat(&Tok::LParen) {
                    let args = self.args(&Tok::RParen)?;
                    e = method(e, name, args)?;
                } else {
                    e = Expr::Select(Box::new(e), name);
                }
            } else if self.eat(&Tok::LBracket) {
                let idx = self.expr()?;
                self.expect(&Tok::RBracket)?;
                e = Expr::Index(Box::new(e), Box::new(idx));
            } else {
                return Ok(e);
            }
        }
    }

    fn args(&mut self, close: &Tok) -> Result<Vec<Expr>, CelError> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(close) {
                return Ok(args);
            }
            self.expect(&Tok::Comma)?;
            if self.eat(close) {
                return Ok(args);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, CelError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(CelError::new("unexpected end of expression"));
        };
        self.pos += 1;
        Ok(match tok {
            Tok::Int(i) => Expr::Lit(Lit::Int(i)),
            Tok::UInt(u) => Expr::Lit(Lit::UInt(u)),
            Tok::Double(d) => Expr::Lit(Lit::Double(d)),
            Tok::Str(s) => Expr::Lit(Lit::Str(s)),
            Tok::True => Expr::Lit(Lit::Bool(true)),
            Tok::False => Expr::Lit(Lit::Bool(false)),
            Tok::Null => Expr::Lit(Lit::Null),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                e
            }
            Tok::LBracket => Expr::List(self.args(&Tok::RBracket)?),
            Tok::LBrace => {
                let mut entries = Vec::new();
                if !self.eat(&Tok::RBrace) {
                    loop {
                        let k = self.expr()?;
                        self.expect(&Tok::Colon)?;
                        entries.push((k, self.expr()?));
                        if self.eat(&Tok::RBrace) {
                            break;
                        }
                        self.expect(&Tok::Comma)?;
                        if self.eat(&Tok::RBrace) {
                            break;
                        }
                    }
                }
                Expr::Map(entries)
            }
            Tok::Ident(name) => {
                if self.eat(&Tok::LParen) {
                    let args = self.args(&Tok::RParen)?;
                    global(name, args)?
                } else {
                    Expr::Ident(name)
                }
            }
            other => return Err(CelError::new(format!("unexpected token {other:?}"))),
        })
    }
}

fn global(name: String, mut args: Vec<Expr>) -> Result<Expr, CelError> {
    if name == "has" {
        return match args.pop() {
            Some(Expr::Select(operand, field)) if args.is_empty() => Ok(Expr::Has(operand, field)),
            _ => Err(CelError::new(
                "has() takes a single field selection, like has(self.field)",
            )),
        };
    }
    if !GLOBAL_FUNCTIONS.contains(&name.as_str()) {
        return Err(CelError::new(format!("function {name}() is not supported")));
    }
    Ok(Expr::Call {
        target: None,
        func: name,
        args,
    })
}

fn method(target: Expr, name: String, mut args: Vec<Expr>) -> Result<Expr, CelError> {
    let kind = match name.as_str() {
        "all" => Some(Macro::All),
        "exists" => Some(Macro::Exists),
        "exists_one" => Some(Macro::ExistsOne),
        "map" => Some(Macro::Map),
        "filter" => Some(Macro::Filter),
        _ => None,
    };
    if let Some(kind) = kind {
        let arity_ok = args.len() == 2 || (kind == Macro::Map && args.len() == 3);
        if !arity_ok {
            return Err(CelError::new(format!(
                "{name}() takes a variable and an expression"
            )));
        }
        let Expr::Ident(var) = args.remove(0) else {
            return Err(CelError::new(format!(
                "the first argument of {name}() must be a variable name"
            )));
        };
        let body = Box::new(args.pop().expect("arity checked"));
        let filter = args.pop().map(Box::new);
        return Ok(Expr::Comprehension {
            kind,
            range: Box::new(target),
            var,
            filter,
            body,
        });
    }
    if !MEMBER_FUNCTIONS.contains(&name.as_str()) {
        return Err(CelError::new(format!("function {name}() is not supported")));
    }
    Ok(Expr::Call {
        target: Some(Box::new(target)),
        func: name,
        args,
    })
}

/// Whether `e` reads `name` as a free variable (used to spot transition rules on `oldSelf`).
pub(crate) fn references(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Lit(_) => false,
        Expr::Ident(n) => n == name,
        Expr::Select(a, _) | Expr::Not(a) | Expr::Neg(a) | Expr::Has(a, _) => references(a, name),
        Expr::Index(a, b) | Expr::Binary(_, a, b) => references(a, name) || references(b, name),
        Expr::Call { target, args, .. } => {
            target.as_deref().is_some_and(|t| references(t, name))
                || args.iter().any(|a| references(a, name))
        }
        Expr::List(items) => items.iter().any(|a| references(a, name)),
        Expr::Map(entries) => entries
            .iter()
            .any(|(k, v)| references(k, name) || references(v, name)),
        Expr::Cond(a, b, c) => references(a, name) || references(b, name) || references(c, name),
        Expr::Comprehension {
            range,
            var,
            filter,
            body,
            ..
        } => {
            references(range, name)
                || (var != name
                    && (references(body, name)
                        || filter.as_deref().is_some_and(|f| references(f, name))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn p(src: &str) -> Result<Expr, CelError> {
        parse(tokenize(src)?)
    }

    #[test]
    fn precedence_binds_and_tighter_than_or() {
        let e = p("a || b && c").unwrap();
        let Expr::Binary(BinOp::Or, _, rhs) = e else {
            panic!("expected ||")
        };
        assert!(matches!(*rhs, Expr::Binary(BinOp::And, _, _)));
        let e = p("1 + 2 * 3 == 7").unwrap();
        assert!(matches!(e, Expr::Binary(BinOp::Eq, _, _)));
    }

    #[test]
    fn macros_expand() {
        assert!(matches!(p("has(self.a)").unwrap(), Expr::Has(_, f) if f == "a"));
        assert!(matches!(
            p("self.l.all(x, x > 0)").unwrap(),
            Expr::Comprehension {
                kind: Macro::All,
                ..
            }
        ));
        assert!(matches!(
            p("self.l.map(x, x > 0, x * 2)").unwrap(),
            Expr::Comprehension {
                filter: Some(_),
                ..
            }
        ));
        assert!(p("has(self)").is_err());
        assert!(p("self.l.all(1, true)").is_err());
    }

    #[test]
    fn unsupported_functions_fail_at_parse_time() {
        assert!(p("timestamp(self.t) > now").is_err());
        assert!(p("self.q.isQuantity()").is_err());
        assert!(p("self.name.startsWith('a')").is_ok());
    }

    #[test]
    fn finds_old_self_outside_shadowing_comprehensions() {
        assert!(references(&p("self == oldSelf").unwrap(), "oldSelf"));
        assert!(!references(
            &p("self.l.all(oldSelf, oldSelf > 0)").unwrap(),
            "oldSelf"
        ));
        assert!(!references(&p("self.a > 1").unwrap(), "oldSelf"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for src in [
            "", "(", "a.", "a[1", "{1:", "1 +", "a ? b", "))", "[1,,2]", "f(", "a.b(",
        ] {
            assert!(p(src).is_err(), "{src}");
        }
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(p(&deep).is_err());
    }
}
