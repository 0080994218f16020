//! Reading new jobs without ever receiving a batch of oversized ones.
//!
//! A blocking `XREADGROUP` asks for one entry only; the rest of a batch is read inside Redis by
//! a script ([`READ_BATCH`]) that hands over oversized entries without their payload and
//! inputs, so the worker refuses them without receiving their bytes.

use std::sync::LazyLock;

use redis::Value;

use super::Shared;
use crate::conn::Link;
use crate::wire::{self, Entry, OVERSIZE_FIELD};

/// Longest value of a field other than the payload (`p`) and inputs (`i`) handed over with an
/// oversized entry; longer ones stay in Redis (a sofleet client writes short ones only).
pub(super) const MAX_META_BYTES: usize = 64 << 10;

/// Lua: `strip(entry, limit, meta_limit)` returns the entry as it is, or, when its payload (`p`)
/// plus inputs (`i`) exceed `limit` or any other field exceeds `meta_limit`, with its short
/// fields only plus the field [`OVERSIZE_FIELD`] holding the entry's total size in bytes.
pub(super) static STRIP_LUA: LazyLock<String> = LazyLock::new(|| {
    format!(
        r"
local function strip(e, limit, meta_limit)
  local fields = e[2]
  if type(fields) ~= 'table' then return e end
  local data, total, big = 0, 0, false
  for j = 1, #fields, 2 do
    local n = #fields[j + 1]
    total = total + #fields[j] + n
    if fields[j] == 'p' or fields[j] == 'i' then
      data = data + n
    elseif n > meta_limit then
      big = true
    end
  end
  if data <= limit and not big then return e end
  local kept = {{}}
  for j = 1, #fields, 2 do
    local f = fields[j]
    if f ~= 'p' and f ~= 'i' and #fields[j + 1] <= meta_limit then
      kept[#kept + 1] = f
      kept[#kept + 1] = fields[j + 1]
    end
  end
  kept[#kept + 1] = '{OVERSIZE_FIELD}'
  kept[#kept + 1] = tostring(total)
  return {{e[1], kept}}
end
"
    )
});

/// `KEYS[1]` the job stream; `ARGV`: group, consumer, count, limit on payload plus inputs,
/// limit on any other field. A non-blocking `XREADGROUP ... COUNT n STREAMS jobs >` whose
/// entries pass through `strip`.
static READ_BATCH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(&format!(
        r"{}
local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not r or not r[1] then return {{}} end
local limit, meta_limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {{}}
for _, e in ipairs(r[1][2]) do
  out[#out + 1] = strip(e, limit, meta_limit)
end
return out
",
        *STRIP_LUA
    ))
});

/// Reads up to `count` new entries without blocking; oversized ones without their payload.
pub(super) async fn read_batch(
    link: &mut Link,
    shared: &Shared,
    count: usize,
) -> redis::RedisResult<Vec<Entry>> {
    let mut c = link.conn().await?;
    let v: Value = READ_BATCH
        .key(&shared.keys.jobs)
        .arg(&shared.keys.group)
        .arg(&shared.consumer)
        .arg(count)
        .arg(shared.opts.max_payload_bytes)
        .arg(MAX_META_BYTES)
        .invoke_async(&mut c)
        .await?;
    wire::parse_entries(v).map_err(parse_error)
}

/// Waits up to the block timeout for one new entry (of any size: it is refused after reading
/// if it is over the limit).
pub(super) async fn read_one(link: &mut Link, shared: &Shared) -> redis::RedisResult<Vec<Entry>> {
    let mut c = link.conn().await?;
    let v: Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&shared.keys.group)
        .arg(&shared.consumer)
        .arg("COUNT")
        .arg(1)
        .arg("BLOCK")
        .arg(shared.opts.block_timeout.as_millis() as u64)
        .arg("STREAMS")
        .arg(&shared.keys.jobs)
        .arg(">")
        .query_async(&mut c)
        .await?;
    wire::parse_read(v).map_err(parse_error)
}

pub(super) fn parse_error(msg: impl Into<String>) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected reply",
        msg.into(),
    ))
}
