//! Prints the records of saved Stack Overflow pages as JSON Lines.
//!
//! ```text
//! cargo run -p sofleet-extract --example extract -- PAGE.html [DIR ...]
//! ```
//!
//! One line per file: `{"file": …, "ok": true, "page": {…}}` or
//! `{"file": …, "ok": false, "error_kind": …, "error": …}`. Directories are
//! expanded to their `*.html` files (sorted). Exit status 1 when a file
//! cannot be read.

use std::io::Write;
use std::path::{Path, PathBuf};

fn files(arg: &Path) -> std::io::Result<Vec<PathBuf>> {
    if arg.is_dir() {
        let mut out: Vec<PathBuf> = std::fs::read_dir(arg)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "html" || x == "htm"))
            .collect();
        out.sort();
        Ok(out)
    } else {
        Ok(vec![arg.to_path_buf()])
    }
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if args.is_empty() {
        eprintln!("usage: extract PAGE.html|DIR [...]   (prints one JSON object per page)");
        std::process::exit(2);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    for arg in &args {
        let list = match files(arg) {
            Ok(list) => list,
            Err(e) => {
                eprintln!("extract: cannot read {}: {e}", arg.display());
                failed = true;
                continue;
            }
        };
        for path in list {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("extract: cannot read {}: {e}", path.display());
                    failed = true;
                    continue;
                }
            };
            let line = match sofleet_extract::parse_page_bytes(&bytes) {
                Ok(page) => serde_json::json!({
                    "file": path.display().to_string(), "ok": true, "page": page,
                }),
                Err(e) => serde_json::json!({
                    "file": path.display().to_string(), "ok": false,
                    "error_kind": e.kind(), "error": e.to_string(),
                }),
            };
            if writeln!(out, "{line}").is_err() {
                return; // stdout closed (e.g. piped into `head`)
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
