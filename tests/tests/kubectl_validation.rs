//! Bad manifests are refused at `kubectl apply` time with a message naming the field: the CRDs'
//! schema and CEL rules, evaluated by the API server, with every kubectl the machine has.

use std::path::Path;
use std::process::Command;

use e2e_tests::tools::{kubectls, output_of, run_ok, write_file};
use local_apiserver::LocalApiServer;

const SERVICE: &str = r#"apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {name: auth, namespace: default}
spec:
  cluster: event-booking
  desiredCount: 2
  launchType: FARGATE
  networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1]}}
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions: [{name: app, image: "repo/app:1"}]
"#;

const BINDING: &str = r#"apiVersion: ecs-operator.dev/v1alpha1
kind: AwsAccountBinding
metadata: {name: team-b}
spec:
  namespaces: [team-b]
  accountId: "210987654321"
  roleArn: arn:aws:iam::210987654321:role/ecs-operator-tenant
  regions: [eu-west-1]
"#;

const POLICY: &str = "apiVersion: ecs-operator.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {name: releases, namespace: default}\nspec:\n  receivers:\n    - name: hook\n      webhook: {urlSecretRef: {name: hooks, key: url}}\n";

fn apply(kubectl: &Path, kubeconfig: &Path, dir: &Path, name: &str, yaml: &str) -> (bool, String) {
    let file = write_file(dir, name, yaml);
    let out = output_of(
        Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("apply")
            .arg("-f")
            .arg(file),
    );
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_manifests_are_refused_naming_the_field() {
    for kubectl in kubectls() {
        let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();
        let crds = write_file(dir.path(), "crds.yaml", &crds::all_crds_yaml());
        let kc = kubectl.clone();
        let kcfg = kubeconfig.clone();
        tokio::task::spawn_blocking(move || {
            run_ok(
                Command::new(&kc)
                    .arg("--kubeconfig")
                    .arg(&kcfg)
                    .args(["apply", "-f"])
                    .arg(&crds),
            );
        })
        .await
        .unwrap();

        let cases: Vec<(&str, String, Vec<&str>)> = vec![
            ("negative count", SERVICE.replace("desiredCount: 2", "desiredCount: -1"), vec!["spec.desiredCount"]),
            ("launch type and capacity providers", SERVICE.replace("launchType: FARGATE", "launchType: FARGATE\n  capacityProviderStrategy: [{capacityProvider: FARGATE_SPOT}]"), vec!["launchType and capacityProviderStrategy are mutually exclusive"]),
            ("unknown field", SERVICE.replace("desiredCount: 2", "desiredCount: 2\n  desiredCont: 3"), vec!["desiredCont"]),
            ("min above max", "apiVersion: ecs-operator.dev/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: auth, namespace: default}\nspec: {serviceRef: {name: auth}, minCapacity: 5, maxCapacity: 2}\n".to_string(), vec!["minCapacity must not exceed maxCapacity"]),
            ("both engines", "apiVersion: ecs-operator.dev/v1alpha1\nkind: BlueGreenRollout\nmetadata: {name: auth, namespace: default}\nspec:\n  serviceRef: {name: auth}\n  strategy:\n    codeDeploy: {serviceRoleArn: r, targetGroupPairInfo: {targetGroups: [{name: a}, {name: b}], prodTrafficRoute: {listenerArns: [l]}}}\n    ecsNative: {strategy: BLUE_GREEN, advancedConfiguration: {alternateTargetGroupArn: t, productionListenerRule: p, roleArn: r}}\n".to_string(), vec!["exactly one of strategy.codeDeploy or strategy.ecsNative"]),
            ("role in another account", BINDING.replace("role/ecs-operator-tenant", "role/x").replace("arn:aws:iam::210987654321", "arn:aws:iam::123456789012"), vec!["roleArn must be a role in accountId"]),
            ("default region not allowed", BINDING.replace("regions: [eu-west-1]", "regions: [eu-west-1]\n  defaultRegion: us-east-1"), vec!["defaultRegion must be one of regions"]),
            ("short account id", BINDING.replace("accountId: \"210987654321\"", "accountId: \"2109\""), vec!["spec.accountId"]),
            ("no namespace", BINDING.replace("namespaces: [team-b]", "namespaces: []"), vec!["spec.namespaces"]),
            ("a receiver of two kinds", format!("{POLICY}      sns: {{topicArn: \"arn:aws:sns:eu-west-1:123456789012:releases\"}}\n"), vec!["set exactly one of webhook, slack, teams or sns"]),
            ("not a topic ARN", POLICY.replace("      webhook: {urlSecretRef: {name: hooks, key: url}}\n", "      sns: {topicArn: \"arn:aws:sqs:eu-west-1:123456789012:releases\"}\n"), vec!["spec.receivers[0].sns.topicArn"]),
        ];
        for (what, yaml, expected) in &cases {
            let (kc, kcfg, d, y) = (
                kubectl.clone(),
                kubeconfig.clone(),
                dir.path().to_path_buf(),
                yaml.clone(),
            );
            let (ok, output) =
                tokio::task::spawn_blocking(move || apply(&kc, &kcfg, &d, "bad.yaml", &y))
                    .await
                    .unwrap();
            assert!(!ok, "{} accepted {what}:\n{output}", kubectl.display());
            for text in expected {
                assert!(
                    output.contains(text),
                    "{}: {what}: {text:?} missing in:\n{output}",
                    kubectl.display()
                );
            }
        }

        // A good object is accepted; then an immutable field cannot change.
        let (kc, kcfg, d) = (
            kubectl.clone(),
            kubeconfig.clone(),
            dir.path().to_path_buf(),
        );
        let (ok, output) =
            tokio::task::spawn_blocking(move || apply(&kc, &kcfg, &d, "good.yaml", SERVICE))
                .await
                .unwrap();
        assert!(ok, "{output}");
        let (kc, kcfg, d) = (
            kubectl.clone(),
            kubeconfig.clone(),
            dir.path().to_path_buf(),
        );
        let (ok, output) =
            tokio::task::spawn_blocking(move || apply(&kc, &kcfg, &d, "binding.yaml", BINDING))
                .await
                .unwrap();
        assert!(ok, "a good AwsAccountBinding is accepted: {output}");
        let (kc, kcfg, d) = (
            kubectl.clone(),
            kubeconfig.clone(),
            dir.path().to_path_buf(),
        );
        let moved = SERVICE.replace("cluster: event-booking", "cluster: elsewhere");
        let (ok, output) =
            tokio::task::spawn_blocking(move || apply(&kc, &kcfg, &d, "moved.yaml", &moved))
                .await
                .unwrap();
        assert!(!ok && output.contains("cluster is immutable"), "{output}");
        server.shutdown().await;
    }
}
