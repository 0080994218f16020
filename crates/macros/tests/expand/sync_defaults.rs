/// Builds the task [`FetchListingTask`]; each argument is a value or a `TaskFuture` of it (submit with `client.submit(fetch_listing(..))`).
pub(crate) fn fetch_listing(
    page: impl ::sofleet::IntoInput<u32>,
    tags: impl ::sofleet::IntoInput<Vec<String>>,
) -> FetchListingTask {
    let mut __sofleet_deps = 0usize;
    FetchListingTask {
        page: ::sofleet::IntoInput::into_input(page, &mut __sofleet_deps),
        tags: ::sofleet::IntoInput::into_input(tags, &mut __sofleet_deps),
    }
}
/// The task made from [`fetch_listing`] by `#[sofleet::task]`: its arguments, each a value or a dependency.
#[derive(::sofleet::serde::Serialize, ::sofleet::serde::Deserialize)]
#[serde(crate = "::sofleet::serde")]
pub(crate) struct FetchListingTask {
    /// Argument `page`.
    #[serde(
        serialize_with = "::sofleet::serde::Serialize::serialize",
        deserialize_with = "::sofleet::serde::Deserialize::deserialize"
    )]
    pub(crate) page: ::sofleet::Input<u32>,
    /// Argument `tags`.
    #[serde(
        serialize_with = "::sofleet::serde::Serialize::serialize",
        deserialize_with = "::sofleet::serde::Deserialize::deserialize"
    )]
    pub(crate) tags: ::sofleet::Input<Vec<String>>,
}
impl FetchListingTask {
    /// Runs the body of [`fetch_listing`] directly, without a client (for tests).
    pub(crate) fn call(mut page: u32, tags: Vec<String>) -> Result<Listing, TaskError> {
        page += 1;
        Ok(Listing::new(page, tags))
    }
}
impl ::sofleet::Task for FetchListingTask {
    type Output = Listing;
    const NAME: &'static str = ::core::concat!(
        ::core::module_path!(), "::", "fetch_listing"
    );
    const VERSION: u32 = 1;
    const PURE: bool = true;
    const BLOCKING: bool = true;
    fn dependencies(&mut self) -> ::std::vec::Vec<::sofleet::AnyFuture> {
        let mut deps = ::std::vec::Vec::new();
        deps.extend(self.page.take_dependency());
        deps.extend(self.tags.take_dependency());
        deps
    }
    fn run(
        self,
        ctx: ::sofleet::TaskContext,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<Listing, ::sofleet::TaskError>,
    > + ::core::marker::Send {
        let __resolved = (|| -> ::core::result::Result<_, ::sofleet::TaskError> {
            let __base = ::sofleet::input_base(
                &ctx,
                &[self.page.is_dependency(), self.tags.is_dependency()],
            );
            let page = self.page.resolve(&ctx, __base)?;
            let tags = self.tags.resolve(&ctx, __base)?;
            ::core::result::Result::Ok((page, tags))
        })();
        async move {
            let (page, tags) = __resolved?;
            let __out: ::core::result::Result<Listing, ::sofleet::TaskError> = Self::call(
                page,
                tags,
            );
            __out
        }
    }
}
const _: () = {
    fn __sofleet_argument<
        T: ::sofleet::serde::Serialize + ::sofleet::serde::de::DeserializeOwned
            + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
            + 'static,
    >() {}
    let _ = __sofleet_argument::<u32>;
};
const _: () = {
    fn __sofleet_argument<
        T: ::sofleet::serde::Serialize + ::sofleet::serde::de::DeserializeOwned
            + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
            + 'static,
    >() {}
    let _ = __sofleet_argument::<Vec<String>>;
};
::sofleet::register_task!(FetchListingTask);
