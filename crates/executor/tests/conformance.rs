//! The shared conformance suite, run against every backend of this crate.

use sofleet_executor::{Client, TaskRegistry, ThreadsBackend, TokioBackend, conformance};

fn registry() -> TaskRegistry {
    let mut r = TaskRegistry::new();
    conformance::register_tasks(&mut r);
    r
}

mod threads {
    use super::*;
    sofleet_executor::conformance_tests!(async { Client::new(ThreadsBackend::new(4)) });
}

mod tokio_backend {
    use super::*;
    sofleet_executor::conformance_tests!(async { Client::new(TokioBackend::new()) });
}

/// Jobs cross a serialisation boundary and run through the registry, as on a remote worker.
mod threads_serialized {
    use super::*;
    sofleet_executor::conformance_tests!(async {
        Client::new(ThreadsBackend::serialized(4, registry()))
    });
}

mod tokio_serialized {
    use super::*;
    sofleet_executor::conformance_tests!(async {
        Client::new(TokioBackend::serialized(registry()))
    });
}
