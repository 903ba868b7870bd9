//! Running kubectl against a server: a temp dir with the kubeconfig and cache, one-shot runs
//! that assert exit codes, background runs, and small helpers the scenario steps share.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use local_apiserver::LocalApiServer;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::common::{DEADLINE, ecs_api, wait_for};

/// Output of one kubectl run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Kubectl {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Kubectl {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg(format!(
            "--kubeconfig={}",
            self.dir.path().join("kubeconfig").display()
        ))
        .arg(format!(
            "--cache-dir={}",
            self.dir.path().join("cache").display()
        ))
        .args(args)
        .current_dir(self.dir.path())
        .stdin(Stdio::null())
        .kill_on_drop(true);
        cmd
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        let out = tokio::time::timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} hung"))
            .expect("kubectl runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs kubectl and expects success.
    pub async fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert_eq!(r.code, 0, "kubectl {args:?} failed: {r:?}");
        r.stdout
    }

    /// Runs kubectl and expects failure whose stderr contains `message`.
    pub async fn fails(&self, args: &[&str], message: &str) {
        let r = self.run(args).await;
        assert_eq!(r.code, 1, "kubectl {args:?} should fail: {r:?}");
        assert!(
            r.stderr.contains(message),
            "kubectl {args:?}: expected {message:?} in {:?}",
            r.stderr
        );
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts")
    }

    pub fn write(&self, file: &str, content: &str) {
        std::fs::write(self.dir.path().join(file), content).expect("temp dir is writable");
    }
}

pub async fn finish(child: Child) -> Run {
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("kubectl finishes")
        .expect("kubectl ran");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn cr(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: demo.example.com/v1\nkind: EcsService\nmetadata:\n  name: {name}\n  labels: {{app: web}}\nspec:\n  image: nginx:1.25\n{extra}"
    )
}

/// Waits until kubectl has a watch open whose query contains `fragment`.
pub async fn watch_started(server: &LocalApiServer, fragment: &str) {
    wait_for(
        &format!("a watch matching {fragment:?}"),
        DEADLINE,
        || async {
            server
                .requests()
                .iter()
                .any(|r| r.query.contains("watch=true") && r.query.contains(fragment))
                .then_some(())
        },
    )
    .await;
}

pub async fn get(server: &LocalApiServer, name: &str) -> Option<Value> {
    ecs_api(server)
        .get_opt(name)
        .await
        .expect("get works")
        .map(|o| serde_json::to_value(o).expect("serializable"))
}
