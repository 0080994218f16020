//! The crawl's Parquet file as a pandas user reads it, with the README's one line.
//!
//! Needs `python3` with pandas and pyarrow. Where they are missing the test says so and passes,
//! unless `SOFLEET_REQUIRE_PANDAS=1` (set by CI, which installs them), where it fails.

mod common;

use std::process::{Command, Stdio};

use common::{sofleet, stderr};
use sofleet_mock_so::{MockSite, MockSiteConfig};

/// The README's line, plus a dump of what pandas made of each column.
const PANDAS: &str = r#"
import json, sys
import pandas as pd
df = pd.read_parquet(sys.argv[1], dtype_backend="numpy_nullable")
first = df.iloc[0]
print(json.dumps({
    "dtypes": {name: str(dtype) for name, dtype in df.dtypes.items()},
    "rows": len(df),
    "tags": [list(t) for t in df["tags"]][:1],
    "unanswered": int(df["top_answer_id"].isna().sum()),
    "asked_year": int(first["asked"].year),
}))
"#;

fn pandas_available() -> bool {
    Command::new("python3")
        .args(["-c", "import pandas, pyarrow"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pandas_reads_typed_columns_with_numpy_nullable() {
    if !pandas_available() {
        assert!(
            std::env::var_os("SOFLEET_REQUIRE_PANDAS").is_none(),
            "SOFLEET_REQUIRE_PANDAS is set but python3 cannot import pandas and pyarrow"
        );
        eprintln!("skipped: python3 with pandas and pyarrow is not installed");
        return;
    }
    let site = MockSite::start(MockSiteConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.parquet");
    let base = site.base_url();
    let out_arg = out.clone();
    let status = tokio::task::spawn_blocking(move || {
        sofleet()
            .args([
                "crawl",
                "--base-url",
                &base,
                "--tag",
                "dask",
                "--pages",
                "1-4",
            ])
            .args([
                "--rate",
                "500/s",
                "--concurrency",
                "8",
                "--no-progress",
                "--out",
            ])
            .arg(&out_arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success());

    let output = Command::new("python3")
        .args(["-c", PANDAS])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let got: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let dtype = |column: &str| got["dtypes"][column].as_str().unwrap_or("").to_owned();
    // Integers stay integers, with nulls, not floats.
    assert_eq!(dtype("question_id"), "UInt64");
    assert_eq!(dtype("top_answer_id"), "UInt64");
    assert_eq!(dtype("top_answer_score"), "Int64");
    assert_eq!(dtype("answer_count_declared"), "UInt32");
    assert!(got["unanswered"].as_u64().unwrap() > 0, "{got}");
    // Timestamps are timestamps, in UTC.
    assert_eq!(dtype("asked"), "datetime64[ms, UTC]");
    assert_eq!(dtype("fetched_at"), "datetime64[ms, UTC]");
    assert!(got["asked_year"].as_u64().unwrap() >= 2008, "{got}");
    // Tags are a list per row.
    let tags = &got["tags"][0];
    assert!(
        tags.as_array()
            .is_some_and(|t| t.iter().any(|t| t == "dask")),
        "{got}"
    );
}
