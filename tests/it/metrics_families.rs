//! `/metrics` shows every family from the first scrape after a start (a restart once left it
//! empty until traffic came), each with its HELP, its TYPE and the labels its HELP promises;
//! and every metric the code records is one of those families.

use std::path::Path;

use souk::AppOptions;
use souk::telemetry::{FAMILIES, Kind};

use crate::support::{repo_path, spawn_app};

#[tokio::test]
async fn every_family_is_described_and_present_right_after_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for family in FAMILIES {
        let name = family.name;
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        assert!(
            text.contains(&format!("# TYPE {name} {kind}")),
            "no TYPE for {name}"
        );
        let sample = text
            .lines()
            .find(|line| !line.starts_with('#') && line.starts_with(name))
            .unwrap_or_else(|| panic!("no sample of {name}"));
        for (label, _) in family.labels {
            assert!(
                sample.contains(&format!("{label}=\"")),
                "{name} lacks its label {label}: {sample}"
            );
        }
    }
    app.stop().await;
}

/// The string literal right after each `metrics::counter!(` / `gauge!(` / `histogram!(`.
fn recorded_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for macro_name in ["counter!(", "gauge!(", "histogram!("] {
        for (at, _) in source.match_indices(macro_name) {
            let rest = source[at + macro_name.len()..].trim_start();
            if let Some(literal) = rest.strip_prefix('"')
                && let Some(end) = literal.find('"')
            {
                names.push(literal[..end].to_owned());
            }
        }
    }
    names
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_recorded_metric_is_a_described_family() {
    let mut files = Vec::new();
    rust_files(&repo_path("src"), &mut files);
    let mut seen = 0;
    for file in files {
        let source = std::fs::read_to_string(&file).expect("source");
        for name in recorded_names(&source) {
            seen += 1;
            assert!(
                FAMILIES.iter().any(|family| family.name == name),
                "{} records {name}, which is not in telemetry::FAMILIES",
                file.display()
            );
        }
    }
    assert!(seen > 30, "the scan found the metrics ({seen})");
}

/// The Grafana dashboard in `docs/` is valid JSON and asks only for metrics souk records.
#[test]
fn the_grafana_dashboard_asks_for_metrics_souk_has() {
    let raw = std::fs::read_to_string(repo_path("docs/grafana-dashboard.json")).expect("dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&raw).expect("JSON");
    let mut asked = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            let mut rest = expr;
            while let Some(at) = rest.find("souk_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                asked += 1;
                assert!(
                    FAMILIES.iter().any(|family| family.name == name),
                    "the dashboard asks for {name}, which souk does not record"
                );
            }
        }
    }
    assert!(asked >= 15, "{asked} metrics asked for");
}
