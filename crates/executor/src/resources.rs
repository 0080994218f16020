//! [`Resources`]: what a worker owns and lends to every task it runs (an HTTP client, a
//! database pool, a rate limiter), the way apalis' `Data<T>` or axum's `State` do it.
//!
//! A backend (or a remote worker process) is given its resources once; a task reads them from
//! its [`TaskContext`](crate::TaskContext) with [`TaskContext::resource`](crate::TaskContext::resource).
//! Tasks then carry only their arguments, and what belongs to the worker — connections, its
//! policy, its source address — stays with the worker and is never sent with a job.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// One resource: the value and its type name (for messages).
#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

/// A set of shared values, at most one per type, cheap to clone (one `Arc`).
///
/// ```
/// use sofleet_executor::Resources;
///
/// struct Pool { size: usize }
/// let resources = Resources::new().with(Pool { size: 4 }).with(String::from("eu-west"));
/// assert_eq!(resources.get::<Pool>().unwrap().size, 4);
/// assert_eq!(resources.get::<String>().unwrap().as_str(), "eu-west");
/// assert!(resources.get::<u32>().is_none());
/// ```
#[derive(Clone, Default)]
pub struct Resources {
    /// `None` while empty, so contexts of workers without resources cost nothing.
    entries: Option<Arc<HashMap<TypeId, Entry>>>,
}

impl Resources {
    /// No resources.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value` (replacing an earlier value of the same type).
    pub fn with<T: Send + Sync + 'static>(self, value: T) -> Self {
        self.with_arc(Arc::new(value))
    }

    /// Adds a value that is already shared (replacing an earlier value of the same type).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sofleet_executor::Resources;
    ///
    /// let shared = Arc::new(vec![1, 2, 3]);
    /// let resources = Resources::new().with_arc(shared.clone());
    /// assert!(Arc::ptr_eq(&resources.get::<Vec<i32>>().unwrap(), &shared));
    /// ```
    pub fn with_arc<T: Send + Sync + 'static>(self, value: Arc<T>) -> Self {
        let mut map = self.entries.map(|m| (*m).clone()).unwrap_or_default();
        map.insert(
            TypeId::of::<T>(),
            Entry {
                value,
                type_name: std::any::type_name::<T>(),
            },
        );
        Resources {
            entries: Some(Arc::new(map)),
        }
    }

    /// The value of type `T`, if one was added.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let entry = self.entries.as_ref()?.get(&TypeId::of::<T>())?;
        entry.value.clone().downcast::<T>().ok()
    }

    /// Whether no resource was added.
    ///
    /// ```
    /// assert!(sofleet_executor::Resources::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.as_ref().is_none_or(|m| m.is_empty())
    }

    /// The type names of the resources, sorted (for messages and `Debug`).
    ///
    /// ```
    /// let r = sofleet_executor::Resources::new().with(7u8);
    /// assert_eq!(r.type_names(), vec!["u8"]);
    /// ```
    pub fn type_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self
            .entries
            .iter()
            .flat_map(|m| m.values().map(|e| e.type_name))
            .collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.type_names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_value_of_the_same_type_replaces_the_earlier_one() {
        let r = Resources::new().with(1u32).with(2u32);
        assert_eq!(*r.get::<u32>().unwrap(), 2);
        assert_eq!(r.type_names(), vec!["u32"]);
    }

    #[test]
    fn clones_share_values_and_adding_to_a_clone_leaves_the_original() {
        let a = Resources::new().with(String::from("x"));
        let b = a.clone().with(5u64);
        assert!(a.get::<u64>().is_none());
        assert!(Arc::ptr_eq(
            &a.get::<String>().unwrap(),
            &b.get::<String>().unwrap()
        ));
        assert_eq!(format!("{b:?}"), r#"{"alloc::string::String", "u64"}"#);
    }
}
