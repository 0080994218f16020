//! Listing the live workers of a namespace from their heartbeat keys.

use crate::WorkerInfo;
use crate::conn::Link;
use crate::keys::Keys;

/// Workers whose heartbeat key exists, sorted by name (SCAN + MGET).
pub(crate) async fn list_workers(
    link: &mut Link,
    keys: &Keys,
) -> redis::RedisResult<Vec<WorkerInfo>> {
    let mut c = link.conn().await?;
    let mut cursor = 0u64;
    let mut names = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(keys.worker_pattern())
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut c)
            .await?;
        names.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&names).query_async(&mut c).await?;
    let mut out: Vec<WorkerInfo> = values
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_slice(&v).ok())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}
