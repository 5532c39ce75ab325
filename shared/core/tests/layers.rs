//! The core's layers, checked from its source: every module uses only modules of its own
//! layer or the layers before it (see `lib.rs`), and no two modules use each other, however
//! indirectly. Test code (`tests.rs`, `#[cfg(test)] mod tests`) is left out: tests may use the
//! test doubles. Paths inside the core name modules (`crate::domain::booking::BookingRecord`),
//! not the re-exports at the root, so every use is seen here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module's layer is its first path segment.
const LAYERS: &[&[&str]] = &[
    &["values"],
    &["vapi"],
    &["domain"],
    &["jobs"],
    &["templates"],
    &["metrics"],
    &["ports"],
    &["once", "resilience", "deployment"],
    &["testing"],
];

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or_default();
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS"))
}

/// The module a source file is, as `domain::booking` (a directory's `mod.rs` is the directory).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    parts.join("::")
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The modules `crate::` paths in `code` name, as the longest known module prefix.
fn used_modules(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let path: String = code[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
            .collect();
        let segments: Vec<&str> = path
            .split("::")
            .take_while(|s| !s.is_empty() && !s.starts_with('{'))
            .collect();
        let module = (1..=segments.len())
            .rev()
            .map(|n| segments[..n].join("::"))
            .find(|candidate| modules.contains(candidate));
        match module {
            Some(module) => {
                used.insert(module);
            }
            None => panic!("crate::{path} names no module: inside the core, use module paths"),
        }
    }
    used
}

/// Production code only: a file's inline `#[cfg(test)] mod tests` is cut off.
fn production_code(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests {")
        .map_or(text, |at| &text[..at])
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.retain(|f| {
        let relative = f.strip_prefix(&src).unwrap();
        !relative.starts_with("bin")
            && relative != Path::new("lib.rs")
            && f.file_name().is_some_and(|n| n != "tests.rs")
    });
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    files
        .iter()
        .map(|f| {
            let module = module_of(&src, f);
            let text = std::fs::read_to_string(f).unwrap();
            let mut used = used_modules(production_code(&text), &modules);
            used.remove(&module);
            (module, used)
        })
        .collect()
}

#[test]
fn every_module_uses_only_its_own_layer_and_those_before_it() {
    let graph = graph();
    assert!(graph.len() > 20, "the source was not found: {graph:?}");
    let mut wrong = Vec::new();
    for (module, used) in &graph {
        for other in used {
            if layer_of(other) > layer_of(module) {
                wrong.push(format!("{module} uses {other}"));
            }
        }
    }
    assert!(wrong.is_empty(), "uses of a later layer: {wrong:#?}");
}

#[test]
fn no_module_uses_itself_through_others() {
    let graph = graph();
    // Depth-first search; a module met again while still on the path closes a circle.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut circle: Vec<String> = path[at..].iter().map(|m| m.to_string()).collect();
            circle.push(module.to_string());
            return Some(circle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let circle = visit(module, &graph, &mut Vec::new(), &mut done);
        assert!(circle.is_none(), "an import circle: {:?}", circle.unwrap());
    }
}
