//! The rollout verbs as annotations: `ecs-operator.dev/<verb>-requested-at: <RFC3339>` set by
//! the kubectl plugin, an Argo CD action or by hand. A request is pending until its value is
//! recorded in `status.handledVerbs`; each value is acted on once. `.spec` is never touched.

use std::collections::BTreeMap;

use crds::common::{VERB_ANNOTATION_PREFIX, VERB_ANNOTATION_SUFFIX};
use crds::rollout::HandledVerbs;

use super::machine::Verb;

/// Every verb and its annotation name part.
pub const VERBS: [(Verb, &str); 5] = [
    (Verb::Abort, "abort"),
    (Verb::Rollback, "rollback"),
    (Verb::Retry, "retry"),
    (Verb::PromoteFull, "promote-full"),
    (Verb::Promote, "promote"),
];

/// The annotation key of a verb (`promote` → `ecs-operator.dev/promote-requested-at`).
pub fn annotation(name: &str) -> String {
    format!("{VERB_ANNOTATION_PREFIX}{name}{VERB_ANNOTATION_SUFFIX}")
}

fn slot(handled: &mut HandledVerbs, verb: Verb) -> &mut Option<String> {
    match verb {
        Verb::Abort => &mut handled.abort,
        Verb::Rollback => &mut handled.rollback,
        Verb::Retry => &mut handled.retry,
        Verb::PromoteFull => &mut handled.promote_full,
        Verb::Promote => &mut handled.promote,
    }
}

/// The verb requests not handled yet, with their request values.
pub fn pending(
    annotations: &BTreeMap<String, String>,
    handled: Option<&HandledVerbs>,
) -> Vec<(Verb, String)> {
    let mut handled = handled.cloned().unwrap_or_default();
    VERBS
        .iter()
        .filter_map(|(verb, name)| {
            let value = annotations.get(&annotation(name))?;
            let done = slot(&mut handled, *verb).as_deref() == Some(value.as_str());
            (!done && !value.is_empty()).then(|| (*verb, value.clone()))
        })
        .collect()
}

/// Records that the request `value` of `verb` was acted on.
pub fn mark_handled(handled: &mut HandledVerbs, verb: Verb, value: &str) {
    *slot(handled, verb) = Some(value.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_pending_until_its_value_is_handled() {
        let mut annotations = BTreeMap::new();
        annotations.insert(annotation("promote"), "2026-03-02T10:00:00Z".to_owned());
        annotations.insert(annotation("abort"), "2026-03-02T10:01:00Z".to_owned());
        annotations.insert("other".to_owned(), "x".to_owned());
        let found = pending(&annotations, None);
        assert_eq!(
            found.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            [Verb::Abort, Verb::Promote]
        );
        let mut handled = HandledVerbs::default();
        mark_handled(&mut handled, Verb::Promote, "2026-03-02T10:00:00Z");
        mark_handled(&mut handled, Verb::Abort, "2026-03-02T10:01:00Z");
        assert!(pending(&annotations, Some(&handled)).is_empty());
        // A new request (new timestamp) is pending again.
        annotations.insert(annotation("promote"), "2026-03-02T11:00:00Z".to_owned());
        assert_eq!(pending(&annotations, Some(&handled)).len(), 1);
        assert_eq!(
            annotation("promote-full"),
            "ecs-operator.dev/promote-full-requested-at"
        );
    }
}
