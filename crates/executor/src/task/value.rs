//! Type-erased in-process values: [`ErasedValue`].

use std::any::Any;

use serde::Serialize;

/// A value stored type-erased in a [`JobValue::Local`](crate::backend::JobValue::Local): downcastable, and serialisable when the
/// value came from a [`Task`](crate::Task) (closure outputs are local-only).
pub trait ErasedValue: Any + Send + Sync {
    /// The value as `Any`, for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// serde_json bytes of the value, or why it cannot be serialised.
    fn to_json(&self) -> Result<Vec<u8>, String>;
    /// Rust type name of the value (for error messages).
    fn type_name(&self) -> &'static str;
}

/// A serialisable in-process value.
pub(crate) struct SerValue<T>(pub(crate) T);

impl<T: Serialize + Send + Sync + 'static> ErasedValue for SerValue<T> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn to_json(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(&self.0).map_err(|e| e.to_string())
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// A local-only in-process value (output of a closure task).
pub(crate) struct LocalValue<T>(pub(crate) T);

impl<T: Send + Sync + 'static> ErasedValue for LocalValue<T> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }
    fn to_json(&self) -> Result<Vec<u8>, String> {
        Err(format!(
            "value of type {} came from a local closure task and cannot be serialised",
            std::any::type_name::<T>()
        ))
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}
