//! CEL tokens: turns rule source text into a token list. Knows nothing of grammar or values.

use super::error::CelError;

/// One CEL token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(String),
    Ident(String),
    True,
    False,
    Null,
    In,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    Comma,
    Colon,
    Question,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// Splits `src` into tokens.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Tok>, CelError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            i = number(&chars, i, &mut out)?;
            continue;
        }
        let raw = matches!(c, 'r' | 'R') && matches!(next, Some('"' | '\''));
        if c == '"' || c == '\'' || raw {
            i = string(&chars, if raw { i + 1 } else { i }, raw, &mut out)?;
            continue;
        }
        if c == 'b' && matches!(next, Some('"' | '\'')) {
            return Err(CelError::new("bytes literals are not supported"));
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(match word.as_str() {
                "true" => Tok::True,
                "false" => Tok::False,
                "null" => Tok::Null,
                "in" => Tok::In,
                _ => Tok::Ident(word),
            });
            continue;
        }
        let two = |t: Tok| (t, 2);
        let (tok, len) = match (c, next) {
            ('=', Some('=')) => two(Tok::Eq),
            ('!', Some('=')) => two(Tok::Ne),
            ('<', Some('=')) => two(Tok::Le),
            ('>', Some('=')) => two(Tok::Ge),
            ('&', Some('&')) => two(Tok::And),
            ('|', Some('|')) => two(Tok::Or),
            ('.', Some('?')) => {
                return Err(CelError::new(
                    "optional field selection (.?) is not supported",
                ));
            }
            ('<', _) => (Tok::Lt, 1),
            ('>', _) => (Tok::Gt, 1),
            ('!', _) => (Tok::Bang, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('[', _) => (Tok::LBracket, 1),
            (']', _) => (Tok::RBracket, 1),
            ('{', _) => (Tok::LBrace, 1),
            ('}', _) => (Tok::RBrace, 1),
            ('.', _) => (Tok::Dot, 1),
            (',', _) => (Tok::Comma, 1),
            (':', _) => (Tok::Colon, 1),
            ('?', _) => (Tok::Question, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('/', _) => (Tok::Slash, 1),
            ('%', _) => (Tok::Percent, 1),
            _ => return Err(CelError::new(format!("unexpected character {c:?}"))),
        };
        out.push(tok);
        i += len;
    }
    Ok(out)
}

fn number(chars: &[char], mut i: usize, out: &mut Vec<Tok>) -> Result<usize, CelError> {
    let start = i;
    if chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
        i += 2;
        let hex_start = i;
        while i < chars.len() && chars[i].is_ascii_hexdigit() {
            i += 1;
        }
        let digits: String = chars[hex_start..i].iter().collect();
        let unsigned = matches!(chars.get(i), Some('u' | 'U'));
        let value =
            u64::from_str_radix(&digits, 16).map_err(|_| CelError::new("invalid hex literal"))?;
        if unsigned {
            out.push(Tok::UInt(value));
            return Ok(i + 1);
        }
        out.push(Tok::Int(
            i64::try_from(value).map_err(|_| CelError::new("int literal out of range"))?,
        ));
        return Ok(i);
    }
    let mut is_double = false;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        is_double = true;
        i += 1;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < chars.len() && matches!(chars[i], 'e' | 'E') {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            is_double = true;
            i = j;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    let text: String = chars[start..i].iter().collect();
    if is_double {
        out.push(Tok::Double(
            text.parse()
                .map_err(|_| CelError::new("invalid double literal"))?,
        ));
        return Ok(i);
    }
    if matches!(chars.get(i), Some('u' | 'U')) {
        out.push(Tok::UInt(
            text.parse()
                .map_err(|_| CelError::new("uint literal out of range"))?,
        ));
        return Ok(i + 1);
    }
    out.push(Tok::Int(
        text.parse()
            .map_err(|_| CelError::new("int literal out of range"))?,
    ));
    Ok(i)
}

fn string(chars: &[char], mut i: usize, raw: bool, out: &mut Vec<Tok>) -> Result<usize, CelError> {
    let quote = chars[i];
    let triple = chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote);
    i += if triple { 3 } else { 1 };
    let mut s = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(CelError::new("unterminated string literal"));
        };
        if c == quote
            && (!triple || (chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote)))
        {
            i += if triple { 3 } else { 1 };
            break;
        }
        if c == '\n' && !triple {
            return Err(CelError::new("newline in string literal"));
        }
        if c == '\\' && !raw {
            let Some(&e) = chars.get(i + 1) else {
                return Err(CelError::new("unterminated escape"));
            };
            i += 2;
            match e {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                'a' => s.push('\u{7}'),
                'b' => s.push('\u{8}'),
                'f' => s.push('\u{c}'),
                'v' => s.push('\u{b}'),
                '\\' | '\'' | '"' | '`' | '?' => s.push(e),
                'x' | 'u' | 'U' => {
                    let len = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = chars
                        .get(i..i + len)
                        .ok_or_else(|| CelError::new("short escape"))?
                        .iter()
                        .collect();
                    let code = u32::from_str_radix(&hex, 16)
                        .map_err(|_| CelError::new("invalid escape"))?;
                    s.push(
                        char::from_u32(code).ok_or_else(|| CelError::new("invalid code point"))?,
                    );
                    i += len;
                }
                _ => return Err(CelError::new(format!("invalid escape \\{e}"))),
            }
            continue;
        }
        s.push(c);
        i += 1;
    }
    out.push(Tok::Str(s));
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_operators_literals_and_strings() {
        let toks =
            tokenize(r#"self.x >= 0 && size(self.l) <= 10u || 'a\n' == r"\d" ? 1.5 : -2"#).unwrap();
        assert!(toks.contains(&Tok::Ge));
        assert!(toks.contains(&Tok::UInt(10)));
        assert!(toks.contains(&Tok::Str("a\n".into())));
        assert!(toks.contains(&Tok::Str("\\d".into())));
        assert!(toks.contains(&Tok::Double(1.5)));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(tokenize("'open").is_err());
        assert!(tokenize("self.?x").is_err());
        assert!(tokenize("a # b").is_err());
        assert!(tokenize("99999999999999999999").is_err());
    }
}
