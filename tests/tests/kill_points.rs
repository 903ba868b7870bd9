//! The kill-point suite: every workflow of every controller, crashed at each AWS mutation and
//! each Kubernetes write of its clean run, in both fault modes (not applied; applied with the
//! reply lost), a fresh operator taking over. Each kill run must end as the clean run does.
//! Prints `kill points: N covered, M failed` and fails when M > 0.

use std::sync::Arc;

use aws_sim::KillMode;
use e2e_tests::kill_points::{
    Act, Outcome, Stage, Strike, Until, Workflow, differences, invariants, kill_points, run,
};
use e2e_tests::release_groups::{group_manifest, member_manifest};
use e2e_tests::rollouts::{code_deploy_rollout, ecs_native_rollout, service_manifest};
use e2e_tests::scaling::{self, policy_manifest};
use tokio::sync::Semaphore;

/// Kill runs at a time (each has its own API server, account and operator).
const PARALLEL: usize = 8;

const MANUAL: &str = "  autoPromotionEnabled: false\n";
const CANARY: &str = "      trafficRouting:\n        type: TimeBasedCanary\n        timeBasedCanary: {canaryPercentage: 20, canaryInterval: 1}\n";
const SCHEDULED: &str = "\n  scheduledActions:\n    - {scheduledActionName: night, schedule: 'cron(0 20 * * ? *)', scalableTargetAction: {minCapacity: 2, maxCapacity: 4}}";
const STEP: &str = "  stepPolicies:\n    - policyName: burst\n      adjustmentType: ChangeInCapacity\n      cooldown: 120\n      stepAdjustments: [{metricIntervalLowerBound: 0, scalingAdjustment: 2}]\n      alarm: {metricName: CPUUtilization, namespace: AWS/ECS, threshold: 85, comparisonOperator: GreaterThanThreshold, evaluationPeriods: 2}";

fn auth(image: &'static str) -> Act {
    match image {
        "1" => Act::Apply(|sim| service_manifest(sim, "auth", "repo/auth:1")),
        "2" => Act::Apply(|sim| service_manifest(sim, "auth", "repo/auth:2")),
        "3" => Act::Apply(|sim| service_manifest(sim, "auth", "repo/auth:3")),
        "errors" => Act::Apply(|sim| service_manifest(sim, "auth", "repo/auth:2-errors")),
        _ => Act::Apply(|sim| service_manifest(sim, "auth", "repo/auth:unhealthy")),
    }
}

/// An ECS-native rollout of auth gated on its green target group's 5xx rate (CloudWatch).
fn metric_gated(sim: &aws_sim::SimAws) -> String {
    let green = sim.target_group_arn("auth-green").unwrap_or_default();
    let green = green.rsplit(':').next().unwrap_or_default().to_owned();
    let stat = |id: &str, metric: &str| {
        format!(
            "              - id: {id}\n                returnData: false\n                metricStat:\n                  metric: {{namespace: AWS/ApplicationELB, metricName: {metric}, dimensions: [{{name: TargetGroup, value: \"{green}\"}}]}}\n                  period: 120\n                  stat: Sum\n"
        )
    };
    let gate = format!(
        "  analysis:\n    metrics:\n      - name: error-rate\n        initialDelaySeconds: 180\n        intervalSeconds: 30\n        count: 2\n        successCondition: result < 1.0\n        provider:\n          cloudWatch:\n            lookbackSeconds: 120\n            metricDataQueries:\n{}{}              - {{id: rate, expression: 100 * errors / requests}}\n",
        stat("errors", "HTTPCode_Target_5XX_Count"),
        stat("requests", "RequestCount"),
    );
    ecs_native_rollout(sim, "auth", "BLUE_GREEN", &gate)
}

/// A release of the group `platform`: auth ← ticket ← event (each depends on the one before).
/// In release 2, ticket's new image fails its health checks.
fn platform_release(sim: &aws_sim::SimAws, release: &str) -> String {
    let ticket = if release == "2" {
        "2-unhealthy"
    } else {
        release
    };
    [
        group_manifest("platform"),
        member_manifest(
            sim,
            "platform",
            "auth",
            &[],
            release,
            &format!("repo/auth:{release}"),
        ),
        member_manifest(
            sim,
            "platform",
            "ticket",
            &["auth"],
            release,
            &format!("repo/ticket:{ticket}"),
        ),
        member_manifest(
            sim,
            "platform",
            "event",
            &["ticket"],
            release,
            &format!("repo/event:{release}"),
        ),
    ]
    .join("\n---\n")
}

/// A NotificationPolicy telling a CodeDeploy rollout's releases to an SNS topic (a standard
/// topic: a Publish whose reply is lost is sent again, so only distinct notifications count).
fn sns_told(sim: &aws_sim::SimAws) -> String {
    let topic = sim.topic_arn("event-booking-releases");
    let policy = format!(
        "apiVersion: ecs-operator.dev/v1alpha1\nkind: NotificationPolicy\nmetadata: {{name: releases, namespace: default}}\nspec:\n  triggers: [ReleaseStarted, ReleasePromoted, ReleaseSucceeded, ReleaseRolledBack]\n  receivers:\n    - name: topic\n      sns: {{topicArn: \"{topic}\"}}\n"
    );
    [policy, code_deploy_rollout(sim, "auth", "")].join("\n---\n")
}

fn stage(act: Act, until: Until) -> Stage {
    Stage { act, until }
}

fn workflows() -> Vec<Workflow> {
    use Until::*;
    vec![
        Workflow {
            name: "EcsService: create, rolling release",
            stages: vec![
                stage(auth("1"), ServiceReadyOn("auth", ":1")),
                stage(auth("2"), ServiceReadyOn("auth", ":2")),
            ],
        },
        Workflow {
            name: "EcsService: failed release, then a fixed one",
            stages: vec![
                stage(auth("1"), ServiceReadyOn("auth", ":1")),
                stage(auth("unhealthy"), ServiceDegraded("auth")),
                stage(auth("3"), ServiceReadyOn("auth", ":3")),
            ],
        },
        Workflow {
            name: "EcsService: deletion with Delete",
            stages: vec![
                stage(auth("1"), ServiceReadyOn("auth", ":1")),
                stage(
                    Act::Delete("ecsservices", "auth"),
                    Gone("ecsservices", "auth"),
                ),
            ],
        },
        Workflow {
            name: "EcsService: deletion with Retain",
            stages: vec![
                stage(
                    Act::Apply(|sim| {
                        service_manifest(sim, "auth", "repo/auth:1")
                            .replace("spec:\n", "spec:\n  deletionPolicy: Retain\n")
                    }),
                    ServiceReadyOn("auth", ":1"),
                ),
                stage(
                    Act::Delete("ecsservices", "auth"),
                    Gone("ecsservices", "auth"),
                ),
            ],
        },
        Workflow {
            name: "EcsService: adoption of an existing service",
            stages: vec![
                stage(Act::ForeignService("event-booking", "auth"), Until::Nothing),
                stage(
                    Act::Apply(|sim| {
                        service_manifest(sim, "auth", "repo/auth:1")
                            .replace("spec:\n", "spec:\n  adoptionPolicy: Adopt\n")
                    }),
                    ServiceReadyOn("auth", ":2"),
                ),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (CodeDeploy): release, then delete the rollout",
            stages: vec![
                stage(
                    Act::Apply(|sim| code_deploy_rollout(sim, "auth", "")),
                    Until::Nothing,
                ),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutHealthyOn("auth", ":2")),
                stage(
                    Act::Delete("bluegreenrollouts", "auth"),
                    Gone("bluegreenrollouts", "auth"),
                ),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (CodeDeploy): manual promotion",
            stages: vec![
                stage(
                    Act::Apply(|sim| code_deploy_rollout(sim, "auth", MANUAL)),
                    Until::Nothing,
                ),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutPaused("auth")),
                stage(Act::Verb("auth", "promote"), RolloutHealthyOn("auth", ":2")),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (ECS-native canary): abort, retry, promote",
            stages: vec![
                stage(
                    Act::Apply(|sim| ecs_native_rollout(sim, "auth", "CANARY", MANUAL)),
                    Until::Nothing,
                ),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutPaused("auth")),
                stage(Act::Verb("auth", "abort"), RolloutDegraded("auth")),
                stage(Act::Verb("auth", "retry"), RolloutPaused("auth")),
                stage(Act::Verb("auth", "promote"), RolloutHealthyOn("auth", ":2")),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (ECS-native): the rollback verb",
            stages: vec![
                stage(
                    Act::Apply(|sim| ecs_native_rollout(sim, "auth", "BLUE_GREEN", "")),
                    Until::Nothing,
                ),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutHealthyOn("auth", ":2")),
                stage(
                    Act::Verb("auth", "rollback"),
                    RolloutRolledBackTo("auth", ":1"),
                ),
            ],
        },
        Workflow {
            name: "ScalingPolicy: create with a step policy, its alarm and a scheduled action; drop them; delete",
            stages: vec![
                stage(
                    Act::Apply(|_| scaling::service_manifest("auth", "repo/auth:1", 2)),
                    ServiceReadyOn("auth", ":1"),
                ),
                stage(
                    Act::Apply(|_| {
                        policy_manifest("auth", "auth", 2, 10, &format!("{STEP}{SCHEDULED}"))
                    }),
                    PolicyReady("auth"),
                ),
                stage(
                    Act::Apply(|_| policy_manifest("auth", "auth", 3, 6, "")),
                    PolicyReady("auth"),
                ),
                stage(
                    Act::Delete("scalingpolicies", "auth"),
                    Gone("scalingpolicies", "auth"),
                ),
            ],
        },
        Workflow {
            name: "ScalingPolicy: adoption of an existing scalable target",
            stages: vec![
                stage(
                    Act::Apply(|_| scaling::service_manifest("auth", "repo/auth:1", 2)),
                    ServiceReadyOn("auth", ":1"),
                ),
                stage(
                    Act::ForeignScalableTarget("service/event-booking/auth", 1, 3),
                    Until::Nothing,
                ),
                stage(
                    Act::Apply(|_| {
                        policy_manifest("auth", "auth", 2, 10, "")
                            .replace("spec:\n", "spec:\n  adoptionPolicy: Adopt\n")
                    }),
                    PolicyReady("auth"),
                ),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (CodeDeploy canary config): abort, then a changed deployment group",
            stages: vec![
                stage(
                    Act::Apply(|sim| {
                        code_deploy_rollout(sim, "auth", &format!("{CANARY}{MANUAL}"))
                    }),
                    Until::Nothing,
                ),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutPaused("auth")),
                stage(Act::Verb("auth", "abort"), RolloutDegraded("auth")),
                stage(
                    Act::Apply(|sim| {
                        code_deploy_rollout(sim, "auth", &format!("{CANARY}{MANUAL}")).replace(
                            "terminationWaitTimeInMinutes: 1",
                            "terminationWaitTimeInMinutes: 2",
                        )
                    }),
                    RolloutPaused("auth"),
                ),
                stage(Act::Verb("auth", "promote"), RolloutHealthyOn("auth", ":2")),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (ECS-native) with a metric gate: a healthy release passes it",
            stages: vec![
                stage(Act::Apply(metric_gated), Until::Nothing),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutHealthyOn("auth", ":2")),
            ],
        },
        Workflow {
            name: "BlueGreenRollout (ECS-native) with a metric gate: a worse release is rolled back",
            stages: vec![
                stage(Act::Apply(metric_gated), Until::Nothing),
                // The EcsService records :1 as its last good revision before the next one.
                stage(auth("1"), ServiceReadyOn("auth", ":1")),
                stage(Act::Nothing, RolloutHealthyOn("auth", ":1")),
                stage(auth("errors"), RolloutDegraded("auth")),
            ],
        },
        Workflow {
            name: "NotificationPolicy (SNS): a release told to a topic",
            stages: vec![
                stage(Act::Apply(sns_told), Until::Nothing),
                stage(auth("1"), RolloutHealthyOn("auth", ":1")),
                stage(auth("2"), RolloutHealthyOn("auth", ":2")),
                stage(Act::Nothing, NotificationsDelivered("releases")),
            ],
        },
        Workflow {
            name: "ReleaseGroup: a release whose second member fails rolls the first back",
            stages: vec![
                stage(
                    Act::Apply(|sim| platform_release(sim, "1")),
                    GroupPhase("platform", "1", "Succeeded"),
                ),
                // auth is released, ticket fails, event never starts; auth goes back to :1.
                stage(
                    Act::Apply(|sim| platform_release(sim, "2")),
                    GroupPhase("platform", "2", "RolledBack"),
                ),
            ],
        },
    ]
}

/// The outcome of one kill run.
struct Verdict {
    workflow: &'static str,
    strike: Strike,
    /// Whether the strike happened: a run that timed differently may not reach a late write.
    struck: bool,
    problems: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mutation_and_status_write_survives_a_crash() {
    let mut verdicts = Vec::new();
    let mut sites = std::collections::BTreeSet::new();
    // KILL_POINTS_ONLY=<part of a workflow name> runs only the matching workflows.
    let only = std::env::var("KILL_POINTS_ONLY").unwrap_or_default();
    for workflow in workflows().into_iter().filter(|w| w.name.contains(&only)) {
        let workflow = Arc::new(workflow);
        let clean: Outcome = run(&workflow, None)
            .await
            .unwrap_or_else(|e| panic!("{}: the clean run failed: {e}", workflow.name));
        let broken = invariants(&clean);
        assert!(broken.is_empty(), "{}: {broken:?}", workflow.name);
        sites.extend(clean.mutations.iter().cloned());
        let clean = Arc::new(clean);
        let points = kill_points(&clean);
        eprintln!(
            "{}: {} AWS mutations, {} Kubernetes writes, {} kill points",
            workflow.name,
            clean.mutations.len(),
            clean.kube_writes.len(),
            points.len()
        );
        // KILL_POINTS_STRIKE=<part of a kill point's name> runs only the matching kill points.
        let strike_filter = std::env::var("KILL_POINTS_STRIKE").unwrap_or_default();
        let points: Vec<Strike> = points
            .into_iter()
            .filter(|s| s.to_string().contains(&strike_filter))
            .collect();
        let gate = Arc::new(Semaphore::new(PARALLEL));
        let mut runs = tokio::task::JoinSet::new();
        for strike in points {
            let (workflow, clean, gate) = (workflow.clone(), clean.clone(), gate.clone());
            runs.spawn(async move {
                let _permit = gate.acquire().await.expect("semaphore");
                let (struck, problems) = match run(&workflow, Some(&strike)).await {
                    Ok(outcome) => {
                        let mut p = differences(&clean, &outcome);
                        p.extend(invariants(&outcome));
                        (outcome.struck, p)
                    }
                    Err(e) => (true, vec![e]),
                };
                Verdict {
                    workflow: workflow.name,
                    strike,
                    struck,
                    problems,
                }
            });
        }
        while let Some(v) = runs.join_next().await {
            verdicts.push(v.expect("kill run"));
        }
    }
    let covered: Vec<&Verdict> = verdicts.iter().filter(|v| v.struck).collect();
    // The mutation sites in the controllers' code: every AWS mutating call in an `apply.rs` or
    // `cleanup.rs`. Each must be among the sites the workflows exercised.
    let in_code = mutation_sites_in_code();
    let unexercised: Vec<&String> = in_code.iter().filter(|s| !sites.contains(*s)).collect();
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.problems.is_empty()).collect();
    // Every AWS mutation site of the clean runs, in both modes, must have been struck at least
    // once (a late Kubernetes write a differently timed run never makes is not a site).
    let mut uncovered = Vec::new();
    for site in &sites {
        for mode in [KillMode::FailBefore, KillMode::LoseReply] {
            let hit = covered.iter().any(
                |v| matches!(&v.strike, Strike::Aws(k) if k.operation == *site && k.mode == mode),
            );
            if !hit {
                uncovered.push(format!("{site} {mode:?}"));
            }
        }
    }
    for v in &failed {
        eprintln!("FAILED {} at {}:", v.workflow, v.strike);
        for p in &v.problems {
            eprintln!("    {p}");
        }
    }
    eprintln!(
        "{} AWS mutation sites in apply/cleanup code, {} exercised by the workflows: {sites:?}; {} of {} kill points struck",
        in_code.len(),
        sites.len(),
        covered.len(),
        verdicts.len()
    );
    println!(
        "kill points: {} covered, {} failed",
        covered.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{} kill runs failed", failed.len());
    assert!(
        uncovered.is_empty(),
        "mutation sites never struck: {uncovered:?}"
    );
    if only.is_empty() {
        assert!(
            unexercised.is_empty(),
            "mutation sites no workflow exercises: {unexercised:?}"
        );
    }
}

/// `service:Action` of every AWS mutating call in the controllers' `apply.rs` and `cleanup.rs`
/// (and the NotificationPolicy's `deliver.rs`): a method named after a mutating verb
/// (`create_service` → `CreateService`, `publish` → `Publish`) on a client named after its
/// service (`aws.ecs`, `codedeploy`, `aws.cloudwatch`, `aws.autoscaling`, `aws.sns` or the
/// ScalingPolicy's `api`).
fn mutation_sites_in_code() -> std::collections::BTreeSet<String> {
    let root = e2e_tests::sandbox::workspace_root().join("operator/src/controllers");
    let call = regex::Regex::new(
        r"(\w+)\s*\.\s*((?:create|update|delete|register|deregister|put|stop|continue|tag|untag)_[a-z_]+|publish)\(",
    )
    .expect("a regex");
    let mut out = std::collections::BTreeSet::new();
    let files = [
        ("ecs_service", "apply.rs"),
        ("ecs_service", "cleanup.rs"),
        ("blue_green_rollout", "apply.rs"),
        ("blue_green_rollout", "cleanup.rs"),
        ("scaling_policy", "apply.rs"),
        ("scaling_policy", "cleanup.rs"),
        ("notification_policy", "deliver.rs"),
    ];
    for (kind, file) in files {
        let path = root.join(kind).join(file);
        let text = std::fs::read_to_string(&path).expect("controller source");
        for c in call.captures_iter(&text) {
            let service = match &c[1] {
                "ecs" => "ecs",
                "codedeploy" => "codedeploy",
                "cloudwatch" => "cloudwatch",
                "autoscaling" | "api" => "application-autoscaling",
                "sns" => "sns",
                _ => continue,
            };
            let action: String = c[2]
                .split('_')
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                        .unwrap_or_default()
                })
                .collect();
            out.insert(format!("{service}:{action}"));
        }
    }
    out
}
