//! `ecs-operator run --endpoint-url` pointed at an AWS endpoint that answers HTTP 500: what AWS
//! answered (error code, message, HTTP status, request id, the failing operation) must reach
//! both the log and the EcsService's status while the call is retried — never just "AWS step
//! failed" behind a status that keeps saying what it was about to do.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crds::EcsService;
use kube::api::{Api, Patch, PatchParams};
use local_apiserver::LocalApiServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

const REQUEST_ID: &str = "7e1f0c2a-5d3b-4f6e-9a8b-1c2d3e4f5a6b";
const MESSAGE: &str = "We encountered an internal error. Please try again.";

/// An ECS endpoint (JSON 1.1 protocol) that knows no service and no task definition, and
/// answers every other call with HTTP 500 InternalFailure.
async fn failing_ecs() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Some(target) = read_request(&mut stream).await else {
                    return;
                };
                let (status, body) = match target.as_str() {
                    "AmazonEC2ContainerServiceV20141113.DescribeServices" => (
                        "200 OK",
                        r#"{"services":[],"failures":[{"arn":"arn:aws:ecs:eu-west-1:123456789012:service/shop/ledger","reason":"MISSING"}]}"#
                            .to_owned(),
                    ),
                    "AmazonEC2ContainerServiceV20141113.ListTaskDefinitions" => {
                        ("200 OK", r#"{"taskDefinitionArns":[]}"#.to_owned())
                    }
                    _ => (
                        "500 Internal Server Error",
                        format!(r#"{{"__type":"InternalFailure","message":"{MESSAGE}"}}"#),
                    ),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amzn-RequestId: {REQUEST_ID}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

/// Reads one HTTP request; its `x-amz-target`.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length")?.parse().ok()?;
        if body.len() >= length {
            return header("x-amz-target");
        }
    }
}

fn spawn_operator(kubeconfig: &Path, aws_port: u16, log: &Path) -> Child {
    let metrics = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port");
    Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .args(["--log-format", "json", "run", "--leader-election=false"])
        .args(["--metrics-addr", &metrics.to_string()])
        .args(["--endpoint-url", &format!("http://127.0.0.1:{aws_port}")])
        .args(["--region", "eu-west-1"])
        .env("KUBECONFIG", kubeconfig)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .kill_on_drop(true)
        .spawn()
        .expect("the ecs-operator binary starts")
}

const SERVICE: &str = r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {name: ledger, namespace: default}
spec:
  cluster: shop
  desiredCount: 1
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration: {subnets: [subnet-1], securityGroups: [sg-1]}
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions:
      - {name: app, image: "repo/ledger:1"}
"#;

#[tokio::test]
async fn a_failing_aws_endpoint_shows_its_answer_in_the_log_and_the_status() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("API server");
    for crd in crds::all_crds() {
        server
            .install_crd(&serde_json::to_value(&crd).expect("CRD"))
            .expect("CRD installs");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let log = dir.path().join("operator.log");
    let aws = failing_ecs().await;
    let mut operator = spawn_operator(&kubeconfig, aws, &log);

    let api: Api<EcsService> = Api::namespaced(server.client(), "default");
    let obj: EcsService = serde_saphyr::from_str(SERVICE).expect("manifest");
    api.patch(
        "ledger",
        &PatchParams::apply("test").force(),
        &Patch::Apply(&obj),
    )
    .await
    .expect("applied");

    // The SDK retries the 500 three times before the operator sees it: allow for that.
    let deadline = Instant::now() + Duration::from_secs(90);
    let reconciling = loop {
        let got = api.get("ledger").await.expect("get");
        let condition = got.status.as_ref().and_then(|s| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "Reconciling" && c.reason == "Retrying")
                .cloned()
        });
        if let Some(c) = condition {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "no Retrying condition; status {:?}\nlog:\n{}",
            got.status,
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reconciling.status, "True");
    for part in [
        // The first call of a new generation is the check that the cluster exists.
        "DescribeClusters failed",
        "InternalFailure (HTTP 500)",
        MESSAGE,
        REQUEST_ID,
        "retrying in",
    ] {
        assert!(
            reconciling.message.contains(part),
            "status message lacks {part:?}: {}",
            reconciling.message
        );
    }
    let ready = api
        .get("ledger")
        .await
        .expect("get")
        .status
        .expect("status")
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .expect("Ready");
    assert_eq!(ready.status, "False");

    // The log line carries every field of AWS's answer.
    let line = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .find(|l| l.contains("reconcile failed"))
        .map(str::to_owned)
        .expect("a 'reconcile failed' log line");
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let fields = &entry["fields"];
    assert_eq!(fields["aws.code"], "InternalFailure", "{line}");
    assert_eq!(fields["aws.http_status"], 500, "{line}");
    assert_eq!(fields["aws.request_id"], REQUEST_ID, "{line}");
    assert_eq!(fields["aws.operation"], "DescribeClusters", "{line}");
    assert_eq!(fields["aws.message"], MESSAGE, "{line}");

    let _ = operator.kill().await;
    server.shutdown().await;
}
