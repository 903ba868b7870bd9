//! The benchmark's fleet: the simulated accounts it runs in and the objects people would apply
//! for it — EcsServices over the clusters of every account, half of them with a ScalingPolicy
//! and a tenth with an ECS-native BlueGreenRollout behind their own listener rule.

use aws_sim::SimSeed;
use aws_sim::arn;
use aws_sim::seed::{
    SeedListener, SeedLoadBalancer, SeedRole, SeedRule, SeedSubnet, SeedTargetGroup, SeedTrust,
    SeedVpc, SeedWeightedTargetGroup,
};
use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use serde_json::json;

/// The regions the accounts run in (the first is the operator's own).
pub const REGIONS: [&str; 2] = ["eu-west-1", "eu-central-1"];
/// Rules per listener (AWS allows 100 per listener; a load balancer per 50 rollouts).
const RULES_PER_LISTENER: usize = 50;
/// The role the operator assumes in the accounts it is bound to.
const TENANT_ROLE: &str = "ecs-operator-tenant";
/// The role ECS uses to move listener weights in a blue/green deployment.
const INFRASTRUCTURE_ROLE: &str = "ecsInfrastructureRoleForLoadBalancers";

/// How big the fleet is.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    /// EcsServices.
    pub services: usize,
    /// Clusters, over all accounts.
    pub clusters: usize,
    /// Accounts (each bound to a namespace of its own when more than one).
    pub accounts: usize,
    /// Regions of each account (1 or 2).
    pub regions: usize,
}

/// Where service `i` runs.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Its namespace.
    pub namespace: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: &'static str,
    /// Its cluster.
    pub cluster: String,
}

impl Fleet {
    /// The id of account `a`.
    pub fn account_id(&self, a: usize) -> String {
        format!("{}", 100_000_000_000u64 + a as u64)
    }

    /// The namespace of account `a`'s services.
    pub fn namespace(&self, a: usize) -> String {
        if self.accounts == 1 {
            "bench".to_owned()
        } else {
            format!("team-{a}")
        }
    }

    /// Clusters in each region of each account.
    fn clusters_per_world(&self) -> usize {
        self.clusters.div_ceil(self.accounts * self.regions).max(1)
    }

    fn cluster(a: usize, r: usize, k: usize) -> String {
        format!("bench-{a}-{r}-{k:02}")
    }

    /// Where service `i` runs: accounts in turn, then regions, then clusters.
    pub fn placement(&self, i: usize) -> Placement {
        let (a, r) = self.world_of(i);
        let k = (i / (self.accounts * self.regions)) % self.clusters_per_world();
        Placement {
            namespace: self.namespace(a),
            account: self.account_id(a),
            region: REGIONS[r],
            cluster: Self::cluster(a, r, k),
        }
    }

    /// The account and region indices of service `i`.
    fn world_of(&self, i: usize) -> (usize, usize) {
        (i % self.accounts, (i / self.accounts) % self.regions)
    }

    /// The services of each (account, region): what each set of token buckets serves.
    pub fn per_world(&self) -> std::collections::BTreeMap<(usize, usize), usize> {
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..self.services {
            *counts.entry(self.world_of(i)).or_default() += 1;
        }
        counts
    }

    /// Whether service `i` has a ScalingPolicy (half of them).
    pub fn scaled(&self, i: usize) -> bool {
        i.is_multiple_of(2)
    }

    /// Whether service `i` has a BlueGreenRollout (a tenth).
    pub fn rolled_out(&self, i: usize) -> bool {
        i.is_multiple_of(10)
    }

    /// Service `i`'s place among the rollouts of its account and region (its listener rule).
    fn rollout_index(&self, i: usize) -> usize {
        (0..i)
            .step_by(10)
            .filter(|&j| self.world_of(j) == self.world_of(i))
            .count()
    }

    /// The services of each (account, cluster), in the order DescribeServices batches them.
    pub fn per_cluster(&self) -> std::collections::BTreeMap<(String, String), usize> {
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..self.services {
            let p = self.placement(i);
            *counts.entry((p.account, p.cluster)).or_default() += 1;
        }
        counts
    }

    /// The simulated accounts: the operator's own one first (holding the first account's
    /// services), the others as its `otherAccounts`; each in every region of the fleet (a
    /// region's copy holds the other regions' resources too, unused).
    pub fn seed(&self) -> SimSeed {
        let mut accounts: Vec<SimSeed> = (0..self.accounts).map(|a| self.account_seed(a)).collect();
        let mut home = accounts.remove(0);
        home.other_accounts = accounts;
        home
    }

    fn account_seed(&self, a: usize) -> SimSeed {
        let account = self.account_id(a);
        let mut seed = SimSeed {
            account_id: account.clone(),
            region: REGIONS[0].to_owned(),
            other_regions: REGIONS[1..self.regions]
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
            clusters: (0..self.regions)
                .flat_map(|r| (0..self.clusters_per_world()).map(move |k| Self::cluster(a, r, k)))
                .collect(),
            vpcs: vec![SeedVpc {
                vpc_id: "vpc-0bench".to_owned(),
                cidr_block: "10.0.0.0/8".to_owned(),
            }],
            subnets: vec![SeedSubnet {
                subnet_id: "subnet-0bench".to_owned(),
                vpc_id: "vpc-0bench".to_owned(),
                availability_zone: "zone-a".to_owned(),
                cidr_block: "10.0.0.0/12".to_owned(),
            }],
            security_groups: vec![aws_sim::seed::SeedSecurityGroup {
                group_id: "sg-0bench".to_owned(),
                group_name: "bench".to_owned(),
                vpc_id: "vpc-0bench".to_owned(),
            }],
            iam_roles: vec![
                SeedRole {
                    role_name: INFRASTRUCTURE_ROLE.to_owned(),
                    trust_policy: None,
                },
                SeedRole {
                    role_name: TENANT_ROLE.to_owned(),
                    trust_policy: Some(SeedTrust { external_id: None }),
                },
            ],
            ..SimSeed::default()
        };
        let rollouts =
            (0..self.services).filter(|&i| self.rolled_out(i) && self.world_of(i).0 == a);
        for i in rollouts {
            let r = self.rollout_index(i);
            let region = self.world_of(i).1;
            for colour in ["blue", "green"] {
                seed.target_groups.push(SeedTargetGroup {
                    name: format!("svc-{i:05}-{colour}"),
                    port: 8080,
                    protocol: "HTTP".to_owned(),
                    health_check_path: "/".to_owned(),
                    vpc_id: None,
                    target_type: "ip".to_owned(),
                    deregistration_delay_seconds: 0,
                });
            }
            let lb_name = load_balancer(region, r);
            let lb = match seed.load_balancers.iter().position(|l| l.name == lb_name) {
                Some(lb) => lb,
                None => {
                    seed.load_balancers.push(SeedLoadBalancer {
                        name: lb_name,
                        listeners: vec![SeedListener {
                            port: 80,
                            protocol: "HTTP".to_owned(),
                            default_target_group: format!("svc-{i:05}-blue"),
                            rules: Vec::new(),
                        }],
                    });
                    seed.load_balancers.len() - 1
                }
            };
            seed.load_balancers[lb].listeners[0].rules.push(SeedRule {
                priority: rule_priority(r),
                path_pattern: format!("/svc-{i:05}/*"),
                target_groups: vec![
                    SeedWeightedTargetGroup {
                        name: format!("svc-{i:05}-blue"),
                        weight: 100,
                    },
                    SeedWeightedTargetGroup {
                        name: format!("svc-{i:05}-green"),
                        weight: 0,
                    },
                ],
            });
        }
        seed
    }

    /// The AwsAccountBindings (none with one account: the operator's own identity serves it).
    pub fn bindings(&self) -> Vec<serde_json::Value> {
        if self.accounts == 1 {
            return Vec::new();
        }
        (0..self.accounts)
            .map(|a| {
                let account = self.account_id(a);
                json!({
                    "apiVersion": "ecs-operator.dev/v1alpha1",
                    "kind": "AwsAccountBinding",
                    "metadata": {"name": self.namespace(a)},
                    "spec": {
                        "namespaces": [self.namespace(a)],
                        "accountId": account,
                        "roleArn": arn::role_arn(&account, TENANT_ROLE),
                        "regions": REGIONS[..self.regions],
                    }
                })
            })
            .collect()
    }

    /// EcsService `i` with `image`.
    pub fn service(&self, i: usize, image: &str) -> EcsService {
        let p = self.placement(i);
        let mut spec = json!({
            "cluster": p.cluster,
            "region": p.region,
            "desiredCount": 1,
            "launchType": "EC2",
            "taskDefinition": {
                "networkMode": "bridge",
                "containerDefinitions": [container(image)]
            }
        });
        if self.rolled_out(i) {
            spec = json!({
                "cluster": p.cluster,
                "region": p.region,
                "desiredCount": 1,
                "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {
                    "subnets": ["subnet-0bench"], "securityGroups": ["sg-0bench"]
                }},
                "loadBalancers": [{
                    "targetGroupArn": arn::target_group_arn(p.region, &p.account, &format!("svc-{i:05}-blue")),
                    "containerName": "app",
                    "containerPort": 8080
                }],
                "taskDefinition": {
                    "cpu": "256",
                    "memory": "512",
                    "networkMode": "awsvpc",
                    "requiresCompatibilities": ["FARGATE"],
                    "containerDefinitions": [container(image)]
                }
            });
        }
        serde_json::from_value(json!({
            "apiVersion": "ecs-operator.dev/v1alpha1",
            "kind": "EcsService",
            "metadata": {"name": name(i), "namespace": p.namespace},
            "spec": spec,
        }))
        .expect("a valid EcsService")
    }

    /// The ScalingPolicy of service `i`: CPU 70 % and memory 80 % between 1 and 4 tasks.
    pub fn scaling_policy(&self, i: usize) -> ScalingPolicy {
        let p = self.placement(i);
        let policy = |metric: &str, target: f64| {
            json!({
                "policyName": format!("{}-{}", name(i), metric.to_lowercase()),
                "targetValue": target,
                "predefinedMetricSpecification": {"predefinedMetricType": format!("ECSServiceAverage{metric}Utilization")},
            })
        };
        serde_json::from_value(json!({
            "apiVersion": "ecs-operator.dev/v1alpha1",
            "kind": "ScalingPolicy",
            "metadata": {"name": name(i), "namespace": p.namespace},
            "spec": {
                "serviceRef": {"name": name(i)},
                "minCapacity": 1,
                "maxCapacity": 4,
                "targetTrackingPolicies": [policy("CPU", 70.0), policy("Memory", 80.0)],
            }
        }))
        .expect("a valid ScalingPolicy")
    }

    /// The ECS-native BlueGreenRollout of service `i`.
    pub fn rollout(&self, i: usize) -> BlueGreenRollout {
        let p = self.placement(i);
        let r = self.rollout_index(i);
        let lb = load_balancer(self.world_of(i).1, r);
        serde_json::from_value(json!({
            "apiVersion": "ecs-operator.dev/v1alpha1",
            "kind": "BlueGreenRollout",
            "metadata": {"name": name(i), "namespace": p.namespace},
            "spec": {
                "serviceRef": {"name": name(i)},
                "strategy": {"ecsNative": {
                    "strategy": "BLUE_GREEN",
                    "bakeTimeInMinutes": 1,
                    "advancedConfiguration": {
                        "alternateTargetGroupArn": arn::target_group_arn(p.region, &p.account, &format!("svc-{i:05}-green")),
                        "productionListenerRule": arn::listener_rule_arn(p.region, &p.account, &lb, 80, rule_priority(r)),
                        "roleArn": arn::role_arn(&p.account, INFRASTRUCTURE_ROLE),
                    }
                }},
                "autoPromotionEnabled": true,
            }
        }))
        .expect("a valid BlueGreenRollout")
    }
}

/// The name of service `i` (and of its policy and rollout).
pub fn name(i: usize) -> String {
    format!("svc-{i:05}")
}

/// The load balancer of rollout `r` of a region.
fn load_balancer(region: usize, r: usize) -> String {
    format!("bench-lb-{region}-{}", r / RULES_PER_LISTENER)
}

fn rule_priority(r: usize) -> i32 {
    (r % RULES_PER_LISTENER) as i32 + 1
}

fn container(image: &str) -> serde_json::Value {
    json!({"name": "app", "image": image, "cpu": 128, "memory": 256,
           "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]})
}
