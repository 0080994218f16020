//! Template filters: the site's own escaping, exactly what an HTML
//! serializer writes back (so re-serializing a parsed page gives the same
//! markup), and tag encoding. Templates are compiled with `escape = "none"`
//! and escape every value they print through one of these.

use std::fmt::Display;

use crate::text;

/// Text content: `&`, `<`, `>`.
#[askama::filter_fn]
pub(crate) fn esc<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(text::esc(&value.to_string()))
}

/// A double-quoted attribute value: `&`, `"`, `<`, `>`.
#[askama::filter_fn]
pub(crate) fn attr<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(text::attr(&value.to_string()))
}

/// An attribute inside a post body: only `&` and `"`.
#[askama::filter_fn]
pub(crate) fn body_attr<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(text::body_attr(&value.to_string()))
}

/// A tag as a URL path segment (`c++` -> `c%2b%2b`).
#[askama::filter_fn]
pub(crate) fn encode_tag<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(text::encode_tag(&value.to_string()))
}
