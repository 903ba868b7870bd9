//! Every condition and event reason a controller emits is listed in its doc, and every reason a
//! doc lists is still emitted.
//!
//! The reasons are read from the product sources: PascalCase string literals (tests, comments and
//! AWS action names left out), the variants of the rollout machine's `Reason` enum and of the
//! crds' `ReleaseState` (a release's state is its conditions' reason), and `aws::ErrorKind`'s
//! labels. Each controller's doc lists its own in a `## Reasons` table; the reasons of the shared
//! runtime are listed once, in `docs/architecture.md`.

#[allow(dead_code)]
#[path = "architecture/lexer.rs"]
mod lexer;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lexer::{Tok, Token, matching_delims, tokenize};
use regex::Regex;

/// Each controller: its folder under `operator/src/controllers/`, its doc, and how many reasons
/// it emits at least (fewer means the parsing is broken).
const CONTROLLERS: [(&str, &str, usize); 5] = [
    ("ecs_service", "docs/ecs-service-controller.md", 10),
    (
        "blue_green_rollout",
        "docs/blue-green-rollout-controller.md",
        10,
    ),
    ("scaling_policy", "docs/scaling-policy-controller.md", 10),
    ("release_group", "docs/release-group-controller.md", 10),
    (
        "notification_policy",
        "docs/notification-policy-controller.md",
        4,
    ),
];

/// The controllers' shared code: the runtime, and helper modules next to the controllers'.
const CONTROLLERS_DIR: &str = "operator/src/controllers";
const RUNTIME_DIR: &str = "operator/src/controllers/runtime";
/// The account choice every controller makes before its AWS calls: its reasons are shared too.
const ACCOUNTS_DIR: &str = "operator/src/controllers/accounts";
const REFERENCES_DIR: &str = "operator/src/controllers/references";

/// Where the reasons every controller may show are listed.
const SHARED_DOC: &str = "docs/architecture.md";
const SHARED_HEADING: &str = "## Reasons every controller may show";
const HEADING: &str = "## Reasons";

/// PascalCase literals of the product code that are not reasons, by why.
const NOT_REASONS: &[&str] = &[
    // The status of a condition.
    "True",
    "False",
    // Engine steps: shown as a release's `step`, in its message, never as a reason.
    "AllowTraffic",
    "InProgress",
    "AwaitingPromotion",
    // CloudWatch: the dimensions of a step policy's alarm and its default statistic.
    "ClusterName",
    "ServiceName",
    "Average",
    // Rollout phases as metric labels (`Healthy` is a reason too, `Paused` a release state).
    "Progressing",
    "Paused",
    "Degraded",
    // An AWS error code the operator makes up for a step that cannot run yet.
    "PolicyNotFound",
    // GetMetricData result status codes, and type names in Debug impls.
    "Forbidden",
    "InternalError",
    "Conditions",
    "Target",
    // Kind names, as the notification ledger records the objects it follows.
    "BlueGreenRollout",
    "EcsService",
    "ReleaseGroup",
    "ScalingPolicy",
];

/// Product files whose literals are content, not reasons: the notification bodies (field
/// labels, card types, colours) and the reading of the other kinds' status (their reasons are
/// theirs, listed in their docs).
const CONTENT_FILES: &[&str] = &[
    "operator/src/controllers/notification_policy/message.rs",
    "operator/src/controllers/notification_policy/moments.rs",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e-tests crate sits in the workspace root")
        .to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The product `.rs` files in `dir`, with its subfolders when `deep`: no `*_tests.rs`,
/// `tests.rs`, nothing under a `tests/` folder, and none of the `CONTENT_FILES`.
fn product_files(dir: &Path, deep: bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join(dir)).expect("a source folder") {
        let path = dir.join(entry.expect("a folder entry").file_name());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if root().join(&path).is_dir() {
            if deep && name != "tests" {
                files.extend(product_files(&path, deep));
            }
        } else if name.ends_with(".rs")
            && name != "tests.rs"
            && !name.ends_with("_tests.rs")
            && !CONTENT_FILES.contains(&path.to_string_lossy().as_ref())
        {
            files.push(path);
        }
    }
    files
}

/// Whether `t` is the identifier or punctuation `s`.
fn is(t: Option<&Token>, s: &str) -> bool {
    match t.map(|t| &t.tok) {
        Some(Tok::Ident(i)) => i == s,
        Some(Tok::Punct(c)) => s.len() == 1 && s.starts_with(*c),
        Some(Tok::PathSep) => s == "::",
        _ => false,
    }
}

/// Whether the tokens right before `toks[i]` are `before`.
fn preceded_by(toks: &[Token], i: usize, before: &[&str]) -> bool {
    i >= before.len()
        && (before.iter().enumerate()).all(|(k, s)| is(toks.get(i - before.len() + k), s))
}

/// The tokens of a product file, without its `#[cfg(test)]` items.
fn product_tokens(path: &Path) -> Vec<Token> {
    let toks = tokenize(&read(path));
    let close = matching_delims(&toks);
    let cfg_test = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !(0..cfg_test.len()).all(|k| is(toks.get(i + k), cfg_test[k])) {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        // Skip the item (other attributes, `pub(crate)`) up to its `;` or its body's `}`.
        i += cfg_test.len();
        loop {
            match toks[i].tok {
                Tok::Punct(';') => break,
                Tok::Punct('{') => break i = close[i].expect("balanced"),
                Tok::Punct('[' | '(') => i = close[i].expect("balanced") + 1,
                _ => i += 1,
            }
        }
        i += 1;
    }
    out
}

/// The PascalCase string literals of product files that may be reasons: not in `NOT_REASONS`,
/// and not naming an AWS action (the arms of a step's `fn name(&self)`, `StepError::of("…")`,
/// `step: "…"`).
fn literals(files: &[PathBuf]) -> BTreeSet<String> {
    let pascal = Regex::new(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$").unwrap();
    let mut out = BTreeSet::new();
    for file in files {
        let toks = product_tokens(file);
        let close = matching_delims(&toks);
        let mut i = 0;
        while i < toks.len() {
            if is(toks.get(i), "fn") && is(toks.get(i + 1), "name") && is(toks.get(i + 4), "self") {
                let body = (i..toks.len()).find(|&j| is(toks.get(j), "{")).unwrap();
                i = close[body].expect("balanced") + 1;
                continue;
            }
            if let Tok::Lit(s) = &toks[i].tok
                && pascal.is_match(s)
                && !NOT_REASONS.contains(&s.as_str())
                && !preceded_by(&toks, i, &["StepError", "::", "of", "("])
                && !preceded_by(&toks, i, &["step", ":"])
            {
                out.insert(s.clone());
            }
            i += 1;
        }
    }
    out
}

/// The variant names of `enum name` in `file` (field-less variants, one a line).
fn variants(file: &str, name: &str) -> BTreeSet<String> {
    let text = read(Path::new(file));
    let body = Regex::new(&format!(r"(?s)\benum {name} \{{(.*?)\n\}}")).unwrap();
    let body = body
        .captures(&text)
        .unwrap_or_else(|| panic!("enum {name} in {file}"));
    let variant = Regex::new(r"(?m)^\s+([A-Z][A-Za-z0-9]*),$").unwrap();
    (variant.captures_iter(&body[1]))
        .map(|c| c[1].to_owned())
        .collect()
}

/// What the shared runtime shows for every controller: its reason literals and the labels of
/// `aws::ErrorKind` (the reason when AWS refuses a step, and of the event when retries start).
fn runtime_reasons() -> BTreeSet<String> {
    let labels = Regex::new(r#"ErrorKind::\w+ => "(\w+)""#).unwrap();
    let error_rs = read(Path::new("aws/src/error.rs"));
    let mut out = literals(&product_files(Path::new(RUNTIME_DIR), true));
    out.extend(literals(&product_files(Path::new(ACCOUNTS_DIR), true)));
    out.extend(literals(&product_files(Path::new(REFERENCES_DIR), true)));
    out.extend(labels.captures_iter(&error_rs).map(|c| c[1].to_owned()));
    out
}

/// The reason literals of the modules next to the controllers' (e.g. `ownership.rs`), which
/// controllers call for some of their reasons.
fn helper_reasons() -> BTreeSet<String> {
    literals(&product_files(Path::new(CONTROLLERS_DIR), false))
}

/// The reasons of one controller's own code (without the runtime's and the helpers').
fn controller_reasons(module: &str) -> BTreeSet<String> {
    let mut out = literals(&product_files(
        &Path::new(CONTROLLERS_DIR).join(module),
        true,
    ));
    if module == "blue_green_rollout" {
        let machine = "operator/src/controllers/blue_green_rollout/machine/transition.rs";
        out.extend(variants(machine, "Reason"));
        out.extend(variants("crds/src/rollout_status.rs", "ReleaseState"));
    }
    out
}

/// The reasons the `| reason | where | meaning |` table under `heading` lists.
fn documented(doc: &str, heading: &str) -> BTreeSet<String> {
    let text = read(Path::new(doc));
    let start = text
        .lines()
        .position(|l| l.trim_end() == heading)
        .unwrap_or_else(|| panic!("{doc} has no `{heading}` section"));
    let row = Regex::new(r"^\| `([A-Za-z0-9]+)` \|").unwrap();
    (text.lines().skip(start + 1))
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| row.captures(l).map(|c| c[1].to_owned()))
        .collect()
}

#[test]
fn every_reason_the_code_emits_is_documented() {
    let shared = documented(SHARED_DOC, SHARED_HEADING);
    let runtime = runtime_reasons();
    let mut missing: Vec<String> = (runtime.difference(&shared))
        .map(|r| format!("{SHARED_DOC}: `{r}` (runtime)"))
        .collect();
    for (module, doc, at_least) in CONTROLLERS {
        let own = controller_reasons(module);
        assert!(
            own.len() >= at_least,
            "{module}: only {own:?}; is the parsing broken?"
        );
        let listed = documented(doc, HEADING);
        missing.extend(
            (own.iter())
                .filter(|r| !listed.contains(*r) && !shared.contains(*r))
                .map(|r| format!("{doc}: `{r}`")),
        );
    }
    // A helper's reasons are listed by the controllers that use them: at least by one.
    let anywhere: BTreeSet<String> = (CONTROLLERS.iter())
        .flat_map(|(_, doc, _)| documented(doc, HEADING))
        .chain(shared.iter().cloned())
        .collect();
    missing.extend(
        (helper_reasons().difference(&anywhere))
            .map(|r| format!("the doc of a controller that uses it: `{r}` (helper)")),
    );
    assert!(
        missing.is_empty(),
        "reasons the controllers emit that no `{HEADING}` table lists:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn every_documented_reason_is_still_emitted() {
    let runtime = runtime_reasons();
    let helpers = helper_reasons();
    let mut dead: Vec<String> = (documented(SHARED_DOC, SHARED_HEADING).difference(&runtime))
        .map(|r| format!("{SHARED_DOC}: `{r}`"))
        .collect();
    for (module, doc, _) in CONTROLLERS {
        let own = controller_reasons(module);
        dead.extend(
            (documented(doc, HEADING).iter())
                .filter(|r| !own.contains(*r) && !runtime.contains(*r) && !helpers.contains(*r))
                .map(|r| format!("{doc}: `{r}`")),
        );
    }
    assert!(
        dead.is_empty(),
        "reasons a `{HEADING}` table lists that the code no longer emits:\n  {}",
        dead.join("\n  ")
    );
}
