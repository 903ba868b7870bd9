//! Small conversions every ECS conversion uses: tags, timestamps, AWS's "0 means unset" and
//! "[] means unset".

use aws_sdk_ecs::types as sdk;
use jiff::Timestamp;

use crate::ecs::Tag;

/// `None` for an empty list (AWS reports lists nobody set as `[]`).
pub(super) fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// `None` for 0 (AWS reports integers nobody set as 0).
pub(super) fn non_zero(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

/// An SDK timestamp as a jiff one (`None` outside jiff's range, years -9999..=9999).
pub(super) fn timestamp(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

/// Operator tags as SDK tags.
pub(super) fn tags_to_sdk(tags: Vec<Tag>) -> Vec<sdk::Tag> {
    tags.into_iter()
        .map(|Tag { key, value }| sdk::Tag::builder().key(key).value(value).build())
        .collect()
}

/// SDK tags as operator tags.
pub(super) fn tags_from_sdk(tags: Vec<sdk::Tag>) -> Vec<Tag> {
    tags.into_iter()
        .map(|t| Tag {
            key: t.key.unwrap_or_default(),
            value: t.value.unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_subsecond_precision() {
        let t = aws_smithy_types::DateTime::from_secs_and_nanos(1_700_000_000, 123_000_000);
        let j = timestamp(&t).unwrap();
        assert_eq!(j.as_second(), 1_700_000_000);
        assert_eq!(j.subsec_nanosecond(), 123_000_000);
    }
}
