//! The journal: append-only JSON Lines files in a directory beside the output, one line per
//! record, written the moment a record arrives.
//!
//! Each line is written with a single `write` call straight to the file (no user-space buffer),
//! so a killed process (SIGKILL, OOM) loses nothing it had handed to the journal: the kernel
//! keeps what was written. The files are also synced to the disk at most a second apart, so a
//! power cut loses at most the last second. A line cut short by a kill is detected when the
//! journal is opened again and cut off; that record was not complete, so its page is fetched
//! again. An exclusive lock on `lock` keeps two crawls from writing one journal.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sofleet_records::{CrawledQuestion, FailureRecord};

use crate::error::{Result, StoreError};

/// Records a crawl produced: question records.
pub(crate) const QUESTIONS: &str = "questions.jsonl";
/// Failure rows.
pub(crate) const FAILURES: &str = "failures.jsonl";
/// Listing pages read (the caller's own serde type).
pub(crate) const LISTINGS: &str = "listings.jsonl";
/// When the unfinished run started.
const RUN: &str = "run.json";
const LOCK: &str = "lock";
/// Longest gap between syncs to the disk.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// One append-only JSON Lines file of the journal.
struct LineFile {
    path: PathBuf,
    file: File,
    line: Vec<u8>,
    dirty: bool,
}

impl LineFile {
    /// Opens (creating) `path` for appending, cutting off a last line left incomplete by a kill.
    fn open(path: PathBuf) -> Result<LineFile> {
        // O_APPEND: every line lands at the end, whoever else wrote to the file.
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| StoreError::io("open", &path, e))?;
        let complete = complete_length(&mut file).map_err(|e| StoreError::io("read", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| StoreError::io("read", &path, e))?
            .len();
        if complete < len {
            file.set_len(complete)
                .map_err(|e| StoreError::io("repair", &path, e))?;
        }
        Ok(LineFile {
            path,
            file,
            line: Vec::with_capacity(4096),
            dirty: false,
        })
    }

    fn append<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, value).map_err(|e| {
            StoreError::io("encode a record for", &self.path, std::io::Error::other(e))
        })?;
        self.line.push(b'\n');
        self.file
            .write_all(&self.line)
            .map_err(|e| StoreError::io("append to", &self.path, e))?;
        self.dirty = true;
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(|e| StoreError::io("sync", &self.path, e))?;
            self.dirty = false;
        }
        Ok(())
    }
}

/// The length of the file up to and including its last newline.
fn complete_length(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut buf = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        std::io::Read::read_exact(file, chunk)?;
        if let Some(pos) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + pos as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// When an unfinished run began (kept across resumes).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct RunInfo {
    started_at_ms: i64,
}

/// A line of a journal file that could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The journal file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// What the decoder said.
    pub error: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} line {}: {}",
            self.file.display(),
            self.line,
            self.error
        )
    }
}

/// The journal of one unfinished crawl: what it has received so far, on disk.
///
/// ```
/// # fn main() -> Result<(), sofleet_store::StoreError> {
/// let dir = tempfile::tempdir().unwrap();
/// let mut journal = sofleet_store::Journal::open(&dir.path().join("posts.parquet.journal"), 0)?;
/// assert!(!journal.resumed());
/// journal.append_listing(&serde_json::json!({"url": "http://127.0.0.1/q?page=1"}))?;
/// let (listings, bad) = journal.listings::<serde_json::Value>()?;
/// assert_eq!((listings.len(), bad.len()), (1, 0));
/// # Ok(()) }
/// ```
pub struct Journal {
    dir: PathBuf,
    _lock: File,
    questions: LineFile,
    failures: LineFile,
    listings: LineFile,
    last_sync: Instant,
    started_at_ms: i64,
    resumed: bool,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .field("resumed", &self.resumed)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal in `dir`, creating it (with `now_ms` as the run's start) or taking up
    /// an unfinished run's journal (keeping its start time). Takes an exclusive lock.
    ///
    /// # Errors
    /// [`StoreError::Busy`] if another process holds the lock, [`StoreError::Io`] for
    /// file-system failures.
    pub fn open(dir: &Path, now_ms: i64) -> Result<Journal> {
        let resumed = dir.join(RUN).is_file();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create", dir, e))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::io("create", &lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Busy {
                    out: dir.with_extension(""),
                    journal: dir.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::io("lock", &lock_path, e));
            }
        }
        let run_path = dir.join(RUN);
        let started_at_ms = match std::fs::read(&run_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<RunInfo>(&b).ok())
        {
            Some(info) => info.started_at_ms,
            None => {
                let info = RunInfo {
                    started_at_ms: now_ms,
                };
                let bytes = serde_json::to_vec(&info).unwrap_or_default();
                std::fs::write(&run_path, bytes)
                    .map_err(|e| StoreError::io("create", &run_path, e))?;
                now_ms
            }
        };
        Ok(Journal {
            questions: LineFile::open(dir.join(QUESTIONS))?,
            failures: LineFile::open(dir.join(FAILURES))?,
            listings: LineFile::open(dir.join(LISTINGS))?,
            dir: dir.to_owned(),
            _lock: lock,
            last_sync: Instant::now(),
            started_at_ms,
            resumed,
        })
    }

    /// Whether the journal held an unfinished run when it was opened.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// When the (first attempt of the) run started, Unix milliseconds.
    pub fn started_at_ms(&self) -> i64 {
        self.started_at_ms
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends a question record.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file cannot be written.
    pub fn append_question(&mut self, question: &CrawledQuestion) -> Result<()> {
        self.questions.append(question)?;
        self.maybe_sync()
    }

    /// Appends a failure row.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file cannot be written.
    pub fn append_failure(&mut self, failure: &FailureRecord) -> Result<()> {
        self.failures.append(failure)?;
        self.maybe_sync()
    }

    /// Appends a listing page read (any serde type; read back with [`Journal::listings`]).
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file cannot be written.
    pub fn append_listing<T: Serialize + ?Sized>(&mut self, listing: &T) -> Result<()> {
        self.listings.append(listing)?;
        self.maybe_sync()
    }

    /// Syncs everything appended so far to the disk.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the sync fails.
    pub fn sync(&mut self) -> Result<()> {
        self.questions.sync()?;
        self.failures.sync()?;
        self.listings.sync()?;
        self.last_sync = Instant::now();
        Ok(())
    }

    fn maybe_sync(&mut self) -> Result<()> {
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// The ids of the question records in the journal.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file cannot be read. Lines that cannot be decoded are not
    /// errors: they are skipped here and reported by finalisation.
    pub fn question_ids(&self) -> Result<HashSet<u64>> {
        let mut ids = HashSet::new();
        for_each_line(&self.dir.join(QUESTIONS), |_, line| {
            if let Ok(id) = serde_json::from_slice::<IdOnly>(line) {
                ids.insert(id.question.id);
            }
        })?;
        Ok(ids)
    }

    /// The listing pages in the journal, and the lines that could not be decoded as `T`.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file cannot be read.
    pub fn listings<T: DeserializeOwned>(&self) -> Result<(Vec<T>, Vec<BadLine>)> {
        let path = self.dir.join(LISTINGS);
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for_each_line(&path, |n, line| match serde_json::from_slice::<T>(line) {
            Ok(v) => good.push(v),
            Err(e) => bad.push(BadLine {
                file: path.clone(),
                line: n,
                error: e.to_string(),
            }),
        })?;
        Ok((good, bad))
    }

    /// Deletes the journal (after a successful, complete finalisation).
    ///
    /// # Errors
    /// [`StoreError::Io`] if the directory cannot be removed.
    pub fn remove(self) -> Result<()> {
        let dir = self.dir.clone();
        drop(self);
        std::fs::remove_dir_all(&dir).map_err(|e| StoreError::io("remove", &dir, e))
    }
}

/// Just enough of a journal line to know its question id.
#[derive(Deserialize)]
pub(crate) struct IdOnly {
    pub(crate) question: IdField,
}

#[derive(Deserialize)]
pub(crate) struct IdField {
    pub(crate) id: u64,
}

/// Calls `f(line_number, bytes)` for every non-empty line of `path` (missing file: no lines).
pub(crate) fn for_each_line(path: &Path, mut f: impl FnMut(u64, &[u8])) -> Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("open", path, e)),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| StoreError::io("read", path, e))?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        let trimmed = line.trim_ascii();
        if !trimmed.is_empty() {
            f(n, trimmed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_short_by_a_kill_is_cut_off_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        {
            let mut j = Journal::open(&jdir, 5).unwrap();
            j.append_listing(&serde_json::json!({"n": 1})).unwrap();
            j.append_listing(&serde_json::json!({"n": 2})).unwrap();
        }
        // A kill in the middle of the third line.
        let path = jdir.join(LISTINGS);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"n": 3, "trunc"#).unwrap();
        drop(f);

        let mut j = Journal::open(&jdir, 99).unwrap();
        assert!(j.resumed());
        assert_eq!(j.started_at_ms(), 5, "the first attempt's start is kept");
        j.append_listing(&serde_json::json!({"n": 4})).unwrap();
        let (got, bad) = j.listings::<serde_json::Value>().unwrap();
        assert!(bad.is_empty(), "{bad:?}");
        let ns: Vec<i64> = got.iter().map(|v| v["n"].as_i64().unwrap()).collect();
        assert_eq!(ns, [1, 2, 4]);
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("posts.parquet.journal");
        let first = Journal::open(&jdir, 0).unwrap();
        let err = Journal::open(&jdir, 0).unwrap_err();
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("posts.parquet"), "{err}");
        drop(first);
        Journal::open(&jdir, 0).unwrap();
    }

    #[test]
    fn undecodable_listing_lines_are_reported_with_their_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let jdir = dir.path().join("j");
        let mut j = Journal::open(&jdir, 0).unwrap();
        j.append_listing(&serde_json::json!({"n": 1})).unwrap();
        j.append_listing(&serde_json::json!("not an object"))
            .unwrap();
        #[derive(Deserialize)]
        struct N {
            #[allow(dead_code)]
            n: i64,
        }
        let (good, bad) = j.listings::<N>().unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 2);
        assert!(bad[0].to_string().contains("line 2"), "{}", bad[0]);
    }
}
