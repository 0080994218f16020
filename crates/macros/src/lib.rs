//! The `#[sofleet::task]` attribute: turns a plain function into a sofleet task.
//!
//! Use it through the umbrella crate, as `#[sofleet::task]`. On a free function, sync or async,
//! whose arguments are owned serde types and which returns `Result<T, TaskError>`:
//!
//! ```ignore
//! /// Scores a question.
//! #[sofleet::task(version = 2)]
//! pub async fn score(question: Question, weight: u64) -> Result<u64, TaskError> {
//!     Ok(question.votes * weight)
//! }
//!
//! let client = Client::new(ThreadsBackend::new(2));
//! let question = client.submit(fetch_question(42)); // a TaskFuture<Question>
//! let total = client.submit(score(&question, 3));    // a value or a future, per argument
//! assert_eq!(total.result()?, 126);
//! ```
//!
//! # The expansion
//!
//! The function above becomes (with `#krate` = `::sofleet`, or the `crate = ".."` argument):
//!
//! ```ignore
//! /// Scores a question.
//! ///
//! /// Builds the task [`ScoreTask`]; each argument is a value or a `TaskFuture` of it (submit
//! /// with `client.submit(score(..))`).
//! pub fn score(
//!     question: impl ::sofleet::IntoInput<Question>,
//!     weight: impl ::sofleet::IntoInput<u64>,
//! ) -> ScoreTask {
//!     let mut __sofleet_deps = 0usize;
//!     ScoreTask {
//!         question: ::sofleet::IntoInput::into_input(question, &mut __sofleet_deps),
//!         weight: ::sofleet::IntoInput::into_input(weight, &mut __sofleet_deps),
//!     }
//! }
//!
//! /// The task made from [`score`] by `#[sofleet::task]`: its arguments, each a value or a
//! /// dependency.
//! #[derive(::sofleet::serde::Serialize, ::sofleet::serde::Deserialize)]
//! #[serde(crate = "::sofleet::serde")]
//! pub struct ScoreTask {
//!     /// Argument `question`.
//!     #[serde(
//!         serialize_with = "::sofleet::serde::Serialize::serialize",
//!         deserialize_with = "::sofleet::serde::Deserialize::deserialize"
//!     )]
//!     pub question: ::sofleet::Input<Question>,
//!     /// Argument `weight`.
//!     #[serde(/* the same */)]
//!     pub weight: ::sofleet::Input<u64>,
//! }
//!
//! impl ScoreTask {
//!     /// Runs the body of [`score`] directly, without a client (for tests).
//!     pub async fn call(question: Question, weight: u64) -> Result<u64, TaskError> {
//!         Ok(question.votes * weight)
//!     }
//! }
//!
//! impl ::sofleet::Task for ScoreTask {
//!     type Output = u64;
//!     const NAME: &'static str = ::core::concat!(::core::module_path!(), "::", "score");
//!     const VERSION: u32 = 2;
//!     const PURE: bool = true;
//!     const BLOCKING: bool = false; // `true` for a sync fn
//!     // `fn retry_policy()` only with `retries = N`.
//!     fn dependencies(&mut self) -> ::std::vec::Vec<::sofleet::AnyFuture> {
//!         let mut deps = ::std::vec::Vec::new();
//!         deps.extend(self.question.take_dependency());
//!         deps.extend(self.weight.take_dependency());
//!         deps
//!     }
//!     // The arguments are resolved before the future is made, so it holds only the body's.
//!     fn run(
//!         self,
//!         ctx: ::sofleet::TaskContext,
//!     ) -> impl ::core::future::Future<
//!         Output = ::core::result::Result<u64, ::sofleet::TaskError>,
//!     > + ::core::marker::Send {
//!         let __resolved = (|| -> ::core::result::Result<_, ::sofleet::TaskError> {
//!             let __base = ::sofleet::input_base(
//!                 &ctx,
//!                 &[self.question.is_dependency(), self.weight.is_dependency()],
//!             );
//!             let question = self.question.resolve(&ctx, __base)?;
//!             let weight = self.weight.resolve(&ctx, __base)?;
//!             ::core::result::Result::Ok((question, weight))
//!         })();
//!         async move {
//!             let (question, weight) = __resolved?;
//!             let __out: ::core::result::Result<u64, ::sofleet::TaskError> =
//!                 Self::call(question, weight).await; // no `.await` for a sync fn
//!             __out
//!         }
//!     }
//! }
//!
//! // Each argument's type checked where it is written (one per argument):
//! const _: () = {
//!     fn __sofleet_argument<
//!         T: ::sofleet::serde::Serialize
//!             + ::sofleet::serde::de::DeserializeOwned
//!             + ::core::clone::Clone
//!             + ::core::marker::Send
//!             + ::core::marker::Sync
//!             + 'static,
//!     >() {}
//!     let _ = __sofleet_argument::<Question>;
//! };
//!
//! ::sofleet::register_task!(ScoreTask);
//! ```
//!
//! The locals `ctx`, `deps`, `__base`, `__resolved`, `__out` and `__sofleet_deps` are hygienic: arguments with those
//! names do not clash with them.
//!
//! ## Where errors land
//!
//! Generated code that depends on a user's type carries that type's span, so a type error is
//! reported at the type as the user wrote it: the fields' `serialize_with`/`deserialize_with`
//! paths and each `resolve` call at the argument's type (serde's derive would report at the
//! attribute), `type Output` at the output type (the trait's bounds on `Output` are the output's
//! check), and `Self::call(..)` at the return type (a wrong error type is reported there).
//!
//! # Attribute arguments
//!
//! `#[sofleet::task(name = "..", version = N, pure = bool, retries = N, crate = "path",
//! struct_name = "Name")]`, each optional and given at most once:
//!
//! - `name`: `Task::NAME` (default: the function's module path and name);
//! - `version`: `Task::VERSION` (default 1); bump it when the output for the same
//!   arguments changes;
//! - `pure`: `Task::PURE` (default `true`: equal submissions share one run);
//! - `retries`: emits `Task::retry_policy` returning `RetryPolicy::retries(N)`;
//! - `crate`: the path of the runtime crate (default `::sofleet`; `"sofleet_executor"` inside
//!   the executor's users that do not depend on the umbrella crate);
//! - `struct_name`: the task struct's name (default: the function's name in UpperCamelCase
//!   followed by `Task`, e.g. `fetch_listing` gives `FetchListingTask`).
//!
//! # The function
//!
//! - The struct, its fields, `call` and the constructor take the function's visibility. The
//!   function's attributes stay on the constructor (`#[expect(..)]` there becomes `#[allow(..)]`);
//!   lint levels are also put on `call`, which holds the body, and `#[cfg(..)]`s on every
//!   generated item.
//! - A parameter of type `TaskContext` or `&TaskContext` (any path ending in `TaskContext`) is
//!   not an argument: `call` takes it and `run` passes its context. At most one.
//! - Sync functions are blocking tasks (`Task::BLOCKING`); async ones are not.
//!
//! # Errors
//!
//! Each is reported at the offending token and says what to write instead: an item that is not
//! a function; a `self` parameter; `const`, `unsafe`, `extern` or variadic functions; generic or
//! lifetime parameters and `where` clauses; patterns instead of plain argument names; references,
//! `impl Trait` or borrowed lifetimes in an argument's or the output's type; a missing return
//! type or one that is not `Result<T, E>`; an unknown, duplicate or mistyped attribute argument.
//! An argument type that is not `Serialize + DeserializeOwned + Clone + Send + Sync + 'static`
//! fails a static assertion spanned at that type (arguments need `Clone + Sync` too: an
//! argument may be the output of another task, which `Input::resolve` clones); an output type
//! that is not fails `Task::Output`'s bounds, reported at that type.

mod args;
mod expand;
mod signature;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Turns a free function (sync or async) returning `Result<T, TaskError>` into a task: a
/// constructor with the function's name taking each argument as a value or a `TaskFuture`, a
/// task struct (`UpperCamelCase` name + `Task`) holding the arguments, its `Task` impl and its
/// registration. See the [crate docs](crate) for the expansion and the arguments
/// (`name`, `version`, `pure`, `retries`, `crate`, `struct_name`).
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}
