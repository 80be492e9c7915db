//! The house's rules of size and of who speaks the log's dialect, checked on every
//! `cargo xtask test` (its tests run with the workspace's):
//!
//! - **Rooms a newcomer can read:** no production Rust file over [`MAX_RUST_LINES`] lines
//!   (its tests, in a `tests.rs` or after `#[cfg(test)]`, and test support under
//!   `testing/` aside), no Svelte component over [`MAX_SVELTE_LINES`].
//! - **One use-case layer:** the hosts (the app's shell and `tsunagi-cli`) call
//!   `tsunagi-desk`'s actions and build no op of their own, so they behave alike by
//!   construction. Their production sources may not name the op types.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// The most lines a production Rust file may have.
const MAX_RUST_LINES: usize = 800;

/// The most lines a Svelte component may have.
const MAX_SVELTE_LINES: usize = 400;

/// The hosts' sources, which build no op.
const HOSTS: &[&str] = &["src-tauri/src", "crates/cli/src"];

/// What building an op takes: the op itself, a send, and a send's retry key.
const OP_TYPES: &[&str] = &["Operation", "SendOp", "RetryKey"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn files(dir: &Path, extension: &str, into: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "node_modules" | "target" | "dist") {
                files(&path, extension, into)?;
            }
        } else if path.extension().is_some_and(|e| e == extension) {
            into.push(path);
        }
    }
    Ok(())
}

/// A Rust file's production part: all of it before its tests, none of a test file or of
/// test support.
fn production(path: &Path, text: &str) -> Option<String> {
    let test_file = path.file_name().is_some_and(|n| n == "tests.rs")
        || path
            .components()
            .any(|c| c.as_os_str() == "testing" || c.as_os_str() == "tests");
    (!test_file).then(|| {
        text.split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .to_owned()
    })
}

/// Every package's `src`: the app's shell, the crates and xtask (the tests package and
/// benches are test code).
fn rust_sources(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = vec![root.join("src-tauri/src"), root.join("xtask/src")];
    for entry in std::fs::read_dir(root.join("crates"))? {
        let src = entry?.path().join("src");
        if src.is_dir() {
            dirs.push(src);
        }
    }
    let mut found = Vec::new();
    for dir in dirs {
        files(&dir, "rs", &mut found)?;
    }
    found.sort();
    Ok(found)
}

/// The rooms over their size, as `path: lines`.
fn oversized(root: &Path) -> Result<Vec<String>> {
    let mut over = Vec::new();
    for path in rust_sources(root)? {
        let text = std::fs::read_to_string(&path)?;
        if let Some(code) = production(&path, &text) {
            let lines = code.lines().count();
            if lines > MAX_RUST_LINES {
                over.push(format!("{}: {lines} lines", shown(root, &path)));
            }
        }
    }
    let mut components = Vec::new();
    files(&root.join("ui/src"), "svelte", &mut components)?;
    components.sort();
    for path in components {
        let lines = std::fs::read_to_string(&path)?.lines().count();
        if lines > MAX_SVELTE_LINES {
            over.push(format!("{}: {lines} lines", shown(root, &path)));
        }
    }
    Ok(over)
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Where `code` names one of `words` as a whole identifier (comments aside), as
/// `line: word`.
fn naming(code: &str, words: &[&str]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap_or_default();
        let identifiers = line.split(|c: char| !(c.is_alphanumeric() || c == '_'));
        for identifier in identifiers {
            if words.contains(&identifier) {
                found.push((number + 1, identifier.to_owned()));
            }
        }
    }
    found
}

/// Where a host's production code names an op type, as `path:line: word`.
fn hosts_building_ops(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for host in HOSTS {
        let mut sources = Vec::new();
        files(&root.join(host), "rs", &mut sources)?;
        sources.sort();
        for path in sources {
            let text = std::fs::read_to_string(&path)?;
            let Some(code) = production(&path, &text) else {
                continue;
            };
            for (line, word) in naming(&code, OP_TYPES) {
                found.push(format!("{}:{line}: {word}", shown(root, &path)));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_room_is_over_its_size() {
        let over = oversized(&workspace()).expect("reading the sources");
        assert!(
            over.is_empty(),
            "split these along their seams (Rust ≤ {MAX_RUST_LINES} lines before its \
             tests, Svelte ≤ {MAX_SVELTE_LINES}):\n{}",
            over.join("\n")
        );
    }

    #[test]
    fn a_files_tests_and_test_support_are_not_counted() {
        let text = "fn a() {}\nfn b() {}\n#[cfg(test)]\nmod tests {\n}\n";
        let counted = production(Path::new("crates/desk/src/inbox.rs"), text);
        assert_eq!(counted.map(|c| c.lines().count()), Some(2));
        assert_eq!(
            production(Path::new("crates/desk/src/store/tests.rs"), text),
            None
        );
        let support = Path::new("crates/relay/src/testing/conformance.rs");
        assert_eq!(production(support, text), None);
    }

    #[test]
    fn the_hosts_build_no_op_of_their_own() {
        let found = hosts_building_ops(&workspace()).expect("reading the sources");
        assert!(
            found.is_empty(),
            "the app's shell and the CLI call tsunagi-desk's actions (crates/desk/src/\
             actions.rs) instead of building ops:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn an_op_type_is_found_as_a_whole_word_outside_comments() {
        let code = "use tsunagi_proto::{Operation, OpId};\n\
                    let op = Operation::Claim { conversation };\n\
                    // an Operation in a comment\n\
                    let operations = OperationLike::new();\n\
                    let key = RetryKey::new();";
        assert_eq!(
            naming(code, OP_TYPES),
            [
                (1, "Operation".to_owned()),
                (2, "Operation".to_owned()),
                (5, "RetryKey".to_owned())
            ]
        );
    }
}
