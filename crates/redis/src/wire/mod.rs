//! Wire format of job and reply stream entries (`parse.rs`: reading them, and the other
//! stream command replies, out of Redis' reply values).
//!
//! A job entry on `{ns}:jobs` has the fields `r` (reply stream key), `j` (job id), `k` (task
//! key), `n` (task name), `v` (task version), `a` (attempt), `p` (serde_json payload) and, when
//! the job has dependency inputs, `i` (the inputs, each as a little-endian `u32` length followed
//! by its serde_json bytes). A reply entry has `j` (job id), `t` (`s` started, `ok`, `fail`,
//! `panic`, `be` backend error, `cancel`), `d` (data: output JSON, [`TaskError`] JSON or a
//! message) and `w` (the worker's name).

mod parse;

use std::sync::Arc;

use sofleet_executor::TaskError;
use sofleet_executor::backend::{Job, JobOutcome, JobValue};

pub(crate) use parse::{parse_autoclaim, parse_consumers, parse_entries, parse_read};

/// Field a worker's batch read adds to an entry it handed over without its payload and inputs
/// (they are over the worker's limit): the entry's total size in bytes.
pub(crate) const OVERSIZE_FIELD: &str = "_size";

/// One stream entry: id and raw field/value pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    pub id: String,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    pub(crate) fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    pub(crate) fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|b| std::str::from_utf8(b).ok())
    }

    pub(crate) fn get_u64(&self, name: &str) -> Option<u64> {
        self.get_str(name).and_then(|s| s.parse().ok())
    }
}

/// A job as encoded for the job stream (kept by the client for resubmission).
#[derive(Debug)]
pub(crate) struct EncodedJob {
    pub fields: Vec<(&'static str, Arc<[u8]>)>,
}

/// Encodes a job for the job stream, enforcing the size limit on payload plus inputs.
pub(crate) fn encode_job(job: &Job, reply: &str, max_bytes: usize) -> Result<EncodedJob, String> {
    // The client refuses closures on an out-of-process backend before dispatch; an in-process
    // job reaching this backend anyway is refused the same way, never sent.
    let Some(payload) = job.payload().cloned() else {
        return Err(format!(
            "task {} ({}) is a local closure task and cannot run on the redis backend: submit a \
             Task type that the workers registered in their TaskRegistry",
            job.key, job.name
        ));
    };
    let inputs = job.inputs_as_bytes()?;
    let size = payload.len() + inputs.iter().map(|i| i.len() + 4).sum::<usize>();
    if size > max_bytes {
        return Err(format!(
            "task {} ({} v{}): payload and inputs are {size} bytes, over the redis backend limit \
             of {max_bytes} bytes (RedisOptions::max_payload_bytes); pass large data by \
             reference (a path or URL) or raise the limit on the client and the workers",
            job.key, job.name, job.version
        ));
    }
    let mut fields: Vec<(&'static str, Arc<[u8]>)> = vec![
        ("r", Arc::from(reply.as_bytes())),
        ("j", Arc::from(job.id.0.to_string().as_bytes())),
        ("k", Arc::from(job.key.as_str().as_bytes())),
        ("n", Arc::from(job.name.as_bytes())),
        ("v", Arc::from(job.version.to_string().as_bytes())),
        ("a", Arc::from(job.attempt.to_string().as_bytes())),
        ("p", payload),
    ];
    if !inputs.is_empty() {
        fields.push(("i", encode_inputs(&inputs).into()));
    }
    Ok(EncodedJob { fields })
}

/// Length-prefixed concatenation of input values.
pub(crate) fn encode_inputs(inputs: &[Arc<[u8]>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inputs.iter().map(|i| i.len() + 4).sum());
    for i in inputs {
        out.extend_from_slice(&(i.len() as u32).to_le_bytes());
        out.extend_from_slice(i);
    }
    out
}

/// Inverse of [`encode_inputs`].
pub(crate) fn decode_inputs(mut bytes: &[u8]) -> Result<Vec<JobValue>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 4 {
            return Err("truncated input length".into());
        }
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        bytes = &bytes[4..];
        if bytes.len() < len {
            return Err(format!(
                "input {} claims {len} bytes but only {} remain",
                out.len(),
                bytes.len()
            ));
        }
        out.push(JobValue::Bytes(Arc::from(&bytes[..len])));
        bytes = &bytes[len..];
    }
    Ok(out)
}

/// A decoded job entry, as a worker sees it.
#[derive(Debug)]
pub(crate) struct WireJob {
    pub entry_id: String,
    pub reply: String,
    pub job_id: u64,
    pub key: String,
    pub name: String,
    pub version: u32,
    pub attempt: u32,
    pub payload: Vec<u8>,
    pub inputs: Vec<JobValue>,
}

/// Where to send the verdict on an entry that could not be decoded.
#[derive(Debug)]
pub(crate) struct BadJob {
    pub entry_id: String,
    /// Reply stream and job id, if those at least were readable.
    pub reply_to: Option<(String, u64)>,
    pub message: String,
}

/// Decodes a job entry; `max_bytes` limits payload plus inputs. The reply stream must start
/// with `reply_prefix` (a worker only writes results to reply streams of its namespace).
pub(crate) fn decode_job(
    entry: Entry,
    max_bytes: usize,
    reply_prefix: &str,
) -> Result<WireJob, BadJob> {
    let reply_to = match (entry.get_str("r"), entry.get_u64("j")) {
        (Some(r), Some(j)) if r.starts_with(reply_prefix) => Some((r.to_string(), j)),
        _ => None,
    };
    let bad = |message: String| BadJob {
        entry_id: entry.id.clone(),
        reply_to: reply_to.clone(),
        message,
    };
    let Some((reply, job_id)) = reply_to.clone() else {
        return Err(bad(format!(
            "job stream entry {} has no job id (j) or no reply stream (r) starting with {reply_prefix:?}; \
             it was not written by a sofleet client of this namespace",
            entry.id
        )));
    };
    let key = entry.get_str("k").unwrap_or("?").to_string();
    let (Some(name), Some(version)) = (entry.get_str("n"), entry.get_u64("v")) else {
        return Err(bad(format!(
            "job entry {} for task {key} has no task name (n) or version (v)",
            entry.id
        )));
    };
    let payload_len = entry.get("p").map_or(0, <[u8]>::len);
    let inputs_len = entry.get("i").map_or(0, <[u8]>::len);
    let size = entry
        .get_u64(OVERSIZE_FIELD)
        .unwrap_or((payload_len + inputs_len) as u64);
    if entry.get(OVERSIZE_FIELD).is_some() || size > max_bytes as u64 {
        return Err(bad(format!(
            "task {key} ({name} v{version}): job is {size} bytes, over the worker's limit of \
             {max_bytes} bytes for payload and inputs (WorkerOptions::max_payload_bytes)"
        )));
    }
    let inputs = match entry.get("i") {
        Some(b) => decode_inputs(b)
            .map_err(|e| bad(format!("task {key} ({name} v{version}): bad inputs: {e}")))?,
        None => Vec::new(),
    };
    let Some(payload) = entry.get("p") else {
        return Err(bad(format!(
            "task {key} ({name} v{version}): job entry has no payload (p)"
        )));
    };
    Ok(WireJob {
        reply,
        job_id,
        name: name.to_string(),
        version: version as u32,
        attempt: entry.get_u64("a").unwrap_or(0) as u32,
        payload: payload.to_vec(),
        inputs,
        key,
        entry_id: entry.id.clone(),
    })
}

/// Encodes an outcome as a reply type tag and data bytes.
pub(crate) fn encode_outcome(outcome: &JobOutcome) -> (&'static str, Vec<u8>) {
    match outcome {
        JobOutcome::Success(v) => match v.to_bytes() {
            Ok(b) => ("ok", b.to_vec()),
            Err(e) => encode_outcome(&JobOutcome::Failed(TaskError::fatal(format!(
                "cannot serialise task output: {e}"
            )))),
        },
        JobOutcome::Failed(e) => (
            "fail",
            serde_json::to_vec(e).unwrap_or_else(|_| e.message().as_bytes().to_vec()),
        ),
        JobOutcome::Panicked(m) => ("panic", m.as_bytes().to_vec()),
        JobOutcome::BackendError(m) => ("be", m.as_bytes().to_vec()),
        JobOutcome::Cancelled => ("cancel", Vec::new()),
    }
}

/// What a reply entry says.
#[derive(Debug)]
pub(crate) enum Reply {
    Started,
    Done(JobOutcome),
}

/// Decodes a reply entry into job id and report.
pub(crate) fn decode_reply(entry: &Entry) -> Result<(u64, Reply), String> {
    let job = entry
        .get_u64("j")
        .ok_or_else(|| format!("reply entry {} has no job id", entry.id))?;
    let data = entry.get("d").unwrap_or_default();
    let text = || String::from_utf8_lossy(data).into_owned();
    let reply = match entry.get_str("t").unwrap_or("") {
        "s" => Reply::Started,
        "ok" => Reply::Done(JobOutcome::Success(JobValue::Bytes(Arc::from(data)))),
        "fail" => Reply::Done(JobOutcome::Failed(
            serde_json::from_slice(data).unwrap_or_else(|_| TaskError::fatal(text())),
        )),
        "panic" => Reply::Done(JobOutcome::Panicked(text())),
        "be" => Reply::Done(JobOutcome::BackendError(text())),
        "cancel" => Reply::Done(JobOutcome::Cancelled),
        other => {
            return Err(format!(
                "reply entry {} has unknown type {other:?}",
                entry.id
            ));
        }
    };
    Ok((job, reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sofleet_executor::TaskKey;
    use sofleet_executor::backend::{JobId, JobWork, LocalRunner};

    fn job(payload: Option<&[u8]>, inputs: Vec<JobValue>) -> Job {
        Job {
            id: JobId(7),
            key: TaskKey::new("sq-1"),
            name: "sq".into(),
            version: 2,
            attempt: 1,
            inputs,
            work: match payload {
                Some(bytes) => JobWork::Serialized(Arc::from(bytes)),
                None => JobWork::Local(LocalRunner::Blocking(Box::new(|_| {
                    Ok(JobValue::local_only(()))
                }))),
            },
        }
    }

    fn to_entry(id: &str, enc: &EncodedJob) -> Entry {
        Entry {
            id: id.into(),
            fields: enc
                .fields
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn job_round_trips_with_inputs() {
        let inputs = vec![
            JobValue::local(5_i64),
            JobValue::Bytes(Arc::from(&b"\"x\""[..])),
        ];
        let enc = encode_job(&job(Some(b"{\"x\":3}"), inputs), "ns:reply:c", 1000).unwrap();
        let w = decode_job(to_entry("1-0", &enc), 1000, "ns:reply:").unwrap();
        assert_eq!(w.reply, "ns:reply:c");
        assert_eq!((w.job_id, w.version, w.attempt), (7, 2, 1));
        assert_eq!((w.key.as_str(), w.name.as_str()), ("sq-1", "sq"));
        assert_eq!(w.payload, b"{\"x\":3}");
        assert_eq!(w.inputs.len(), 2);
        assert_eq!(w.inputs[0].get::<i64>().unwrap(), 5);
        assert_eq!(w.inputs[1].get::<String>().unwrap(), "x");
    }

    #[test]
    fn limits_and_closures_are_rejected() {
        let e = encode_job(&job(None, vec![]), "r", 1000).unwrap_err();
        assert!(e.contains("closure"), "{e}");
        let e = encode_job(&job(Some(&[b'1'; 200]), vec![]), "r", 100).unwrap_err();
        assert!(e.contains("max_payload_bytes") && e.contains("200"), "{e}");
        let enc = encode_job(&job(Some(&[b'1'; 200]), vec![]), "r", 1000).unwrap();
        let bad = decode_job(to_entry("1-0", &enc), 100, "").unwrap_err();
        assert_eq!(bad.reply_to, Some(("r".to_string(), 7)));
        assert!(
            bad.message.contains("WorkerOptions::max_payload_bytes"),
            "{}",
            bad.message
        );
    }

    #[test]
    fn malformed_entries_are_reported() {
        let bad = decode_job(
            Entry {
                id: "1-1".into(),
                fields: vec![],
            },
            10,
            "",
        )
        .unwrap_err();
        assert!(bad.reply_to.is_none());
        let e = Entry {
            id: "1-2".into(),
            fields: vec![
                (b"r".to_vec(), b"x".to_vec()),
                (b"j".to_vec(), b"3".to_vec()),
            ],
        };
        let bad = decode_job(e.clone(), 10, "").unwrap_err();
        assert_eq!(bad.reply_to, Some(("x".to_string(), 3)));
        // A reply stream outside the namespace is never written to.
        let bad = decode_job(e, 10, "ns:reply:").unwrap_err();
        assert!(bad.reply_to.is_none(), "{bad:?}");
        assert!(decode_inputs(&[1, 0]).is_err());
        assert!(decode_inputs(&[5, 0, 0, 0, b'1']).is_err());
    }

    #[test]
    fn outcomes_round_trip() {
        let cases = vec![
            JobOutcome::Success(JobValue::local(vec![1, 2])),
            JobOutcome::Failed(TaskError::retryable("flaky")),
            JobOutcome::Panicked("boom".into()),
            JobOutcome::BackendError("unknown task".into()),
            JobOutcome::Cancelled,
        ];
        for o in cases {
            let (t, d) = encode_outcome(&o);
            let entry = Entry {
                id: "1-0".into(),
                fields: vec![
                    (b"j".to_vec(), b"9".to_vec()),
                    (b"t".to_vec(), t.as_bytes().to_vec()),
                    (b"d".to_vec(), d),
                ],
            };
            let (j, r) = decode_reply(&entry).unwrap();
            assert_eq!(j, 9);
            let Reply::Done(back) = r else {
                panic!("not done")
            };
            match (o, back) {
                (JobOutcome::Success(a), JobOutcome::Success(b)) => {
                    assert_eq!(a.get::<Vec<i32>>().unwrap(), b.get::<Vec<i32>>().unwrap())
                }
                (JobOutcome::Failed(a), JobOutcome::Failed(b)) => assert_eq!(a, b),
                (JobOutcome::Panicked(a), JobOutcome::Panicked(b)) => assert_eq!(a, b),
                (JobOutcome::BackendError(a), JobOutcome::BackendError(b)) => assert_eq!(a, b),
                (JobOutcome::Cancelled, JobOutcome::Cancelled) => {}
                (a, b) => panic!("{a:?} came back as {b:?}"),
            }
        }
    }

    #[test]
    fn oversized_entries_are_refused_by_size() {
        let e = Entry {
            id: "5-0".into(),
            fields: vec![
                (b"r".to_vec(), b"ns:reply:c".to_vec()),
                (b"j".to_vec(), b"4".to_vec()),
                (b"k".to_vec(), b"big-4".to_vec()),
                (b"n".to_vec(), b"t".to_vec()),
                (b"v".to_vec(), b"1".to_vec()),
                (OVERSIZE_FIELD.as_bytes().to_vec(), b"3000000".to_vec()),
            ],
        };
        let bad = decode_job(e, 2048, "ns:reply:").unwrap_err();
        assert_eq!(bad.reply_to, Some(("ns:reply:c".to_string(), 4)));
        assert!(
            bad.message
                .contains("job is 3000000 bytes, over the worker's limit of 2048"),
            "{}",
            bad.message
        );
    }
}
