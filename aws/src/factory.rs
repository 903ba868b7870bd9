//! Builds the per-region clients of real AWS from the SDK configuration (credentials from the
//! standard chain, optional endpoint override).

use std::sync::Arc;

use aws_config::Region;

use crate::accounts::{RegionServices, ServicesFactory};
use crate::autoscaling::sdk::SdkAutoScaling;
use crate::cloudwatch::sdk::SdkCloudWatch;
use crate::codedeploy::sdk::SdkCodeDeploy;
use crate::ecs::sdk::SdkEcs;
use crate::elb::sdk::SdkElb;
use crate::probe::HttpProbe;
use crate::sdk::{SdkOptions, load_sdk_config};

/// A factory of SDK-backed clients: the shared configuration, re-targeted per region.
pub async fn sdk_factory(opts: &SdkOptions) -> ServicesFactory {
    let base = load_sdk_config(opts).await;
    Arc::new(move |region: &str| {
        let config = base
            .to_builder()
            .region(Region::new(region.to_string()))
            .build();
        let elb = Arc::new(SdkElb::new(&config));
        RegionServices {
            ecs: Arc::new(SdkEcs::new(&config)),
            autoscaling: Arc::new(SdkAutoScaling::new(&config)),
            codedeploy: Arc::new(SdkCodeDeploy::new(&config)),
            cloudwatch: Arc::new(SdkCloudWatch::new(&config)),
            probe: Arc::new(HttpProbe::new(elb.clone())),
            elb,
        }
    })
}

/// The region the SDK configuration resolves to (environment, profile or IMDS), if any.
pub async fn default_region(opts: &SdkOptions) -> Option<String> {
    load_sdk_config(opts).await.region().map(|r| r.to_string())
}
