//! CEL rules (`x-kubernetes-validations`) of one schema node: evaluated against `self` (and
//! `oldSelf` for transition rules, only when an old value exists), reported like kube-apiserver
//! does: the rule's message or messageExpression, its reason, at the node's path or `fieldPath`.

use serde_json::Value;

use super::fields::{join, json_type};
use crate::error::Cause;
use crate::schema::Schema;

pub(super) fn check_rules(
    schema: &Schema,
    value: &Value,
    old: Option<&Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    for rule in &schema.rules {
        let old_self = if rule.program.uses_old_self() {
            match old {
                Some(o) => Some(o),
                None => continue,
            }
        } else {
            None
        };
        let field = match &rule.field_path {
            Some(fp) => join(path, fp.trim_start_matches('.')),
            None => path.to_owned(),
        };
        let shown_type = schema
            .type_
            .clone()
            .unwrap_or_else(|| json_type(value).to_owned());
        let message = match rule.program.eval_bool(value, old_self) {
            Ok(true) => continue,
            Ok(false) => rule
                .message_expression
                .as_ref()
                .and_then(|p| p.eval_string(value, old_self).ok())
                .filter(|m| !m.trim().is_empty())
                .or_else(|| rule.message.clone())
                .unwrap_or_else(|| format!("failed rule: {}", rule.source)),
            Err(e) => format!("{e} evaluating rule: {}", rule.source),
        };
        let message = match rule.reason.as_str() {
            "FieldValueRequired" => format!("Required value: {message}"),
            "FieldValueForbidden" => format!("Forbidden: {message}"),
            "FieldValueDuplicate" => format!("Duplicate value: \"{shown_type}\": {message}"),
            _ => format!("Invalid value: \"{shown_type}\": {message}"),
        };
        causes.push(Cause {
            reason: rule.reason.clone(),
            message,
            field: if field.is_empty() {
                "<nil>".into()
            } else {
                field
            },
        });
    }
}
