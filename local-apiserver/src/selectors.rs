//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and field selectors
//! (`metadata.name`, `metadata.namespace`, `involvedObject.*`, any dotted path) for list and
//! watch. Pure: parse a query value, test an object.

use serde_json::Value;

use crate::error::ApiError;
use crate::wire::Query;

/// The `labelSelector` and `fieldSelector` of a list, watch or deletecollection request.
pub(crate) fn from_query(query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(query.get("labelSelector").unwrap_or_default())?,
        FieldSelector::parse(query.get("fieldSelector").unwrap_or_default())?,
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelOp {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

/// A parsed `labelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    requirements: Vec<(String, LabelOp)>,
}

impl LabelSelector {
    /// Parses the `labelSelector` query value.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_outside_parens(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part).map_err(|why| {
                ApiError::bad_request(format!("unable to parse requirement: {why}: {part:?}"))
            })?);
        }
        Ok(Self { requirements })
    }

    /// Whether `obj`'s `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|(key, op)| match op {
            LabelOp::Eq(v) => get(key) == Some(v.as_str()),
            LabelOp::Ne(v) => get(key) != Some(v.as_str()),
            LabelOp::In(vs) => get(key).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelOp::NotIn(vs) => get(key).is_none_or(|l| vs.iter().all(|v| v != l)),
            LabelOp::Exists => get(key).is_some(),
            LabelOp::NotExists => get(key).is_none(),
        })
    }
}

fn split_outside_parens(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<(String, LabelOp), &'static str> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok((checked_key(key.trim())?, LabelOp::NotExists));
    }
    for (token, negated) in [(" notin ", true), (" in ", false)] {
        if let Some(at) = part.find(token) {
            let key = checked_key(part[..at].trim())?;
            let set = part[at + token.len()..].trim();
            let inner = set
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or("expected a parenthesised set of values")?;
            let values = inner
                .split(',')
                .map(|v| checked_value(v.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((
                key,
                if negated {
                    LabelOp::NotIn(values)
                } else {
                    LabelOp::In(values)
                },
            ));
        }
    }
    for (token, ne) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((k, v)) = part.split_once(token) {
            let (key, value) = (checked_key(k.trim())?, checked_value(v.trim())?);
            return Ok((
                key,
                if ne {
                    LabelOp::Ne(value)
                } else {
                    LabelOp::Eq(value)
                },
            ));
        }
    }
    Ok((checked_key(part)?, LabelOp::Exists))
}

fn label_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn checked_key(key: &str) -> Result<String, &'static str> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| !p.is_empty() && p.len() <= 253 && label_chars(p));
    if name.is_empty() || name.len() > 63 || !label_chars(name) || !prefix_ok {
        return Err("invalid label key");
    }
    Ok(key.to_owned())
}

fn checked_value(value: &str) -> Result<String, &'static str> {
    if value.is_empty() || (value.len() <= 63 && label_chars(value)) {
        Ok(value.to_owned())
    } else {
        Err("invalid label value")
    }
}

/// A parsed `fieldSelector`: `path=value` and `path!=value` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<(Vec<String>, bool, String)>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` query value.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        for part in split_unescaped(s, ',') {
            if part.trim().is_empty() {
                continue;
            }
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if field.is_empty() {
                return Err(ApiError::bad_request(format!("invalid selector: '{s}'")));
            }
            terms.push((
                field.split('.').map(str::to_owned).collect(),
                equal,
                unescape(value.trim()),
            ));
        }
        Ok(Self { terms })
    }

    /// Whether `obj` satisfies every term; missing fields read as "".
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|(path, equal, want)| {
            let mut cur = Some(obj);
            for seg in path {
                cur = cur.and_then(|c| c.get(seg));
            }
            let have = match cur {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            (have == *want) == *equal
        })
    }

    /// The name a `metadata.name=x` term pins, if any.
    pub fn pinned_name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|(path, equal, _)| {
                *equal && path.len() == 2 && path[0] == "metadata" && path[1] == "name"
            })
            .map(|(_, _, v)| v.as_str())
    }

    /// A selector pinning `metadata.name` (for `GET .../NAME?watch=true`).
    pub fn with_name(mut self, name: &str) -> Self {
        self.terms.push((
            vec!["metadata".into(), "name".into()],
            true,
            name.to_owned(),
        ));
        self
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let last = parts.last_mut().expect("never empty");
                last.push('\\');
                if let Some(n) = chars.next() {
                    last.push(n);
                }
            }
            c if c == sep => parts.push(String::new()),
            c => parts.last_mut().expect("never empty").push(c),
        }
    }
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default", "labels": labels}})
    }

    #[test]
    fn label_selector_operators() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web,other)", true),
            ("app in (db, other)", false),
            ("app notin (db,other)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=front", true),
            ("app=web,tier=back", false),
            ("app in (web),!missing,tier", true),
            ("example.com/role", false),
        ];
        for (sel, want) in cases {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
    }

    #[test]
    fn bad_label_selectors_are_400() {
        for sel in [
            "app in web",
            "=x",
            "a b c",
            "app=a b",
            "-bad",
            "app in (a,b c)",
            "x/=y",
        ] {
            let err = LabelSelector::parse(sel).unwrap_err();
            assert_eq!(err.code, 400, "{sel}");
        }
    }

    #[test]
    fn field_selector_paths_and_negation() {
        let ev = json!({"metadata": {"name": "e1", "namespace": "default"},
                        "involvedObject": {"kind": "EcsService", "name": "web", "uid": "u1"}, "count": 2});
        let cases = [
            ("metadata.name=e1", true),
            ("metadata.name==e1", true),
            ("metadata.name!=e1", false),
            ("metadata.namespace=default,involvedObject.name=web", true),
            (
                "involvedObject.kind=EcsService,involvedObject.uid=u2",
                false,
            ),
            ("involvedObject.fieldPath=", true),
            ("count=2", true),
        ];
        for (sel, want) in cases {
            assert_eq!(
                FieldSelector::parse(sel).unwrap().matches(&ev),
                want,
                "{sel}"
            );
        }
        assert_eq!(
            FieldSelector::parse("metadata.name=x")
                .unwrap()
                .pinned_name(),
            Some("x")
        );
        assert!(FieldSelector::parse("nonsense").is_err());
        let escaped = FieldSelector::parse(r"metadata.name=a\,b").unwrap();
        assert!(escaped.matches(&json!({"metadata": {"name": "a,b"}})));
    }
}
