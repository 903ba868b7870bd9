//! Compiles the vendored Kubernetes `.proto` files in `proto/` into one descriptor set, which the
//! protobuf codec (`src/protobuf`) reads at run time to encode and decode built-in kinds.

use std::path::PathBuf;

/// The files compiled; their imports (apimachinery's meta, runtime, intstr, resource) come along.
const FILES: &[&str] = &[
    "k8s.io/api/core/v1/generated.proto",
    "k8s.io/api/apps/v1/generated.proto",
    "k8s.io/api/rbac/v1/generated.proto",
    "k8s.io/api/coordination/v1/generated.proto",
    "k8s.io/api/events/v1/generated.proto",
];

fn main() {
    println!("cargo:rerun-if-changed=proto");
    let mut compiler = protox::Compiler::new(["proto"]).expect("the proto/ include directory");
    compiler.include_imports(true).include_source_info(false);
    compiler
        .open_files(FILES)
        .unwrap_or_else(|e| panic!("the vendored Kubernetes .proto files compile: {e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("kubernetes.desc");
    std::fs::write(&out, compiler.encode_file_descriptor_set())
        .unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
