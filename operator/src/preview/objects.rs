//! One object's preview per kind: the object as it would be once applied (the manifest's spec
//! over the live object's metadata and status, so the plan sees what the controller would),
//! then the controller's own validate → account → verify → observe → plan.

use std::sync::Arc;

use crds::common::ManagementPolicy;
use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::model::{ObjectPreview, PreviewRequest, PreviewResponse};
use super::text_diff;
use crate::controllers::Context;
use crate::controllers::accounts;
use crate::controllers::blue_green_rollout::{self as rollout, record};
use crate::controllers::ecs_service::{
    observe as service_observe, plan as service_plan, validate as service_validate,
};
use crate::controllers::references::{self, Reference, collect};
use crate::controllers::runtime::ManagedKind;
use crate::controllers::scaling_policy::{self as scaling, step::Step as ScalingStep};
use aws::accounts::AwsClients;

/// The preview of one manifest object, `None` for kinds that are not the operator's.
async fn preview_object(
    ctx: &Context,
    value: &Value,
    namespace: &str,
    batch: &[Value],
) -> Option<ObjectPreview> {
    let kind = value["kind"].as_str()?.to_string();
    if value["apiVersion"]
        .as_str()
        .and_then(|v| v.split('/').next())
        != Some(crds::common::GROUP)
    {
        return None;
    }
    let mut out = ObjectPreview {
        kind: kind.clone(),
        namespace: value["metadata"]["namespace"]
            .as_str()
            .unwrap_or(namespace)
            .to_string(),
        name: value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        ..ObjectPreview::default()
    };
    let result = match kind.as_str() {
        "EcsService" => match as_applied::<EcsService>(ctx, value, &out.namespace) {
            Ok(obj) => service(ctx, &obj, &mut out).await,
            Err(e) => Err(e),
        },
        "BlueGreenRollout" => match as_applied::<BlueGreenRollout>(ctx, value, &out.namespace) {
            Ok(obj) => rollout_preview(ctx, &obj, batch, &mut out).await,
            Err(e) => Err(e),
        },
        "ScalingPolicy" => match as_applied::<ScalingPolicy>(ctx, value, &out.namespace) {
            Ok(obj) => scaling_preview(ctx, &obj, &mut out).await,
            Err(e) => Err(e),
        },
        _ => return None,
    };
    if let Err(error) = result {
        out.error = Some(error);
    }
    Some(out)
}

/// The manifest's object as the controller would see it once applied: the live object's
/// metadata (uid, generation, finalizers, annotations merged) and status, its spec from the
/// manifest, and the generation one higher when the spec changes.
fn as_applied<K>(ctx: &Context, value: &Value, namespace: &str) -> Result<K, String>
where
    K: ManagedKind + DeserializeOwned,
{
    let mut obj: K = serde_json::from_value(value.clone())
        .map_err(|e| format!("not a valid {}: {e}", K::kind(&())))?;
    obj.meta_mut().namespace = Some(namespace.to_string());
    let name = obj.meta().name.clone().unwrap_or_default();
    let live = live_object::<K>(ctx, namespace, &name);
    let Some(live) = live else {
        obj.meta_mut().generation = Some(1);
        return Ok(obj);
    };
    let spec_of = |o: &K| serde_json::to_value(o).ok().map(|v| v["spec"].clone());
    let changed = spec_of(&obj) != spec_of(&live);
    let mut merged = live.clone();
    let annotations = obj.meta().annotations.clone().unwrap_or_default();
    merged
        .meta_mut()
        .annotations
        .get_or_insert_with(Default::default)
        .extend(annotations);
    if changed {
        merged.meta_mut().generation = live.meta().generation.map(|g| g + 1);
    }
    let mut as_json = serde_json::to_value(&merged).map_err(|e| e.to_string())?;
    as_json["spec"] = serde_json::to_value(&obj).map_err(|e| e.to_string())?["spec"].clone();
    serde_json::from_value(as_json).map_err(|e| e.to_string())
}

/// The live object from the operator's caches.
fn live_object<K: ManagedKind>(ctx: &Context, namespace: &str, name: &str) -> Option<K> {
    let as_k = |v: Option<Value>| v.and_then(|v| serde_json::from_value::<K>(v).ok());
    let value = match K::kind(&()).as_ref() {
        "EcsService" => ctx
            .stores
            .service(namespace, name)
            .and_then(|o| serde_json::to_value(&*o).ok()),
        "BlueGreenRollout" => ctx
            .stores
            .rollouts
            .state()
            .into_iter()
            .find(|r| {
                r.metadata.namespace.as_deref() == Some(namespace)
                    && r.metadata.name.as_deref() == Some(name)
            })
            .and_then(|o| serde_json::to_value(&*o).ok()),
        "ScalingPolicy" => ctx
            .stores
            .scaling
            .state()
            .into_iter()
            .find(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && p.metadata.name.as_deref() == Some(name)
            })
            .and_then(|o| serde_json::to_value(&*o).ok()),
        _ => None,
    };
    as_k(value)
}

/// The clients of the account and region the object acts in, as its controller chooses them.
async fn connect<K: ManagedKind>(
    ctx: &Context,
    obj: &K,
    region: Option<&str>,
    out: &mut ObjectPreview,
) -> Result<Arc<AwsClients>, String> {
    let (target, _) = accounts::decide(ctx, obj, region).map_err(|r| r.message)?;
    out.account = Some(target.account().to_string());
    out.region = Some(target.region.clone());
    ctx.aws
        .connect(&target.identity, &target.region)
        .await
        .map_err(|e| e.to_string())
}

async fn service(ctx: &Context, obj: &EcsService, out: &mut ObjectPreview) -> Result<(), String> {
    let spec = service_validate::validate(obj).map_err(|e| format!("invalid spec: {e}"))?;
    let aws = connect(ctx, obj, spec.region.as_deref(), out).await?;
    if spec.management_policy == ManagementPolicy::Manage {
        verify_into(ctx, &collect::of_service(obj, &aws.region), &aws, out).await?;
    }
    let prev = obj.status.clone().unwrap_or_default();
    let observed = service_observe::observe(obj, &spec, &aws, ctx)
        .await
        .map_err(|e| e.to_string())?;
    let plan = service_plan::plan(&spec, &prev, &observed);
    out.calls = crate::controllers::ecs_service::calls::calls(&spec, &prev, &observed, &plan);
    if observed.desired_revision.is_none() {
        let live = match observed
            .service
            .as_ref()
            .and_then(|s| s.task_definition.clone())
        {
            Some(arn) => Some(live_definition(ctx, &aws, &arn).await?),
            None => None,
        };
        let render = |td: &aws::ecs::TaskDefinitionInput| {
            let mut value = serde_json::to_value(td).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.remove("tags");
            }
            serde_json::to_string_pretty(&value).unwrap_or_default()
        };
        let old = live.as_ref().map(render).unwrap_or_default();
        out.task_definition_diff = text_diff::diff(&old, &render(&spec.task_definition));
    }
    Ok(())
}

/// A revision's content: from the cache, else described once.
async fn live_definition(
    ctx: &Context,
    aws: &AwsClients,
    arn: &str,
) -> Result<aws::ecs::TaskDefinitionInput, String> {
    if let Some(td) = ctx.task_definitions.get(arn) {
        return Ok(td.definition);
    }
    let td = aws
        .ecs
        .describe_task_definition(arn)
        .await
        .map_err(|e| e.to_string())?;
    ctx.task_definitions.put(td.clone());
    Ok(td.definition)
}

async fn rollout_preview(
    ctx: &Context,
    obj: &BlueGreenRollout,
    batch: &[Value],
    out: &mut ObjectPreview,
) -> Result<(), String> {
    let namespace = out.namespace.clone();
    let service_name = &obj.spec.service_ref.name;
    // The EcsService as it would be: from the same manifests, else the live one.
    let in_batch = batch.iter().find(|v| {
        v["kind"] == "EcsService" && v["metadata"]["name"].as_str() == Some(service_name)
    });
    let service = match in_batch {
        Some(v) => Some(as_applied::<EcsService>(ctx, v, &namespace)?),
        None => ctx
            .stores
            .service(&namespace, service_name)
            .map(|s| (*s).clone()),
    };
    let others: Vec<_> = ctx
        .stores
        .rollouts_for(&namespace, service_name)
        .into_iter()
        .filter(|r| r.metadata.name != obj.metadata.name)
        .chain(std::iter::once(Arc::new(obj.clone())))
        .collect();
    let spec = match rollout::validate::validate(obj, service.as_ref(), &others) {
        Ok(spec) => spec,
        Err(invalid) if invalid.waits => {
            out.not_checked.push(format!("waits: {}", invalid.message));
            return Ok(());
        }
        Err(invalid) => return Err(format!("{}: {}", invalid.reason, invalid.message)),
    };
    let aws = connect(ctx, obj, spec.service.region.as_deref(), out).await?;
    let refs = collect::of_rollout(obj, &spec.service.target_group_arn);
    verify_into(ctx, &refs, &aws, out).await?;
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let now = record::to_status_time(ctx.clock.now());
    let memory = record::memory(&prev, generation);
    let known = record::known(&spec, &prev, generation);
    let observed = rollout::observe::observe(&spec, &memory, known, &aws, now)
        .await
        .map_err(|e| e.to_string())?;
    let desired = rollout::desired(service.as_ref());
    let verbs = record::pending_verbs(kube::ResourceExt::annotations(obj), &prev);
    let plan = rollout::plan::plan(&spec, &memory, &observed, desired, verbs, now);
    if let Some((reason, message)) = &plan.stalled {
        return Err(format!("{reason}: {message}"));
    }
    out.calls = plan.step.iter().map(rollout::plan::Step::summary).collect();
    Ok(())
}

async fn scaling_preview(
    ctx: &Context,
    obj: &ScalingPolicy,
    out: &mut ObjectPreview,
) -> Result<(), String> {
    let spec = scaling::validate::validate(obj).map_err(|e| format!("invalid spec: {e}"))?;
    let region = scaling::observe::service_target(ctx, &out.namespace, &spec.service_ref)
        .and_then(|t| t.region);
    let aws = connect(ctx, obj, region.as_deref(), out).await?;
    let prev = obj.status.clone().unwrap_or_default();
    let alarm_names = scaling::alarms::candidates(&spec, &prev);
    let observed = scaling::observe::observe(obj, &alarm_names, &aws, ctx)
        .await
        .map_err(|e| e.to_string())?;
    let plan = scaling::plan::plan(&spec, &prev, &observed);
    out.calls = plan.steps.iter().map(ScalingStep::summary).collect();
    Ok(())
}

/// Previews every object of `request`.
pub async fn preview(ctx: &Context, request: &PreviewRequest) -> PreviewResponse {
    let mut objects = Vec::new();
    for value in &request.objects {
        if let Some(preview) =
            preview_object(ctx, value, &request.namespace, &request.objects).await
        {
            objects.push(preview);
        }
    }
    PreviewResponse { objects }
}

/// Verifies `refs` into `out` (never remembered as passed: nothing is applied).
async fn verify_into(
    ctx: &Context,
    refs: &[Reference],
    aws: &Arc<AwsClients>,
    out: &mut ObjectPreview,
) -> Result<(), String> {
    let verification = references::check::verify(refs, aws, &ctx.references, ctx.clock.now())
        .await
        .map_err(|e| e.to_string())?;
    out.findings = verification
        .findings
        .iter()
        .map(ToString::to_string)
        .collect();
    out.not_checked = verification.skipped;
    out.references_checked = verification.checked;
    Ok(())
}
