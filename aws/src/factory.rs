//! Builds the clients of real AWS from the SDK configuration: the operator's own identity from
//! the standard chain (web identity / IRSA, EKS pod identity, environment, profile, IMDS), a
//! bound account's clients signing with the role assumed there, every region re-targeted from
//! the same configuration (and the same optional endpoint override).

use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::accounts::{Identity, RegionServices, ServicesFactory};
use crate::autoscaling::sdk::SdkAutoScaling;
use crate::cloudwatch::sdk::SdkCloudWatch;
use crate::codedeploy::sdk::SdkCodeDeploy;
use crate::ecs::sdk::SdkEcs;
use crate::elb::sdk::SdkElb;
use crate::lookup::sdk::SdkLookup;
use crate::probe::HttpProbe;
use crate::prometheus::http::HttpPrometheus;
use crate::sdk::{SdkOptions, load_sdk_config};
use crate::sns::sdk::SdkSns;
use crate::sts::sdk::{RoleCredentialsProvider, SdkSts};
use crate::sts::{RoleCredentials, StsApi};

/// SDK-backed clients over one shared configuration.
pub struct SdkFactory {
    base: SdkConfig,
}

impl ServicesFactory for SdkFactory {
    fn services(
        &self,
        _identity: &Identity,
        credentials: Option<Arc<RoleCredentials>>,
        region: &str,
    ) -> RegionServices {
        let mut builder = self
            .base
            .to_builder()
            .region(Region::new(region.to_string()));
        if let Some(creds) = credentials {
            builder = builder.credentials_provider(SharedCredentialsProvider::new(
                RoleCredentialsProvider::new(creds),
            ));
        }
        let config = builder.build();
        let elb = Arc::new(SdkElb::new(&config));
        RegionServices {
            ecs: Arc::new(SdkEcs::new(&config)),
            autoscaling: Arc::new(SdkAutoScaling::new(&config)),
            codedeploy: Arc::new(SdkCodeDeploy::new(&config)),
            cloudwatch: Arc::new(SdkCloudWatch::new(&config)),
            probe: Arc::new(HttpProbe::new(elb.clone())),
            prometheus: Arc::new(HttpPrometheus::new(config.credentials_provider())),
            lookup: Arc::new(SdkLookup::new(&config)),
            sns: Arc::new(SdkSns::new(&config)),
            elb,
        }
    }

    fn sts(&self) -> Arc<dyn StsApi> {
        Arc::new(SdkSts::new(&self.base))
    }
}

/// A factory of SDK-backed clients: the shared configuration, re-targeted per identity and
/// region.
pub async fn sdk_factory(opts: &SdkOptions) -> Arc<dyn ServicesFactory> {
    sdk_factory_from(load_sdk_config(opts).await)
}

/// A factory over an SDK configuration already loaded (tests with static credentials).
pub fn sdk_factory_from(base: SdkConfig) -> Arc<dyn ServicesFactory> {
    Arc::new(SdkFactory { base })
}

/// The region the SDK configuration resolves to (environment, profile or IMDS), if any.
pub async fn default_region(opts: &SdkOptions) -> Option<String> {
    load_sdk_config(opts).await.region().map(|r| r.to_string())
}
