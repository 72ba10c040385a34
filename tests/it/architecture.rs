//! The dependency direction is an invariant: `flows` never depends on IO crates, `adapters`
//! never on the store or the HTTP server. Checked on the resolved dependency graph, so a
//! transitive dependency counts too.

use std::collections::{HashMap, HashSet};
use std::process::Command;

use serde_json::Value;

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("metadata JSON")
}

/// Names of everything `package` needs at run time (normal dependencies, transitively).
fn runtime_closure(metadata: &Value, package: &str) -> HashSet<String> {
    let names: HashMap<&str, &str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["id"].as_str().expect("id"), n))
        .collect();
    let root = names
        .iter()
        .find(|(_, name)| **name == package)
        .map(|(id, _)| *id)
        .expect("package in workspace");
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        for dep in nodes[id]["deps"].as_array().expect("deps") {
            let normal = dep["dep_kinds"]
                .as_array()
                .expect("kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().expect("pkg");
            if normal && seen.insert(names[dep_id].to_owned()) {
                stack.push(dep_id);
            }
        }
    }
    seen
}

#[test]
fn flows_has_no_io_and_adapters_no_store_or_server() {
    let metadata = metadata();
    let flows = runtime_closure(&metadata, "flows");
    let io = [
        "tokio",
        "mio",
        "reqwest",
        "hyper",
        "sled",
        "axum",
        "teloxide",
        "serenity",
        "async-openai",
        "sqlx",
        "getrandom",
        "rand",
    ];
    let leaked: Vec<_> = io.iter().filter(|name| flows.contains(**name)).collect();
    assert!(
        leaked.is_empty(),
        "flows depends on IO crates: {leaked:?} (all: {flows:?})"
    );

    let adapters = runtime_closure(&metadata, "adapters");
    let forbidden = ["sled", "axum", "sqlx"];
    let leaked: Vec<_> = forbidden
        .iter()
        .filter(|name| adapters.contains(**name))
        .collect();
    assert!(leaked.is_empty(), "adapters depends on {leaked:?}");
    assert!(adapters.contains("flows"));
}

#[test]
fn only_the_store_module_imports_sled() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path != src.join("store") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                if text.contains("sled::") || text.contains("use sled") {
                    offenders.push(path);
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "sled used outside src/store: {offenders:?}"
    );
}

/// Files under `src/<dir>` that mention `needle`.
fn mentioning(dir: &str, needle: &str) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(dir);
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && std::fs::read_to_string(&path)
                    .expect("read")
                    .contains(needle)
            {
                found.push(path);
            }
        }
    }
    found
}

/// The console is mounted by the HTTP layer with a state of its own (`ConsoleState`); it
/// does not reach back into the HTTP layer, and nothing outside the store names a backend.
#[test]
fn the_console_does_not_depend_on_the_http_layer_nor_anything_on_sled_store() {
    assert_eq!(
        mentioning("console", "crate::http").len(),
        0,
        "{:?}",
        mentioning("console", "crate::http")
    );
    for dir in [
        "console", "http", "driver", "send", "telegram", "discord", "payments", "booking",
    ] {
        let named = mentioning(dir, "SledStore");
        assert!(named.is_empty(), "{dir} names the sled backend: {named:?}");
    }
}

/// The database client, like sled, stays inside the store: `src/store/postgres/` is the
/// only place that speaks SQL.
#[test]
fn only_the_postgres_backend_speaks_sql() {
    let users: Vec<_> = mentioning("", "sqlx")
        .into_iter()
        .filter(|path| {
            !path.starts_with(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/postgres"),
            )
        })
        .collect();
    assert!(
        users.is_empty(),
        "sqlx used outside src/store/postgres: {users:?}"
    );
    for dir in [
        "console", "http", "driver", "send", "telegram", "discord", "payments", "booking",
    ] {
        let named = mentioning(dir, "PgStore");
        assert!(
            named.is_empty(),
            "{dir} names the PostgreSQL backend: {named:?}"
        );
    }
}
