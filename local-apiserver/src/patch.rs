//! Patch documents applied to JSON: RFC 7386 merge patch, RFC 6902 JSON patch (with the
//! apiserver's quirk that `test` of `null` passes on a missing path), and strategic merge patch
//! approximated as a merge patch without its `$` directives. Pure functions.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The `Content-Type` of a PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    /// Maps a media type (parameters already stripped) to a patch type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("just made an object");
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            merge(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Strategic merge patch, approximated: a merge patch with `$patch`, `$retainKeys`,
/// `$setElementOrder/...` and `$deleteFromPrimitiveList/...` directives dropped.
pub(crate) fn strategic(target: &mut Value, patch: &Value) {
    merge(target, &strip_directives(patch));
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// RFC 6902. A malformed patch is 400; an operation that does not apply is 422.
pub(crate) fn json_patch(doc: &Value, ops: &Value) -> Result<Value, ApiError> {
    let Value::Array(ops) = ops else {
        return Err(ApiError::bad_request(
            "json patch must be an array of operations",
        ));
    };
    let mut doc = doc.clone();
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("json patch operation without \"op\""))?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request(format!("{kind} operation without \"path\"")))?;
        let pointer = parse_pointer(path)?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| ApiError::bad_request(format!("{kind} operation without \"value\"")))
        };
        let from = || -> Result<Vec<String>, ApiError> {
            parse_pointer(op.get("from").and_then(Value::as_str).ok_or_else(|| {
                ApiError::bad_request(format!("{kind} operation without \"from\""))
            })?)
        };
        let failed = |why: &str| {
            ApiError::new(
                422,
                "Invalid",
                format!(
                    "the server rejected our request due to an error in our request: {kind} operation does not apply: {why}: {path}"
                ),
            )
        };
        match kind {
            "test" => {
                let want = value()?;
                let have = get(&doc, &pointer).cloned().unwrap_or(Value::Null);
                if have != want {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!(
                            "the server rejected our request due to an error in our request: testing value {path} failed: test failed"
                        ),
                    ));
                }
            }
            "add" => add(&mut doc, &pointer, value()?).map_err(&failed)?,
            "remove" => {
                remove(&mut doc, &pointer).map_err(&failed)?;
            }
            "replace" => {
                remove(&mut doc, &pointer).map_err(&failed)?;
                add(&mut doc, &pointer, value()?).map_err(&failed)?;
            }
            "move" => {
                let src = from()?;
                if pointer.starts_with(&src) && pointer.len() > src.len() {
                    return Err(failed("cannot move a value into itself"));
                }
                let moved = remove(&mut doc, &src).map_err(&failed)?;
                add(&mut doc, &pointer, moved).map_err(&failed)?;
            }
            "copy" => {
                let copied = get(&doc, &from()?)
                    .cloned()
                    .ok_or_else(|| failed("doc is missing from path"))?;
                add(&mut doc, &pointer, copied).map_err(&failed)?;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown json patch operation {other:?}"
                )));
            }
        }
    }
    Ok(doc)
}

fn parse_pointer(path: &str) -> Result<Vec<String>, ApiError> {
    if path.is_empty() {
        return Ok(vec![]);
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(ApiError::bad_request(format!(
            "json pointer {path:?} must start with '/'"
        )));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn array_index(token: &str, len: usize, allow_end: bool) -> Result<usize, &'static str> {
    if token == "-" && allow_end {
        return Ok(len);
    }
    let valid = !token.is_empty()
        && token.chars().all(|c| c.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    let i: usize = if valid {
        token.parse().map_err(|_| "invalid index")?
    } else {
        return Err("invalid index");
    };
    if i > len || (i == len && !allow_end) {
        return Err("index out of range");
    }
    Ok(i)
}

fn get<'a>(doc: &'a Value, pointer: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for token in pointer {
        cur = match cur {
            Value::Object(map) => map.get(token)?,
            Value::Array(items) => items.get(array_index(token, items.len(), false).ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn parent<'a>(doc: &'a mut Value, pointer: &[String]) -> Result<&'a mut Value, &'static str> {
    let mut cur = doc;
    for token in &pointer[..pointer.len() - 1] {
        cur = match cur {
            Value::Object(map) => map.get_mut(token).ok_or("doc is missing path")?,
            Value::Array(items) => {
                let i = array_index(token, items.len(), false)?;
                &mut items[i]
            }
            _ => return Err("doc is missing path"),
        };
    }
    Ok(cur)
}

fn add(doc: &mut Value, pointer: &[String], value: Value) -> Result<(), &'static str> {
    let Some(last) = pointer.last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, pointer)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(items) => {
            let i = array_index(last, items.len(), true)?;
            items.insert(i, value);
        }
        _ => return Err("doc is missing path"),
    }
    Ok(())
}

fn remove(doc: &mut Value, pointer: &[String]) -> Result<Value, &'static str> {
    let Some(last) = pointer.last() else {
        return Err("cannot remove the whole document");
    };
    match parent(doc, pointer)? {
        Value::Object(map) => map.remove(last).ok_or("doc is missing path"),
        Value::Array(items) => {
            let i = array_index(last, items.len(), false)?;
            Ok(items.remove(i))
        }
        _ => Err("doc is missing path"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        merge(
            &mut doc,
            &json!({"a": "z", "c": {"f": null, "h": 1}, "l": [3]}),
        );
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e", "h": 1}, "l": [3]}));
        let mut scalar = json!("x");
        merge(&mut scalar, &json!({"a": {"b": null}}));
        assert_eq!(scalar, json!({"a": {}}));
        let mut doc = json!({"a": 1});
        merge(&mut doc, &json!(["replace"]));
        assert_eq!(doc, json!(["replace"]));
    }

    #[test]
    fn strategic_drops_directives() {
        let mut doc = json!({"spec": {"x": 1}});
        strategic(
            &mut doc,
            &json!({"spec": {"$retainKeys": ["x"], "y": 2}, "$setElementOrder/l": []}),
        );
        assert_eq!(doc, json!({"spec": {"x": 1, "y": 2}}));
    }

    #[test]
    fn json_patch_operations() {
        let doc = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"x": 1}});
        let out = json_patch(
            &doc,
            &json!([
                {"op": "test", "path": "/spec/x", "value": 1},
                {"op": "remove", "path": "/metadata/finalizers/0"},
                {"op": "add", "path": "/metadata/finalizers/-", "value": "c"},
                {"op": "replace", "path": "/spec/x", "value": 2},
                {"op": "copy", "from": "/spec/x", "path": "/spec/y"},
                {"op": "move", "from": "/spec/y", "path": "/spec/z"},
                {"op": "add", "path": "/a~1b", "value": true}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"finalizers": ["b", "c"]}, "spec": {"x": 2, "z": 2}, "a/b": true})
        );
    }

    #[test]
    fn test_of_null_passes_on_a_missing_path() {
        // kube-rs's finalizer helper adds the first finalizer guarded by this test.
        let doc = json!({"metadata": {"name": "x"}});
        let out = json_patch(
            &doc,
            &json!([
                {"op": "test", "path": "/metadata/finalizers", "value": null},
                {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}
            ]),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["f"]));
    }

    #[test]
    fn failures_are_422_and_malformed_patches_400() {
        let doc = json!({"spec": {"l": [1]}});
        let cases = [
            (
                json!([{"op": "test", "path": "/spec/l/0", "value": 2}]),
                422,
            ),
            (json!([{"op": "remove", "path": "/spec/missing"}]), 422),
            (
                json!([{"op": "replace", "path": "/nope/x", "value": 1}]),
                422,
            ),
            (json!([{"op": "add", "path": "/spec/l/5", "value": 1}]), 422),
            (
                json!([{"op": "add", "path": "/spec/l/01", "value": 1}]),
                422,
            ),
            (
                json!([{"op": "move", "from": "/spec", "path": "/spec/l/x"}]),
                422,
            ),
            (json!([{"op": "frobnicate", "path": "/spec"}]), 400),
            (json!([{"op": "add", "path": "spec"}]), 400),
            (json!([{"path": "/spec"}]), 400),
            (json!({"op": "add"}), 400),
        ];
        for (ops, code) in cases {
            assert_eq!(json_patch(&doc, &ops).unwrap_err().code, code, "{ops}");
        }
    }
}
