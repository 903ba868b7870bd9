//! `SdkSts`: the [`StsApi`] adapter over `aws_sdk_sts` (AWS Query protocol; checked on the wire
//! against moto), and the bridge that hands an assumed role's credentials to the SDK clients of
//! the target account.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, future};
use aws_sdk_sts::Client;
use aws_sdk_sts::types::Tag;

use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::sdk::{aws_error, build_error};
use crate::sts::{AssumedCredentials, RoleCredentials, RoleSession, StsApi};

/// AWS STS through the AWS SDK, with the operator's own credentials.
#[derive(Debug, Clone)]
pub struct SdkSts {
    client: Client,
}

impl SdkSts {
    /// An adapter for the credentials, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

#[async_trait]
impl StsApi for SdkSts {
    async fn assume_role(&self, session: &RoleSession) -> AwsResult<AssumedCredentials> {
        let mut tags = Vec::with_capacity(session.session_tags.len());
        for (key, value) in &session.session_tags {
            tags.push(
                Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .map_err(build_error)?,
            );
        }
        let out = self
            .client
            .assume_role()
            .role_arn(&session.role_arn)
            .role_session_name(&session.session_name)
            .set_external_id(session.external_id.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .duration_seconds(i32::try_from(session.duration.as_secs()).unwrap_or(3600))
            .send()
            .await
            .map_err(aws_error)?;
        let creds = out.credentials.ok_or_else(|| {
            AwsError::new(
                ErrorKind::Transient,
                "MissingCredentials",
                "AssumeRole answered without credentials",
            )
        })?;
        let expiration = jiff::Timestamp::from_second(creds.expiration.secs())
            .map_err(|e| AwsError::new(ErrorKind::Transient, "BadExpiration", e.to_string()))?;
        Ok(AssumedCredentials {
            access_key_id: creds.access_key_id,
            secret_access_key: creds.secret_access_key,
            session_token: creds.session_token,
            expiration,
            assumed_role_arn: out.assumed_role_user.map(|u| u.arn).unwrap_or_default(),
        })
    }
}

/// An assumed role's credentials as the SDK's credentials provider: the service clients of the
/// target account sign with them, and the SDK's identity cache asks again as they near expiry.
#[derive(Clone)]
pub struct RoleCredentialsProvider {
    inner: Arc<RoleCredentials>,
}

impl RoleCredentialsProvider {
    /// A provider over `inner`.
    pub fn new(inner: Arc<RoleCredentials>) -> Self {
        Self { inner }
    }
}

impl std::fmt::Debug for RoleCredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleCredentialsProvider")
            .field("role", &self.inner.session().role_arn)
            .finish()
    }
}

impl ProvideCredentials for RoleCredentialsProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let creds = self
                .inner
                .get()
                .await
                .map_err(|e| provider::error::CredentialsError::provider_error(e.answer()))?;
            let expiry = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(
                    u64::try_from(creds.expiration.as_second()).unwrap_or(0),
                );
            Ok(Credentials::new(
                creds.access_key_id,
                creds.secret_access_key,
                Some(creds.session_token),
                Some(expiry),
                "ecs-operator-assume-role",
            ))
        })
    }
}
