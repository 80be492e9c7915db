//! LINE's own webhook bodies, from the test suites of LINE's SDKs, for tests that hold the
//! product to what LINE sends rather than to our picture of it. They live outside the
//! repository (`<workspace>/../shared/line-fixtures`, or `TSUNAGI_LINE_FIXTURES`) and are
//! never copied in: a test finds none where the folder is absent, and says so.

use std::path::{Path, PathBuf};

/// Where LINE's fixtures are: `TSUNAGI_LINE_FIXTURES`, or `../shared/line-fixtures` beside
/// the workspace.
pub fn dir() -> PathBuf {
    match std::env::var_os("TSUNAGI_LINE_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/line-fixtures"),
    }
}

/// The body files (every `*.json`: the README and `MANIFEST.tsv` are not bodies), by name,
/// with their exact bytes; `None` where the folder is absent.
pub fn bodies() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = dir();
    let entries = std::fs::read_dir(&dir).ok()?;
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a fixture folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    Some(
        files
            .into_iter()
            .map(|path| {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let body = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                (name, body)
            })
            .collect(),
    )
}
