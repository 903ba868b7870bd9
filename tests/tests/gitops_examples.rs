//! The GitOps and release files: the Argo CD component builds with kubectl's kustomize and carries
//! the Lua files unchanged, the Argo CD Applications and Flux objects point at what exists in
//! this repository and chart, the CI workflow matches GitHub's schema, the Dockerfile builds a
//! static non-root image, and every YAML file here passes yamllint.

use std::process::Command;

use e2e_tests::chart::{chart_dir, parse_documents};
use e2e_tests::sandbox::workspace_root;
use e2e_tests::tools::{helm, installed, kubectl, run_ok, write_file};
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path))
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn docs(path: &str) -> Vec<Value> {
    parse_documents(&read(path))
}

fn chart_field(field: &str) -> String {
    read("charts/ecs-operator/Chart.yaml")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}: ")))
        .unwrap_or_else(|| panic!("Chart.yaml has no {field}"))
        .trim_matches('"')
        .to_owned()
}

#[test]
fn the_argocd_component_merges_the_lua_files_into_argocd_cm() {
    // A stand-in for Argo CD's install: its argocd-cm, namespace set by the kustomization.
    let dir = tempfile::Builder::new()
        .prefix("argocd-kustomize")
        .tempdir_in(workspace_root().join("target"))
        .expect("tempdir");
    write_file(
        dir.path(),
        "argocd-cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata: {url: https://argocd.example.com}\n",
    );
    // kustomize loads components by relative path only.
    write_file(
        dir.path(),
        "kustomization.yaml",
        "namespace: argocd\nresources: [argocd-cm.yaml]\ncomponents: [../../examples/argocd/health]\n",
    );
    let out = run_ok(Command::new(kubectl()).arg("kustomize").arg(dir.path()));
    let built = parse_documents(&out);
    assert_eq!(built.len(), 1, "{out}");
    let cm = &built[0];
    assert_eq!(cm["metadata"]["name"], "argocd-cm", "no hash suffix");
    assert_eq!(cm["metadata"]["namespace"], "argocd");
    assert_eq!(
        cm["data"]["url"], "https://argocd.example.com",
        "merged, not replaced"
    );
    let base = "examples/argocd/health/ecs-operator.dev";
    for kind in ["EcsService", "BlueGreenRollout", "ScalingPolicy"] {
        let key = format!("resource.customizations.health.ecs-operator.dev_{kind}");
        assert_eq!(
            cm["data"][&key].as_str(),
            Some(read(&format!("{base}/{kind}/health.lua")).as_str()),
            "{key}"
        );
    }
    let key = "resource.customizations.actions.ecs-operator.dev_BlueGreenRollout";
    assert_eq!(
        cm["data"][key].as_str(),
        Some(read(&format!("{base}/BlueGreenRollout/actions.yaml")).as_str())
    );
}

#[test]
fn the_argocd_applications_point_at_the_chart_and_the_examples() {
    let operator = &docs("examples/argocd/ecs-operator.yaml")[0];
    assert_eq!(operator["kind"], "Application");
    let source = &operator["spec"]["source"];
    assert_eq!(source["chart"], chart_field("name"));
    assert_eq!(source["targetRevision"], chart_field("version"));
    assert_eq!(
        operator["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "-1"
    );
    // Values the Application sets exist in the chart (the schema forbids unknown keys).
    let values = serde_json::to_string(&source["helm"]["valuesObject"]).expect("json");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_file(dir.path(), "values.json", &values);
    run_ok(
        Command::new(helm())
            .args(["template", "x"])
            .arg(chart_dir())
            .arg("-f")
            .arg(file),
    );
    let app = &docs("examples/argocd/event-booking.yaml")[0];
    let path = app["spec"]["source"]["path"].as_str().expect("path");
    assert!(workspace_root().join(path).is_dir(), "{path}");
    let sync_options = app["spec"]["syncPolicy"]["syncOptions"].to_string();
    assert!(sync_options.contains("SkipDryRunOnMissingResource=true"));
}

#[test]
fn the_flux_objects_point_at_the_chart_and_the_examples() {
    let sync = docs("examples/flux/sync.yaml");
    let kustomizations: Vec<&Value> = sync
        .iter()
        .filter(|d| d["kind"] == "Kustomization")
        .collect();
    assert_eq!(kustomizations.len(), 2);
    for k in &kustomizations {
        let path = k["spec"]["path"].as_str().expect("path");
        assert!(workspace_root().join(path).is_dir(), "{path}");
        assert_eq!(k["spec"]["wait"], true, "Flux waits for kstatus Ready");
    }
    let apps = kustomizations
        .iter()
        .find(|k| k["metadata"]["name"] == "event-booking")
        .expect("event-booking");
    assert_eq!(apps["spec"]["dependsOn"][0]["name"], "ecs-operator");
    let out = run_ok(
        Command::new(kubectl())
            .arg("kustomize")
            .arg(workspace_root().join("examples/flux/ecs-operator")),
    );
    let built = parse_documents(&out);
    let repo = built
        .iter()
        .find(|d| d["kind"] == "OCIRepository")
        .expect("OCIRepository");
    let url = repo["spec"]["url"].as_str().expect("url");
    assert!(url.ends_with(&format!("/{}", chart_field("name"))), "{url}");
    let release = built
        .iter()
        .find(|d| d["kind"] == "HelmRelease")
        .expect("HelmRelease");
    assert_eq!(
        release["spec"]["chartRef"]["name"],
        repo["metadata"]["name"]
    );
    let ns = built
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .expect("Namespace");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
}

#[test]
fn the_ci_workflow_matches_the_github_schema_and_runs_the_test_command() {
    let workflow = workspace_root().join(".github/workflows/ci.yml");
    run_ok(
        Command::new(installed("check-jsonschema"))
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(&workflow),
    );
    let text = read(".github/workflows/ci.yml");
    for needed in [
        "run: .ci/run",
        "scripts/generate-crds",
        "git diff --exit-code",
        "helm lint --strict",
        "docker/build-push-action",
        "\"$helm\" push",
        "startsWith(github.ref, 'refs/tags/v')",
    ] {
        assert!(text.contains(needed), "ci.yml lacks {needed}");
    }
}

#[test]
fn the_dockerfile_builds_a_static_binary_onto_distroless_as_non_root() {
    let text = read("Dockerfile");
    let stages: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    assert!(
        stages[1].contains("gcr.io/distroless/static"),
        "{}",
        stages[1]
    );
    assert!(text.contains("unknown-linux-musl"));
    assert!(text.contains("--locked"));
    assert!(text.contains("USER 65532:65532"));
    assert!(
        text.contains("readelf -l"),
        "the build checks the binary is static"
    );
    // What the image's include_str! needs is in the build context.
    let ignore = read(".dockerignore");
    assert!(ignore.contains("!examples/aws-state.yaml"));
    // The chart's pod security context runs the image's user.
    let values = read("charts/ecs-operator/values.yaml");
    assert!(values.contains("runAsUser: 65532"));
}

#[test]
fn yaml_files_pass_yamllint() {
    let root = workspace_root();
    run_ok(
        Command::new(installed("yamllint"))
            .arg("--strict")
            .args([
                "-d",
                "{extends: default, rules: {line-length: {max: 130}, \
                 truthy: {check-keys: false}, document-start: disable}}",
            ])
            .args([
                ".github/workflows",
                "examples/argocd",
                "examples/flux",
                "charts/ecs-operator/values.yaml",
                "charts/ecs-operator/Chart.yaml",
                "charts/ecs-operator/ci",
            ])
            .current_dir(&root),
    );
}
