//! The `ecs-operator` binary: `run`, `local`, `crds`.
fn main() {}
