//! Several simulated accounts on one clock — the operator's own (the seed's first account) and
//! the seed's `otherAccounts`, each in its own region and its seed's `otherRegions` —, the STS that lets the operator into the others (AssumeRole on a
//! role whose trust policy lets it in, with the external id that policy requires), and the
//! factory that hands each identity the clients of its account.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::account::SimAws;
use crate::seed::{SeedTrust, SimSeed};
use aws::accounts::{Identity, RegionServices, ServicesFactory};
use aws::clock::{Clock, SimClock};
use aws::error::{AwsError, AwsResult, ErrorKind};
use aws::sts::{AssumedCredentials, RoleCredentials, RoleSession, StsApi};

/// The role the operator runs as in its own account (what AssumeRole denials name).
const OPERATOR_ROLE: &str = "ecs-operator";

/// Every simulated account of a seed. Cheap to clone: clones share the accounts.
#[derive(Debug, Clone)]
pub struct SimAccounts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    clock: Arc<SimClock>,
    home: SimAws,
    others: BTreeMap<String, SimAws>,
    /// The accounts' worlds in the seeds' `otherRegions`, by (account, region).
    regional: BTreeMap<(String, String), SimAws>,
    /// Role ARN → its trust policy, for the roles the operator may assume.
    trusted: BTreeMap<String, SeedTrust>,
    assume_role_calls: AtomicU64,
}

impl SimAccounts {
    /// The accounts of `seed` on `clock`: the seed's own account is the operator's.
    pub fn new(clock: Arc<SimClock>, mut seed: SimSeed) -> SimAccounts {
        let others_seeds = std::mem::take(&mut seed.other_accounts);
        let mut trusted = BTreeMap::new();
        for s in std::iter::once(&seed).chain(&others_seeds) {
            for role in &s.iam_roles {
                if let Some(trust) = &role.trust_policy {
                    trusted.insert(
                        format!("arn:aws:iam::{}:role/{}", s.account_id, role.role_name),
                        trust.clone(),
                    );
                }
            }
        }
        let mut regional = BTreeMap::new();
        let mut primary = |s: SimSeed| {
            let mut worlds = s.regional().into_iter();
            let own = worlds.next().expect("a seed's own region");
            for w in worlds {
                let key = (w.account_id.clone(), w.region.clone());
                regional.insert(key, SimAws::new(clock.clone(), w));
            }
            SimAws::new(clock.clone(), own)
        };
        let others = others_seeds
            .into_iter()
            .map(|s| (s.account_id.clone(), primary(s)))
            .collect();
        let home = primary(seed);
        SimAccounts {
            inner: Arc::new(Inner {
                home,
                clock,
                others,
                regional,
                trusted,
                assume_role_calls: AtomicU64::new(0),
            }),
        }
    }

    /// The operator's own account.
    pub fn home(&self) -> &SimAws {
        &self.inner.home
    }

    /// The account with id `account_id`.
    pub fn account(&self, account_id: &str) -> Option<&SimAws> {
        if self.inner.home.account_id() == account_id {
            return Some(&self.inner.home);
        }
        self.inner.others.get(account_id)
    }

    /// The account with id `account_id` in `region`: its world there when its seed lists the
    /// region in `otherRegions`, its own region's otherwise.
    pub fn account_in(&self, account_id: &str, region: &str) -> Option<&SimAws> {
        let key = (account_id.to_owned(), region.to_owned());
        self.inner
            .regional
            .get(&key)
            .or_else(|| self.account(account_id))
    }

    /// Every world: each account in its own region, the operator's first, then the accounts'
    /// other regions.
    pub fn worlds(&self) -> Vec<&SimAws> {
        std::iter::once(&self.inner.home)
            .chain(self.inner.others.values())
            .chain(self.inner.regional.values())
            .collect()
    }

    /// Every account id, the operator's own first.
    pub fn account_ids(&self) -> Vec<String> {
        std::iter::once(self.inner.home.account_id())
            .chain(self.inner.others.keys().cloned())
            .collect()
    }

    /// AssumeRole calls answered so far (denied ones included).
    pub fn assume_role_calls(&self) -> u64 {
        self.inner.assume_role_calls.load(Ordering::SeqCst)
    }

    fn deny(&self, session: &RoleSession, why: &str) -> AwsError {
        let home = self.inner.home.account_id();
        AwsError::from_code(
            "AccessDenied",
            format!(
                "User: arn:aws:sts::{home}:assumed-role/{OPERATOR_ROLE}/{} is not authorized to perform: sts:AssumeRole on resource: {}{why}",
                session.session_name, session.role_arn
            ),
            Some(403),
        )
    }
}

#[async_trait]
impl StsApi for SimAccounts {
    async fn assume_role(&self, session: &RoleSession) -> AwsResult<AssumedCredentials> {
        let n = self.inner.assume_role_calls.fetch_add(1, Ordering::SeqCst) + 1;
        let Some(trust) = self.inner.trusted.get(&session.role_arn) else {
            return Err(self.deny(session, ""));
        };
        if let Some(required) = &trust.external_id
            && session.external_id.as_ref() != Some(required)
        {
            return Err(self.deny(
                session,
                " (the trust policy's sts:ExternalId condition does not match)",
            ));
        }
        if !(900..=43_200).contains(&session.duration.as_secs()) {
            return Err(AwsError::new(
                ErrorKind::InvalidRequest,
                "ValidationError",
                format!(
                    "1 validation error detected: Value '{}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
                    session.duration.as_secs()
                ),
            ));
        }
        let now = self.inner.clock.now();
        let role_name = session.role_arn.rsplit('/').next().unwrap_or_default();
        Ok(AssumedCredentials {
            access_key_id: format!("ASIASIM{n:013}"),
            secret_access_key: format!("sim-secret-{n}"),
            session_token: format!("sim-token-{n}"),
            expiration: now
                + jiff::SignedDuration::try_from(session.duration)
                    .unwrap_or(jiff::SignedDuration::from_secs(3600)),
            assumed_role_arn: format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{}",
                session.account_id, session.session_name
            ),
        })
    }
}

impl SimAws {
    /// This account's clients: every AWS service answered by the simulation, and PromQL
    /// queries sent for real over HTTP (to a Prometheus server scraping the simulated metrics).
    pub fn region_services(&self) -> RegionServices {
        RegionServices {
            ecs: Arc::new(self.clone()),
            autoscaling: Arc::new(self.clone()),
            codedeploy: Arc::new(self.clone()),
            elb: Arc::new(self.clone()),
            cloudwatch: Arc::new(self.clone()),
            probe: Arc::new(self.clone()),
            prometheus: Arc::new(aws::prometheus::http::HttpPrometheus::new(None)),
            lookup: Arc::new(self.clone()),
            sns: Arc::new(self.clone()),
        }
    }
}

impl ServicesFactory for SimAccounts {
    fn services(
        &self,
        identity: &Identity,
        _credentials: Option<Arc<RoleCredentials>>,
        region: &str,
    ) -> RegionServices {
        let account = match identity {
            Identity::Operator => self
                .account_in(&self.inner.home.account_id(), region)
                .unwrap_or(&self.inner.home)
                .clone(),
            Identity::Role(session) => match self.account_in(&session.account_id, region) {
                Some(account) => account.clone(),
                // Only reached for a role STS let in, so only for a seeded account; an unknown
                // one answers as an empty account would.
                None => SimAws::new(
                    self.inner.clock.clone(),
                    SimSeed::minimal(&session.account_id, &self.inner.home.region(), &[]),
                ),
            },
        };
        account.region_services()
    }

    fn sts(&self) -> Arc<dyn StsApi> {
        Arc::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::SeedRole;
    use std::time::Duration;

    fn seed() -> SimSeed {
        let mut home = SimSeed::minimal("123456789012", "eu-west-1", &["a"]);
        home.iam_roles.push(SeedRole {
            role_name: "no-trust".into(),
            trust_policy: None,
        });
        let mut other = SimSeed::minimal("210987654321", "eu-west-1", &["b"]);
        other.iam_roles.push(SeedRole {
            role_name: "ecs-operator".into(),
            trust_policy: Some(SeedTrust {
                external_id: Some("team-b".into()),
            }),
        });
        home.other_accounts.push(other);
        home
    }

    fn session(role: &str, external_id: Option<&str>) -> RoleSession {
        RoleSession {
            account_id: role.split(':').nth(4).unwrap().into(),
            role_arn: role.into(),
            external_id: external_id.map(str::to_owned),
            session_name: "ecs-operator-team-b".into(),
            session_tags: vec![],
            duration: Duration::from_secs(3600),
        }
    }

    #[tokio::test]
    async fn assume_role_checks_the_trust_policy_and_its_external_id() {
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let accounts = SimAccounts::new(clock, seed());
        assert_eq!(accounts.account_ids(), ["123456789012", "210987654321"]);
        let role = "arn:aws:iam::210987654321:role/ecs-operator";
        let ok = accounts
            .assume_role(&session(role, Some("team-b")))
            .await
            .unwrap();
        assert_eq!(
            ok.assumed_role_arn,
            "arn:aws:sts::210987654321:assumed-role/ecs-operator/ecs-operator-team-b"
        );
        let wrong = accounts
            .assume_role(&session(role, Some("team-c")))
            .await
            .unwrap_err();
        assert_eq!(wrong.kind, ErrorKind::AccessDenied);
        assert!(
            wrong.message.contains("sts:ExternalId"),
            "{}",
            wrong.message
        );
        let untrusted = accounts
            .assume_role(&session("arn:aws:iam::123456789012:role/no-trust", None))
            .await
            .unwrap_err();
        assert!(
            untrusted
                .message
                .contains("is not authorized to perform: sts:AssumeRole")
        );
        assert_eq!(accounts.assume_role_calls(), 3);
    }

    #[tokio::test]
    async fn each_identity_reaches_its_own_account() {
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let accounts = SimAccounts::new(clock, seed());
        let role = session(
            "arn:aws:iam::210987654321:role/ecs-operator",
            Some("team-b"),
        );
        let theirs = accounts.services(&Identity::Role(role), None, "eu-west-1");
        let ours = accounts.services(&Identity::Operator, None, "eu-west-1");
        theirs
            .ecs
            .describe_services("b", &["web".into()])
            .await
            .unwrap();
        ours.ecs
            .describe_services("a", &["web".into()])
            .await
            .unwrap();
        ours.ecs
            .describe_services("a", &["api".into()])
            .await
            .unwrap();
        let other = accounts.account("210987654321").unwrap();
        assert_eq!(other.call_count("DescribeServices"), 1);
        assert_eq!(accounts.home().call_count("DescribeServices"), 2);
    }

    #[tokio::test]
    async fn each_region_of_an_account_is_a_world_of_its_own() {
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let mut seed = seed();
        seed.other_regions.push("eu-central-1".into());
        let accounts = SimAccounts::new(clock, seed);
        assert_eq!(accounts.worlds().len(), 3);
        let frankfurt = accounts.services(&Identity::Operator, None, "eu-central-1");
        let lookups = frankfurt
            .ecs
            .describe_services("a", &["web".into()])
            .await
            .unwrap();
        assert!(matches!(lookups[..], [aws::ecs::ServiceLookup::Missing]));
        let central = accounts.account_in("123456789012", "eu-central-1").unwrap();
        assert_eq!(central.region(), "eu-central-1");
        assert_eq!(central.call_count("DescribeServices"), 1);
        assert_eq!(accounts.home().call_count("DescribeServices"), 0);
        // A region the seed does not list reaches the seed's own.
        let elsewhere = accounts.services(&Identity::Operator, None, "us-east-1");
        elsewhere
            .ecs
            .describe_services("a", &["web".into()])
            .await
            .unwrap();
        assert_eq!(accounts.home().call_count("DescribeServices"), 1);
    }

    #[tokio::test]
    async fn a_throttled_account_does_not_slow_another() {
        use aws::accounts::AwsAccounts;
        use aws::metrics::NoMetrics;
        use futures::FutureExt;
        // A frozen clock: no bucket refills, so a call that must wait for a token stays pending.
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let world = SimAccounts::new(clock.clone(), seed());
        world.home().set_throttling(false);
        let accounts = AwsAccounts::new(
            "eu-west-1",
            Arc::new(world.clone()),
            clock,
            Arc::new(NoMetrics),
        );
        let role = Identity::Role(session(
            "arn:aws:iam::210987654321:role/ecs-operator",
            Some("team-b"),
        ));
        let theirs = accounts.connect(&role, "eu-west-1").await.unwrap();
        let ours = accounts
            .connect(&Identity::Operator, "eu-west-1")
            .await
            .unwrap();
        // Empty the operator account's client-side bucket for DescribeServices.
        let mut answered = 0;
        while let Some(result) = ours
            .ecs
            .describe_services("a", &["web".into()])
            .now_or_never()
        {
            result.unwrap();
            answered += 1;
            assert!(answered < 10_000, "the bucket never ran dry");
        }
        assert!(answered > 0);
        // The other account's bucket is its own: its call is answered at once.
        let other = theirs
            .ecs
            .describe_services("b", &["web".into()])
            .now_or_never()
            .expect("the other account is not held up");
        other.unwrap();
        assert_eq!(
            world
                .account("210987654321")
                .unwrap()
                .call_count("DescribeServices"),
            1
        );
        assert_eq!(world.home().call_count("DescribeServices"), answered);
    }
}
