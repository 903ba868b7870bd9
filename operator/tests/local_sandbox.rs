//! `ecs-operator local` as a user runs it: the binary, the shipped examples, the exit code.

use std::path::PathBuf;
use std::process::Command;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The sandboxes that run the examples one at a time: the examples' Prometheus metric gates
/// query the sandbox's Prometheus on its fixed port, which only one sandbox can have.
static EXAMPLES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether one line of `out` contains every one of `parts`.
fn line_with(out: &str, parts: &[&str]) -> bool {
    out.lines().any(|l| parts.iter().all(|p| l.contains(p)))
}

#[test]
fn the_examples_become_ready() {
    let _examples = EXAMPLES.lock().unwrap_or_else(|e| e.into_inner());
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
    assert!(stdout.contains("All 18 objects are Ready."), "{stdout}");
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
    assert!(
        line_with(
            &stdout,
            &[
                "✔ ReleaseGroup event-booking/event-booking ",
                "Ready Released: release 2026.12.0: all 5 members"
            ]
        ),
        "{stdout}"
    );
    // The example NotificationPolicy posts to the sandbox's receiver, which prints it.
    assert!(
        stdout.contains("✉ Notification to /event-booking: ReleaseGroup event-booking/event-booking: releasing 2026.12.0"),
        "{stdout}"
    );
    // The second policy publishes how the release ended to the simulated SNS topic.
    assert!(
        stdout.contains("✉ SNS event-booking-releases: ReleaseGroup event-booking/event-booking"),
        "{stdout}"
    );
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
            // Its manifests have no metric gates: the examples' fixed Prometheus port stays free
            // for the sandboxes that run them.
            "--prometheus-port",
            "0",
            "--webhook-port",
            "0",
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
    let _examples = EXAMPLES.lock().unwrap_or_else(|e| e.into_inner());
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
    // The demo releases all five members of the ReleaseGroup; payment, the fourth in dependsOn
    // order, fails its smoke test, and the four others roll back.
    assert!(
        pos("Demo: releasing 2026.12.0-demo of the 5 members")
            < pos("Aborting: aborting event-booking-payment:2: HTTP check")
    );
    assert!(pos("Aborting: aborting") < pos("✘ BlueGreenRollout event-booking/payment"));
    assert!(
        stdout.contains("event-booking-payment:1 serves production"),
        "{stdout}"
    );
    for name in ["auth", "event", "ticket", "notification"] {
        assert!(
            line_with(
                &stdout,
                &[
                    &format!("✘ EcsService event-booking/{name} "),
                    "Stalled ReleaseRolledBack"
                ]
            ),
            "{name} never rolled back:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("event-booking-{name}:1 serves production")),
            "{name} is not back on its first revision:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("Demo: ReleaseGroup event-booking/event-booking rolled the release back: payment failed, and auth, event, ticket, notification run the revision they ran before it."),
        "{stdout}"
    );
    assert!(
        line_with(
            &stdout,
            &[
                "✉ Notification to /event-booking: BlueGreenRollout event-booking/payment: event-booking-payment:2 was rolled back",
                "event-booking-payment:1 serves production"
            ]
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("✉ SNS event-booking-releases: BlueGreenRollout event-booking/payment: event-booking-payment:2 was rolled back"),
        "{stdout}"
    );
    assert!(
        stdout.contains("All 11 other objects are Ready; the demo release was rolled back."),
        "{stdout}"
    );
}
