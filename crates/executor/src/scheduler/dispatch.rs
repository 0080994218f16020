//! Dispatch: a ready node becomes a [`Job`] for the backend, within its resource limits.

use super::{Fx, Op, State};
use crate::backend::{BackendError, Job, JobId, JobWork};
use crate::error::{ExecError, TaskStatus};

impl State {
    /// Dispatches node `id` if its resources allow, otherwise queues it on a full resource.
    pub(super) fn try_start(&mut self, id: u64, fx: &mut Fx) {
        let Some(n) = self.nodes.get(&id) else { return };
        if n.done || n.inflight.is_some() {
            return;
        }
        if !n.resources.is_empty() {
            let full = n.resources.iter().find(|tag| {
                self.resources
                    .get(tag.as_str())
                    .is_some_and(|r| r.limit.is_some_and(|l| r.in_use >= l))
            });
            if let Some(tag) = full.cloned() {
                if let Some(r) = self.resources.get_mut(&tag) {
                    r.queue.push_back(id);
                }
                if let Some(s) = self.nodes.get_mut(&id).and_then(|n| n.spec.as_mut()) {
                    s.queued = true;
                }
                return;
            }
            let tags = n.resources.clone();
            for tag in &tags {
                self.resources.entry(tag.clone()).or_default().in_use += 1;
            }
        }
        // Gather inputs from finished dependencies.
        let deps = match self.nodes.get(&id).and_then(|n| n.spec.as_ref()) {
            Some(s) => s.deps.clone(),
            None => return,
        };
        let mut inputs = Vec::with_capacity(deps.len());
        for d in &deps {
            match self.nodes.get(d).and_then(|n| n.cell.value()) {
                Some(v) => inputs.push(v),
                None => {
                    // Cannot happen (dependencies are finished and referenced); fail clearly.
                    let n = &self.nodes[&id];
                    let err = ExecError::Backend(BackendError {
                        key: Some(n.cell.key.clone()),
                        message: "internal: a dependency's value is missing".into(),
                    });
                    self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
                    return;
                }
            }
        }
        let in_process = self.in_process;
        let backend_name = &self.backend_name;
        let n = self.nodes.get_mut(&id).expect("node checked above");
        let spec = n.spec.as_mut().expect("spec checked above");
        let work = match (in_process, spec.runner.as_mut(), &spec.payload) {
            (true, Some(runner), payload) => runner
                .make(payload.as_deref())
                .map(JobWork::Local)
                .map_err(|message| ExecError::Task {
                    key: n.cell.key.clone(),
                    name: n.cell.name.clone(),
                    message,
                    retryable: false,
                    attempts: spec.attempt,
                }),
            (false, _, Some(payload)) => Ok(JobWork::Serialized(payload.clone())),
            (false, _, None) => Err(ExecError::Backend(BackendError {
                key: Some(n.cell.key.clone()),
                message: format!(
                    "task {} ({}) is a local closure task and cannot run on the {backend_name} \
                     backend: submit a Task type that the workers registered in their TaskRegistry",
                    n.cell.key, n.cell.name
                ),
            })),
            (true, None, _) => Err(ExecError::Backend(BackendError {
                key: Some(n.cell.key.clone()),
                message: "internal: an in-process task has no runner".into(),
            })),
        };
        let work = match work {
            Ok(work) => work,
            Err(err) => {
                if !n.resources.is_empty() {
                    self.release_tags(id, fx);
                }
                self.run_ops(vec![Op::Fail(id, err, TaskStatus::Error)], fx);
                return;
            }
        };
        self.stats.dispatched += 1;
        n.holding = !n.resources.is_empty();
        spec.queued = false;
        spec.dispatches += 1;
        let job_id = JobId::for_dispatch(id, spec.dispatches);
        n.inflight = Some(job_id);
        fx.jobs.push(Job {
            id: job_id,
            key: n.cell.key.clone(),
            name: n.cell.name.clone(),
            version: spec.version,
            attempt: spec.attempt,
            inputs,
            work,
        });
    }

    pub(super) fn release_tags(&mut self, id: u64, fx: &mut Fx) {
        let tags = match self.nodes.get(&id) {
            Some(n) => n.resources.clone(),
            None => return,
        };
        for tag in &tags {
            if let Some(r) = self.resources.get_mut(tag) {
                r.in_use = r.in_use.saturating_sub(1);
            }
        }
        for tag in &tags {
            self.drain_resource(tag, fx);
        }
    }

    pub(super) fn release_resources(&mut self, id: u64, fx: &mut Fx) {
        let holding = self
            .nodes
            .get_mut(&id)
            .is_some_and(|n| std::mem::take(&mut n.holding));
        if holding {
            self.release_tags(id, fx);
        }
    }

    /// Starts queued nodes of `tag` while it has room.
    pub(super) fn drain_resource(&mut self, tag: &str, fx: &mut Fx) {
        loop {
            let Some(r) = self.resources.get_mut(tag) else {
                return;
            };
            if r.limit.is_some_and(|l| r.in_use >= l) {
                return;
            }
            let Some(id) = r.queue.pop_front() else {
                return;
            };
            let queued = self
                .nodes
                .get(&id)
                .is_some_and(|n| !n.done && n.spec.as_ref().is_some_and(|s| s.queued));
            if queued {
                if let Some(s) = self.nodes.get_mut(&id).and_then(|n| n.spec.as_mut()) {
                    s.queued = false;
                }
                self.try_start(id, fx);
            }
        }
    }
}
