//! ECS's statuses and states as enums (`aws_enum!`): services, their deployments, ECS-native
//! service deployments and their lifecycle hooks, task definitions, deployment controllers.

use crate::aws_enum;

aws_enum!(
    /// Service.status.
    ServiceStatus {
        /// In service.
        #[default]
        Active => "ACTIVE",
        /// Deleted; its tasks are stopping.
        Draining => "DRAINING",
        /// Deleted.
        Inactive => "INACTIVE",
    }
);

aws_enum!(
    /// Service.deployments[].status.
    DeploymentStatus {
        /// The newest deployment: the revision the service moves to.
        #[default]
        Primary => "PRIMARY",
        /// An older deployment whose tasks are being replaced.
        Active => "ACTIVE",
        /// Done with.
        Inactive => "INACTIVE",
    }
);

aws_enum!(
    /// Service.deployments[].rolloutState.
    RolloutState {
        /// Tasks are being replaced.
        #[default]
        InProgress => "IN_PROGRESS",
        /// The deployment reached steady state.
        Completed => "COMPLETED",
        /// The circuit breaker or an alarm failed it.
        Failed => "FAILED",
    }
);

aws_enum!(
    /// Service.deploymentController.type.
    DeploymentController {
        /// ECS's own rolling or blue/green deployments.
        #[default]
        Ecs => "ECS",
        /// CodeDeploy blue/green.
        CodeDeploy => "CODE_DEPLOY",
        /// A third-party controller.
        External => "EXTERNAL",
    }
);

aws_enum!(
    /// ServiceDeployment.status (ECS-native deployments).
    ServiceDeploymentStatus {
        /// Accepted, not started.
        #[default]
        Pending => "PENDING",
        /// Deploying.
        InProgress => "IN_PROGRESS",
        /// Done.
        Successful => "SUCCESSFUL",
        /// Stopped (ABORT, circuit breaker without rollback, superseded).
        Stopped => "STOPPED",
        /// A stop was asked for.
        StopRequested => "STOP_REQUESTED",
        /// A rollback was asked for.
        RollbackRequested => "ROLLBACK_REQUESTED",
        /// Rolling back.
        RollbackInProgress => "ROLLBACK_IN_PROGRESS",
        /// Rolled back.
        RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
        /// The rollback failed too.
        RollbackFailed => "ROLLBACK_FAILED",
    }
);

aws_enum!(
    /// A lifecycle hook invocation's status.
    HookStatus {
        /// A PAUSE hook waits for ContinueServiceDeployment.
        AwaitingAction => "AWAITING_ACTION",
        /// Running (a Lambda hook).
        #[default]
        InProgress => "IN_PROGRESS",
        /// Passed.
        Succeeded => "SUCCEEDED",
        /// Failed.
        Failed => "FAILED",
    }
);

aws_enum!(
    /// TaskDefinition.status.
    TaskDefinitionStatus {
        /// Usable.
        #[default]
        Active => "ACTIVE",
        /// Deregistered.
        Inactive => "INACTIVE",
        /// Being deleted.
        DeleteInProgress => "DELETE_IN_PROGRESS",
    }
);
