//! Unit tests of reference collection and the refusal message.

use super::*;
use crds::EcsService;

fn service() -> EcsService {
    let manifest = serde_json::json!({
        "apiVersion": "ecs-operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": "auth", "namespace": "shop"},
        "spec": {
            "cluster": "prod",
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"]}},
            "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/auth-blue/1", "containerName": "app", "containerPort": 8080}],
            "taskDefinition": {
                "family": "auth",
                "executionRoleArn": "arn:aws:iam::1:role/exec",
                "containerDefinitions": [{"name": "app", "image": "auth:1", "secrets": [
                    {"name": "DB", "valueFrom": "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf:password::"},
                    {"name": "URL", "valueFrom": "/shop/url"},
                    {"name": "KEY", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:key"}
                ]}]
            }
        }
    });
    serde_json::from_value(manifest).expect("a valid EcsService")
}

#[test]
fn a_service_names_its_cluster_network_roles_secrets_and_target_groups() {
    let refs = collect::of_service(&service(), "eu-west-1");
    let fields: Vec<(&str, &Target)> = refs.iter().map(|r| (r.field.as_str(), &r.target)).collect();
    let secret = "spec.taskDefinition.containerDefinitions[0].secrets";
    assert_eq!(
        fields,
        vec![
            ("spec.cluster", &Target::Cluster("prod".into())),
            (
                "spec.networkConfiguration.awsvpcConfiguration.subnets[0]",
                &Target::Subnet("subnet-a".into())
            ),
            (
                "spec.networkConfiguration.awsvpcConfiguration.subnets[1]",
                &Target::Subnet("subnet-b".into())
            ),
            (
                "spec.networkConfiguration.awsvpcConfiguration.securityGroups[0]",
                &Target::SecurityGroup("sg-1".into())
            ),
            (
                "spec.taskDefinition.executionRoleArn",
                &Target::Role("arn:aws:iam::1:role/exec".into())
            ),
            (
                &format!("{secret}[0].valueFrom"),
                &Target::Secret("arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf".into())
            ),
            (
                &format!("{secret}[1].valueFrom"),
                &Target::Parameter("/shop/url".into())
            ),
            (
                &format!("{secret}[2].valueFrom"),
                &Target::ElsewhereSecret {
                    value_from: "arn:aws:secretsmanager:us-east-1:1:secret:key".into(),
                    region: "us-east-1".into()
                }
            ),
            (
                "spec.loadBalancers[0].targetGroupArn",
                &Target::TargetGroup(
                    "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/auth-blue/1".into()
                )
            ),
        ]
    );
}

#[test]
fn the_refusal_names_every_field_and_what_was_not_checked() {
    let verification = Verification {
        findings: vec![
            Finding {
                field: "spec.cluster".into(),
                problem: "ECS cluster prod does not exist in eu-west-1".into(),
            },
            Finding {
                field: "spec.taskDefinition.executionRoleArn".into(),
                problem: "IAM role exec does not exist".into(),
            },
        ],
        skipped: vec!["IAM roles: AccessDenied (not authorized)".into()],
        checked: 5,
    };
    assert!(!verification.passed());
    assert_eq!(
        verification.message(),
        "spec.cluster: ECS cluster prod does not exist in eu-west-1; spec.taskDefinition.executionRoleArn: IAM role exec does not exist; nothing was changed in AWS (not checked: IAM roles: AccessDenied (not authorized))"
    );
}
