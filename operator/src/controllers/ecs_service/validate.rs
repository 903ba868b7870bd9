//! Checks an EcsService beyond what the CRD schema and CEL rules can say, and turns it into a
//! `ValidatedSpec`: everything later steps need, rendered and hashed. No IO.

use crds::common::{
    AdoptionPolicy, CONTENT_HASH_TAG, DeletionPolicy, ManagementPolicy, OWNER_TAG, Tag,
};
use crds::ecs_service::{EcsService, LaunchType};
use crds::task_definition::NetworkMode;

use super::render;
use aws::ecs::{ServiceConfig, TaskDefinitionInput};

/// Default number of old revisions kept.
pub const DEFAULT_REVISION_HISTORY_LIMIT: usize = 5;
/// Largest task definition AWS accepts.
const MAX_TASK_DEFINITION_BYTES: usize = 64 * 1024;

/// An EcsService whose spec passed validation, with its task definition rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSpec {
    /// `<namespace>/<name>`: the owner tag value.
    pub owner: String,
    /// Cluster name or ARN.
    pub cluster: String,
    /// ECS service name.
    pub service_name: String,
    /// Region, when the spec names one.
    pub region: Option<String>,
    /// The normalised task definition, tags (owner, content hash) included.
    pub task_definition: TaskDefinitionInput,
    /// Its content hash.
    pub content_hash: String,
    /// Desired count from the spec (default 1).
    pub desired_count: i32,
    /// Service configuration the spec owns.
    pub config: ServiceConfig,
    /// Service tags: the user's plus the owner tag.
    pub tags: Vec<Tag>,
    /// EcsServices that must be Ready first.
    pub depends_on: Vec<String>,
    /// Old revisions to keep.
    pub revision_history_limit: usize,
    /// Delete or Retain.
    pub deletion_policy: DeletionPolicy,
    /// Manage or ObserveOnly.
    pub management_policy: ManagementPolicy,
    /// Never or Adopt.
    pub adoption_policy: AdoptionPolicy,
}

/// Why a spec cannot be acted on; the message names the field and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// The offending field, as a path in the spec.
    pub field: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ValidationError {
    ValidationError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Validates and renders an EcsService.
pub fn validate(obj: &EcsService) -> Result<ValidatedSpec, ValidationError> {
    let spec = &obj.spec;
    let namespace = obj.metadata.namespace.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let service_name = obj.service_name().to_string();
    if service_name.is_empty()
        || !service_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "spec.serviceName",
            "must be 1-255 letters, digits, hyphens or underscores",
        ));
    }
    let template = &spec.task_definition;
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in template.container_definitions.iter().enumerate() {
        if !names.insert(c.name.as_str()) {
            return Err(invalid(
                format!("spec.taskDefinition.containerDefinitions[{i}].name"),
                format!("container name {:?} is used twice", c.name),
            ));
        }
    }
    if !template
        .container_definitions
        .iter()
        .any(|c| c.essential.unwrap_or(true))
    {
        return Err(invalid(
            "spec.taskDefinition.containerDefinitions",
            "at least one container must be essential",
        ));
    }
    let fargate = spec.launch_type == Some(LaunchType::Fargate)
        || template
            .requires_compatibilities
            .iter()
            .flatten()
            .any(|c| c == "FARGATE")
        || spec
            .capacity_provider_strategy
            .iter()
            .flatten()
            .any(|c| c.capacity_provider.starts_with("FARGATE"));
    if fargate {
        if template.network_mode != Some(NetworkMode::Awsvpc) {
            return Err(invalid(
                "spec.taskDefinition.networkMode",
                "Fargate tasks need networkMode: awsvpc",
            ));
        }
        if template.cpu.is_none() || template.memory.is_none() {
            return Err(invalid(
                "spec.taskDefinition.cpu",
                "Fargate tasks need task-level cpu and memory",
            ));
        }
    }
    if template.network_mode == Some(NetworkMode::Awsvpc) && spec.network_configuration.is_none() {
        return Err(invalid(
            "spec.networkConfiguration",
            "networkMode awsvpc needs networkConfiguration.awsvpcConfiguration with subnets",
        ));
    }
    for (i, lb) in spec.load_balancers.iter().flatten().enumerate() {
        let Some(container) = template
            .container_definitions
            .iter()
            .find(|c| c.name == lb.container_name)
        else {
            return Err(invalid(
                format!("spec.loadBalancers[{i}].containerName"),
                format!(
                    "no container named {:?} in taskDefinition.containerDefinitions",
                    lb.container_name
                ),
            ));
        };
        let exposes = container
            .port_mappings
            .iter()
            .flatten()
            .any(|p| p.container_port == lb.container_port);
        if !exposes {
            return Err(invalid(
                format!("spec.loadBalancers[{i}].containerPort"),
                format!(
                    "container {:?} has no portMapping for port {}",
                    lb.container_name, lb.container_port
                ),
            ));
        }
        if lb.target_group_arn.is_none() && lb.load_balancer_name.is_none() {
            return Err(invalid(
                format!("spec.loadBalancers[{i}]"),
                "set targetGroupArn (or loadBalancerName)",
            ));
        }
    }
    let depends_on = spec.depends_on.clone().unwrap_or_default();
    if depends_on.contains(&name) {
        return Err(invalid(
            "spec.dependsOn",
            "a service cannot depend on itself",
        ));
    }
    let mut tags = spec.tags.clone().unwrap_or_default();
    for (i, t) in tags.iter().enumerate() {
        if t.key.starts_with("aws:") || t.key.starts_with("ecs-operator.dev/") {
            return Err(invalid(
                format!("spec.tags[{i}].key"),
                format!("{:?} is reserved", t.key),
            ));
        }
    }
    let owner = format!("{namespace}/{name}");
    tags.push(Tag {
        key: OWNER_TAG.into(),
        value: owner.clone(),
    });
    tags.sort();

    let family = template
        .family
        .clone()
        .unwrap_or_else(|| service_name.clone());
    let mut task_definition = render::task_definition(&family, template);
    if fargate && task_definition.requires_compatibilities.is_empty() {
        // ECS refuses a Fargate launch of a revision that does not declare it.
        task_definition.requires_compatibilities = vec!["FARGATE".into()];
    }
    let content_hash = render::content_hash(&task_definition);
    task_definition.tags = vec![
        Tag {
            key: CONTENT_HASH_TAG.into(),
            value: content_hash.clone(),
        },
        Tag {
            key: OWNER_TAG.into(),
            value: owner.clone(),
        },
    ];
    let size = serde_json::to_vec(&task_definition)
        .map(|v| v.len())
        .unwrap_or(0);
    if size > MAX_TASK_DEFINITION_BYTES {
        return Err(invalid(
            "spec.taskDefinition",
            format!("is {size} bytes rendered; AWS accepts at most 64 KiB"),
        ));
    }
    Ok(ValidatedSpec {
        owner,
        cluster: spec.cluster.clone(),
        service_name,
        region: spec.region.clone(),
        task_definition,
        content_hash,
        desired_count: spec.desired_count.unwrap_or(1),
        config: render::service_config(spec),
        tags,
        depends_on,
        revision_history_limit: spec
            .revision_history_limit
            .map(|n| n.max(0) as usize)
            .unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT),
        deletion_policy: spec.deletion_policy,
        management_policy: spec.management_policy,
        adoption_policy: spec.adoption_policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(spec: &str) -> EcsService {
        let yaml = format!(
            "apiVersion: ecs-operator.dev/v1alpha1\nkind: EcsService\nmetadata: {{name: auth, namespace: shop}}\nspec:\n{spec}"
        );
        serde_saphyr::from_str(&yaml).expect("fixture parses")
    }

    const BASE: &str = r#"
  cluster: c
  launchType: FARGATE
  networkConfiguration: {awsvpcConfiguration: {subnets: [s-1]}}
  loadBalancers: [{targetGroupArn: tg, containerName: app, containerPort: 8080}]
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions:
      - {name: app, image: "img:1", portMappings: [{containerPort: 8080}]}
"#;

    #[test]
    fn a_good_spec_renders_with_owner_and_hash_tags() {
        let v = validate(&object(BASE)).unwrap();
        assert_eq!(v.owner, "shop/auth");
        assert_eq!(v.service_name, "auth");
        assert_eq!(v.task_definition.family, "auth");
        assert_eq!(v.desired_count, 1);
        assert!(
            v.task_definition
                .tags
                .iter()
                .any(|t| t.key == CONTENT_HASH_TAG && t.value == v.content_hash)
        );
        assert!(v.tags.iter().any(|t| t.key == OWNER_TAG));
    }

    #[test]
    fn bad_specs_name_the_field() {
        let cases = [
            (BASE.replace("containerName: app", "containerName: web"), "spec.loadBalancers[0].containerName"),
            (BASE.replace("containerPort: 8080}]\n  task", "containerPort: 9090}]\n  task"), "spec.loadBalancers[0].containerPort"),
            (BASE.replace("networkMode: awsvpc", "networkMode: bridge"), "spec.taskDefinition.networkMode"),
            (BASE.replace("    cpu: \"256\"\n", ""), "spec.taskDefinition.cpu"),
            (format!("{BASE}  dependsOn: [auth]\n"), "spec.dependsOn"),
            (format!("{BASE}  tags: [{{key: \"aws:x\", value: v}}]\n"), "spec.tags[0].key"),
            (BASE.replace("{name: app, image: \"img:1\", portMappings: [{containerPort: 8080}]}", "{name: app, image: \"img:1\", portMappings: [{containerPort: 8080}]}\n      - {name: app, image: \"img:2\"}"), "spec.taskDefinition.containerDefinitions[1].name"),
        ];
        for (spec, field) in cases {
            let err = validate(&object(&spec)).expect_err(field);
            assert_eq!(err.field, field, "{err}");
        }
    }
}
