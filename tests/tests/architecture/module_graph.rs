//! The module graph of one crate target: its modules (one per file, found by following the
//! non-test `mod` declarations from the crate root), the edges the files' non-test code makes
//! between them, and the strongly connected components of those edges (import cycles).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::rust_source::{self, FileFacts, PathRef};

/// A module's path below the crate root (`[]` is the root itself).
pub type ModPath = Vec<String>;

/// `crate`, `crate::a::b`.
pub fn display(module: &[String]) -> String {
    std::iter::once("crate")
        .chain(module.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("::")
}

/// A module and the file that holds it.
#[derive(Debug)]
pub struct Module {
    pub file: PathBuf,
    pub facts: FileFacts,
}

/// The modules of one crate target.
#[derive(Debug, Default)]
pub struct ModuleTree {
    pub modules: BTreeMap<ModPath, Module>,
    /// Files reached only as test code (`#[cfg(test)] mod ..;`, `src/tests/`, `#![cfg(test)]`).
    pub test_files: BTreeSet<PathBuf>,
    /// Declarations whose file could not be found or read.
    pub problems: Vec<String>,
}

/// One module naming another, at the first place it does so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: ModPath,
    pub to: ModPath,
    pub file: PathBuf,
    pub line: usize,
    pub path: String,
}

impl ModuleTree {
    /// Follows the `mod` declarations from the crate root file `root` of the crate whose
    /// sources are in `src`.
    pub fn load(root: &Path, src: &Path) -> Self {
        let mut tree = Self::default();
        tree.visit(root, true, Vec::new(), false, src);
        tree
    }

    fn visit(&mut self, file: &Path, crate_root: bool, module: ModPath, test: bool, src: &Path) {
        if self.test_files.contains(file) || self.modules.values().any(|m| m.file == file) {
            return;
        }
        let facts = match std::fs::read_to_string(file) {
            Ok(text) => rust_source::analyze(&text),
            Err(e) => {
                self.problems.push(format!(
                    "{} (module {}): {e}",
                    file.display(),
                    display(&module)
                ));
                return;
            }
        };
        let in_tests_dir = file
            .strip_prefix(src)
            .ok()
            .and_then(Path::parent)
            .is_some_and(|dir| dir.components().any(|c| c.as_os_str() == "tests"));
        let test = test || facts.test_only || in_tests_dir;
        let dir = file.parent().unwrap_or(Path::new(""));
        let mod_rs = crate_root || file.file_name().is_some_and(|n| n == "mod.rs");
        let children_dir = if mod_rs {
            dir.to_owned()
        } else {
            dir.join(file.file_stem().unwrap_or_default())
        };
        for decl in &facts.mods {
            let base = decl
                .scope
                .iter()
                .fold(children_dir.clone(), |d, s| d.join(s));
            let child_file = match &decl.path_attr {
                Some(path) if decl.scope.is_empty() => dir.join(path),
                Some(path) => base.join(path),
                None => {
                    let flat = base.join(format!("{}.rs", decl.name));
                    if flat.exists() {
                        flat
                    } else {
                        base.join(&decl.name).join("mod.rs")
                    }
                }
            };
            let mut child = module.clone();
            child.extend(decl.scope.iter().cloned());
            child.push(decl.name.clone());
            self.visit(&child_file, false, child, test || decl.test, src);
        }
        if test {
            self.test_files.insert(file.to_owned());
        } else {
            self.modules.insert(
                module,
                Module {
                    file: file.to_owned(),
                    facts,
                },
            );
        }
    }

    /// Every file of the tree, product and test.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.modules
            .values()
            .map(|m| &m.file)
            .chain(&self.test_files)
    }

    /// The absolute module path `r` names from `module` (`None` for other crates, locals,
    /// types and anything that does not start at a module of this crate).
    fn absolute(
        &self,
        module: &[String],
        r: &PathRef,
        aliases: &BTreeMap<String, ModPath>,
    ) -> Option<ModPath> {
        let base: ModPath = module.iter().chain(&r.scope).cloned().collect();
        let first = r.segs.first()?;
        let join =
            |prefix: &[String], rest: &[String]| prefix.iter().chain(rest).cloned().collect();
        match first.as_str() {
            "crate" => Some(r.segs[1..].to_vec()),
            "self" => Some(join(&base, &r.segs[1..])),
            "super" => {
                let n = r.segs.iter().take_while(|s| *s == "super").count();
                (n <= base.len()).then(|| join(&base[..base.len() - n], &r.segs[n..]))
            }
            name => {
                if let Some(target) = aliases.get(name) {
                    Some(join(target, &r.segs[1..]))
                } else {
                    let child = join(&base, &[name.to_owned()]);
                    self.modules
                        .contains_key(&child)
                        .then(|| join(&base, &r.segs))
                }
            }
        }
    }

    /// The deepest module that `path`, or a prefix of it, names.
    fn deepest(&self, path: &[String]) -> ModPath {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| self.modules.contains_key(p))
            .unwrap_or_default()
    }

    /// The module `r` leads to from `module`, if any.
    pub fn target(
        &self,
        module: &[String],
        r: &PathRef,
        aliases: &BTreeMap<String, ModPath>,
    ) -> Option<ModPath> {
        self.absolute(module, r, aliases).map(|p| self.deepest(&p))
    }

    /// The edges between modules (one per pair, at its first occurrence); no self edges.
    pub fn edges(&self) -> Vec<Edge> {
        let mut edges: BTreeMap<(ModPath, ModPath), Edge> = BTreeMap::new();
        for (module, m) in &self.modules {
            // `use crate::store;` lets `store::State` name crate::store.
            let mut aliases = BTreeMap::new();
            for r in m.facts.refs.iter().filter(|r| r.from_use) {
                if let Some(binding) = &r.binding
                    && let Some(path) = self.absolute(module, r, &BTreeMap::new())
                    && self.modules.contains_key(&path)
                {
                    aliases.insert(binding.clone(), path);
                }
            }
            for r in &m.facts.refs {
                let Some(to) = self.target(module, r, &aliases) else {
                    continue;
                };
                if &to != module {
                    edges
                        .entry((module.clone(), to.clone()))
                        .or_insert_with(|| Edge {
                            from: module.clone(),
                            to,
                            file: m.file.clone(),
                            line: r.line,
                            path: r.text(),
                        });
                }
            }
        }
        edges.into_values().collect()
    }
}

/// Tarjan's strongly connected components with more than one node, each sorted, in order.
pub fn cycle_groups(nodes: &[ModPath], edges: &[Edge]) -> Vec<Vec<ModPath>> {
    struct Tarjan {
        succ: Vec<Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        groups: Vec<Vec<usize>>,
    }
    impl Tarjan {
        fn connect(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for w in self.succ[v].clone() {
                match self.index[w] {
                    None => {
                        self.connect(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                self.groups.push(group);
            }
        }
    }
    let id: BTreeMap<&ModPath, usize> = nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
    let mut succ = vec![Vec::new(); nodes.len()];
    for e in edges {
        if let (Some(&a), Some(&b)) = (id.get(&e.from), id.get(&e.to)) {
            succ[a].push(b);
        }
    }
    let n = nodes.len();
    let mut t = Tarjan {
        succ,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        groups: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.connect(v);
        }
    }
    let mut groups: Vec<Vec<ModPath>> = t
        .groups
        .into_iter()
        .filter(|g| g.len() > 1)
        .map(|g| {
            let mut g: Vec<ModPath> = g.into_iter().map(|i| nodes[i].clone()).collect();
            g.sort();
            g
        })
        .collect();
    groups.sort();
    groups
}

/// A shortest cycle through the group's first module, as the edges that make it.
pub fn example_cycle<'a>(group: &[ModPath], edges: &'a [Edge]) -> Vec<&'a Edge> {
    let inside: BTreeSet<&ModPath> = group.iter().collect();
    let start = &group[0];
    let mut via: BTreeMap<&ModPath, &Edge> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for e in edges
            .iter()
            .filter(|e| &e.from == node && inside.contains(&e.to))
        {
            if &e.to == start {
                let mut cycle = vec![e];
                let mut at = node;
                while at != start {
                    let step = via[at];
                    cycle.push(step);
                    at = &step.from;
                }
                cycle.reverse();
                return cycle;
            }
            if !via.contains_key(&e.to) {
                via.insert(&e.to, e);
                queue.push_back(&e.to);
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust_source::analyze;

    /// A tree from inline sources: `(module path, source)`.
    fn tree(files: &[(&str, &str)]) -> ModuleTree {
        let mut tree = ModuleTree::default();
        for (path, src) in files {
            let module = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let (file, facts) = (PathBuf::from(format!("{path}.rs")), analyze(src));
            tree.modules.insert(module, Module { file, facts });
        }
        tree
    }

    fn pairs(tree: &ModuleTree) -> Vec<(String, String)> {
        tree.edges()
            .iter()
            .map(|e| (display(&e.from), display(&e.to)))
            .collect()
    }

    #[test]
    fn paths_resolve_to_the_deepest_module_file() {
        let t = tree(&[
            ("", "mod a; mod b; use a::Thing; pub use b::Other;"),
            (
                "a",
                "use super::*; use crate::b::c::{self, D}; fn f() { self::inner::g(); c::h(); }",
            ),
            ("b", "pub mod c; use crate::a::nope::Deep;"),
            (
                "b::c",
                "use super::super::a::X; pub(in crate::b) fn k() {} #[cfg(test)] mod tests { use crate::b::T; }",
            ),
        ]);
        let expected = [
            ("crate", "crate::a"),
            ("crate", "crate::b"),
            ("crate::a", "crate"),
            ("crate::a", "crate::b::c"),
            ("crate::b", "crate::a"),
            ("crate::b::c", "crate::a"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pairs(&t), expected);
    }

    #[test]
    fn cycles_are_found_with_an_example() {
        let t = tree(&[
            (
                "",
                "mod server; mod routing; mod handlers; mod watch; mod store;",
            ),
            ("server", "use crate::routing::route;"),
            ("routing", "use crate::handlers::{get, watch as w};"),
            ("handlers", "use crate::{store::State, watch};"),
            (
                "watch",
                "use crate::handlers::Respond; use crate::store::Store;",
            ),
            ("store", ""),
        ]);
        let edges = t.edges();
        let nodes: Vec<ModPath> = t.modules.keys().cloned().collect();
        let groups = cycle_groups(&nodes, &edges);
        let shown: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.iter().map(|m| display(m)).collect())
            .collect();
        assert_eq!(shown, [["crate::handlers", "crate::watch"]]);
        let cycle: Vec<_> = example_cycle(&groups[0], &edges)
            .iter()
            .map(|e| e.path.clone())
            .collect();
        assert_eq!(cycle, ["crate::watch", "crate::handlers::Respond"]);
    }
}
