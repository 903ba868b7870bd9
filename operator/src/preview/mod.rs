//! Previews of manifests not yet applied, for `kubectl ecs diff` and `kubectl ecs verify`: each
//! object goes through the same validate → account → observe → plan code its controller runs,
//! against the account its namespace is bound to, with the operator's limiter and caches — and
//! stops at the plan. Reads only: no AWS mutation and no Kubernetes write. Served on the
//! operator's preview address (`server`).

pub mod model;
pub mod objects;
pub mod server;
pub mod text_diff;

pub use model::{ObjectPreview, PreviewRequest, PreviewResponse, diff_exit_code, verify_exit_code};
pub use objects::preview;
