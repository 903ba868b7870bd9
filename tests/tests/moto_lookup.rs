//! Wire-level checks of `SdkLookup` against moto: the reads reference verification makes (ECS
//! DescribeClusters, EC2 DescribeSubnets / DescribeSecurityGroups filtered by id, IAM GetRole,
//! Secrets Manager DescribeSecret, SSM DescribeParameters filtered by name) are well formed,
//! their answers parse, and what does not exist is left out (or `None`) rather than failing
//! the whole call.

use std::time::Duration;

use aws::lookup::sdk::SdkLookup;
use aws::lookup::{LookupApi, role_name};
use e2e_tests::moto::Moto;

const DEADLINE: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in {DEADLINE:?}"))
}

#[tokio::test]
async fn network_and_cluster_lookups_leave_out_what_does_not_exist() {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    let network = moto.create_network().await;
    aws_sdk_ecs::Client::new(&config)
        .create_cluster()
        .cluster_name("lookup-cluster")
        .send()
        .await
        .expect("moto creates the cluster");
    let lookup = SdkLookup::new(&config);

    let subnets = [
        network.subnet_ids[0].clone(),
        "subnet-00000000000000dead".to_string(),
    ];
    let found = within("DescribeSubnets", lookup.describe_subnets(&subnets))
        .await
        .expect("DescribeSubnets answers");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].subnet_id, network.subnet_ids[0]);
    assert_eq!(found[0].vpc_id, network.vpc_id);
    assert_eq!(found[0].availability_zone, "us-east-1a");

    let groups = [
        network.security_group_id.clone(),
        "sg-00000000000000dead".to_string(),
    ];
    let found = within(
        "DescribeSecurityGroups",
        lookup.describe_security_groups(&groups),
    )
    .await
    .expect("DescribeSecurityGroups answers");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].group_id, network.security_group_id);
    assert_eq!(found[0].vpc_id, network.vpc_id);

    let names = ["lookup-cluster".to_string(), "no-such-cluster".to_string()];
    let found = within("DescribeClusters", lookup.describe_clusters(&names))
        .await
        .expect("DescribeClusters answers");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].cluster_name, "lookup-cluster");
    assert_eq!(found[0].status, "ACTIVE");
    assert!(found[0].cluster_arn.ends_with(":cluster/lookup-cluster"));
}

#[tokio::test]
async fn roles_secrets_and_parameters_are_found_by_name_or_arn() {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws_sdk_iam::Client::new(&config)
        .create_role()
        .role_name("lookup-exec")
        .path("/service-role/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("moto creates the role");
    let role_arn = role.role.expect("a role").arn;
    let secret = aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name("lookup/db")
        .secret_string("not read by the operator")
        .send()
        .await
        .expect("moto creates the secret");
    let secret_arn = secret.arn.expect("an ARN");
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name("/lookup/db/url")
        .value("jdbc:postgresql://db/lookup")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("moto stores the parameter");
    let lookup = SdkLookup::new(&config);

    let name = role_name(&role_arn).expect("a role ARN with a path");
    assert_eq!(name, "lookup-exec");
    let found = within("GetRole", lookup.get_role(name))
        .await
        .expect("GetRole answers");
    assert_eq!(found.map(|r| r.arn), Some(role_arn.clone()));
    let missing = within("GetRole", lookup.get_role("lookup-missing")).await;
    assert_eq!(missing.expect("NoSuchEntity is an answer"), None);

    for id in ["lookup/db", secret_arn.as_str()] {
        let found = within("DescribeSecret", lookup.describe_secret(id))
            .await
            .expect("DescribeSecret answers");
        let found = found.unwrap_or_else(|| panic!("{id} is found"));
        assert_eq!(
            (found.arn.as_str(), found.name.as_str()),
            (secret_arn.as_str(), "lookup/db")
        );
        assert_eq!(found.deleted_date, None);
    }
    let missing = within("DescribeSecret", lookup.describe_secret("lookup/missing")).await;
    assert_eq!(missing.expect("ResourceNotFound is an answer"), None);

    let names = ["/lookup/db/url".to_string(), "/lookup/nope".to_string()];
    let found = within("DescribeParameters", lookup.describe_parameters(&names))
        .await
        .expect("DescribeParameters answers");
    assert_eq!(found, vec!["/lookup/db/url".to_string()]);
}
