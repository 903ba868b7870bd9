//! Namespaces bound to AWS accounts by AwsAccountBindings: two namespaces run side by side in
//! two simulated accounts (examples/multi-account/), each object reaching only its own; every
//! refusal (no binding, two bindings, a region the binding does not allow, a role that cannot
//! be assumed) is Stalled with no call in the target account; and a binding that points a
//! namespace elsewhere moves nothing until a person confirms.

use std::time::Duration;

use crds::EcsService;
use e2e_tests::sandbox::{Sandbox, workspace_root};
use kube::api::{Api, Patch, PatchParams};

const WAIT: Duration = Duration::from_secs(120);
const OTHER: &str = "210987654321";

fn example(file: &str) -> String {
    std::fs::read_to_string(workspace_root().join("examples/multi-account").join(file))
        .expect("example file")
}

async fn apply_all(sb: &Sandbox, text: &str) {
    for doc in text.split("\n---\n") {
        sb.apply(doc).await.expect("applies");
    }
}

async fn service(sb: &Sandbox, namespace: &str, name: &str) -> Option<EcsService> {
    Api::<EcsService>::namespaced(sb.client.clone(), namespace)
        .get(name)
        .await
        .ok()
}

fn condition(svc: &EcsService, kind: &str) -> Option<(String, String)> {
    svc.status.as_ref()?.conditions.iter().find_map(|c| {
        (c.type_ == kind && c.status == "True").then(|| (c.reason.clone(), c.message.clone()))
    })
}

async fn wait_condition(sb: &Sandbox, ns: &str, name: &str, kind: &str) -> (String, String) {
    sb.wait_for(&format!("{ns}/{name} {kind}"), WAIT, || async {
        condition(&service(sb, ns, name).await?, kind)
    })
    .await
}

fn account_of(svc: &EcsService) -> Option<String> {
    svc.status.as_ref()?.aws_account.clone()
}

/// A copy of team-a's example service in namespace `ns` (the operator's own account's cluster).
fn web_in(ns: &str, service_name: &str) -> String {
    example("02-team-a-web.yaml")
        .replace("namespace: team-a", &format!("namespace: {ns}"))
        .replace(
            "serviceName: team-a-web",
            &format!("serviceName: {service_name}"),
        )
}

async fn namespace(sb: &Sandbox, name: &str) {
    sb.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_namespaces_bound_to_two_accounts_run_side_by_side() {
    let sb = Sandbox::start().await;
    for file in [
        "00-namespaces.yaml",
        "01-bindings.yaml",
        "02-team-a-web.yaml",
        "03-team-b-reports.yaml",
    ] {
        apply_all(&sb, &example(file)).await;
    }
    wait_condition(&sb, "team-a", "web", "Ready").await;
    wait_condition(&sb, "team-b", "reports", "Ready").await;
    let home = sb.sim.clone();
    let other = sb.accounts.account(OTHER).expect("second account").clone();
    // Each service exists in its own account only.
    let in_home = home.inventory();
    let in_other = other.inventory();
    let names = |inv: &aws_sim::Inventory| {
        inv.services
            .iter()
            .map(|s| s.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&in_home), ["event-booking/team-a-web"], "{in_home:?}");
    assert_eq!(names(&in_other), ["reporting/reports"], "{in_other:?}");
    let web = service(&sb, "team-a", "web").await.unwrap();
    let reports = service(&sb, "team-b", "reports").await.unwrap();
    assert_eq!(account_of(&web).as_deref(), Some("123456789012"));
    assert_eq!(account_of(&reports).as_deref(), Some(OTHER));
    // The scaling policy of team-b acts in team-b's account.
    assert!(other.call_count("application-autoscaling:RegisterScalableTarget") >= 1);
    assert_eq!(
        home.call_count("application-autoscaling:RegisterScalableTarget"),
        0
    );
    // One AssumeRole per binding: the credentials are kept, not fetched per reconcile.
    assert_eq!(sb.accounts.assume_role_calls(), 2);
    // Calls are metered per account and region.
    let metrics = sb.metrics.encode();
    assert!(
        metrics.contains(&format!(
            "account=\"{OTHER}\",region=\"eu-west-1\",service=\"ecs\""
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("ecs_operator_aws_requests_total{{account=\"{OTHER}\",region=\"eu-west-1\",service=\"sts\",operation=\"AssumeRole\",outcome=\"ok\"}} 1")),
        "{metrics}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_makes_no_call_in_the_target_account() {
    let sb = Sandbox::start().await;
    apply_all(&sb, &example("00-namespaces.yaml")).await;
    apply_all(&sb, &example("01-bindings.yaml")).await;
    for ns in ["team-c", "team-d", "team-e"] {
        namespace(&sb, ns).await;
    }
    // team-d's binding has the wrong external id; team-e is named by two bindings.
    let wrong_id = r#"apiVersion: ecs-operator.dev/v1alpha1
kind: AwsAccountBinding
metadata: {name: team-d}
spec:
  namespaces: [team-d, team-e]
  accountId: "210987654321"
  roleArn: arn:aws:iam::210987654321:role/ecs-operator-tenant
  externalId: not-the-one
  regions: [eu-west-1]
"#;
    sb.apply(wrong_id).await.unwrap();
    let also_e = example("01-bindings.yaml")
        .split("\n---\n")
        .nth(1)
        .unwrap()
        .replace("name: team-b\n", "name: team-b-too\n")
        .replace("namespaces: [team-b]", "namespaces: [team-e]");
    sb.apply(&also_e).await.unwrap();
    sb.apply(&web_in("team-c", "c-web")).await.unwrap();
    sb.apply(&web_in("team-d", "d-web")).await.unwrap();
    sb.apply(&web_in("team-e", "e-web")).await.unwrap();
    let far_away = example("03-team-b-reports.yaml")
        .split("\n---\n")
        .next()
        .unwrap()
        .replace("region: eu-west-1", "region: us-east-1");
    sb.apply(&far_away).await.unwrap();

    let (reason, message) = wait_condition(&sb, "team-c", "web", "Stalled").await;
    assert_eq!(reason, "NoAccountBinding", "{message}");
    assert!(
        message.contains("namespace team-c is not bound"),
        "{message}"
    );
    let (reason, message) = wait_condition(&sb, "team-d", "web", "Stalled").await;
    assert_eq!(reason, "AssumeRoleFailed", "{message}");
    for part in [
        "AwsAccountBinding team-d",
        "arn:aws:iam::210987654321:role/ecs-operator-tenant",
        "AccessDenied",
        "sts:ExternalId",
    ] {
        assert!(message.contains(part), "{part:?} missing: {message}");
    }
    let (reason, message) = wait_condition(&sb, "team-e", "web", "Stalled").await;
    assert_eq!(reason, "AccountBindingConflict", "{message}");
    assert!(message.contains("team-b-too and team-d"), "{message}");
    let (reason, message) = wait_condition(&sb, "team-b", "reports", "Stalled").await;
    assert_eq!(reason, "RegionNotAllowed", "{message}");
    assert!(message.contains("AwsAccountBinding team-b"), "{message}");

    let other = sb.accounts.account(OTHER).unwrap();
    assert!(
        other.calls().is_empty(),
        "no call reached the bound account: {:?}",
        other.calls()
    );
    assert_eq!(
        sb.sim.write_calls(),
        0,
        "nor the operator's own: {:?}",
        sb.sim.calls()
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binding_change_moves_nothing_until_a_person_confirms() {
    let sb = Sandbox::start().await;
    namespace(&sb, "team-b").await;
    // No binding yet: the operator's own identity (--unbound-namespaces=auto).
    sb.apply(&web_in("team-b", "moving-web")).await.unwrap();
    wait_condition(&sb, "team-b", "web", "Ready").await;
    let svc = service(&sb, "team-b", "web").await.unwrap();
    assert_eq!(account_of(&svc).as_deref(), Some("operator"));

    // The administrator binds team-b to the other account.
    let binding = example("01-bindings.yaml")
        .split("\n---\n")
        .nth(1)
        .unwrap()
        .to_owned();
    sb.apply(&binding).await.unwrap();
    let (reason, message) = wait_condition(&sb, "team-b", "web", "Stalled").await;
    assert_eq!(reason, "AccountChanged", "{message}");
    assert!(
        message.contains("kubectl annotate --overwrite -n team-b ecsservice/web ecs-operator.dev/confirm-account=210987654321"),
        "{message}"
    );
    let other = sb.accounts.account(OTHER).unwrap().clone();
    assert_eq!(other.write_calls(), 0, "nothing created in the new account");
    assert_eq!(sb.accounts.assume_role_calls(), 0, "not even AssumeRole");
    // A spec edit meanwhile still moves nothing.
    sb.apply(&web_in("team-b", "moving-web").replace("desiredCount: 2", "desiredCount: 3"))
        .await
        .unwrap();
    wait_condition(&sb, "team-b", "web", "Stalled").await;
    assert_eq!(other.write_calls(), 0);

    // A person confirms: the object moves, the old service stays where it was.
    let api: Api<EcsService> = Api::namespaced(sb.client.clone(), "team-b");
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"metadata": {"annotations": {
            "ecs-operator.dev/confirm-account": OTHER
        }}})),
    )
    .await
    .unwrap();
    sb.wait_for("the account recorded as moved", WAIT, || async {
        let svc = service(&sb, "team-b", "web").await?;
        (account_of(&svc).as_deref() == Some(OTHER)).then_some(())
    })
    .await;
    sb.wait_for("the new account reached", WAIT, || async {
        (other.call_count("ecs:DescribeServices") > 0).then_some(())
    })
    .await;
    let home = sb.sim.inventory();
    assert!(
        home.services
            .iter()
            .any(|s| s.key == "event-booking/moving-web"),
        "the service in the old account is left as it is: {home:?}"
    );
    sb.shutdown().await;
}
