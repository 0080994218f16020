//! Task types used by the suite: serde structs registered by
//! [`register_tasks`](super::register_tasks), so a remote backend's workers can run them.

use serde::{Deserialize, Serialize};

use crate::{Task, TaskContext, TaskError};

/// Returns `value` (pure).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Echo {
    /// The value.
    pub value: u64,
}
impl Task for Echo {
    type Output = u64;
    const NAME: &'static str = "conformance-echo";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(self.value)
    }
}

/// Returns `value`; impure by type (fresh key every submission).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImpureEcho {
    /// The value.
    pub value: u64,
}
impl Task for ImpureEcho {
    type Output = u64;
    const NAME: &'static str = "conformance-impure-echo";
    const PURE: bool = false;
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(self.value)
    }
}

/// Returns `a + b`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Add {
    /// Left.
    pub a: u64,
    /// Right.
    pub b: u64,
}
impl Task for Add {
    type Output = u64;
    const NAME: &'static str = "conformance-add";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(self.a + self.b)
    }
}

/// Returns the sum of its `u64` dependency inputs plus `extra`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SumInputs {
    /// Added to the sum.
    pub extra: u64,
}
impl Task for SumInputs {
    type Output = u64;
    const NAME: &'static str = "conformance-sum-inputs";
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        let mut sum = self.extra;
        for i in 0..ctx.input_count() {
            sum += ctx.input::<u64>(i)?;
        }
        Ok(sum)
    }
}

/// Returns input 0 plus one (a link of a dependency chain).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddOne {}
impl Task for AddOne {
    type Output = u64;
    const NAME: &'static str = "conformance-add-one";
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(ctx.input::<u64>(0)? + 1)
    }
}

/// Sleeps `ms` milliseconds (tokio timer), then returns `value`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sleep {
    /// Milliseconds to sleep.
    pub ms: u64,
    /// Returned value.
    pub value: u64,
}
impl Task for Sleep {
    type Output = u64;
    const NAME: &'static str = "conformance-sleep";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        tokio::time::sleep(std::time::Duration::from_millis(self.ms)).await;
        Ok(self.value)
    }
}

/// Panics if `panic`, otherwise returns `i`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Panicky {
    /// Returned value / panic id.
    pub i: u64,
    /// Whether to panic.
    pub panic: bool,
}
impl Task for Panicky {
    type Output = u64;
    const NAME: &'static str = "conformance-panicky";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        if self.panic {
            panic!("{} {}", super::PANIC_MARKER, self.i);
        }
        Ok(self.i)
    }
}

/// Fails fatally if `fatal`; otherwise fails retryably on attempts below `fail_times` and
/// then returns the attempt number.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flaky {
    /// Attempts that fail before success.
    pub fail_times: u32,
    /// Fail fatally instead.
    pub fatal: bool,
    /// Distinguishes otherwise identical submissions.
    pub tag: u64,
}
impl Task for Flaky {
    type Output = u32;
    const NAME: &'static str = "conformance-flaky";
    const PURE: bool = false;
    async fn run(self, ctx: TaskContext) -> Result<u32, TaskError> {
        if self.fatal {
            return Err(TaskError::fatal("flaky: fatal failure"));
        }
        if ctx.attempt() < self.fail_times {
            return Err(TaskError::retryable(format!(
                "flaky: transient failure on attempt {}",
                ctx.attempt()
            )));
        }
        Ok(ctx.attempt())
    }
}

/// Always fails fatally with `message`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fail {
    /// Error message.
    pub message: String,
}
impl Task for Fail {
    type Output = u64;
    const NAME: &'static str = "conformance-fail";
    async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
        Err(TaskError::fatal(self.message))
    }
}
