//! A small Rust lexer for the architecture checks: comments vanish, string, char and number
//! literals become one token each (so nothing inside them looks like a path), `::` is one token,
//! and every token knows its line.

/// One token of Rust source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword (`r#` of raw identifiers dropped).
    Ident(String),
    /// A string, byte string, char or number literal; strings keep their raw text.
    Lit(String),
    /// A lifetime or label (`'a`).
    Lifetime,
    /// `::`.
    PathSep,
    /// Any other punctuation, one character at a time.
    Punct(char),
}

/// A token and the line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `src` into tokens; comments vanish and literals become single `Lit` tokens.
pub fn tokenize(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    // Skips a quoted literal whose opening quote is at `i`; returns the index past the closer.
    let quoted = |mut i: usize, quote: char, line: &mut usize| -> usize {
        i += 1;
        while i < c.len() && c[i] != quote {
            if c[i] == '\\' {
                i += 1;
            }
            if at(i) == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < c.len() {
        let start_line = line;
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' {
            let end = quoted(i, '"', &mut line);
            let text: String = c[i + 1..(end - 1).clamp(i + 1, c.len())].iter().collect();
            out.push(Token {
                tok: Tok::Lit(text),
                line: start_line,
            });
            i = end;
        } else if ch == '\'' {
            if at(i + 1) == '\\' || at(i + 2) == '\'' {
                i = quoted(i, '\'', &mut line);
                out.push(Token {
                    tok: Tok::Lit(String::new()),
                    line,
                });
            } else {
                i += 1;
                while is_ident_char(at(i)) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Lifetime,
                    line,
                });
            }
        } else if ch.is_ascii_digit() {
            while is_ident_char(at(i)) || (at(i) == '.' && at(i + 1).is_ascii_digit()) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Lit(String::new()),
                line,
            });
        } else if is_ident_start(ch) {
            let start = i;
            while is_ident_char(at(i)) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            let mut hashes = 0;
            while raw_prefix && at(i + hashes) == '#' {
                hashes += 1;
            }
            if raw_prefix && at(i + hashes) == '"' {
                // Raw string: ends at a quote followed by as many hashes as it opened with.
                let body = i + hashes + 1;
                let mut j = body;
                while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|h| at(j + h) == '#')) {
                    line += usize::from(c[j] == '\n');
                    j += 1;
                }
                let text: String = c[body..j.min(c.len())].iter().collect();
                out.push(Token {
                    tok: Tok::Lit(text),
                    line: start_line,
                });
                i = j + 1 + hashes;
            } else if word == "r" && hashes == 1 && is_ident_start(at(i + 1)) {
                let start = i + 1;
                i = start;
                while is_ident_char(at(i)) {
                    i += 1;
                }
                let word = c[start..i].iter().collect();
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                let end = quoted(i, '"', &mut line);
                let text: String = c[i + 1..(end - 1).clamp(i + 1, c.len())].iter().collect();
                out.push(Token {
                    tok: Tok::Lit(text),
                    line: start_line,
                });
                i = end;
            } else if word == "b" && at(i) == '\'' {
                i = quoted(i, '\'', &mut line);
                out.push(Token {
                    tok: Tok::Lit(String::new()),
                    line,
                });
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

/// Whether `t` is the punctuation `ch`.
pub fn is_punct(t: Option<&Token>, ch: char) -> bool {
    t.is_some_and(|t| t.tok == Tok::Punct(ch))
}

/// The identifier `t` is, if it is one.
pub fn ident(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

/// For each opening `(`, `[` or `{`, the index of its closer (`None` if unbalanced).
pub fn matching_delims(toks: &[Token]) -> Vec<Option<usize>> {
    let mut out = vec![None; toks.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => stack.push(i),
            Tok::Punct(')' | ']' | '}') => {
                if let Some(open) = stack.pop() {
                    out[open] = Some(i);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idents(src: &str) -> Vec<String> {
        let toks = tokenize(src);
        toks.into_iter()
            .filter_map(|t| match t.tok {
                Tok::Ident(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn literals_and_comments_hold_no_identifiers() {
        let src = r##"a /* b /* c */ d */ "e \" f" r#"g " h"# b"i" 'j' '\'' k<'l> // m
            r#n 1.5e3 br"o" c"p" q"##;
        assert_eq!(idents(src), ["a", "k", "n", "q"]);
    }

    #[test]
    fn tokens_know_their_line() {
        let toks = tokenize("a\n/* x\n y */ b \"s\ns\" c\n::d");
        let lines: Vec<_> = toks.iter().map(|t| (t.tok.clone(), t.line)).collect();
        let id = |s: &str| Tok::Ident(s.into());
        assert_eq!(
            lines,
            [
                (id("a"), 1),
                (id("b"), 3),
                (Tok::Lit("s\ns".into()), 3),
                (id("c"), 4),
                (Tok::PathSep, 5),
                (id("d"), 5)
            ]
        );
    }
}
