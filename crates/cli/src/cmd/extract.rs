//! `sofleet extract FILE...`: saved pages → JSON Lines on stdout.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use sofleet_extract::parse_page_bytes;

use crate::args::ExtractArgs;
use crate::exit::{CmdResult, Failure};

/// One JSON object per file: `{"file", "kind", "record"}` for a question or
/// listing page, `{"file", "kind": "blocked", "blocked_by"}` for a captcha,
/// 429 or 404 page, `{"file", "kind": "error", "error_kind", "error"}` for
/// anything else (unreadable, empty, truncated, not a Stack Overflow page). A file that
/// fails does not stop the others; the exit code says some failed.
pub fn run(args: ExtractArgs) -> CmdResult {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for file in &args.files {
        let line = match extract_file(file) {
            Ok(line) => line,
            Err(line) => {
                failed += 1;
                line
            }
        };
        writeln!(out, "{line}").map_err(|e| Failure::Input(e.into()))?;
    }
    out.flush().map_err(|e| Failure::Input(e.into()))?;
    if failed > 0 {
        return Err(Failure::Partial(format!(
            "{failed} of {} files could not be extracted (see the error lines)",
            args.files.len()
        )));
    }
    Ok(())
}

fn extract_file(file: &Path) -> Result<serde_json::Value, serde_json::Value> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| {
        json!({"file": name, "kind": "error", "error_kind": "io",
               "error": format!("cannot read {name}: {e}")})
    })?;
    match parse_page_bytes(&bytes) {
        Ok(page) => Ok(json!({"file": name, "kind": page.kind(), "record": page})),
        // A captcha, 429 or 404 page is a page we know: report it as blocked.
        Err(e) => match e.block_kind() {
            Some(block) => Ok(json!({"file": name, "kind": "blocked",
                                     "blocked_by": block.as_str(), "message": e.to_string()})),
            None => Err(
                json!({"file": name, "kind": "error", "error_kind": e.kind(),
                               "error": format!("{name}: {e}")}),
            ),
        },
    }
}
