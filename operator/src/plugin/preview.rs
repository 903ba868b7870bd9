//! `kubectl ecs diff -f FILE|DIR|-` and `kubectl ecs verify -f …`: reads the manifests (YAML or
//! JSON, several documents per file, `-` for stdin so rendered Kustomize or Helm output can be
//! piped in), sends the operator's kinds to the operator's preview endpoint, and prints what
//! the operator would do (diff) or which references do not resolve (verify). Exit codes follow
//! `diff`: 0 nothing, 1 changes (verify: broken references), 2 error.

use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::preview::server::PATH;
use crate::preview::{
    ObjectPreview, PreviewRequest, PreviewResponse, diff_exit_code, verify_exit_code,
};

/// Exit code of a preview that could not run.
pub const EXIT_PREVIEW_ERROR: i32 = 2;

/// Which answer to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The calls, the task definition diff and broken references.
    Diff,
    /// Only the references.
    Verify,
}

/// Runs `diff` or `verify`; the exit code.
pub async fn run(mode: Mode, files: &[String], namespace: &str, operator_url: &str) -> i32 {
    let result = async {
        let objects = read_all(files)?;
        let request = PreviewRequest {
            namespace: namespace.to_string(),
            objects,
        };
        let response = send(operator_url, &request).await?;
        print!("{}", render(mode, &response));
        anyhow::Ok(match mode {
            Mode::Diff => diff_exit_code(&response),
            Mode::Verify => verify_exit_code(&response),
        })
    }
    .await;
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        EXIT_PREVIEW_ERROR
    })
}

/// Every document of every file (`-` is stdin; a directory's `*.yaml`, `*.yml` and `*.json`
/// files, in name order).
pub fn read_all(files: &[String]) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for file in files {
        if file == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            out.extend(documents(&text, "stdin")?);
            continue;
        }
        let path = Path::new(file);
        if path.is_dir() {
            let mut paths: Vec<_> = std::fs::read_dir(path)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "json")
                    )
                })
                .collect();
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p)?;
                out.extend(documents(&text, &p.display().to_string())?);
            }
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
            out.extend(documents(&text, file)?);
        }
    }
    Ok(out)
}

/// The non-empty documents of a YAML (or JSON) text; a `List` is unpacked.
fn documents(text: &str, source: &str) -> anyhow::Result<Vec<Value>> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    let mut out = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        match doc["items"].as_array() {
            Some(items) if doc["kind"] == "List" => out.extend(items.iter().cloned()),
            _ => out.push(doc),
        }
    }
    Ok(out)
}

async fn send(operator_url: &str, request: &PreviewRequest) -> anyhow::Result<PreviewResponse> {
    let url = format!("{}{PATH}", operator_url.trim_end_matches('/'));
    let body = serde_json::to_vec(request)?;
    let http = hyper::Request::post(&url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let answer = client.request(http).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the operator's preview endpoint at {url}: {e} (forward it with `kubectl port-forward -n ecs-operator deploy/ecs-operator 8082`, or pass --operator-url)"
        )
    })?;
    let status = answer.status();
    let bytes = answer.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        anyhow::bail!(
            "the operator answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// The text printed for a response.
pub fn render(mode: Mode, response: &PreviewResponse) -> String {
    let mut out = String::new();
    if response.objects.is_empty() {
        out.push_str("no EcsService, BlueGreenRollout or ScalingPolicy in the manifests\n");
    }
    for o in &response.objects {
        out.push_str(&heading(o));
        if let Some(error) = &o.error {
            out.push_str(&format!("  error: {error}\n"));
            continue;
        }
        for finding in &o.findings {
            out.push_str(&format!("  invalid reference: {finding}\n"));
        }
        for skipped in &o.not_checked {
            out.push_str(&format!("  not checked: {skipped}\n"));
        }
        match mode {
            Mode::Verify => {
                if o.findings.is_empty() {
                    out.push_str(&format!("  {} references resolve\n", o.references_checked));
                }
            }
            Mode::Diff => {
                if o.calls.is_empty() {
                    out.push_str("  no change\n");
                }
                for call in &o.calls {
                    out.push_str(&format!("  would call {call}\n"));
                }
                if let Some(diff) = &o.task_definition_diff {
                    out.push_str("  task definition (live revision → spec):\n");
                    for line in diff.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
    }
    out
}

fn heading(o: &ObjectPreview) -> String {
    let place = match (&o.account, &o.region) {
        (Some(account), Some(region)) => format!(" (account {account}, {region})"),
        _ => String::new(),
    };
    format!("{} {}/{}{place}\n", o.kind, o.namespace, o.name)
}
