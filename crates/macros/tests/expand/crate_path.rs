/// Builds the task [`NowTask`]; each argument is a value or a `TaskFuture` of it (submit with `client.submit(now(..))`).
fn now() -> NowTask {
    NowTask {}
}
/// The task made from [`now`] by `#[sofleet::task]`: its arguments, each a value or a dependency.
#[derive(sofleet_executor::serde::Serialize, sofleet_executor::serde::Deserialize)]
#[serde(crate = "sofleet_executor::serde")]
struct NowTask {}
impl NowTask {
    /// Runs the body of [`now`] directly, without a client (for tests).
    fn call(ctx: TaskContext) -> sofleet_executor::Result<u64> {
        Ok(u64::from(ctx.attempt()))
    }
}
impl sofleet_executor::Task for NowTask {
    type Output = u64;
    const NAME: &'static str = ::core::concat!(::core::module_path!(), "::", "now");
    const VERSION: u32 = 1;
    const PURE: bool = true;
    const BLOCKING: bool = true;
    fn dependencies(&mut self) -> ::std::vec::Vec<sofleet_executor::AnyFuture> {
        ::std::vec::Vec::new()
    }
    fn run(
        self,
        ctx: sofleet_executor::TaskContext,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<u64, sofleet_executor::TaskError>,
    > + ::core::marker::Send {
        let __resolved = (|| -> ::core::result::Result<_, sofleet_executor::TaskError> {
            let __base = sofleet_executor::input_base(&ctx, &[]);
            ::core::result::Result::Ok(())
        })();
        async move {
            let () = __resolved?;
            let __out: ::core::result::Result<u64, sofleet_executor::TaskError> = Self::call(
                ctx,
            );
            __out
        }
    }
}
sofleet_executor::register_task!(NowTask);
