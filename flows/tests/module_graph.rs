//! The core's modules do not import each other in circles: shared ids and small types live
//! in `vocabulary`, text folding and stopwords in `words`, both leaves. The one circle left
//! is known and explained below; a new one fails this test.

// Test helpers panic on purpose: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The catalog owns its search index, built from its own products, and the index reads
/// those products: one structure seen from two files.
const KNOWN: &[(&str, &str)] = &[("catalog", "search")];

/// Top-level module → the top-level modules its non-test code names as `crate::x`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).expect("under src");
            let top = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .map(|name| name.trim_end_matches(".rs").to_owned())
                .expect("a name");
            if top == "lib" {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("read file");
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            let deps = graph.entry(top.clone()).or_default();
            for (index, _) in code.match_indices("crate::") {
                let name: String = code[index + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    deps.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_another_that_imports_it_back() {
    let graph = graph();
    let mut circles = Vec::new();
    for (module, deps) in &graph {
        for dep in deps {
            let back = graph.get(dep).is_some_and(|d| d.contains(module));
            let known = KNOWN.iter().any(|(a, b)| {
                (a, b) == (&module.as_str(), &dep.as_str())
                    || (b, a) == (&module.as_str(), &dep.as_str())
            });
            if back && !known && module < dep {
                circles.push(format!("{module} <-> {dep}"));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules importing each other: {circles:?}"
    );
    for leaf in ["vocabulary", "words"] {
        let deps = &graph[leaf];
        assert!(deps.is_empty(), "{leaf} is a leaf but imports {deps:?}");
    }
}
