//! Room for the `cel` crate's recursion. Its parser and evaluator recurse once per level of the
//! expression, with frames large enough (unoptimised: ~150 KiB per bracket level when parsing,
//! ~40 KiB per tree level when evaluating) that a moderately nested rule overflows the 2 MiB of
//! a test or tokio thread, which aborts the process. Work that may go deep runs here instead.

use super::error::CelError;

/// The stack of the thread deep work runs on; only the pages it touches are committed. Enough
/// for the parser's own nesting limit (96) and for the deepest tree `check` lets through.
const STACK_BYTES: usize = 64 << 20;

/// Runs `work` on a thread of its own with a large stack, and waits for it.
pub(super) fn on_large_stack<T: Send>(
    work: impl FnOnce() -> Result<T, CelError> + Send,
) -> Result<T, CelError> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("cel".to_owned())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, work)
            .map_err(|e| CelError::new(format!("cannot start a thread for CEL: {e}")))?;
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
