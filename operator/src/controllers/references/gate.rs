//! The gate in front of an object's mutations: verification once per generation, remembered
//! when it passed, and the Stalled reason when it did not.

use aws::AwsResult;
use aws::accounts::AwsClients;

use super::check;
use super::model::{Reference, Verification};
use crate::controllers::Context;
use crate::controllers::runtime::{ManagedKind, object_key};

/// The Stalled reason of an object whose spec names something that does not exist.
pub const INVALID_REFERENCE: &str = "InvalidReference";

/// The key verification results are remembered under: the object's kind and uid.
pub fn key<K: ManagedKind>(obj: &K) -> String {
    let id = obj.meta().uid.clone().unwrap_or_else(|| object_key(obj));
    format!("{}/{id}", K::kind(&()))
}

/// Verifies `refs` before the first mutation of the object `key`'s `generation` (nothing is
/// read when that generation passed with the same references). `Some` with the findings when
/// a reference does not resolve: the caller refuses the object and makes no mutation.
pub async fn gate(
    ctx: &Context,
    key: &str,
    generation: Option<i64>,
    refs: &[Reference],
    aws: &AwsClients,
) -> AwsResult<Option<Verification>> {
    if ctx.references.passed(key, generation, refs) {
        return Ok(None);
    }
    let verification = check::verify(refs, aws, &ctx.references, ctx.clock.now()).await?;
    if !verification.skipped.is_empty() {
        tracing::info!(object = key, skipped = ?verification.skipped, "some references were not checked");
    }
    if verification.passed() {
        ctx.references.pass(key, generation, refs);
        return Ok(None);
    }
    Ok(Some(verification))
}
