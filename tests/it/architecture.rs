//! The invariants `docs/architecture.md` promises, checked on the source
//! tree itself (as rust-analyzer's tidy tests do): a change that breaks one
//! fails here, naming the file.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every file under `src/` (relative, with `/`), with its text.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let relative = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            (relative, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Files outside `allowed` that contain any of `needles`.
fn offenders(needles: &[&str], allowed: &[&str]) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(path, _)| {
            !allowed
                .iter()
                .any(|a| path == a || (a.ends_with('/') && path.starts_with(a)))
        })
        .filter_map(|(path, text)| {
            let hits: Vec<&str> = needles.iter().copied().filter(|n| text.contains(n)).collect();
            (!hits.is_empty()).then(|| format!("{path}: {}", hits.join(", ")))
        })
        .collect()
}

#[test]
fn only_the_clock_and_the_command_line_read_the_wall_clock() {
    let found = offenders(
        &["Utc::now()", "SystemTime::now", "Local::now", "WallClock"],
        &["src/clock.rs", "src/main.rs", "src/cli/"],
    );
    assert!(found.is_empty(), "the wall clock read below the drivers: {found:#?}");
}

#[test]
fn only_the_http_module_builds_an_http_client() {
    let found = offenders(&["Client::builder", "Client::new()"], &["src/http.rs"]);
    assert!(found.is_empty(), "an HTTP client built outside src/http.rs: {found:#?}");
}

#[test]
fn retries_follow_the_one_backoff_policy() {
    // Exponential waits written by hand (`base * 2^n`, `1 << attempt`) are
    // how three schemes grew before; `http::Backoff` is the only one.
    let found = offenders(
        &[
            "saturating_mul(1 <<",
            "saturating_mul(1u32 <<",
            "mul_f64(2",
            ".pow(attempt",
        ],
        &["src/http.rs"],
    );
    assert!(found.is_empty(), "a retry schedule outside http::Backoff: {found:#?}");
}

#[test]
fn only_the_source_state_module_touches_the_source_tables() {
    let found = offenders(
        &["source_cursors", "source_state"],
        // The schema, and the copy into PostgreSQL, which moves every table
        // row by row without reading what the rows mean.
        &[
            "src/sources/state.rs",
            "src/store/schema.rs",
            "src/store/postgres/copy.rs",
        ],
    );
    assert!(
        found.is_empty(),
        "source cursor/health SQL outside src/sources/state.rs: {found:#?}"
    );
}

#[test]
fn detection_reads_no_store() {
    let found: Vec<String> = sources()
        .into_iter()
        .filter(|(path, text)| path.starts_with("src/detect/") && text.contains("crate::store"))
        .map(|(path, _)| path)
        .collect();
    assert!(found.is_empty(), "detect is pure, yet these read the store: {found:?}");
}

#[test]
fn main_only_parses_and_dispatches() {
    let main = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs")).unwrap();
    assert!(
        main.lines().count() < 150,
        "src/main.rs has {} lines",
        main.lines().count()
    );
}

/// The library's top-level module a file belongs to (`src/alert/mod.rs` and
/// `src/alert/service.rs` are both `alert`); `None` for the binary.
fn top_module(path: &str) -> Option<String> {
    let rest = path.strip_prefix("src/")?;
    if rest == "main.rs" || rest == "lib.rs" || rest.starts_with("cli/") {
        return None;
    }
    let first = rest.split('/').next()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Which top-level modules each one names through `crate::`.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (path, text) in sources() {
        let Some(from) = top_module(&path) else { continue };
        let deps = graph.entry(from.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // `my_crate::`, not ours
            }
            let name: String = text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != from && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                deps.insert(name);
            }
        }
    }
    graph
}

#[test]
fn the_modules_can_be_read_bottom_up() {
    let graph = module_graph();
    // Depth-first search for a back edge; the first cycle found is reported.
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = Default::default();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("modules in a circle: {}", cycle.join(" -> "));
        }
    }
    // The layers the architecture document describes, checked from both ends.
    for low in ["mention", "clock", "http", "brand"] {
        let deps = graph.get(low).cloned().unwrap_or_default();
        assert!(
            deps.iter()
                .all(|d| ["mention", "clock", "http", "brand", "metrics"].contains(&d.as_str())),
            "{low} is a bottom module but names {deps:?}"
        );
    }
    assert!(
        !graph.get("store").is_some_and(|d| d.contains("enrich")),
        "the store depends on the mention types, not on enrichment"
    );
}
