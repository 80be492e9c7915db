//! The house's two rules of shape, checked on every `cargo xtask test` (its tests run with
//! the workspace's):
//!
//! - **Which package may depend on which** (`../shared/DESIGN.md`, "Parts and where they
//!   live"): read from `cargo metadata`, so a `Cargo.toml` edit that breaks the chain
//!   fails at once.
//! - **No import circles between a crate's modules**: a module that uses another which
//!   uses it back cannot be read, tested or moved alone. Read from the sources' `crate::`
//!   paths (test modules aside), at the granularity of a crate's top-level modules. A
//!   circle kept knowingly while it is taken apart is listed in [`KNOWN_CIRCLES`] (none
//!   now); any other fails, and so does a listed one that is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// Each workspace package's own packages it may depend on (normal dependencies; a
/// package's tests may use anything).
const MAY_USE: &[(&str, &[&str])] = &[
    ("tsunagi-line", &[]),
    ("tsunagi-log", &[]),
    ("tsunagi-proto", &["tsunagi-line"]),
    ("tsunagi-domain", &["tsunagi-proto", "tsunagi-line"]),
    (
        "tsunagi-relay",
        &[
            "tsunagi-domain",
            "tsunagi-proto",
            "tsunagi-line",
            "tsunagi-log",
        ],
    ),
    (
        "tsunagi-desk",
        &[
            "tsunagi-domain",
            "tsunagi-proto",
            "tsunagi-line",
            "tsunagi-log",
        ],
    ),
    ("tsunagi-linesim", &["tsunagi-line", "tsunagi-log"]),
    (
        "tsunagi-cli",
        &[
            "tsunagi-desk",
            "tsunagi-proto",
            "tsunagi-line",
            "tsunagi-log",
        ],
    ),
    (
        "tsunagi",
        &[
            "tsunagi-desk",
            "tsunagi-proto",
            "tsunagi-line",
            "tsunagi-log",
        ],
    ),
    (
        "tsunagi-e2e",
        &[
            "tsunagi-line",
            "tsunagi-linesim",
            "tsunagi-proto",
            "tsunagi-relay",
            "tsunagi-desk",
            "tsunagi-log",
        ],
    ),
    ("xtask", &[]),
];

/// Outside packages only some of ours may use: the web server (the relay and LINE's
/// simulator serve HTTP; the whole-system tests start both), the desktop shell (the app
/// alone), and databases and networking, which the pure domain never touches.
const ONLY_IN: &[(&str, &[&str])] = &[
    ("axum", &["tsunagi-relay", "tsunagi-linesim", "tsunagi-e2e"]),
    ("tauri", &["tsunagi"]),
];

/// What the domain may not do: I/O of any kind.
const NOT_IN_DOMAIN: &[&str] = &["reqwest", "sqlx", "rusqlite", "tokio", "axum", "hyper"];

/// Import circles the house knowingly keeps, each as `crate: module, module, …` (sorted),
/// while it takes them apart: none now. A circle added here needs a reason in review.
const KNOWN_CIRCLES: &[&str] = &[];

/// One dependency edge of a workspace package, as `cargo metadata` lists it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The normal (not dev, not build) dependencies of every workspace package.
fn normal_edges() -> Result<Vec<Edge>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .context("running cargo metadata")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut edges = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let from = package["name"].as_str().unwrap_or_default();
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            // `kind` is null for normal dependencies, "dev" or "build" for the others.
            if dependency["kind"].is_null() {
                edges.push(Edge {
                    from: from.to_owned(),
                    to: dependency["name"].as_str().unwrap_or_default().to_owned(),
                });
            }
        }
    }
    edges.sort();
    Ok(edges)
}

/// Every edge the rules forbid, in words.
fn forbidden(edges: &[Edge]) -> Vec<String> {
    let mut wrong = Vec::new();
    for edge in edges {
        let ours = edge.to.starts_with("tsunagi") || edge.to == "xtask";
        if ours {
            match MAY_USE.iter().find(|(package, _)| *package == edge.from) {
                Some((_, allowed)) if allowed.contains(&edge.to.as_str()) => {}
                Some(_) => wrong.push(format!("{} may not depend on {}", edge.from, edge.to)),
                None => wrong.push(format!(
                    "{} is not in the house's table of who may use whom",
                    edge.from
                )),
            }
        }
        for (outside, only) in ONLY_IN {
            let named = edge.to == *outside || edge.to.starts_with(&format!("{outside}-"));
            if named && !only.contains(&edge.from.as_str()) {
                wrong.push(format!("{} may not depend on {}", edge.from, edge.to));
            }
        }
        if edge.from == "tsunagi-domain" && NOT_IN_DOMAIN.contains(&edge.to.as_str()) {
            wrong.push(format!("tsunagi-domain does no I/O: not {}", edge.to));
        }
    }
    wrong
}

/// The top-level modules of the crate whose sources are under `src`, with the modules each
/// one's files name through `crate::`.
fn module_uses(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    collect_rust_files(src, &mut files)?;
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(src, f)).collect();
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = top_module(src, file) else {
            continue;
        };
        // A module's tests may use anything, as a package's tests may: a `tests.rs` of its
        // own and what a `tests/` folder beside it holds, or what follows `#[cfg(test)]`
        // in its file.
        let in_tests = file
            .strip_prefix(src)
            .is_ok_and(|inside| inside.components().any(|c| c.as_os_str() == "tests"));
        if in_tests || file.file_name().is_some_and(|name| name == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file)?;
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let named = uses.entry(module.clone()).or_default();
        for used in crate_paths(code) {
            if used != module && modules.contains(&used) {
                named.insert(used);
            }
        }
    }
    Ok(uses)
}

fn collect_rust_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rust_files(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
    Ok(())
}

/// The crate's top-level module a file belongs to (`alerts.rs` and `alerts/…` are
/// `alerts`); none for the crate's root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The first segment of every `crate::` path in `text`, grouped imports
/// (`crate::{a::B, c}`) included. Comments are read too: a doc link to a module is a use
/// of it in the reader's mind.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        // `tsunagi_desk::crate::` cannot occur; `$crate::` in macros names the crate too.
        let preceded = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                if let Some(name) = identifier(item.trim_start()) {
                    found.insert(name);
                }
            }
        } else if let Some(name) = identifier(rest) {
            found.insert(name);
        }
    }
    found
}

fn identifier(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Where the group opened just before `text` closes.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// The circles among `uses`: each strongly connected set of two or more modules, sorted.
fn circles(uses: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one circle when each reaches the other.
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(module) = todo.pop() {
            for next in uses.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        uses.keys().map(|module| (module, reach(module))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for (module, from_it) in &reached {
        let circle: Vec<String> = from_it
            .iter()
            .filter(|other| {
                reached
                    .get(other)
                    .is_some_and(|back| back.contains(*module))
            })
            .cloned()
            .collect();
        if circle.len() >= 2 {
            found.insert(circle);
        }
    }
    found.into_iter().collect()
}

/// Every crate's circles, as `crate: a, b, c`.
fn workspace_circles() -> Result<Vec<String>> {
    let root = workspace();
    let mut sources: Vec<(String, PathBuf)> = vec![("tsunagi".into(), root.join("src-tauri/src"))];
    for entry in std::fs::read_dir(root.join("crates"))? {
        let dir = entry?.path();
        if dir.join("src").is_dir() {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            sources.push((format!("tsunagi-{name}"), dir.join("src")));
        }
    }
    sources.push(("xtask".into(), root.join("xtask/src")));
    let mut all = Vec::new();
    for (name, src) in sources {
        for circle in circles(&module_uses(&src)?) {
            all.push(format!("{name}: {}", circle.join(", ")));
        }
    }
    all.sort();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_package_depends_only_on_what_the_design_allows() {
        let edges = normal_edges().expect("cargo metadata");
        assert!(
            edges
                .iter()
                .any(|e| e.from == "tsunagi-desk" && e.to == "tsunagi-domain"),
            "cargo metadata lists the workspace's edges"
        );
        let wrong = forbidden(&edges);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_rules_catch_each_kind_of_forbidden_edge() {
        let edge = |from: &str, to: &str| Edge {
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            forbidden(&[
                edge("tsunagi-domain", "tsunagi-desk"),
                edge("tsunagi-desk", "tauri"),
                edge("tsunagi-desk", "tauri-plugin-store"),
                edge("tsunagi-desk", "axum"),
                edge("tsunagi-domain", "sqlx"),
                edge("tsunagi-newcomer", "tsunagi-line"),
                edge("tsunagi-relay", "axum"),
                edge("tsunagi-desk", "tsunagi-domain"),
            ]),
            [
                "tsunagi-domain may not depend on tsunagi-desk",
                "tsunagi-desk may not depend on tauri",
                "tsunagi-desk may not depend on tauri-plugin-store",
                "tsunagi-desk may not depend on axum",
                "tsunagi-domain does no I/O: not sqlx",
                "tsunagi-newcomer is not in the house's table of who may use whom",
            ]
        );
    }

    #[test]
    fn crate_paths_are_read_alone_and_in_groups() {
        let text = "use crate::alerts::Happened;\nuse crate::{outreach, search::{self, Hit}};\n\
                    let x = crate::store::open();\nuse tsunagi_desk::crate_like::X;\n$crate::id!();";
        assert_eq!(
            crate_paths(text).into_iter().collect::<Vec<_>>(),
            ["alerts", "id", "outreach", "search", "store"]
        );
    }

    #[test]
    fn a_circle_is_found_through_any_number_of_modules() {
        let uses: BTreeMap<String, BTreeSet<String>> = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a", "d"]),
            ("d", vec![]),
            ("e", vec!["f"]),
            ("f", vec![]),
        ]
        .into_iter()
        .map(|(m, to)| (m.to_owned(), to.into_iter().map(str::to_owned).collect()))
        .collect();
        assert_eq!(circles(&uses), [["a", "b", "c"]]);
    }

    #[test]
    fn no_crate_has_an_import_circle_the_house_does_not_know_of() {
        let found = workspace_circles().expect("reading the sources");
        let known: Vec<String> = KNOWN_CIRCLES.iter().map(|c| (*c).to_owned()).collect();
        let new: Vec<&String> = found.iter().filter(|c| !known.contains(c)).collect();
        let gone: Vec<&String> = known.iter().filter(|c| !found.contains(c)).collect();
        assert!(
            new.is_empty() && gone.is_empty(),
            "new import circles (take them apart): {new:#?}\n\
             circles gone (take them off KNOWN_CIRCLES): {gone:#?}"
        );
    }
}
