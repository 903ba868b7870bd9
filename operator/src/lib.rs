//! ecs-operator: controllers that drive Amazon ECS, CodeDeploy and Application Auto Scaling
//! from EcsService, BlueGreenRollout and ScalingPolicy objects.

pub mod aws;
pub mod clock;
pub mod controllers;
pub mod http;
pub mod leader;
pub mod local;
pub mod manager;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
pub mod plugin;
