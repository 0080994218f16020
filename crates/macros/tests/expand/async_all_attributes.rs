/// Scores a question.
///
/// Builds the task [`Scorer`]; each argument is a value or a `TaskFuture` of it (submit with `client.submit(score(..))`).
#[allow(clippy::cast_possible_truncation)]
pub fn score(
    question: impl ::sofleet::IntoInput<Question>,
    weight: impl ::sofleet::IntoInput<u64>,
) -> Scorer {
    let mut __sofleet_deps = 0usize;
    Scorer {
        question: ::sofleet::IntoInput::into_input(question, &mut __sofleet_deps),
        weight: ::sofleet::IntoInput::into_input(weight, &mut __sofleet_deps),
    }
}
/// The task made from [`score`] by `#[sofleet::task]`: its arguments, each a value or a dependency.
#[derive(::sofleet::serde::Serialize, ::sofleet::serde::Deserialize)]
#[serde(crate = "::sofleet::serde")]
pub struct Scorer {
    /// Argument `question`.
    #[serde(
        serialize_with = "::sofleet::serde::Serialize::serialize",
        deserialize_with = "::sofleet::serde::Deserialize::deserialize"
    )]
    pub question: ::sofleet::Input<Question>,
    /// Argument `weight`.
    #[serde(
        serialize_with = "::sofleet::serde::Serialize::serialize",
        deserialize_with = "::sofleet::serde::Deserialize::deserialize"
    )]
    pub weight: ::sofleet::Input<u64>,
}
impl Scorer {
    #[allow(clippy::cast_possible_truncation)]
    /// Runs the body of [`score`] directly, without a client (for tests).
    pub async fn call(question: Question, weight: u64) -> Result<u64, TaskError> {
        Ok(question.votes * weight)
    }
}
impl ::sofleet::Task for Scorer {
    type Output = u64;
    const NAME: &'static str = "questions::score";
    const VERSION: u32 = 2;
    const PURE: bool = false;
    const BLOCKING: bool = false;
    fn retry_policy() -> ::sofleet::RetryPolicy {
        ::sofleet::RetryPolicy::retries(3)
    }
    fn dependencies(&mut self) -> ::std::vec::Vec<::sofleet::AnyFuture> {
        let mut deps = ::std::vec::Vec::new();
        deps.extend(self.question.take_dependency());
        deps.extend(self.weight.take_dependency());
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
                &[self.question.is_dependency(), self.weight.is_dependency()],
            );
            let question = self.question.resolve(&ctx, __base)?;
            let weight = self.weight.resolve(&ctx, __base)?;
            ::core::result::Result::Ok((question, weight))
        })();
        async move {
            let (question, weight) = __resolved?;
            let __out: ::core::result::Result<u64, ::sofleet::TaskError> = Self::call(
                    question,
                    weight,
                )
                .await;
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
    let _ = __sofleet_argument::<Question>;
};
const _: () = {
    fn __sofleet_argument<
        T: ::sofleet::serde::Serialize + ::sofleet::serde::de::DeserializeOwned
            + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync
            + 'static,
    >() {}
    let _ = __sofleet_argument::<u64>;
};
::sofleet::register_task!(Scorer);
