//! ecs-operator: controllers that drive Amazon ECS, CodeDeploy and Application Auto Scaling
//! from EcsService, BlueGreenRollout and ScalingPolicy objects.

pub mod controllers;
pub mod fence;
pub mod http;
pub mod leader;
#[cfg(feature = "sandbox")]
pub mod local;
pub mod manager;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
pub mod plugin;
pub mod preview;
