//! ecs-operator API types (group `ecs-operator.dev`, version `v1alpha1`); no IO.
//!
//! Field names copy the AWS API JSON members so users can paste `aws ecs describe-services`
//! output and AWS documentation snippets. Every field carries a doc comment: it is what
//! `kubectl explain` shows.

pub mod account_binding;
pub mod analysis;
pub mod common;
pub mod ecs_service;
pub mod notification;
pub mod release_group;
pub mod rollout;
pub mod rollout_status;
pub mod scaling;
pub mod task_definition;

pub use account_binding::{AwsAccountBinding, AwsAccountBindingSpec};
pub use common::*;
pub use ecs_service::{EcsService, EcsServiceSpec, EcsServiceStatus};
pub use notification::{NotificationPolicy, NotificationPolicySpec, NotificationPolicyStatus};
pub use release_group::{ReleaseGroup, ReleaseGroupSpec, ReleaseGroupStatus};
pub use rollout::{BlueGreenRollout, BlueGreenRolloutSpec, BlueGreenRolloutStatus};
pub use scaling::{ScalingPolicy, ScalingPolicySpec, ScalingPolicyStatus};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Every CRD of the operator, in install order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        EcsService::crd(),
        BlueGreenRollout::crd(),
        ScalingPolicy::crd(),
        AwsAccountBinding::crd(),
        ReleaseGroup::crd(),
        NotificationPolicy::crd(),
    ]
}

/// Every CRD as one multi-document YAML stream (what `ecs-operator crds` prints).
pub fn all_crds_yaml() -> String {
    all_crds()
        .iter()
        .map(|crd| {
            let body = serde_saphyr::to_string(crd).expect("a CRD serializes to YAML");
            format!("---\n{body}")
        })
        .collect()
}
