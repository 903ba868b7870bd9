//! Events (events.k8s.io) about the operator's objects; a failure to publish is logged, never
//! fatal.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Resource;
use kube::runtime::events::{Event, EventType};

use crate::controllers::Context;

/// Longest event note the API server keeps.
const MAX_NOTE: usize = 1000;

/// Publishes an event about `obj`.
pub async fn publish<K>(ctx: &Context, obj: &K, warning: bool, reason: &str, note: String)
where
    K: Resource<DynamicType = ()>,
{
    let event = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.to_string(),
        note: Some(truncate(note, MAX_NOTE)),
        action: reason.to_string(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(%error, reason, "could not publish event");
    }
}

/// The condition `type_` when it turned True between `before` and `after`.
pub fn turned_true<'a>(
    before: &[Condition],
    after: &'a [Condition],
    type_: &str,
) -> Option<&'a Condition> {
    let was = before
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True");
    after
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True" && !was)
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_cut_on_a_char_boundary() {
        let s = "é".repeat(600);
        let cut = truncate(s, MAX_NOTE);
        assert!(cut.len() <= MAX_NOTE && cut.chars().all(|c| c == 'é'));
    }
}
