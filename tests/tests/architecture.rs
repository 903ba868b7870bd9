//! Architecture rules for the whole workspace, checked on the tracked sources: no Rust file over
//! 600 lines, no import cycles between the product modules of any crate, and no references to
//! documents that live outside this repository.

// The helpers live next to this file; a directory of their own keeps cargo from taking them for
// test targets.
#[path = "architecture/lexer.rs"]
mod lexer;
#[path = "architecture/module_graph.rs"]
mod module_graph;
#[path = "architecture/rust_source.rs"]
mod rust_source;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use module_graph::{ModPath, ModuleTree, cycle_groups, display, example_cycle};

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e-tests crate sits in the workspace root")
        .to_owned()
}

/// `git ls-files` in the workspace root, optionally limited to a pathspec.
fn tracked_files(pathspec: Option<&str>) -> Vec<PathBuf> {
    let mut git = Command::new("git");
    git.arg("-C").arg(workspace_root()).args(["ls-files", "-z"]);
    if let Some(spec) = pathspec {
        git.args(["--", spec]);
    }
    let out = git.output().expect("git runs");
    assert!(
        out.status.success(),
        "git ls-files failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("tracked paths are UTF-8")
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Reads a tracked file; `None` if it was deleted from the work tree but not yet from the index.
fn read_tracked(path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(workspace_root().join(path)) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("reading {}: {e}", path.display()),
    }
}

/// The `members` of the root Cargo.toml's `[workspace]`.
fn workspace_members() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("root Cargo.toml");
    let start = manifest
        .lines()
        .position(|l| l.trim_start().starts_with("members"))
        .expect("the root Cargo.toml lists workspace members");
    let list: String = manifest.lines().skip(start).collect::<Vec<_>>().join("\n");
    let list = &list[list.find('[').expect("members = [") + 1..];
    let list = &list[..list.find(']').expect("members = [..]")];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// The crate roots of a package: the library, the default binary, and `src/bin/*`.
fn crate_roots(src: &Path) -> Vec<(String, PathBuf)> {
    let mut roots: Vec<(String, PathBuf)> = ["lib.rs", "main.rs"]
        .into_iter()
        .map(|f| (format!("src/{f}"), src.join(f)))
        .collect();
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let root = if path.is_dir() {
                path.join("main.rs")
            } else {
                path
            };
            if root.extension().is_some_and(|e| e == "rs") {
                let label = root.strip_prefix(src).unwrap_or(&root).display();
                roots.push((format!("src/{label}"), root));
            }
        }
    }
    roots.retain(|(_, path)| path.is_file());
    roots.sort();
    roots
}

#[test]
fn no_rust_file_over_600_lines() {
    const MAX_LINES: usize = 600;
    let mut offenders: Vec<(usize, PathBuf)> = tracked_files(Some("*.rs"))
        .into_iter()
        .filter_map(|path| {
            let lines = String::from_utf8_lossy(&read_tracked(&path)?)
                .lines()
                .count();
            (lines > MAX_LINES).then_some((lines, path))
        })
        .collect();
    offenders.sort_by(|a, b| b.cmp(a));
    for (lines, path) in &offenders {
        println!("{lines:>6} lines  {}", path.display());
    }
    assert!(
        offenders.is_empty(),
        "{} Rust file(s) have more than {MAX_LINES} lines (listed above): split them by concern",
        offenders.len()
    );
}

#[test]
fn no_module_import_cycles() {
    let root = workspace_root();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let relative = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    let tracked: Vec<PathBuf> = tracked_files(Some("*.rs"));
    let (mut report, mut cycles, mut problems) = (String::new(), 0, Vec::new());
    for member in workspace_members() {
        let src = root.join(&member).join("src");
        let mut reached = BTreeSet::new();
        for (label, root_file) in crate_roots(&src) {
            let tree = ModuleTree::load(&root_file, &src);
            problems.extend(tree.problems.iter().cloned());
            reached.extend(tree.files().map(|f| canonical(f)));
            let edges = tree.edges();
            let nodes: Vec<ModPath> = tree.modules.keys().cloned().collect();
            let groups = cycle_groups(&nodes, &edges);
            cycles += groups.len();
            let (n, e, g) = (nodes.len(), edges.len(), groups.len());
            writeln!(
                report,
                "{member} ({label}): {n} modules, {e} edges, {g} cycle(s)"
            )
            .unwrap();
            for group in &groups {
                let names: Vec<String> = group.iter().map(|m| display(m)).collect();
                writeln!(
                    report,
                    "  cycle among {} modules: {}",
                    group.len(),
                    names.join(", ")
                )
                .unwrap();
                let example = example_cycle(group, &edges);
                let mut path: Vec<String> = example.iter().map(|e| display(&e.from)).collect();
                path.push(display(&group[0]));
                writeln!(report, "    for example: {}", path.join(" → ")).unwrap();
                writeln!(report, "    edges inside the cycle:").unwrap();
                let inside: BTreeSet<&ModPath> = group.iter().collect();
                for e in edges
                    .iter()
                    .filter(|e| inside.contains(&e.from) && inside.contains(&e.to))
                {
                    let (from, to, file) = (display(&e.from), display(&e.to), relative(&e.file));
                    writeln!(
                        report,
                        "      {from} → {to}  ({file}:{}: {})",
                        e.line, e.path
                    )
                    .unwrap();
                }
            }
        }
        // Every source file must be in some module tree, or the graph above is incomplete.
        let member_src = Path::new(&member).join("src");
        for file in tracked.iter().filter(|f| f.starts_with(&member_src)) {
            let full = root.join(file);
            if full.exists() && !reached.contains(&canonical(&full)) {
                problems.push(format!(
                    "{} is not declared by any module of {member}",
                    file.display()
                ));
            }
        }
    }
    println!("{report}");
    for problem in &problems {
        println!("module tree problem: {problem}");
    }
    assert!(
        problems.is_empty(),
        "the module trees are incomplete (listed above)"
    );
    assert_eq!(
        cycles, 0,
        "modules import each other in a cycle (listed above): move what both sides need into a lower module"
    );
}

#[test]
fn repository_cites_no_outside_documents() {
    // Built at run time so that this file does not match itself.
    let mut needles = vec![["..", "shared"].join("/")];
    needles
        .extend(["DESIGN", "AWS-LIMITS", "APISERVER", "STYLE", "TOOLS"].map(|n| format!("{n}.md")));
    let mut offenders = Vec::new();
    for path in tracked_files(None)
        .into_iter()
        .filter(|p| !p.starts_with(".ci"))
    {
        let Some(bytes) = read_tracked(&path) else {
            continue;
        };
        for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            for needle in needles
                .iter()
                .filter(|needle| line.contains(needle.as_str()))
            {
                let excerpt: String = line.trim().chars().take(120).collect();
                offenders.push(format!("{}:{}: {needle}: {excerpt}", path.display(), n + 1));
            }
        }
    }
    for offender in &offenders {
        println!("{offender}");
    }
    assert!(
        offenders.is_empty(),
        "{} line(s) cite documents outside the repository (listed above): say what is meant instead",
        offenders.len()
    );
}

#[test]
fn workspace_members_are_read_from_the_manifest() {
    let members = workspace_members();
    assert!(
        members.iter().any(|m| m == "tests"),
        "this crate is missing from {members:?}"
    );
    assert!(members.iter().all(|m| root_has_dir(m)), "{members:?}");
}

fn root_has_dir(member: &str) -> bool {
    workspace_root().join(member).join("Cargo.toml").is_file()
}
