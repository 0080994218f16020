//! Reading Redis' reply values: stream entries (XREAD, XREADGROUP, XAUTOCLAIM and the
//! worker's scripts) and consumer lists (`XINFO CONSUMERS`), in RESP2 or RESP3 shapes.

use redis::Value;

use super::Entry;

fn value_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.into_bytes()),
        _ => None,
    }
}

fn value_string(v: Value) -> Option<String> {
    value_bytes(v).and_then(|b| String::from_utf8(b).ok())
}

fn value_u64(v: Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(i).ok(),
        other => value_string(other).and_then(|s| s.parse().ok()),
    }
}

fn into_items(v: Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(items) | Value::Set(items) => Some(items),
        Value::Map(pairs) => Some(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        _ => None,
    }
}

/// Parses an array of `[id, [field, value, ...]]` entries; entries without fields (deleted) are
/// skipped.
pub(crate) fn parse_entries(v: Value) -> Result<Vec<Entry>, String> {
    let items = match v {
        Value::Nil => return Ok(Vec::new()),
        other => into_items(other).ok_or("stream entries are not an array")?,
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut parts = into_items(item)
            .ok_or("stream entry is not an array")?
            .into_iter();
        let id = parts
            .next()
            .and_then(value_string)
            .ok_or("stream entry has no id")?;
        let Some(fields) = parts.next().and_then(into_items) else {
            continue;
        };
        let mut pairs = Vec::with_capacity(fields.len() / 2);
        let mut it = fields.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if let (Some(k), Some(v)) = (value_bytes(k), value_bytes(v)) {
                pairs.push((k, v));
            }
        }
        out.push(Entry { id, fields: pairs });
    }
    Ok(out)
}

/// Parses an XREAD / XREADGROUP reply for a single stream (`Nil` on timeout).
pub(crate) fn parse_read(v: Value) -> Result<Vec<Entry>, String> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Map(pairs) => {
            let mut out = Vec::new();
            for (_, entries) in pairs {
                out.extend(parse_entries(entries)?);
            }
            Ok(out)
        }
        other => {
            let mut out = Vec::new();
            for stream in into_items(other).ok_or("XREAD reply is not an array")? {
                let mut parts = into_items(stream)
                    .ok_or("XREAD stream reply is not an array")?
                    .into_iter();
                let _key = parts.next();
                if let Some(entries) = parts.next() {
                    out.extend(parse_entries(entries)?);
                }
            }
            Ok(out)
        }
    }
}

/// Parses an XAUTOCLAIM reply into the next cursor and the claimed entries.
pub(crate) fn parse_autoclaim(v: Value) -> Result<(String, Vec<Entry>), String> {
    let mut parts = into_items(v)
        .ok_or("XAUTOCLAIM reply is not an array")?
        .into_iter();
    let cursor = parts
        .next()
        .and_then(value_string)
        .ok_or("XAUTOCLAIM reply has no cursor")?;
    let entries = parse_entries(parts.next().unwrap_or(Value::Nil))?;
    Ok((cursor, entries))
}

/// One consumer of a group, from `XINFO CONSUMERS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsumerInfo {
    pub name: String,
    pub pending: u64,
    /// Milliseconds since the consumer last read or claimed.
    pub idle_ms: u64,
}

/// Parses an `XINFO CONSUMERS` reply (RESP2 flat arrays or RESP3 maps).
pub(crate) fn parse_consumers(v: Value) -> Result<Vec<ConsumerInfo>, String> {
    let mut out = Vec::new();
    for item in into_items(v).ok_or("XINFO CONSUMERS reply is not an array")? {
        let mut info = ConsumerInfo {
            name: String::new(),
            pending: 0,
            idle_ms: 0,
        };
        let mut it = into_items(item)
            .ok_or("XINFO CONSUMERS item is not an array")?
            .into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            match value_string(k).as_deref() {
                Some("name") => info.name = value_string(v).unwrap_or_default(),
                Some("pending") => info.pending = value_u64(v).unwrap_or(0),
                Some("idle") => info.idle_ms = value_u64(v).unwrap_or(0),
                _ => {}
            }
        }
        if info.name.is_empty() {
            return Err("XINFO CONSUMERS item has no name".into());
        }
        out.push(info);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_lists_parse() {
        let item = |name: &str, pending: i64, idle: i64| {
            Value::Array(vec![
                Value::BulkString(b"name".to_vec()),
                Value::BulkString(name.as_bytes().to_vec()),
                Value::BulkString(b"pending".to_vec()),
                Value::Int(pending),
                Value::BulkString(b"idle".to_vec()),
                Value::Int(idle),
            ])
        };
        let v = Value::Array(vec![item("a", 0, 10), item("b", 2, 5)]);
        let cs = parse_consumers(v).unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(
            (cs[1].name.as_str(), cs[1].pending, cs[1].idle_ms),
            ("b", 2, 5)
        );
        assert!(parse_consumers(Value::Int(3)).is_err());
        assert!(parse_consumers(Value::Array(vec![Value::Array(vec![])])).is_err());
    }

    #[test]
    fn stream_replies_parse() {
        let entry = |id: &str| {
            Value::Array(vec![
                Value::BulkString(id.as_bytes().to_vec()),
                Value::Array(vec![
                    Value::BulkString(b"j".to_vec()),
                    Value::BulkString(b"1".to_vec()),
                ]),
            ])
        };
        let read = Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"s".to_vec()),
            Value::Array(vec![entry("1-0"), entry("2-0")]),
        ])]);
        let es = parse_read(read).unwrap();
        assert_eq!(es.len(), 2);
        assert_eq!(es[1].id, "2-0");
        assert_eq!(es[0].get_u64("j"), Some(1));
        assert!(parse_read(Value::Nil).unwrap().is_empty());
        let claim = Value::Array(vec![
            Value::BulkString(b"0-0".to_vec()),
            Value::Array(vec![entry("3-0")]),
            Value::Array(vec![]),
        ]);
        let (cursor, es) = parse_autoclaim(claim).unwrap();
        assert_eq!((cursor.as_str(), es.len()), ("0-0", 1));
    }
}
