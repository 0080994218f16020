//! Outcomes: finishing, retrying and failing nodes, propagating failures to dependents and
//! releasing what finished nodes held.

use super::state::{dependency_failed, status_for};
use super::{Fx, Op, State};
use crate::backend::{JobOutcome, JobValue};
use crate::error::{ExecError, TaskStatus};
use crate::events::Event;
use crate::monitor::SpanOutcome;

impl State {
    pub(super) fn apply_outcome(&mut self, id: u64, outcome: JobOutcome, fx: &mut Fx) {
        if let JobOutcome::Success(v) = outcome {
            return self.finish(id, v, fx);
        }
        let n = self.nodes.get_mut(&id).expect("caller checked");
        let key = n.cell.key.clone();
        let name = n.cell.name.clone();
        match outcome {
            JobOutcome::Success(v) => self.finish(id, v, fx),
            JobOutcome::Failed(e) => {
                let spec = n.spec.as_mut().expect("unfinished node has a spec");
                if e.is_retryable() && spec.attempt < spec.retry.max_retries {
                    spec.attempt += 1;
                    let attempt = spec.attempt;
                    let delay = spec.retry.delay(attempt);
                    n.cell.set_status(TaskStatus::Pending);
                    if let Some(m) = &mut self.monitor {
                        m.ended(id, &name, SpanOutcome::Retried, n.monitor_running);
                        n.monitor_running = false;
                    }
                    self.emit(|| Event::Retried {
                        key,
                        name,
                        attempt,
                        delay,
                        error: e.message().to_string(),
                    });
                    if delay.is_zero() {
                        self.try_start(id, fx);
                    } else {
                        fx.timers.push((delay, id, attempt));
                    }
                } else {
                    let err = ExecError::Task {
                        key,
                        name,
                        message: e.message().to_string(),
                        retryable: e.is_retryable(),
                        attempts: spec.attempt + 1,
                    };
                    self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
                }
            }
            JobOutcome::Panicked(message) => {
                let err = ExecError::Panicked { key, name, message };
                self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
            }
            JobOutcome::BackendError(message) => {
                let err = ExecError::Backend(crate::BackendError {
                    key: Some(key),
                    message,
                });
                self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
            }
            JobOutcome::Cancelled => {
                self.run_ops(
                    vec![Op::Fail(
                        id,
                        ExecError::Cancelled { key },
                        TaskStatus::Cancelled,
                    )],
                    fx,
                );
            }
        }
    }

    pub(super) fn finish(&mut self, id: u64, value: JobValue, fx: &mut Fx) {
        let n = self.nodes.get_mut(&id).expect("caller checked");
        n.done = true;
        let spec = n.spec.take();
        let dependents = std::mem::take(&mut n.dependents);
        n.cell
            .complete(TaskStatus::Finished, Ok(value), &mut fx.wakers);
        if let Some(m) = &mut self.monitor {
            m.ended(id, &n.cell.name, SpanOutcome::Finished, n.monitor_running);
            n.monitor_running = false;
        }
        if !self.subscribers.is_empty() {
            let (key, name) = (n.cell.key.clone(), n.cell.name.clone());
            self.emit(|| Event::Finished { key, name });
        }
        for d in dependents {
            let ready = match self.nodes.get_mut(&d).and_then(|n| n.spec.as_mut()) {
                Some(s) => {
                    s.waiting_on = s.waiting_on.saturating_sub(1);
                    s.waiting_on == 0
                }
                None => false,
            };
            if ready {
                self.try_start(d, fx);
            }
        }
        if let Some(spec) = spec
            && !spec.deps.is_empty()
        {
            self.run_ops(spec.deps.into_iter().map(Op::Decref).collect(), fx);
        }
        self.maybe_remove(id);
    }

    pub(super) fn run_ops(&mut self, mut ops: Vec<Op>, fx: &mut Fx) {
        while let Some(op) = ops.pop() {
            match op {
                Op::Decref(id) => {
                    let Some(n) = self.nodes.get_mut(&id) else {
                        continue;
                    };
                    n.refs = n.refs.saturating_sub(1);
                    if n.refs > 0 {
                        continue;
                    }
                    if !n.done && !n.fire_and_forget {
                        let key = n.cell.key.clone();
                        self.fail_one(
                            id,
                            ExecError::Cancelled { key },
                            TaskStatus::Cancelled,
                            &mut ops,
                            fx,
                        );
                    }
                    self.maybe_remove(id);
                }
                Op::Fail(id, err, status) => {
                    self.fail_one(id, err, status, &mut ops, fx);
                    self.maybe_remove(id);
                }
            }
        }
    }

    /// Marks one node failed, queues its dependents' failures and its dependencies' decrefs.
    pub(super) fn fail_one(
        &mut self,
        id: u64,
        err: ExecError,
        status: TaskStatus,
        ops: &mut Vec<Op>,
        fx: &mut Fx,
    ) {
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        if n.done {
            return;
        }
        n.done = true;
        if let Some(j) = n.inflight {
            fx.cancels.push(j);
        }
        let spec = n.spec.take();
        let dependents = std::mem::take(&mut n.dependents);
        let key = n.cell.key.clone();
        let name = n.cell.name.clone();
        let message = err.to_string();
        for d in dependents {
            if let Some(dn) = self.nodes.get(&d)
                && !dn.done
            {
                let derr = dependency_failed(&dn.cell.key, &key, &err);
                let dstatus = status_for(&derr);
                ops.push(Op::Fail(d, derr, dstatus));
            }
        }
        let n = self.nodes.get_mut(&id).expect("present");
        n.cell.complete(status, Err(err), &mut fx.wakers);
        if let Some(m) = &mut self.monitor {
            let outcome = if status == TaskStatus::Cancelled {
                SpanOutcome::Cancelled
            } else {
                SpanOutcome::Failed
            };
            m.ended(id, &name, outcome, n.monitor_running);
            n.monitor_running = false;
        }
        if status == TaskStatus::Cancelled {
            self.emit(|| Event::Cancelled { key, name });
        } else {
            self.emit(|| Event::Failed {
                key,
                name,
                error: message,
            });
        }
        if let Some(spec) = spec {
            ops.extend(spec.deps.into_iter().map(Op::Decref));
        }
    }

    pub(super) fn maybe_remove(&mut self, id: u64) {
        let Some(n) = self.nodes.get(&id) else {
            return;
        };
        if n.refs == 0 && n.inflight.is_none() && n.done {
            let indexed = n.indexed;
            if let Some(n) = self.nodes.remove(&id)
                && indexed
                && self.by_key.get(&n.cell.key) == Some(&id)
            {
                self.by_key.remove(&n.cell.key);
            }
        }
    }
}
