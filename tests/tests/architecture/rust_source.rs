//! Reads one Rust source file for the module graph, from its tokens: the spans of test-only
//! code (`#[cfg(test)]`, `#[test]`, `#![cfg(test)]`, `mod tests`), the `mod` declarations, and
//! the module paths the non-test code names (`use` trees and qualified paths).

use crate::lexer::{Tok, Token, ident, is_punct, matching_delims, tokenize};

/// A `mod name;` declaration (inline `mod name { .. }` blocks are not declarations of files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    /// The value of a `#[path = "..."]` attribute.
    pub path_attr: Option<String>,
    /// Inline modules the declaration sits in, outermost first.
    pub scope: Vec<String>,
    /// Declared in test-only code (or under `#[cfg(test)]` itself).
    pub test: bool,
}

/// A path the non-test code names: a `use` leaf or a qualified path such as `crate::a::f`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    pub segs: Vec<String>,
    /// Inline modules the path sits in, outermost first (`self`/`super` are relative to them).
    pub scope: Vec<String>,
    pub line: usize,
    /// For `use` leaves: the name the leaf brings into scope (`as` renames; `self` names the
    /// prefix); `None` for globs, `as _` and qualified paths.
    pub binding: Option<String>,
    pub from_use: bool,
}

impl PathRef {
    /// The path as written, e.g. `super::store::State` (a glob shows as `super::*`).
    pub fn text(&self) -> String {
        let text = self.segs.join("::");
        if self.from_use && self.binding.is_none() && !text.is_empty() {
            format!("{text}::*")
        } else {
            text
        }
    }
}

/// What the module graph needs from one file.
#[derive(Debug, Default)]
pub struct FileFacts {
    /// The whole file is test code (`#![cfg(test)]`).
    pub test_only: bool,
    pub mods: Vec<ModDecl>,
    pub refs: Vec<PathRef>,
}

/// Splits `toks` at commas outside any brackets.
fn split_commas(toks: &[Token]) -> Vec<&[Token]> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

/// Whether a `cfg(...)` predicate holds only under test: `test` or `all(.., test, ..)`.
fn cfg_is_test(pred: &[Token]) -> bool {
    match pred {
        [t] => ident(Some(t)) == Some("test"),
        [all, open, inner @ .., close]
            if ident(Some(all)) == Some("all") && is_punct(Some(open), '(') =>
        {
            is_punct(Some(close), ')') && split_commas(inner).into_iter().any(cfg_is_test)
        }
        _ => false,
    }
}

/// Whether the attribute body (between `#[` and `]`) marks test code: `cfg(test)`,
/// `cfg(all(test, ..))`, or a test harness attribute such as `test` or `tokio::test`.
fn attr_is_test(body: &[Token]) -> bool {
    if let [cfg, open, pred @ .., close] = body
        && ident(Some(cfg)) == Some("cfg")
        && is_punct(Some(open), '(')
        && is_punct(Some(close), ')')
    {
        return cfg_is_test(pred);
    }
    let path_len = body
        .iter()
        .take_while(|t| matches!(t.tok, Tok::Ident(_) | Tok::PathSep))
        .count();
    path_len > 0
        && ident(body.get(path_len - 1)) == Some("test")
        && (path_len == body.len() || is_punct(body.get(path_len), '('))
}

/// The index just past the item that starts at `i` (after its attributes): its `;`, the end
/// of its `{ .. }` block, or the closer of the block it sits in (a field or an argument).
fn item_end(toks: &[Token], delims: &[Option<usize>], mut i: usize) -> usize {
    let mut depth = 0;
    while i < toks.len() {
        match toks[i].tok {
            Tok::Punct('(' | '[') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
            }
            Tok::Punct('{') => {
                let Some(close) = delims[i] else {
                    return toks.len();
                };
                i = close;
                if depth == 0 {
                    return close + 1;
                }
            }
            Tok::Punct(';') if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    toks.len()
}

/// Marks the tokens of test-only code; returns the mask and whether the whole file is test.
fn test_mask(toks: &[Token], delims: &[Option<usize>]) -> (Vec<bool>, bool) {
    let mut mask = vec![false; toks.len()];
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        match toks[i].tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => depth -= 1,
            _ => {}
        }
        // `mod tests` is test code by name, with or without `#[cfg(test)]`.
        if ident(toks.get(i)) == Some("mod") && ident(toks.get(i + 1)) == Some("tests") {
            let end = item_end(toks, delims, i);
            mask[i..end].fill(true);
            i = end;
            continue;
        }
        let inner = is_punct(toks.get(i + 1), '!');
        let open = if inner { i + 2 } else { i + 1 };
        let attr_close = (is_punct(toks.get(i), '#') && is_punct(toks.get(open), '['))
            .then(|| delims[open])
            .flatten();
        let Some(close) = attr_close else {
            i += 1;
            continue;
        };
        if attr_is_test(&toks[open + 1..close]) {
            if inner && depth == 0 {
                return (vec![true; toks.len()], true);
            }
            if !inner {
                let end = item_end(toks, delims, close + 1);
                mask[i..end].fill(true);
                i = end;
                continue;
            }
        }
        i = close + 1;
    }
    (mask, false)
}

/// A `use` leaf: its full path and the name it binds.
type UseLeaf = (Vec<String>, Option<String>);

/// Parses the use tree starting at `*i` (after `use` or inside a group) into leaves.
fn use_tree(toks: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<UseLeaf>) {
    let mut segs = prefix.to_vec();
    if toks.get(*i).is_some_and(|t| t.tok == Tok::PathSep) {
        // `::name` is an extern crate: never a module of this crate.
        segs.push("::".into());
        *i += 1;
    }
    loop {
        match toks.get(*i).map(|t| &t.tok) {
            Some(Tok::Ident(name)) => {
                segs.push(name.clone());
                *i += 1;
                if toks.get(*i).is_some_and(|t| t.tok == Tok::PathSep) {
                    *i += 1;
                    continue;
                }
                let mut binding = Some(name.clone());
                if ident(toks.get(*i)) == Some("as") {
                    binding = ident(toks.get(*i + 1))
                        .filter(|a| *a != "_")
                        .map(str::to_owned);
                    *i += 2;
                }
                if segs.last().is_some_and(|s| s == "self") {
                    segs.pop();
                    if binding.as_deref() == Some("self") {
                        binding = segs.last().cloned();
                    }
                }
                out.push((segs, binding));
                return;
            }
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push((segs, None));
                return;
            }
            Some(Tok::Punct('{')) => {
                *i += 1;
                while !is_punct(toks.get(*i), '}') && *i < toks.len() {
                    use_tree(toks, i, &segs, out);
                    if is_punct(toks.get(*i), ',') {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            _ => return,
        }
    }
}

/// Reads the module facts of one file.
pub fn analyze(src: &str) -> FileFacts {
    let toks = tokenize(src);
    let delims = matching_delims(&toks);
    let (mask, test_only) = test_mask(&toks, &delims);
    let mut facts = FileFacts {
        test_only,
        ..FileFacts::default()
    };
    let mut path_attr: Option<String> = None;
    // Inline modules open at the current token: name and index of the closing brace.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        while inline.last().is_some_and(|(_, close)| *close < i) {
            inline.pop();
        }
        let scope: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
        let t = &toks[i];
        match &t.tok {
            Tok::Punct(';' | '{' | '}') => path_attr = None,
            Tok::Punct('#') if is_punct(toks.get(i + 1), '[') => {
                if let [name, eq, value] = toks.get(i + 2..i + 5).unwrap_or_default()
                    && ident(Some(name)) == Some("path")
                    && is_punct(Some(eq), '=')
                    && let Tok::Lit(value) = &value.tok
                {
                    path_attr = Some(value.clone());
                }
                i = delims[i + 1].unwrap_or(i + 1) + 1;
                continue;
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let Some(name) = ident(toks.get(i + 1)) {
                    if is_punct(toks.get(i + 2), ';') {
                        let test = mask[i] || test_only;
                        let path_attr = path_attr.take();
                        facts.mods.push(ModDecl {
                            name: name.into(),
                            path_attr,
                            scope,
                            test,
                        });
                    } else if is_punct(toks.get(i + 2), '{') {
                        inline.push((name.into(), delims[i + 2].unwrap_or(toks.len())));
                    }
                }
            }
            Tok::Ident(kw) if kw == "use" && !mask[i] && !is_punct(toks.get(i + 1), '<') => {
                let (line, mut leaves) = (t.line, Vec::new());
                i += 1;
                use_tree(&toks, &mut i, &[], &mut leaves);
                facts.refs.extend(leaves.into_iter().map(|(segs, binding)| {
                    let (scope, from_use) = (scope.clone(), true);
                    PathRef {
                        segs,
                        scope,
                        line,
                        binding,
                        from_use,
                    }
                }));
                continue;
            }
            Tok::Ident(first)
                if !mask[i] && toks.get(i + 1).is_some_and(|n| n.tok == Tok::PathSep) =>
            {
                let prev = i.checked_sub(1).and_then(|p| toks.get(p));
                let continues = prev.is_some_and(|p| p.tok == Tok::PathSep);
                let macro_var = is_punct(prev, '$');
                // `pub(in crate::a)` names a module for visibility, not for use.
                let visibility = ident(prev) == Some("in")
                    && i >= 3
                    && is_punct(toks.get(i - 2), '(')
                    && ident(toks.get(i - 3)) == Some("pub");
                if !(continues || macro_var || visibility) {
                    let mut segs = vec![first.clone()];
                    let mut j = i + 1;
                    while toks.get(j).is_some_and(|t| t.tok == Tok::PathSep)
                        && let Some(next) = ident(toks.get(j + 1))
                    {
                        segs.push(next.into());
                        j += 2;
                    }
                    let (line, binding, from_use) = (t.line, None, false);
                    facts.refs.push(PathRef {
                        segs,
                        scope,
                        line,
                        binding,
                        from_use,
                    });
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<String> {
        analyze(src).refs.iter().map(PathRef::text).collect()
    }

    #[test]
    fn comments_and_literals_hide_paths() {
        let src = r##"
            // crate::a::b
            /* crate::c /* nested */ crate::d */
            const S: &str = "crate::e";
            const R: &str = r#"crate::f " crate::g"#;
            const C: char = '"';
            fn f<'a>(x: &'a str) -> char { let _ = b"crate::h"; '\'' }
            fn g() { crate::real::f() }
        "##;
        assert_eq!(refs(src), ["crate::real::f"]);
    }

    #[test]
    fn use_groups_become_leaves_with_bindings() {
        let facts = analyze("use crate::a::{b, c::{d, e as f}, self, g::*};\nuse super::*;");
        let leaves: Vec<_> = facts
            .refs
            .iter()
            .map(|r| (r.text(), r.binding.clone()))
            .collect();
        let own = |s: &str| Some(s.to_owned());
        assert_eq!(
            leaves,
            [
                ("crate::a::b".to_owned(), own("b")),
                ("crate::a::c::d".to_owned(), own("d")),
                ("crate::a::c::e".to_owned(), own("f")),
                ("crate::a".to_owned(), own("a")),
                ("crate::a::g::*".to_owned(), None),
                ("super::*".to_owned(), None),
            ]
        );
    }

    #[test]
    fn qualified_paths_start_where_a_path_starts() {
        let src = "fn f() { self::x::y(); super::super::z::<T>(); a::b::c; ::std::mem::take(); \
                   <T as crate::t::Tr>::m(); }\npub(in crate::q) fn g() {}\nmacro_rules! m { () => { $crate::mac::x } }";
        assert_eq!(
            refs(src),
            ["self::x::y", "super::super::z", "a::b::c", "crate::t::Tr"]
        );
    }

    #[test]
    fn test_code_is_skipped() {
        let src = "#[cfg(test)]\nmod tests { use crate::x; }\n#[cfg(test)]\n#[path = \"a_tests.rs\"]\nmod a_tests;\n\
                   #[cfg(all(test, feature = \"x\"))]\nfn helper() { crate::y::z(); }\n#[tokio::test]\nasync fn t() { crate::w::v(); }\n\
                   #[cfg(not(test))]\nfn real() { crate::kept::f(); }\n#[path = \"other.rs\"]\npub(crate) mod other;\n\
                   pub mod tests { mod helpers; use crate::h; }";
        let facts = analyze(src);
        assert_eq!(
            facts.refs.iter().map(PathRef::text).collect::<Vec<_>>(),
            ["crate::kept::f"]
        );
        let decls: Vec<_> = facts
            .mods
            .iter()
            .map(|m| (m.name.as_str(), m.path_attr.as_deref(), m.test))
            .collect();
        assert_eq!(
            decls,
            [
                ("a_tests", Some("a_tests.rs"), true),
                ("other", Some("other.rs"), false),
                ("helpers", None, true)
            ]
        );
        assert!(analyze("//! docs\n#![cfg(test)]\nuse crate::a;").test_only);
    }

    #[test]
    fn inline_modules_give_paths_a_scope() {
        let facts = analyze("pub mod consts { use super::x::Y; mod deep; }\nuse self::z::W;");
        let scoped: Vec<_> = facts
            .refs
            .iter()
            .map(|r| (r.text(), r.scope.clone()))
            .collect();
        assert_eq!(
            scoped,
            [
                ("super::x::Y".to_owned(), vec!["consts".to_owned()]),
                ("self::z::W".to_owned(), vec![])
            ]
        );
        assert_eq!(facts.mods[0].scope, ["consts"]);
    }
}
