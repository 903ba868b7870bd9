//! The `kubectl-ecs` plugin driven through the real kubectl against the local API server and
//! the operator on the simulated account: `get`, `status` exit codes, and every verb — each
//! recorded as an annotation, the rollout's `.spec` (and generation) never touched.

use std::path::PathBuf;
use std::process::{Command, Output};

use crds::rollout::RolloutPhase;
use e2e_tests::rollouts::*;
use e2e_tests::sandbox::Sandbox;
use e2e_tests::tools::{kubectl, plugin_dir};

struct Kubectl {
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(sb: &Sandbox) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        sb.server.write_kubeconfig(&kubeconfig).unwrap();
        Self {
            kubeconfig,
            _dir: dir,
        }
    }

    /// `kubectl ecs ARGS --kubeconfig K` with the plugin on PATH (blocking: run it off the
    /// async runtime so the in-process operator keeps going).
    async fn ecs(&self, args: &[&str]) -> Output {
        let path = std::env::join_paths(std::iter::once(plugin_dir().to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let mut command = Command::new(kubectl());
        command
            .arg("ecs")
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env("PATH", path);
        tokio::task::spawn_blocking(move || command.output().expect("kubectl runs"))
            .await
            .unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn paused(sb: &Sandbox) {
    wait_rollout(sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
}

#[tokio::test]
async fn get_status_and_every_verb_through_kubectl() {
    let sb = Sandbox::start().await;
    let k = Kubectl::new(&sb);
    sb.apply(&code_deploy_rollout(
        &sb.sim,
        "auth",
        "  autoPromotionEnabled: false\n",
    ))
    .await
    .unwrap();
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:1"))
        .await
        .unwrap();
    wait_healthy_on(&sb, "auth", ":1").await;

    let out = k.ecs(&["get"]).await;
    assert!(out.status.success(), "{out:?}");
    let table = stdout(&out);
    assert!(table.starts_with("NAMESPACE"), "{table}");
    let row = table
        .lines()
        .find(|l| l.contains("auth"))
        .expect("a row for auth");
    assert!(
        row.contains("Healthy") && row.contains("100/0") && row.contains(":1"),
        "{row}"
    );
    assert!(stdout(&k.ecs(&["get", "-A"]).await).contains("auth"));
    assert!(stdout(&k.ecs(&["get", "-n", "other"]).await).contains("No EcsServices found"));
    let wrong_context = k.ecs(&["get", "--context", "nope"]).await;
    assert_eq!(wrong_context.status.code(), Some(3));

    // Paused at the gate: status times out (2), promote lets it finish (0).
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:2"))
        .await
        .unwrap();
    paused(&sb).await;
    assert_eq!(
        k.ecs(&["status", "auth", "--timeout", "1s"])
            .await
            .status
            .code(),
        Some(2)
    );
    let promote = k.ecs(&["promote", "auth"]).await;
    assert!(
        stdout(&promote).contains("promote requested"),
        "{promote:?}"
    );
    let status = k.ecs(&["status", "auth", "--timeout", "60s"]).await;
    assert_eq!(status.status.code(), Some(0), "{}", stdout(&status));
    assert!(stdout(&status).contains("is healthy"));

    // abort → Degraded (1); retry → paused again; promote --full → Healthy.
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:3"))
        .await
        .unwrap();
    paused(&sb).await;
    assert!(k.ecs(&["abort", "auth"]).await.status.success());
    assert_eq!(
        k.ecs(&["status", "auth", "--timeout", "60s"])
            .await
            .status
            .code(),
        Some(1)
    );
    assert!(k.ecs(&["retry", "auth"]).await.status.success());
    paused(&sb).await;
    // The verbs find the rollout by its service's name too.
    assert!(k.ecs(&["promote", "--full", "auth"]).await.status.success());
    assert_eq!(
        k.ecs(&["status", "auth", "--timeout", "60s"])
            .await
            .status
            .code(),
        Some(0)
    );

    // rollback goes back to the previous stable revision and keeps 3 from coming back.
    assert!(k.ecs(&["rollback", "auth"]).await.status.success());
    assert_eq!(
        k.ecs(&["status", "auth", "--timeout", "60s"])
            .await
            .status
            .code(),
        Some(1)
    );
    let r = rollouts(&sb).get("auth").await.unwrap();
    assert!(stable(&r).unwrap().ends_with(":2"));
    let handled = r.status.clone().unwrap().handled_verbs.unwrap();
    assert!(handled.promote.is_some() && handled.promote_full.is_some());
    assert!(handled.abort.is_some() && handled.retry.is_some() && handled.rollback.is_some());
    assert_eq!(r.metadata.generation, Some(1), "no verb rewrote the spec");
    let missing = k.ecs(&["promote", "nope"]).await;
    assert_eq!(missing.status.code(), Some(3));
    sb.shutdown().await;
}
