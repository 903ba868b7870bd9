//! The tag rules of ECS resources (clusters, services, task definition revisions): validation
//! and merging. Application Auto Scaling merges its targets' tags the same way.

use crate::ecs::errors::invalid_parameter;
use aws::ecs::Tag;
use aws::error::AwsResult;

/// Tag rules shared by every taggable resource: at most 50, keys 1–128 characters, values at
/// most 256, and no `aws:` prefix.
pub(crate) fn validate_tags(tags: &[Tag]) -> AwsResult<()> {
    if tags.len() > 50 {
        return Err(invalid_parameter("Tags can have at most 50 items."));
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return Err(invalid_parameter(
                "Tag keys must be between 1 and 128 characters.",
            ));
        }
        if tag.value.chars().count() > 256 {
            return Err(invalid_parameter(
                "Tag values must be at most 256 characters.",
            ));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_parameter(
                "Tag keys with the prefix 'aws:' are reserved for AWS use.",
            ));
        }
    }
    Ok(())
}

/// Merges `new` into `tags` (a key present in both takes the new value).
pub(crate) fn merge_tags(tags: &mut Vec<Tag>, new: Vec<Tag>) {
    for tag in new {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value,
            None => tags.push(tag),
        }
    }
}
