//! The exit codes of `kubectl ecs`: scripts and CI read them.

/// Exit code: the rollout is Healthy (or the command succeeded).
pub const EXIT_OK: i32 = 0;
/// Exit code: the rollout is Degraded (rolled back).
pub const EXIT_DEGRADED: i32 = 1;
/// Exit code: `status` gave up waiting.
pub const EXIT_TIMEOUT: i32 = 2;
/// Exit code: the command could not run (object not found, API error, bad flags).
pub const EXIT_ERROR: i32 = 3;
