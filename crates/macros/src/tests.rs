//! Tests of the expansion: pretty-printed snapshots of valid tasks (in `tests/expand/`,
//! `UPDATE_EXPECT=1 cargo test -p sofleet-macros` rewrites them) and the message of every error.

use expect_test::{ExpectFile, expect_file};
use proc_macro2::TokenStream;
use quote::quote;

use crate::expand::expand;

/// The expansion of `#[sofleet::task(attr)] item`, pretty-printed.
fn pretty(attr: TokenStream, item: TokenStream) -> String {
    let file: syn::File = syn::parse2(expand(attr, item)).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

/// Checks the expansion against a snapshot file.
fn check(attr: TokenStream, item: TokenStream, expected: ExpectFile) {
    let expansion = pretty(attr, item);
    assert!(
        !expansion.contains("compile_error"),
        "unexpected errors:\n{expansion}"
    );
    expected.assert_eq(&expansion);
}

/// The messages of the `compile_error!`s in the expansion, in order.
fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(expand(attr, item)).expect("the expansion parses as a file");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last()?.ident == "compile_error" => {
                Some(m.mac.parse_body::<syn::LitStr>().unwrap().value())
            }
            _ => None,
        })
        .collect()
}

/// Asserts that the expansion has exactly one error and that it contains `needle`.
fn one_error(attr: TokenStream, item: TokenStream, needle: &str) {
    let errors = errors(attr, item);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    assert!(
        errors[0].contains(needle),
        "error {:?} does not contain {needle:?}",
        errors[0]
    );
}

#[test]
fn async_fn_with_all_attributes() {
    check(
        quote!(
            name = "questions::score",
            version = 2,
            pure = false,
            retries = 3,
            struct_name = "Scorer"
        ),
        quote! {
            /// Scores a question.
            #[allow(clippy::cast_possible_truncation)]
            pub async fn score(question: Question, weight: u64) -> Result<u64, TaskError> {
                Ok(question.votes * weight)
            }
        },
        expect_file!["../tests/expand/async_all_attributes.rs"],
    );
}

#[test]
fn sync_fn_with_defaults() {
    check(
        quote!(),
        quote! {
            pub(crate) fn fetch_listing(mut page: u32, tags: Vec<String>) -> Result<Listing, TaskError> {
                page += 1;
                Ok(Listing::new(page, tags))
            }
        },
        expect_file!["../tests/expand/sync_defaults.rs"],
    );
}

#[test]
fn task_context_parameter() {
    check(
        quote!(),
        quote! {
            #[cfg(feature = "crawl")]
            #[expect(unused_variables)]
            async fn visit(url: String, ctx: &sofleet::TaskContext, depth: u8) -> Result<u64, TaskError> {
                Ok(ctx.attempt() as u64)
            }
        },
        expect_file!["../tests/expand/context_parameter.rs"],
    );
}

#[test]
fn crate_path_and_no_arguments() {
    check(
        quote!(crate = "sofleet_executor"),
        quote! {
            fn now(ctx: TaskContext) -> sofleet_executor::Result<u64> {
                Ok(u64::from(ctx.attempt()))
            }
        },
        expect_file!["../tests/expand/crate_path.rs"],
    );
}

#[test]
fn raw_identifiers_are_unrawed_in_names_and_docs() {
    let expansion = pretty(
        quote!(),
        quote!(
            fn r#match(r#type: u32) -> Result<u32, E> {
                Ok(r#type)
            }
        ),
    );
    assert!(expansion.contains("pub struct MatchTask") || expansion.contains("struct MatchTask"));
    assert!(expansion.contains("\"match\""), "{expansion}");
    assert!(expansion.contains("Argument `type`."), "{expansion}");
    assert!(
        expansion.contains("r#type: ::sofleet::Input<u32>"),
        "{expansion}"
    );
}

#[test]
fn unknown_attribute_key() {
    one_error(
        quote!(retry = 3),
        quote!(
            fn f() -> Result<(), E> {}
        ),
        "unknown #[sofleet::task] attribute `retry`: expected one of `name`, `version`, `pure`, \
         `retries`, `crate`, `struct_name`",
    );
}

#[test]
fn duplicate_attribute_key() {
    one_error(
        quote!(version = 1, version = 2),
        quote!(
            fn f() -> Result<(), E> {}
        ),
        "duplicate `version` in #[sofleet::task]",
    );
}

#[test]
fn wrong_literal_types() {
    let errors = errors(
        quote!(
            name = 1,
            version = "2",
            pure = "no",
            retries = -1,
            crate = sofleet,
            struct_name = "not an ident",
            version = 4u64
        ),
        quote!(
            fn f() -> Result<(), E> {}
        ),
    );
    let expected = [
        "`name` takes a string literal",
        "`version` takes a u32 integer literal",
        "`pure` takes `true` or `false`",
        "`retries` takes a u32 integer literal",
        "`crate` takes the path of the sofleet crate as a string literal",
        "`struct_name` takes the name of the task struct as a string literal",
        "`version` takes a u32 integer literal",
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (error, needle) in errors.iter().zip(expected) {
        assert!(
            error.contains(needle),
            "{error:?} does not contain {needle:?}"
        );
    }
}

#[test]
fn key_without_value_and_empty_name() {
    let errors = errors(
        quote!(pure, name = ""),
        quote!(
            fn f() -> Result<(), E> {}
        ),
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("(missing `= value`)"), "{errors:#?}");
    assert!(errors[1].contains("`name` cannot be empty"), "{errors:#?}");
}

#[test]
fn not_a_function() {
    one_error(
        quote!(),
        quote!(
            struct S;
        ),
        "#[sofleet::task] goes on a free function with a body",
    );
}

#[test]
fn self_parameter() {
    let errors = errors(
        quote!(),
        quote!(
            fn f(&self, x: u32) -> Result<u32, E> {}
        ),
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("it cannot take `self`"));
}

#[test]
fn self_parameter_drops_the_item() {
    let expansion = expand(
        quote!(),
        quote!(
            fn f(self) -> Result<u32, E> {}
        ),
    );
    assert!(!expansion.to_string().contains("fn f"), "{expansion}");
}

#[test]
fn errors_keep_the_item() {
    let expansion = expand(
        quote!(),
        quote!(
            fn f(x: &str) -> Result<u32, E> {}
        ),
    );
    assert!(expansion.to_string().contains("fn f"), "{expansion}");
}

#[test]
fn generics_and_where_clause() {
    let errors = errors(
        quote!(),
        quote!(
            fn f<'a, T>(x: T) -> Result<u32, E>
            where
                T: Clone,
            {
            }
        ),
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("cannot have generic or lifetime parameters"));
    assert!(errors[1].contains("cannot have a `where` clause"));
}

#[test]
fn qualifiers() {
    let errors = errors(
        quote!(),
        quote!(
            const unsafe extern "C" fn f(x: u32, ...) -> Result<u32, E> {}
        ),
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors[0].contains("cannot be `const`"));
    assert!(errors[1].contains("cannot be `unsafe`"));
    assert!(errors[2].contains("cannot be `extern`"));
    assert!(errors[3].contains("cannot be variadic"));
}

#[test]
fn reference_argument() {
    one_error(
        quote!(),
        quote!(
            fn f(name: &str) -> Result<u32, E> {}
        ),
        "arguments are serialised: take an owned type instead of a reference",
    );
}

#[test]
fn nested_borrows_in_arguments() {
    let errors = errors(
        quote!(),
        quote!(
            fn f(
                a: Vec<&'static str>,
                b: impl Into<String>,
                c: Cow<'_, str>,
                d: Cow<'static, str>,
            ) -> Result<u32, E> {
            }
        ),
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].contains("take an owned type instead of a reference"));
    assert!(errors[1].contains("take a concrete, owned type instead of `impl Trait`"));
    assert!(errors[2].contains("borrows nothing (no `'_`)"));
}

#[test]
fn pattern_argument() {
    one_error(
        quote!(),
        quote!(
            fn f((a, b): (u32, u32)) -> Result<u32, E> {}
        ),
        "a #[sofleet::task] argument must be a plain name (like `pair: (u32, u32)`), not a pattern",
    );
}

#[test]
fn missing_return_type() {
    one_error(
        quote!(),
        quote!(
            async fn f(x: u32) {}
        ),
        "a #[sofleet::task] function returns Result<T, TaskError>",
    );
}

#[test]
fn return_type_not_a_result() {
    for output in [
        quote!(u32),
        quote!(Option<u32>),
        quote!(Result),
        quote!(impl Future),
    ] {
        one_error(
            quote!(),
            quote!(
                fn f(x: u32) -> #output {}
            ),
            "a #[sofleet::task] function returns Result<T, TaskError>",
        );
    }
}

#[test]
fn borrowed_output() {
    one_error(
        quote!(),
        quote!(
            fn f(x: u32) -> Result<&'static str, E> {}
        ),
        "task outputs are serialised and cloned: return an owned type instead of a reference",
    );
}

#[test]
fn task_context_parameters() {
    let errors = errors(
        quote!(),
        quote!(
            fn f(a: TaskContext, b: &mut TaskContext) -> Result<u32, E> {}
        ),
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("not `&mut TaskContext`"));
    assert!(errors[1].contains("at most one TaskContext parameter"));
}

#[test]
fn attribute_and_signature_errors_together() {
    let errors = errors(
        quote!(versoin = 2),
        quote!(
            fn f<T>(x: T) {}
        ),
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].contains("unknown #[sofleet::task] attribute `versoin`"));
    assert!(errors[1].contains("generic"));
    assert!(errors[2].contains("returns Result<T, TaskError>"));
}
