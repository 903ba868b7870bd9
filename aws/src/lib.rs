//! The AWS layer of ecs-operator: one small trait per AWS service with the operator's own types
//! in and out, errors normalised to the kinds the controllers decide on, the one table of AWS
//! rate limits, the client-side limiter, the batched readers, and the SDK adapters (the only
//! code in the workspace that names `aws_sdk_*` types). Knows nothing of Kubernetes.

pub mod accounts;
pub mod autoscaling;
pub mod clock;
pub mod cloudwatch;
pub mod codedeploy;
pub mod ecs;
pub mod elb;
pub mod enums;
pub mod error;
pub mod factory;
pub mod https;
pub mod limited;
pub mod limiter;
pub mod limits;
pub mod lookup;
pub mod metrics;
pub mod probe;
pub mod prometheus;
pub mod sdk;
pub mod sns;
pub mod sts;
pub mod webhook;

pub use error::{AwsError, AwsResult, ErrorKind};
