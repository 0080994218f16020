/// Builds the task [`VisitTask`]; each argument is a value or a `TaskFuture` of it (submit with `client.submit(visit(..))`).
#[cfg(feature = "crawl")]
#[allow(unused_variables)]
fn visit(
    url: impl ::sofleet::IntoInput<String>,
    depth: impl ::sofleet::IntoInput<u8>,
) -> VisitTask {
    let mut __sofleet_deps = 0usize;
    VisitTask {
        url: ::sofleet::IntoInput::into_input(url, &mut __sofleet_deps),
        depth: ::sofleet::IntoInput::into_input(depth, &mut __sofleet_deps),
    }
}
#[cfg(feature = "crawl")]
/// The task made from [`visit`] by `#[sofleet::task]`: its arguments, each a value or a dependency.
#[derive(::sofleet::serde::Serialize, ::sofleet::serde::Deserialize)]
#[serde(crate = "::sofleet::serde")]
struct VisitTask {
    /// Argument `url`.
    #[serde(
        serialize_with = "::sofleet::serde::Serialize::serialize",
        deserialize_with = "::sofleet::serde::Deserialize::deserialize"
    )]
    url: ::sofleet::Input<String>,
    /// Argument `depth`.
    #[serde(
        serialize_with = "::sofleet::serde::Serialize::serialize",
        deserialize_with = "::sofleet::serde::Deserialize::deserialize"
    )]
    depth: ::sofleet::Input<u8>,
}
#[cfg(feature = "crawl")]
impl VisitTask {
    #[cfg(feature = "crawl")]
    #[expect(unused_variables)]
    /// Runs the body of [`visit`] directly, without a client (for tests).
    async fn call(
        url: String,
        ctx: &sofleet::TaskContext,
        depth: u8,
    ) -> Result<u64, TaskError> {
        Ok(ctx.attempt() as u64)
    }
}
#[cfg(feature = "crawl")]
impl ::sofleet::Task for VisitTask {
    type Output = u64;
    const NAME: &'static str = ::core::concat!(::core::module_path!(), "::", "visit");
    const VERSION: u32 = 1;
    const PURE: bool = true;
    const BLOCKING: bool = false;
    fn dependencies(&mut self) -> ::std::vec::Vec<::sofleet::AnyFuture> {
        let mut deps = ::std::vec::Vec::new();
        deps.extend(self.url.take_dependency());
        deps.extend(self.depth.take_dependency());
        deps
    }
    fn run(
        self,
        ctx: ::sofleet::TaskContext,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<u64, ::sofleet::TaskError>,
    > + ::core::marker::Send {
        let __resolved = (|| -> ::core::result::Result<_, ::sofleet::TaskError> {
            let __base = ::sofleet::input_base(
                &ctx,
                &[self.url.is_dependency(), self.depth.is_dependency()],
            );
            let url = self.url.resolve(&ctx, __base)?;
            let depth = self.depth.resolve(&ctx, __base)?;
            ::core::result::Result::Ok((url, depth))
        })();
        async move {
            let (url, depth) = __resolved?;
            let __out: ::core::result::Result<u64, ::sofleet::TaskError> = Self::call(
                    url,
                    &ctx,
                    depth,
                )
                .await;
            __out
        }
    }
}
#[cfg(feature = "crawl")]
const _: () = {
    fn __sofleet_argument<
        T: ::sofleet::serde::Serialize + ::sofleet::serde::de::DeserializeOwned
            + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
            + 'static,
    >() {}
    let _ = __sofleet_argument::<String>;
};
#[cfg(feature = "crawl")]
const _: () = {
    fn __sofleet_argument<
        T: ::sofleet::serde::Serialize + ::sofleet::serde::de::DeserializeOwned
            + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
            + 'static,
    >() {}
    let _ = __sofleet_argument::<u8>;
};
#[cfg(feature = "crawl")]
::sofleet::register_task!(VisitTask);
