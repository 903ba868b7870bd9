//! Benchmark of the local API server (placeholder until written).
fn main() {}
