//! The `LookupApi` trait on the event-booking account: what is seeded is found, what is not is
//! left out (or `None`), the batch limits fail like AWS, and every call passes the gate.

use super::*;
use crate::SimFault;
use crate::secrets::secret_arn;
use aws::error::{AwsError, ErrorKind};
use aws::lookup::{LookupApi, SecurityGroup, Subnet};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn clusters_are_found_by_name_or_arn_and_missing_ones_left_out() {
    let sim = sim();
    let arn = crate::arn::cluster_arn(REGION, ACCOUNT, CLUSTER);
    let other_region = crate::arn::cluster_arn("us-east-1", ACCOUNT, CLUSTER);
    let found = sim
        .describe_clusters(&strings(&["nope", CLUSTER, &other_region]))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].cluster_name, CLUSTER);
    assert_eq!(found[0].cluster_arn, arn);
    assert_eq!(found[0].status, "ACTIVE");
    let by_arn = sim.describe_clusters(&strings(&[&arn])).await.unwrap();
    assert_eq!(by_arn, found);
    assert!(sim.describe_clusters(&[]).await.unwrap().is_empty());
    assert_eq!(sim.call_count("ecs:DescribeClusters"), 3);
}

#[tokio::test]
async fn more_than_100_clusters_is_an_invalid_parameter() {
    let sim = sim();
    let names: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
    let err = sim.describe_clusters(&names).await.unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("InvalidParameterException", ErrorKind::InvalidRequest)
    );
    assert!(
        sim.describe_clusters(&names[..100])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn subnets_and_security_groups_are_filtered_by_id() {
    let sim = sim();
    let subnets = sim
        .describe_subnets(&strings(&[SUBNETS[2], "subnet-doesnotexist", SUBNETS[0]]))
        .await
        .unwrap();
    let ids: Vec<&str> = subnets.iter().map(|s| s.subnet_id.as_str()).collect();
    assert_eq!(ids, [SUBNETS[0], SUBNETS[2]]);
    assert_eq!(
        subnets[0],
        Subnet {
            subnet_id: SUBNETS[0].to_owned(),
            vpc_id: "vpc-0e1b2c3d4a5f60718".to_owned(),
            availability_zone: "eu-west-1a".to_owned(),
        }
    );
    assert_eq!(subnets[1].availability_zone, "eu-west-1c");

    let groups = sim
        .describe_security_groups(&strings(&["sg-missing", SG]))
        .await
        .unwrap();
    assert_eq!(
        groups,
        [SecurityGroup {
            group_id: SG.to_owned(),
            vpc_id: "vpc-0e1b2c3d4a5f60718".to_owned(),
        }]
    );
    assert!(
        sim.describe_security_groups(&strings(&["sg-missing"]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sim.call_count("ec2:DescribeSubnets"), 1);
    assert_eq!(sim.call_count("ec2:DescribeSecurityGroups"), 2);
}

#[tokio::test]
async fn ec2_filters_take_at_most_200_values() {
    let sim = sim();
    let ids: Vec<String> = (0..201).map(|i| format!("subnet-{i}")).collect();
    let err = sim.describe_subnets(&ids).await.unwrap_err();
    assert_eq!(err.code, "FilterLimitExceeded");
    let err = sim.describe_security_groups(&ids).await.unwrap_err();
    assert_eq!(err.code, "FilterLimitExceeded");
    assert!(sim.describe_subnets(&ids[..200]).await.unwrap().is_empty());
}

#[tokio::test]
async fn roles_are_found_by_name() {
    let sim = sim();
    let role = sim
        .get_role("ecsTaskExecutionRole")
        .await
        .unwrap()
        .expect("seeded role");
    assert_eq!(role.role_name, "ecsTaskExecutionRole");
    assert_eq!(
        role.arn,
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    );
    assert_eq!(sim.get_role("no-such-role").await.unwrap(), None);
    let err = sim.get_role("has space").await.unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("ValidationError", ErrorKind::InvalidRequest)
    );
    assert_eq!(sim.call_count("iam:GetRole"), 3);
}

#[tokio::test]
async fn secrets_are_found_by_name_full_arn_and_partial_arn() {
    let sim = sim();
    let name = "event-booking/auth/db";
    let full = secret_arn(REGION, ACCOUNT, name);
    let partial = format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}");
    assert!(full.starts_with(&format!("{partial}-")));
    for id in [name, full.as_str(), partial.as_str()] {
        let secret = sim
            .describe_secret(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} finds the secret"));
        assert_eq!(secret.name, name, "{id}");
        assert_eq!(secret.arn, full, "{id}");
        assert_eq!(secret.deleted_date, None);
    }
    let wrong_suffix = format!("{partial}-XXXXXX");
    let other_account = partial.replace(ACCOUNT, "210987654321");
    for id in [
        "event-booking/auth",
        "event-booking/nope/db",
        wrong_suffix.as_str(),
        other_account.as_str(),
    ] {
        assert_eq!(sim.describe_secret(id).await.unwrap(), None, "{id}");
    }
    assert_eq!(sim.call_count("secretsmanager:DescribeSecret"), 7);
}

#[tokio::test]
async fn every_example_secret_is_seeded() {
    let sim = sim();
    for service in ["auth", "event", "ticket", "payment", "notification"] {
        let id =
            format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:event-booking/{service}/db");
        assert!(
            sim.describe_secret(&id).await.unwrap().is_some(),
            "{id} is seeded"
        );
    }
}

#[tokio::test]
async fn parameters_are_filtered_by_name_at_most_50() {
    let mut seed = SimSeed::event_booking();
    for name in ["/event-booking/db/url", "plain"] {
        seed.parameters.push(crate::SeedParameter {
            name: name.to_owned(),
        });
    }
    let sim = SimAws::new(frozen_clock(), seed);
    let found = sim
        .describe_parameters(&strings(&[
            "plain",
            "/event-booking/db/url",
            "event-booking/db/url",
            "/missing",
        ]))
        .await
        .unwrap();
    assert_eq!(found, ["/event-booking/db/url", "plain"]);
    let names: Vec<String> = (0..51).map(|i| format!("/p{i}")).collect();
    let err = sim.describe_parameters(&names).await.unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("ValidationException", ErrorKind::InvalidRequest)
    );
    assert!(
        sim.describe_parameters(&names[..50])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sim.call_count("ssm:DescribeParameters"), 3);
}

#[tokio::test]
async fn lookups_pass_the_gate_like_every_operation() {
    let sim = sim();
    sim.inject_fault(SimFault::new(
        "GetRole",
        1,
        AwsError::from_code("ServiceFailure", "boom", Some(500)),
    ));
    let err = sim.get_role("ecsTaskExecutionRole").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(
        sim.get_role("ecsTaskExecutionRole")
            .await
            .unwrap()
            .is_some()
    );

    // DescribeClusters draws from the ECS cluster-read bucket, the EC2 reads from EC2's.
    let mut throttled = None;
    for i in 0..1_000 {
        if let Err(e) = sim.describe_clusters(&strings(&[CLUSTER])).await {
            throttled = Some((i, e));
            break;
        }
    }
    let (after, err) = throttled.expect("DescribeClusters is throttled at its burst");
    assert!(after > 0);
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert!(sim.describe_subnets(&strings(&[SUBNETS[0]])).await.is_ok());
    let calls = sim.calls();
    assert_eq!(calls["iam:GetRole"], 2, "the faulted call counts too");
    assert_eq!(calls["ecs:DescribeClusters"], after + 1);
    assert_eq!(calls["ec2:DescribeSubnets"], 1);
}
