//! The AWS layer: one small trait per AWS service with the operator's own types, the SDK
//! adapters (the only code that names `aws_sdk_*` types), and the simulated account.

pub mod accounts;
pub mod autoscaling;
pub mod autoscaling_reader;
pub mod autoscaling_sdk;
pub mod cloudwatch;
pub mod cloudwatch_sdk;
pub mod codedeploy;
pub mod codedeploy_sdk;
pub mod ecs;
pub mod ecs_sdk;
pub mod elb;
pub mod elb_sdk;
pub mod error;
pub mod factory;
pub mod limited;
pub mod limited_autoscaling;
pub mod limiter;
pub mod probe;
pub mod reader;
pub mod sdk;
pub mod sim;

pub use error::{AwsError, AwsResult, ErrorKind};
