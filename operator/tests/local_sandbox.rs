//! `ecs-operator local` as a user runs it: the binary, the shipped examples, the exit code.

use std::path::PathBuf;
use std::process::Command;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn the_examples_become_ready() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .current_dir(workspace_root())
        .args([
            "local",
            "--exit-when-ready",
            "--timeout",
            "180",
            "--speed",
            "50",
            "--kubeconfig",
        ])
        .arg(dir.path().join("kubeconfig"))
        .output()
        .expect("ecs-operator runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("All 15 objects are Ready."), "{stdout}");
    assert!(stdout.contains("kubectl --kubeconfig"), "{stdout}");
    for name in ["auth", "event", "ticket", "payment", "notification"] {
        assert!(
            stdout.contains(&format!("✔ EcsService event-booking/{name}")),
            "{name} never Ready:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("✔ ScalingPolicy event-booking/{name}")),
            "{name}'s ScalingPolicy never Ready:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("✔ BlueGreenRollout event-booking/{name}")),
            "{name}'s BlueGreenRollout never Ready:\n{stdout}"
        );
    }
    // dependsOn: event waits for auth.
    let pos = |s: &str| stdout.find(s).unwrap_or(usize::MAX);
    assert!(pos("✔ EcsService event-booking/auth") < pos("✔ EcsService event-booking/event"));
    assert!(pos("✔ EcsService event-booking/ticket") < pos("✔ EcsService event-booking/payment"));
}

#[test]
fn a_manifest_referencing_missing_infrastructure_is_refused_naming_it() {
    let manifests = tempfile::tempdir().unwrap();
    let example =
        std::fs::read_to_string(workspace_root().join("examples/event-booking/01-auth.yaml"))
            .unwrap();
    std::fs::write(
        manifests.path().join("00-ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: event-booking}\n",
    )
    .unwrap();
    std::fs::write(
        manifests.path().join("01-auth.yaml"),
        example.replace("cluster: event-booking", "cluster: no-such-cluster"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .current_dir(workspace_root())
        .args([
            "local",
            "--exit-when-ready",
            "--timeout",
            "120",
            "--speed",
            "50",
            "--manifests",
        ])
        .arg(manifests.path())
        .arg("--kubeconfig")
        .arg(manifests.path().join("kubeconfig"))
        .output()
        .expect("ecs-operator runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Not everything became Ready"), "{stdout}");
    // Refused before any AWS mutation, naming the field and what is missing.
    assert!(stdout.contains("Stalled InvalidReference"), "{stdout}");
    assert!(
        stdout.contains("spec.cluster: ECS cluster no-such-cluster does not exist"),
        "{stdout}"
    );
}

#[test]
fn a_failing_release_rolls_back_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .current_dir(workspace_root())
        .args([
            "local",
            "--exit-when-ready",
            "--timeout",
            "240",
            "--speed",
            "50",
            "--demo-failure",
            "payment",
            "--kubeconfig",
        ])
        .arg(dir.path().join("kubeconfig"))
        .output()
        .expect("ecs-operator runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}", out.status);
    let pos = |s: &str| stdout.find(s).unwrap_or(usize::MAX);
    assert!(pos("Demo: releasing") < pos("Aborting: aborting event-booking-payment:2: HTTP check"));
    assert!(pos("Aborting: aborting") < pos("✘ BlueGreenRollout event-booking/payment"));
    assert!(
        stdout.contains("event-booking-payment:1 serves production"),
        "{stdout}"
    );
    assert!(
        stdout.contains("All 13 other objects are Ready; the demo release was rolled back."),
        "{stdout}"
    );
}
