//! Wire-level checks of `SdkSts` against moto: AssumeRole with an external id, session tags and
//! a session length is well formed and its answer parses into credentials, and an account
//! reached through `AwsAccounts::connect` signs its calls with them (moto answers them; it does
//! not check trust policies, so refusals are the simulator's business).

use std::sync::Arc;
use std::time::Duration;

use aws::accounts::{AwsAccounts, Identity};
use aws::clock::{SharedClock, SystemClock};
use aws::factory::sdk_factory_from;
use aws::metrics::NoMetrics;
use aws::sts::sdk::SdkSts;
use aws::sts::{RoleSession, StsApi};
use e2e_tests::moto::Moto;

fn session(name: &str) -> RoleSession {
    RoleSession {
        account_id: "210987654321".into(),
        role_arn: "arn:aws:iam::210987654321:role/ecs-operator".into(),
        external_id: Some("team-b-7f3a".into()),
        session_name: name.into(),
        session_tags: vec![("team".into(), "b".into())],
        duration: Duration::from_secs(1800),
    }
}

#[tokio::test]
async fn assume_role_round_trips_on_the_wire() {
    let moto = Moto::shared().await;
    let sts = SdkSts::new(&moto.sdk_config().await);
    let before = jiff::Timestamp::now();
    let creds = tokio::time::timeout(
        Duration::from_secs(20),
        sts.assume_role(&session("ecs-operator-team-b")),
    )
    .await
    .expect("AssumeRole answers")
    .expect("moto assumes the role");
    assert!(!creds.access_key_id.is_empty() && !creds.session_token.is_empty());
    assert_eq!(
        creds.assumed_role_arn,
        "arn:aws:sts::210987654321:assumed-role/ecs-operator/ecs-operator-team-b"
    );
    let lasts = creds.expiration.duration_since(before).as_secs();
    assert!(
        (1700..=1900).contains(&lasts),
        "DurationSeconds went on the wire: the session lasts {lasts}s"
    );
}

#[tokio::test]
async fn a_bound_account_is_reached_with_the_assumed_credentials() {
    let moto = Moto::shared().await;
    let factory = sdk_factory_from(moto.sdk_config().await);
    let clock: SharedClock = Arc::new(SystemClock);
    let accounts = AwsAccounts::new("us-east-1", factory, clock, Arc::new(NoMetrics));
    let identity = Identity::Role(session("ecs-operator-wire"));
    let aws = tokio::time::timeout(
        Duration::from_secs(30),
        accounts.connect(&identity, "us-east-1"),
    )
    .await
    .expect("connect answers")
    .expect("the role is assumed");
    assert_eq!(
        (aws.account.as_str(), aws.region.as_str()),
        ("210987654321", "us-east-1")
    );
    let found = tokio::time::timeout(
        Duration::from_secs(20),
        aws.ecs
            .describe_services("no-such-cluster", &["web".into()]),
    )
    .await
    .expect("DescribeServices answers");
    // moto answers a missing cluster either way; what matters is that the call signed with the
    // session's credentials went through.
    match found {
        Ok(_) => {}
        Err(e) => assert_eq!(e.code, "ClusterNotFoundException", "{e:?}"),
    }
    // The same session is kept: a second connect does not assume the role again, and hands
    // out the same clients.
    let again = accounts.connect(&identity, "us-east-1").await.unwrap();
    assert!(Arc::ptr_eq(&aws, &again));
}
