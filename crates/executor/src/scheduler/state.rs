//! The scheduler's state: registering submissions (deduplication by key, dependencies) and
//! reading the backend's reports.

use std::sync::Arc;
use std::time::Instant;

use super::node::{Node, Spec};
use super::{Fx, Op, Shared, State, Sub};
use crate::backend::{JobId, JobOutcome};
use crate::error::{ExecError, TaskStatus};
use crate::events::Event;
use crate::future::{AnyFuture, Cell};
use crate::key::TaskKey;
use crate::options::SubmitOptions;

impl State {
    /// A backend reported job `job` (and, if `also_started`, that it began in the same step).
    pub(super) fn job_completed(
        &mut self,
        job: JobId,
        outcome: JobOutcome,
        also_started: bool,
        fx: &mut Fx,
    ) {
        if also_started && (!self.subscribers.is_empty() || self.monitor.is_some()) {
            self.started(job, false);
        }
        let id = job.node();
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        if n.inflight != Some(job) {
            return;
        }
        n.inflight = None;
        let was_done = n.done;
        self.release_resources(id, fx);
        if was_done {
            // Cancelled while running: the job is back, the node may go now.
            self.maybe_remove(id);
        } else {
            self.apply_outcome(id, outcome, fx);
        }
    }

    /// A job began now: mark the node running (if `mark`) and emit `Started`.
    pub(super) fn started(&mut self, job: JobId, mark: bool) {
        self.started_at(job, mark, None);
    }

    /// A job began at `at` (now if `None`).
    pub(super) fn started_at(&mut self, job: JobId, mark: bool, at: Option<Instant>) {
        let id = job.node();
        let Some(n) = self.nodes.get_mut(&id) else {
            return;
        };
        if n.inflight != Some(job) || n.done {
            return;
        }
        if mark {
            n.cell.set_status(TaskStatus::Running);
        }
        if let Some(m) = &mut self.monitor
            && !n.monitor_running
        {
            n.monitor_running = true;
            m.started(id, &n.cell.name, |m| at.unwrap_or_else(|| m.now()));
        }
        if self.subscribers.is_empty() {
            return;
        }
        let attempt = n.spec.as_ref().map_or(0, |s| s.attempt);
        let (key, name) = (n.cell.key.clone(), n.cell.name.clone());
        self.emit(|| Event::Started { key, name, attempt });
    }

    /// Registers one submission (or finds the live future with its key); returns its cell.
    /// The caller owns one new reference to it.
    pub(super) fn submit_one(
        &mut self,
        shared: &Arc<Shared>,
        sub: Sub,
        deps: &[AnyFuture],
        opts: &SubmitOptions,
        fx: &mut Fx,
    ) -> Arc<Cell> {
        if sub.indexed
            && let Some(&id) = self.by_key.get(&sub.key)
            && let Some(node) = self.nodes.get_mut(&id)
            && node.cell.status() != TaskStatus::Cancelled
        {
            node.refs += 1;
            let cell = node.cell.clone();
            self.stats.deduplicated += 1;
            return cell;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.stats.submitted += 1;
        let cell = Arc::new(Cell::new(id, sub.key.clone(), sub.name.clone()));
        let mut failure = sub.error;
        let mut dep_ids = Vec::with_capacity(deps.len());
        let mut waiting_on = 0;
        for d in deps {
            if !Arc::ptr_eq(&d.handle().shared, shared) {
                failure.get_or_insert(ExecError::ForeignFuture {
                    key: sub.key.clone(),
                    dep_key: d.key().clone(),
                });
                continue;
            }
            let dep_id = d.handle().cell.id;
            let Some(dep) = self.nodes.get_mut(&dep_id) else {
                continue;
            };
            dep.refs += 1;
            dep_ids.push(dep_id);
            match dep.cell.status() {
                TaskStatus::Finished => {}
                TaskStatus::Error | TaskStatus::Cancelled => {
                    if failure.is_none() {
                        let err = dep.cell.error().unwrap_or(ExecError::Cancelled {
                            key: dep.cell.key.clone(),
                        });
                        failure = Some(dependency_failed(&sub.key, &dep.cell.key, &err));
                    }
                }
                TaskStatus::Pending | TaskStatus::Running => {
                    waiting_on += 1;
                    dep.dependents.push(id);
                }
            }
        }
        self.nodes.insert(
            id,
            Node {
                cell: cell.clone(),
                refs: 1,
                spec: Some(Spec {
                    version: sub.version,
                    payload: sub.payload,
                    runner: sub.runner,
                    deps: dep_ids,
                    waiting_on,
                    retry: sub.retry,
                    attempt: 0,
                    dispatches: 0,
                    queued: false,
                }),
                dependents: Vec::new(),
                resources: opts.resources.clone(),
                holding: false,
                inflight: None,
                fire_and_forget: opts.fire_and_forget,
                done: false,
                indexed: sub.indexed,
                monitor_running: false,
            },
        );
        if sub.indexed {
            self.by_key.insert(sub.key.clone(), id);
        }
        if let Some(m) = &mut self.monitor {
            m.submitted(&sub.name);
        }
        self.emit(|| Event::Submitted {
            key: sub.key.clone(),
            name: sub.name.clone(),
        });
        if let Some(err) = failure {
            let status = status_for(&err);
            self.run_ops(vec![Op::Fail(id, err, status)], fx);
        } else if waiting_on == 0 {
            self.try_start(id, fx);
        }
        cell
    }

    pub(super) fn emit(&mut self, ev: impl FnOnce() -> Event) {
        if self.subscribers.is_empty() {
            return;
        }
        let ev = ev();
        self.subscribers
            .retain(|s| s.unbounded_send(ev.clone()).is_ok());
    }
}

pub(super) fn status_for(err: &ExecError) -> TaskStatus {
    if err.is_cancelled() {
        TaskStatus::Cancelled
    } else {
        TaskStatus::Error
    }
}

pub(super) fn dependency_failed(
    key: &TaskKey,
    dep_key: &TaskKey,
    dep_err: &ExecError,
) -> ExecError {
    match dep_err {
        ExecError::DependencyFailed {
            dep_key,
            reason,
            dep_cancelled,
            ..
        } => ExecError::DependencyFailed {
            key: key.clone(),
            dep_key: dep_key.clone(),
            reason: reason.clone(),
            dep_cancelled: *dep_cancelled,
        },
        ExecError::Cancelled { key: k } => ExecError::DependencyFailed {
            key: key.clone(),
            dep_key: k.clone(),
            reason: format!("task {k} was cancelled"),
            dep_cancelled: true,
        },
        other => ExecError::DependencyFailed {
            key: key.clone(),
            dep_key: dep_key.clone(),
            reason: other.to_string(),
            dep_cancelled: false,
        },
    }
}
