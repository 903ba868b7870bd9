//! The one table of AWS request rates the operator respects: which token bucket every AWS
//! operation it calls draws from, and each bucket's burst and refill rate. The client-side
//! limiter sizes its buckets from it and the simulated account throttles by it, so the two can
//! never disagree. Sources and reasoning are in `docs/aws-limits.md`.

/// A token bucket AWS keeps per account and Region: every operation of the category draws
/// from it, and an empty bucket answers with a throttling error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// ECS DescribeServices, ListServices.
    EcsServiceRead,
    /// ECS CreateService, UpdateService, DeleteService — and StopServiceDeployment /
    /// ContinueServiceDeployment, which have no published bucket (see `docs/aws-limits.md`).
    EcsServiceModify,
    /// ECS RegisterTaskDefinition, DeregisterTaskDefinition.
    EcsTaskDefinitionModify,
    /// ECS DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies.
    EcsTaskDefinitionRead,
    /// ECS DeleteTaskDefinitions.
    EcsTaskDefinitionDelete,
    /// ECS DescribeServiceDeployments, ListServiceDeployments.
    EcsServiceDeployment,
    /// ECS DescribeServiceRevisions.
    EcsServiceRevision,
    /// ECS TagResource, UntagResource.
    EcsTagModify,
    /// ECS ListTagsForResource.
    EcsTagRead,
    /// ECS DescribeClusters, ListClusters.
    EcsClusterRead,
    /// ECS DescribeTasks, ListTasks and the other cluster resource reads.
    EcsClusterResourceRead,
    /// Every CodeDeploy operation: no published rates; field reports see throttling around 41
    /// GetDeployment calls a minute with bursts.
    CodeDeploy,
    /// CloudWatch DescribeAlarms (9 transactions per second).
    CloudWatchDescribeAlarms,
    /// CloudWatch PutMetricAlarm, DeleteAlarms (3 transactions per second).
    CloudWatchModifyAlarms,
    /// CloudWatch GetMetricData (50 transactions per second).
    CloudWatchGetMetricData,
    /// EC2 non-mutating actions (DescribeSubnets, DescribeSecurityGroups, …): one bucket for
    /// every Describe action of the account.
    Ec2Describe,
    /// SNS Publish: 300 messages a second in the Regions with the lowest quota (more in the
    /// large ones), which the operator's rare notifications never approach.
    SnsPublish,
}

/// A bucket's size and refill rate as AWS enforces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// How many calls can be made at once from a full bucket.
    pub burst: u32,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

impl Category {
    /// Every category, in table order.
    pub const ALL: [Category; 17] = [
        Category::EcsServiceRead,
        Category::EcsServiceModify,
        Category::EcsTaskDefinitionModify,
        Category::EcsTaskDefinitionRead,
        Category::EcsTaskDefinitionDelete,
        Category::EcsServiceDeployment,
        Category::EcsServiceRevision,
        Category::EcsTagModify,
        Category::EcsTagRead,
        Category::EcsClusterRead,
        Category::EcsClusterResourceRead,
        Category::CodeDeploy,
        Category::CloudWatchDescribeAlarms,
        Category::CloudWatchModifyAlarms,
        Category::CloudWatchGetMetricData,
        Category::Ec2Describe,
        Category::SnsPublish,
    ];

    /// A stable name for messages and metrics (`ecs:service-modify`).
    pub fn name(self) -> &'static str {
        match self {
            Category::EcsServiceRead => "ecs:service-read",
            Category::EcsServiceModify => "ecs:service-modify",
            Category::EcsTaskDefinitionModify => "ecs:task-definition-modify",
            Category::EcsTaskDefinitionRead => "ecs:task-definition-read",
            Category::EcsTaskDefinitionDelete => "ecs:task-definition-delete",
            Category::EcsServiceDeployment => "ecs:service-deployment",
            Category::EcsServiceRevision => "ecs:service-revision",
            Category::EcsTagModify => "ecs:tag-modify",
            Category::EcsTagRead => "ecs:tag-read",
            Category::EcsClusterRead => "ecs:cluster-read",
            Category::EcsClusterResourceRead => "ecs:cluster-resource-read",
            Category::CodeDeploy => "codedeploy",
            Category::CloudWatchDescribeAlarms => "cloudwatch:describe-alarms",
            Category::CloudWatchModifyAlarms => "cloudwatch:modify-alarms",
            Category::CloudWatchGetMetricData => "cloudwatch:get-metric-data",
            Category::Ec2Describe => "ec2:describe",
            Category::SnsPublish => "sns:publish",
        }
    }

    /// AWS's bucket for the category.
    pub fn aws_bucket(self) -> Bucket {
        let (burst, refill_per_sec) = match self {
            Category::EcsServiceRead => (100, 20.0),
            Category::EcsServiceModify => (50, 5.0),
            Category::EcsTaskDefinitionModify => (20, 1.0),
            Category::EcsTaskDefinitionRead => (50, 20.0),
            Category::EcsTaskDefinitionDelete => (5, 1.0),
            Category::EcsServiceDeployment => (50, 20.0),
            Category::EcsServiceRevision => (50, 20.0),
            Category::EcsTagModify => (20, 10.0),
            Category::EcsTagRead => (50, 20.0),
            Category::EcsClusterRead => (50, 20.0),
            Category::EcsClusterResourceRead => (100, 20.0),
            Category::CodeDeploy => (20, 0.7),
            Category::CloudWatchDescribeAlarms => (9, 9.0),
            Category::CloudWatchModifyAlarms => (3, 3.0),
            Category::CloudWatchGetMetricData => (50, 50.0),
            Category::Ec2Describe => (100, 20.0),
            Category::SnsPublish => (300, 300.0),
        };
        Bucket {
            burst,
            refill_per_sec,
        }
    }

    /// The operator's own bucket: half AWS's burst and 90 % of its refill, leaving room for
    /// every other caller in the account.
    pub fn own_bucket(self) -> (f64, f64) {
        let Bucket {
            burst,
            refill_per_sec,
        } = self.aws_bucket();
        ((f64::from(burst) / 2.0).max(1.0), refill_per_sec * 0.9)
    }
}

/// Which bucket each AWS operation the operator calls draws from, as (service, action);
/// action `*` stands for every action of the service. Operations not listed (Application Auto
/// Scaling, ELBv2 reads, IAM GetRole, Secrets Manager DescribeSecret, SSM DescribeParameters)
/// have no published per-action rate and are only counted.
pub const OPERATIONS: &[(&str, &str, Category)] = &[
    ("ecs", "DescribeServices", Category::EcsServiceRead),
    ("ecs", "ListServices", Category::EcsServiceRead),
    ("ecs", "CreateService", Category::EcsServiceModify),
    ("ecs", "UpdateService", Category::EcsServiceModify),
    ("ecs", "DeleteService", Category::EcsServiceModify),
    ("ecs", "StopServiceDeployment", Category::EcsServiceModify),
    (
        "ecs",
        "ContinueServiceDeployment",
        Category::EcsServiceModify,
    ),
    (
        "ecs",
        "RegisterTaskDefinition",
        Category::EcsTaskDefinitionModify,
    ),
    (
        "ecs",
        "DeregisterTaskDefinition",
        Category::EcsTaskDefinitionModify,
    ),
    (
        "ecs",
        "DescribeTaskDefinition",
        Category::EcsTaskDefinitionRead,
    ),
    (
        "ecs",
        "ListTaskDefinitions",
        Category::EcsTaskDefinitionRead,
    ),
    (
        "ecs",
        "ListTaskDefinitionFamilies",
        Category::EcsTaskDefinitionRead,
    ),
    (
        "ecs",
        "DeleteTaskDefinitions",
        Category::EcsTaskDefinitionDelete,
    ),
    (
        "ecs",
        "DescribeServiceDeployments",
        Category::EcsServiceDeployment,
    ),
    (
        "ecs",
        "ListServiceDeployments",
        Category::EcsServiceDeployment,
    ),
    (
        "ecs",
        "DescribeServiceRevisions",
        Category::EcsServiceRevision,
    ),
    ("ecs", "TagResource", Category::EcsTagModify),
    ("ecs", "UntagResource", Category::EcsTagModify),
    ("ecs", "ListTagsForResource", Category::EcsTagRead),
    ("ecs", "DescribeClusters", Category::EcsClusterRead),
    ("ecs", "ListClusters", Category::EcsClusterRead),
    ("ecs", "DescribeTasks", Category::EcsClusterResourceRead),
    ("ecs", "ListTasks", Category::EcsClusterResourceRead),
    ("codedeploy", "*", Category::CodeDeploy),
    (
        "cloudwatch",
        "DescribeAlarms",
        Category::CloudWatchDescribeAlarms,
    ),
    (
        "cloudwatch",
        "PutMetricAlarm",
        Category::CloudWatchModifyAlarms,
    ),
    (
        "cloudwatch",
        "DeleteAlarms",
        Category::CloudWatchModifyAlarms,
    ),
    (
        "cloudwatch",
        "GetMetricData",
        Category::CloudWatchGetMetricData,
    ),
    ("ec2", "DescribeSubnets", Category::Ec2Describe),
    ("ec2", "DescribeSecurityGroups", Category::Ec2Describe),
    ("sns", "Publish", Category::SnsPublish),
];

/// The bucket `action` of `service` (`ecs`, `UpdateService`) draws from, if it has one.
pub fn category_of(service: &str, action: &str) -> Option<Category> {
    OPERATIONS
        .iter()
        .find(|(s, a, _)| *s == service && (*a == action || *a == "*"))
        .map(|(_, _, category)| *category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_find_their_bucket() {
        let cases = [
            ("ecs:DescribeServices", Some(Category::EcsServiceRead)),
            (
                "ecs:StopServiceDeployment",
                Some(Category::EcsServiceModify),
            ),
            ("codedeploy:GetDeployment", Some(Category::CodeDeploy)),
            ("codedeploy:CreateDeployment", Some(Category::CodeDeploy)),
            (
                "cloudwatch:PutMetricAlarm",
                Some(Category::CloudWatchModifyAlarms),
            ),
            (
                "cloudwatch:GetMetricData",
                Some(Category::CloudWatchGetMetricData),
            ),
            ("application-autoscaling:PutScalingPolicy", None),
            ("elbv2:DescribeRules", None),
            ("ecs:NoSuchAction", None),
        ];
        for (operation, category) in cases {
            let (service, action) = operation.split_once(':').expect("service:Action");
            assert_eq!(category_of(service, action), category, "{operation}");
        }
    }

    #[test]
    fn every_category_is_used_and_the_operator_stays_under_aws() {
        for category in Category::ALL {
            assert!(
                OPERATIONS.iter().any(|(_, _, c)| *c == category),
                "{category:?} has no operation"
            );
            let aws = category.aws_bucket();
            let (burst, refill) = category.own_bucket();
            assert!(burst <= f64::from(aws.burst), "{category:?}");
            assert!(refill < aws.refill_per_sec, "{category:?}");
        }
    }
}
