//! Reading the AppSpec of an ECS CodeDeploy deployment (YAML or JSON): the one
//! `AWS::ECS::Service` target with its task definition and load balancer container.

use serde_json::Value;

/// What the simulator needs from an AppSpec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppSpec {
    /// Resources[0].TargetService.Properties.TaskDefinition.
    pub task_definition: String,
    /// LoadBalancerInfo.ContainerName.
    pub container_name: String,
    /// LoadBalancerInfo.ContainerPort.
    pub container_port: i64,
}

/// Parses an AppSpec; the error says what is missing.
pub(crate) fn parse(content: &str) -> Result<AppSpec, String> {
    let doc: Value =
        serde_saphyr::from_str(content).map_err(|e| format!("The AppSpec does not parse: {e}"))?;
    let target = doc["Resources"]
        .as_array()
        .and_then(|r| r.iter().find_map(|res| res.get("TargetService")))
        .ok_or("The AppSpec has no Resources[].TargetService.")?;
    if target["Type"].as_str() != Some("AWS::ECS::Service") {
        return Err("The AppSpec's TargetService Type must be AWS::ECS::Service.".to_owned());
    }
    let props = &target["Properties"];
    let task_definition = props["TaskDefinition"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or("The AppSpec has no TaskDefinition.")?
        .to_owned();
    let lb = &props["LoadBalancerInfo"];
    let container_name = lb["ContainerName"]
        .as_str()
        .ok_or("The AppSpec has no LoadBalancerInfo.ContainerName.")?
        .to_owned();
    let container_port = lb["ContainerPort"]
        .as_i64()
        .or_else(|| lb["ContainerPort"].as_str().and_then(|p| p.parse().ok()))
        .ok_or("The AppSpec has no LoadBalancerInfo.ContainerPort.")?;
    Ok(AppSpec {
        task_definition,
        container_name,
        container_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_appspecs_parse() {
        let yaml = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: arn:td:1\n        LoadBalancerInfo:\n          ContainerName: app\n          ContainerPort: 8080\n";
        let spec = parse(yaml).unwrap();
        assert_eq!(spec.task_definition, "arn:td:1");
        assert_eq!(
            (spec.container_name.as_str(), spec.container_port),
            ("app", 8080)
        );
        let json = r#"{"version":0.0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"arn:td:2","LoadBalancerInfo":{"ContainerName":"app","ContainerPort":"80"}}}}]}"#;
        assert_eq!(parse(json).unwrap().container_port, 80);
        assert!(parse("version: 0.0\nResources: []\n").is_err());
    }
}
