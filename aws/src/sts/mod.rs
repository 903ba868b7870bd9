//! The `StsApi` trait (AssumeRole, the one STS call the operator makes) and the credentials of an
//! assumed role, cached and renewed before they expire. No SDK types.

pub mod sdk;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::Mutex;

use crate::clock::SharedClock;
use crate::error::AwsResult;

/// How long before expiry assumed credentials are renewed.
pub const RENEW_BEFORE_EXPIRY: jiff::SignedDuration = jiff::SignedDuration::from_secs(300);

/// Session length when the binding names none (AWS's default for AssumeRole).
pub const DEFAULT_SESSION: Duration = Duration::from_secs(3600);

/// An IAM role to assume, and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleSession {
    /// The role's account (12 digits).
    pub account_id: String,
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// The external id the role's trust policy requires.
    pub external_id: Option<String>,
    /// RoleSessionName (what CloudTrail shows for every call made with the session).
    pub session_name: String,
    /// Session tags, key and value.
    pub session_tags: Vec<(String, String)>,
    /// DurationSeconds.
    pub duration: Duration,
}

/// Temporary credentials AssumeRole returned.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumedCredentials {
    /// Access key id (`ASIA…`).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token.
    pub session_token: String,
    /// When they stop working.
    pub expiration: Timestamp,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub assumed_role_arn: String,
}

impl std::fmt::Debug for AssumedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .field("assumed_role_arn", &self.assumed_role_arn)
            .finish_non_exhaustive()
    }
}

/// AWS Security Token Service, called with the operator's own identity.
#[async_trait]
pub trait StsApi: Send + Sync {
    /// AssumeRole.
    async fn assume_role(&self, session: &RoleSession) -> AwsResult<AssumedCredentials>;
}

/// The credentials of one role session: assumed on first use, kept, and assumed again once they
/// are within [`RENEW_BEFORE_EXPIRY`] of expiring. A failure is not kept: the next use tries
/// again (each failed reconcile backs off on its own).
pub struct RoleCredentials {
    session: RoleSession,
    sts: Arc<dyn StsApi>,
    clock: SharedClock,
    current: Mutex<Option<AssumedCredentials>>,
}

impl RoleCredentials {
    /// Credentials of `session`, assumed through `sts`.
    pub fn new(session: RoleSession, sts: Arc<dyn StsApi>, clock: SharedClock) -> Self {
        Self {
            session,
            sts,
            clock,
            current: Mutex::new(None),
        }
    }

    /// The session these credentials are for.
    pub fn session(&self) -> &RoleSession {
        &self.session
    }

    /// Valid credentials: the kept ones, or freshly assumed ones when those are missing or about
    /// to expire. Concurrent callers wait for one AssumeRole call.
    pub async fn get(&self) -> AwsResult<AssumedCredentials> {
        let mut current = self.current.lock().await;
        let now = self.clock.now();
        if let Some(creds) = current.as_ref()
            && now + RENEW_BEFORE_EXPIRY < creds.expiration
        {
            return Ok(creds.clone());
        }
        let fresh = self
            .sts
            .assume_role(&self.session)
            .await
            .map_err(|e| e.during("AssumeRole"))?;
        tracing::debug!(role = %self.session.role_arn, expires = %fresh.expiration, "assumed role");
        *current = Some(fresh.clone());
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SimClock};
    use crate::error::{AwsError, ErrorKind};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountingSts {
        calls: AtomicUsize,
        clock: Arc<SimClock>,
        fail: bool,
    }

    #[async_trait]
    impl StsApi for CountingSts {
        async fn assume_role(&self, session: &RoleSession) -> AwsResult<AssumedCredentials> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(AwsError::new(ErrorKind::AccessDenied, "AccessDenied", "no"));
            }
            Ok(AssumedCredentials {
                access_key_id: format!("ASIA{}", self.calls.load(Ordering::SeqCst)),
                secret_access_key: "s".into(),
                session_token: "t".into(),
                expiration: self.clock.now()
                    + jiff::SignedDuration::try_from(session.duration).unwrap(),
                assumed_role_arn: "arn:aws:sts::210987654321:assumed-role/r/s".into(),
            })
        }
    }

    fn session() -> RoleSession {
        RoleSession {
            account_id: "210987654321".into(),
            role_arn: "arn:aws:iam::210987654321:role/r".into(),
            external_id: None,
            session_name: "s".into(),
            session_tags: vec![],
            duration: DEFAULT_SESSION,
        }
    }

    #[tokio::test]
    async fn credentials_are_kept_until_five_minutes_before_expiry() {
        let clock = Arc::new(SimClock::new(Timestamp::UNIX_EPOCH, 0.0));
        let sts = Arc::new(CountingSts {
            calls: AtomicUsize::new(0),
            clock: clock.clone(),
            fail: false,
        });
        let creds = RoleCredentials::new(session(), sts.clone(), clock.clone());
        let first = creds.get().await.unwrap();
        clock.advance(Duration::from_secs(3600 - 301));
        assert_eq!(
            creds.get().await.unwrap(),
            first,
            "still valid for more than 5 min"
        );
        assert_eq!(sts.calls.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(2));
        let renewed = creds.get().await.unwrap();
        assert_ne!(renewed.access_key_id, first.access_key_id);
        assert_eq!(sts.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failure_is_not_kept() {
        let clock = Arc::new(SimClock::new(Timestamp::UNIX_EPOCH, 0.0));
        let sts = Arc::new(CountingSts {
            calls: AtomicUsize::new(0),
            clock: clock.clone(),
            fail: true,
        });
        let creds = RoleCredentials::new(session(), sts.clone(), clock);
        let err = creds.get().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
        assert_eq!(err.operation, Some("AssumeRole"));
        assert!(creds.get().await.is_err());
        assert_eq!(sts.calls.load(Ordering::SeqCst), 2);
    }
}
