//! Before anything changes: reference verification (a missing cluster, subnet, security group,
//! role, secret, parameter or target group stalls the object naming the field, with no AWS
//! mutation), dry-run (the calls listed, none made; then exactly those made), and
//! `kubectl ecs diff|verify` through the real plugin binary and the operator's preview endpoint
//! (exit codes, read-only by the simulator's mutation log and the objects' resource versions).

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crds::EcsService;
use e2e_tests::rollouts::{ecs_native_rollout, service_manifest};
use e2e_tests::sandbox::Sandbox;
use e2e_tests::scaling::{self, policy_manifest, wait_policy};
use e2e_tests::tools::plugin_dir;
use kube::api::{Api, Patch, PatchParams};

const WAIT: Duration = Duration::from_secs(60);
const EXEC_ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
const SECRET: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:event-booking/auth/db";

fn manifest(name: &str, image: &str, annotations: &str) -> String {
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {{name: {name}, namespace: default, annotations: {{{annotations}}}}}
spec:
  cluster: event-booking
  desiredCount: 1
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-0a1f2e3d4c5b60001, subnet-0a1f2e3d4c5b60002]
      securityGroups: [sg-0c0ffee0c0ffee001]
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    executionRoleArn: {EXEC_ROLE}
    containerDefinitions:
      - name: app
        image: {image}
        portMappings: [{{containerPort: 8080}}]
        secrets: [{{name: DB_PASSWORD, valueFrom: "{SECRET}"}}]
"#
    )
}

fn api(sb: &Sandbox) -> Api<EcsService> {
    Api::namespaced(sb.client.clone(), "default")
}

fn condition(obj: &EcsService, type_: &str) -> Option<(String, String, String)> {
    let c = obj
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn current(obj: &EcsService) -> bool {
    obj.status.as_ref().and_then(|s| s.observed_generation) == obj.metadata.generation
}

async fn wait_until(
    sb: &Sandbox,
    name: &str,
    what: &str,
    pred: impl Fn(&EcsService) -> bool,
) -> EcsService {
    let api = api(sb);
    sb.wait_for(what, WAIT, || {
        let api = api.clone();
        let pred = &pred;
        async move { api.get(name).await.ok().filter(|o| pred(o)) }
    })
    .await
}

async fn wait_ready(sb: &Sandbox, name: &str) -> EcsService {
    wait_until(sb, name, "Ready", |o| {
        current(o) && condition(o, "Ready").is_some_and(|(s, _, _)| s == "True")
    })
    .await
}

/// The message of `DryRun=True` with `reason`, once the object shows it.
async fn wait_dry_run(sb: &Sandbox, name: &str, reason: &str) -> String {
    let o = wait_until(sb, name, reason, |o| {
        current(o) && condition(o, "DryRun").is_some_and(|(s, r, _)| s == "True" && r == reason)
    })
    .await;
    condition(&o, "DryRun").unwrap().2
}

/// The AWS action names a dry-run message lists, in order.
fn listed_calls(message: &str) -> Vec<String> {
    message
        .trim_start_matches("dry run, would call: ")
        .split("; then ")
        .map(|c| c.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

fn mutations(sb: &Sandbox) -> Vec<String> {
    sb.sim
        .mutation_log()
        .into_iter()
        .map(|m| m.split_once(':').map(|(_, a)| a.to_string()).unwrap_or(m))
        .collect()
}

async fn set_dry_run(sb: &Sandbox, name: &str, on: bool) {
    let value = if on {
        serde_json::json!("true")
    } else {
        serde_json::Value::Null
    };
    let patch =
        serde_json::json!({"metadata": {"annotations": {"ecs-operator.dev/dry-run": value}}});
    api(sb)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_missing_reference_stalls_naming_its_field_and_nothing_is_mutated() {
    let sb = Sandbox::start().await;
    let base = manifest("NAME", "repo/app:1.0", "");
    let subnets = "spec.networkConfiguration.awsvpcConfiguration";
    let secret = "spec.taskDefinition.containerDefinitions[0].secrets[0].valueFrom";
    let lb = "  loadBalancers:\n    - {targetGroupArn: \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nope/0123456789abcdef\", containerName: app, containerPort: 8080}\n  taskDefinition:";
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "ref-cluster",
            base.replace("cluster: event-booking", "cluster: nope"),
            "spec.cluster".into(),
            "ECS cluster nope does not exist",
        ),
        (
            "ref-subnet",
            base.replace("subnet-0a1f2e3d4c5b60002", "subnet-0000000000000dead"),
            format!("{subnets}.subnets[1]"),
            "subnet subnet-0000000000000dead does not exist",
        ),
        (
            "ref-group",
            base.replace("sg-0c0ffee0c0ffee001", "sg-000000000000000ba"),
            format!("{subnets}.securityGroups[0]"),
            "security group sg-000000000000000ba does not exist",
        ),
        (
            "ref-role",
            base.replace("role/ecsTaskExecutionRole", "role/noSuchRole"),
            "spec.taskDefinition.executionRoleArn".into(),
            "IAM role noSuchRole does not exist",
        ),
        (
            "ref-secret",
            base.replace("event-booking/auth/db", "event-booking/nope/db"),
            secret.into(),
            "Secrets Manager secret",
        ),
        (
            "ref-parameter",
            base.replace(SECRET, "/event-booking/nope/url"),
            secret.into(),
            "SSM parameter /event-booking/nope/url does not exist",
        ),
        (
            "ref-target-group",
            base.replace("  taskDefinition:", lb),
            "spec.loadBalancers[0].targetGroupArn".into(),
            "targetgroup/nope/0123456789abcdef does not exist",
        ),
    ];
    for (name, yaml, _, _) in &cases {
        sb.apply(&yaml.replace("NAME", name)).await.unwrap();
    }
    for (name, _, field, problem) in &cases {
        let stalled = wait_until(&sb, name, "InvalidReference", |o| {
            current(o)
                && condition(o, "Stalled")
                    .is_some_and(|(s, r, _)| s == "True" && r == "InvalidReference")
        })
        .await;
        let (_, _, message) = condition(&stalled, "Stalled").unwrap();
        assert!(
            message.contains(&format!("{field}: ")) && message.contains(problem),
            "{name}: {message}"
        );
        assert!(
            message.ends_with("nothing was changed in AWS"),
            "{name}: {message}"
        );
    }
    assert_eq!(
        mutations(&sb),
        Vec::<String>::new(),
        "no AWS mutation at all"
    );
    sb.shutdown().await;
}

/// The documented cause of ECS-native rollbacks: a listener rule that does not forward to both
/// target groups of the pair. The EcsService is created with the rollout's engine settings, so
/// it is held too, before its first call.
#[tokio::test]
async fn a_listener_rule_missing_the_alternate_target_group_holds_the_service() {
    let sb = Sandbox::start().await;
    let own_green = sb.sim.target_group_arn("auth-green").unwrap();
    let other_green = sb.sim.target_group_arn("event-green").unwrap();
    let rollout =
        ecs_native_rollout(&sb.sim, "auth", "BLUE_GREEN", "").replace(&own_green, &other_green);
    sb.apply(&rollout).await.unwrap();
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:1.0"))
        .await
        .unwrap();
    let stalled = wait_until(&sb, "auth", "InvalidReference", |o| {
        current(o)
            && condition(o, "Stalled")
                .is_some_and(|(s, r, _)| s == "True" && r == "InvalidReference")
    })
    .await;
    let (_, _, message) = condition(&stalled, "Stalled").unwrap();
    let field = "BlueGreenRollout auth: spec.strategy.ecsNative.advancedConfiguration.productionListenerRule";
    assert!(message.contains(field), "{message}");
    assert!(
        message.contains(&format!("does not forward to target group {other_green}")),
        "{message}"
    );
    assert_eq!(
        mutations(&sb),
        Vec::<String>::new(),
        "no AWS mutation at all"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn verified_references_are_looked_up_once_not_at_every_resync() {
    let sb = Sandbox::start().await;
    sb.apply(&manifest("first", "repo/app:1.0", ""))
        .await
        .unwrap();
    wait_ready(&sb, "first").await;
    let lookups = || {
        [
            "ecs:DescribeClusters",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "iam:GetRole",
            "secretsmanager:DescribeSecret",
        ]
        .map(|op| (op, sb.sim.call_count(op)))
    };
    let after_first = lookups();
    for (op, count) in &after_first {
        assert_eq!(*count, 1, "{op}: one batched lookup for the first service");
    }
    // A second service naming the same things finds them remembered.
    sb.apply(&manifest("second", "repo/app:1.0", ""))
        .await
        .unwrap();
    wait_ready(&sb, "second").await;
    assert_eq!(
        lookups(),
        after_first,
        "the same references are not looked up again"
    );
    // Resyncs (60 simulated seconds each) repeat none of them.
    sb.clock.advance(Duration::from_secs(600));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(lookups(), after_first, "a resync makes no lookup");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_lists_the_calls_makes_none_and_the_real_run_makes_exactly_those() {
    let sb = Sandbox::start().await;
    let dry = r#""ecs-operator.dev/dry-run": "true""#;
    sb.apply(&manifest("dry", "repo/app:1.0", dry))
        .await
        .unwrap();
    let message = wait_dry_run(&sb, "dry", "WouldCall").await;
    assert_eq!(
        listed_calls(&message),
        ["RegisterTaskDefinition", "CreateService"],
        "{message}"
    );
    let held = api(&sb).get("dry").await.unwrap();
    assert!(condition(&held, "Ready").is_some_and(|(s, r, _)| s == "False" && r == "DryRun"));
    assert!(
        held.metadata.finalizers.is_none(),
        "no finalizer while nothing exists"
    );
    assert_eq!(mutations(&sb), Vec::<String>::new());

    set_dry_run(&sb, "dry", false).await;
    let ready = wait_ready(&sb, "dry").await;
    assert_eq!(
        mutations(&sb),
        listed_calls(&message),
        "exactly the listed calls"
    );
    assert!(
        condition(&ready, "DryRun").is_none(),
        "the condition goes with the annotation"
    );

    // An image change in dry-run: a new revision and the UpdateService that deploys it.
    sb.apply(&manifest("dry", "repo/app:2.0", dry))
        .await
        .unwrap();
    let message = wait_dry_run(&sb, "dry", "WouldCall").await;
    assert_eq!(
        listed_calls(&message),
        ["RegisterTaskDefinition", "UpdateService"],
        "{message}"
    );
    assert!(message.contains("repo/app:2.0"), "{message}");
    let before = mutations(&sb).len();
    set_dry_run(&sb, "dry", false).await;
    wait_until(&sb, "dry", "Ready on 2.0", |o| {
        current(o)
            && condition(o, "Ready").is_some_and(|(s, _, _)| s == "True")
            && o.status
                .as_ref()
                .and_then(|s| s.task_definition_arn.as_deref())
                == o.status
                    .as_ref()
                    .and_then(|s| s.desired_task_definition_arn.as_deref())
    })
    .await;
    assert_eq!(mutations(&sb)[before..], listed_calls(&message));

    // Nothing to change: the ordinary status, plus DryRun NoChange.
    set_dry_run(&sb, "dry", true).await;
    let message = wait_dry_run(&sb, "dry", "NoChange").await;
    assert!(message.contains("no call would be made"), "{message}");
    let in_sync = api(&sb).get("dry").await.unwrap();
    assert!(condition(&in_sync, "Ready").is_some_and(|(s, _, _)| s == "True"));
    sb.shutdown().await;
}

/// Runs `kubectl-ecs` with `args`, `stdin` piped in, off the runtime's thread (the preview
/// endpoint it asks runs on this runtime).
fn plugin(args: &[&str], stdin: Option<&str>) -> impl Future<Output = Output> + use<> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.map(str::to_owned);
    async move {
        tokio::task::spawn_blocking(move || run_plugin(&args, stdin.as_deref()))
            .await
            .unwrap()
    }
}

fn run_plugin(args: &[String], stdin: Option<&str>) -> Output {
    let mut child = Command::new(plugin_dir().join("kubectl-ecs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-ecs runs");
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn kubectl_ecs_diff_and_verify_answer_with_exit_codes_and_change_nothing() {
    let mut sb = Sandbox::start().await;
    sb.apply(&manifest("shop", "repo/shop:1.0", ""))
        .await
        .unwrap();
    wait_ready(&sb, "shop").await;
    sb.apply(&policy_manifest("shop-scaling", "shop", 1, 4, ""))
        .await
        .unwrap();
    wait_policy(&sb, "shop-scaling", "Ready", |p| scaling::is(p, "Ready")).await;
    let url = sb.preview_url().await;
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, yaml: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, yaml).unwrap();
        path.display().to_string()
    };
    let unchanged = write("unchanged.yaml", &manifest("shop", "repo/shop:1.0", ""));
    let image = write("image.yaml", &manifest("shop", "repo/shop:1.1", ""));
    let create = write("create.yaml", &manifest("fresh", "repo/fresh:1.0", ""));
    let scaling_change = write(
        "scaling.yaml",
        &policy_manifest("shop-scaling", "shop", 1, 8, ""),
    );
    let broken = write(
        "broken.yaml",
        &manifest("shop", "repo/shop:1.1", "")
            .replace("sg-0c0ffee0c0ffee001", "sg-0000000000000dead"),
    );
    let versions = || async {
        let svc = api(&sb).get("shop").await.unwrap();
        let policy = scaling::policies(&sb).get("shop-scaling").await.unwrap();
        (
            svc.metadata.resource_version,
            policy.metadata.resource_version,
        )
    };
    let before = (mutations(&sb), versions().await);
    let diff = |file: &str| {
        plugin(
            &["diff", "-n", "default", "--operator-url", &url, "-f", file],
            None,
        )
    };

    let out = diff(&unchanged).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("EcsService default/shop (account operator, eu-west-1)\n  no change"),
        "{}",
        text(&out)
    );

    let out = diff(&image).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("would call RegisterTaskDefinition shop"),
        "{shown}"
    );
    assert!(
        shown.contains("would call UpdateService shop: taskDefinition shop:(new)"),
        "{shown}"
    );
    assert!(
        shown.lines().any(
            |l| l.trim_start().starts_with('-') && l.ends_with("\"image\": \"repo/shop:1.0\",")
        ),
        "{shown}"
    );
    assert!(
        shown.lines().any(
            |l| l.trim_start().starts_with('+') && l.ends_with("\"image\": \"repo/shop:1.1\",")
        ),
        "{shown}"
    );

    let out = diff(&create).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("would call RegisterTaskDefinition fresh"),
        "{shown}"
    );
    assert!(
        shown.contains("would call CreateService fresh in cluster event-booking"),
        "{shown}"
    );

    let out = diff(&scaling_change).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("would call RegisterScalableTarget service/event-booking/shop"),
        "{}",
        text(&out)
    );

    let out = diff(&broken).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("invalid reference: spec.networkConfiguration.awsvpcConfiguration.securityGroups[0]: security group sg-0000000000000dead does not exist"), "{}", text(&out));

    // Rendered manifests on stdin, several documents.
    let both = format!(
        "{}\n---\n{}",
        std::fs::read_to_string(&unchanged).unwrap(),
        std::fs::read_to_string(&create).unwrap()
    );
    let out = plugin(
        &["verify", "-n", "default", "--operator-url", &url, "-f", "-"],
        Some(&both),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("6 references resolve"),
        "{}",
        text(&out)
    );
    let out = plugin(
        &[
            "verify",
            "-n",
            "default",
            "--operator-url",
            &url,
            "-f",
            &broken,
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // An unreachable operator is an error, and says how to reach it.
    let out = plugin(
        &[
            "diff",
            "--operator-url",
            "http://127.0.0.1:9",
            "-f",
            &unchanged,
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("port-forward"), "{}", text(&out));

    assert_eq!(
        (mutations(&sb), versions().await),
        before,
        "no AWS and no Kubernetes write"
    );
    assert!(api(&sb).get("fresh").await.is_err(), "nothing applied");
    sb.shutdown().await;
}
