//! Code generation: from a checked [`TaskFn`] and its [`TaskArgs`] to the constructor, the task
//! struct, its `call`, its `Task` impl, the static assertions and the registration.

use heck::ToUpperCamelCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, Meta, Path, parse_quote};

use crate::args::{TaskArgs, combine};
use crate::signature::{Param, TaskFn, can_reemit, hidden, unraw};

/// Expands `#[sofleet::task(attr)] item`.
///
/// On errors the result is the errors (as `compile_error!`s at the offending tokens) followed by
/// the item unchanged where that adds no error of its own, so that the places using the function
/// do not report more.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(item) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error(),
    };
    let args = TaskArgs::parse(attr);
    let task = TaskFn::check(&item);
    match (args, task) {
        (Ok(args), Ok(task)) => generate(&args, &task),
        (args, task) => {
            let errors = combine(args.err().into_iter().chain(task.err()));
            let errors = errors.map(|e| e.to_compile_error());
            let item = can_reemit(&item).then_some(&item);
            quote! { #errors #item }
        }
    }
}

/// The attributes of the function, sorted by where they go.
struct Attrs<'a> {
    /// `#[cfg(..)]`: on every generated item.
    cfgs: Vec<&'a Attribute>,
    /// The doc attributes: first on the constructor.
    docs: Vec<&'a Attribute>,
    /// Everything else (cfgs, lints, others): on the constructor after its docs, with `expect`
    /// made `allow` (an expectation met only in the body would be unfulfilled there).
    constructor: Vec<Attribute>,
    /// Lint levels (`allow`, `expect`, `warn`, `deny`, `forbid`) and cfgs: on `call`, which
    /// holds the body and the same parameters.
    call: Vec<&'a Attribute>,
}

impl<'a> Attrs<'a> {
    /// Sorts `attrs`.
    fn sort(attrs: &'a [Attribute]) -> Self {
        let is = |attr: &Attribute, names: &[&str]| names.iter().any(|n| attr.path().is_ident(n));
        let lints = ["allow", "expect", "warn", "deny", "forbid"];
        let constructor = attrs
            .iter()
            .filter(|a| !is(a, &["doc"]))
            .map(|attr| match &attr.meta {
                Meta::List(list) if list.path.is_ident("expect") => {
                    let mut allow = attr.clone();
                    if let Meta::List(list) = &mut allow.meta {
                        list.path = Ident::new("allow", list.path.span()).into();
                    }
                    allow
                }
                _ => attr.clone(),
            })
            .collect();
        Attrs {
            cfgs: attrs.iter().filter(|a| is(a, &["cfg"])).collect(),
            constructor,
            call: attrs
                .iter()
                .filter(|a| is(a, &lints) || is(a, &["cfg"]))
                .collect(),
            docs: attrs.iter().filter(|a| is(a, &["doc"])).collect(),
        }
    }
}

/// Generates the whole expansion of a valid task.
fn generate(args: &TaskArgs, task: &TaskFn) -> TokenStream {
    let krate: Path = args
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::sofleet));
    let fn_ident = &task.sig.ident;
    let fn_name = unraw(fn_ident);
    let vis = &task.vis;
    let task_ident = args.struct_name.clone().unwrap_or_else(|| {
        let camel = fn_name.to_upper_camel_case();
        format_ident!("{}Task", camel, span = fn_ident.span())
    });
    let attrs = Attrs::sort(&task.attrs);
    let cfgs = &attrs.cfgs;
    let arguments: Vec<_> = task.arguments().collect();
    let idents: Vec<&Ident> = arguments.iter().map(|a| &a.ident).collect();
    let deps = Ident::new("__sofleet_deps", hidden());

    // The constructor: the function's name, attributes and docs, building the struct.
    let constructor_attrs = &attrs.constructor;
    let docs = &attrs.docs;
    let separator = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
    let constructor_doc = format!(
        " Builds the task [`{task_ident}`]; each argument is a value or a `TaskFuture` of it \
         (submit with `client.submit({fn_name}(..))`)."
    );
    let constructor_params = arguments.iter().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        quote_spanned!(ty.span()=> #ident: impl #krate::IntoInput<#ty>)
    });
    let constructor_body = if arguments.is_empty() {
        quote!(#task_ident {})
    } else {
        quote! {
            let mut #deps = 0usize;
            #task_ident {
                #( #idents: #krate::IntoInput::into_input(#idents, &mut #deps), )*
            }
        }
    };

    // The struct: one `Input<T>` field per argument.
    let struct_doc = format!(
        " The task made from [`{fn_name}`] by `#[sofleet::task]`: its arguments, each a value \
         or a dependency."
    );
    let serde_path = format!("{}::serde", path_text(&krate));
    let fields = arguments.iter().map(|a| {
        let (ident, ty) = (&a.ident, &a.ty);
        let doc = format!(" Argument `{}`.", unraw(ident));
        let field_ty = quote_spanned!(ty.span()=> #krate::Input<#ty>);
        quote!(#[doc = #doc] #vis #ident: #field_ty,)
    });

    // `call`: the function itself, body untouched.
    let call_attrs = &attrs.call;
    let call_doc =
        format!(" Runs the body of [`{fn_name}`] directly, without a client (for tests).");
    let mut call_sig = task.sig.clone();
    call_sig.ident = Ident::new("call", fn_ident.span());
    let block = &task.block;

    // The `Task` impl.
    let output = &task.output;
    let name = match &args.name {
        Some(name) => quote!(#name),
        None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };
    let version = Literal::u32_unsuffixed(args.version.unwrap_or(1));
    let pure = args.pure.unwrap_or(true);
    let blocking = !task.is_async();
    let retry_policy = args.retries.map(|n| {
        let n = Literal::u32_unsuffixed(n);
        quote! {
            fn retry_policy() -> #krate::RetryPolicy {
                #krate::RetryPolicy::retries(#n)
            }
        }
    });
    let dependencies = if arguments.is_empty() {
        quote!(::std::vec::Vec::new())
    } else {
        let list = Ident::new("deps", hidden());
        quote! {
            let mut #list = ::std::vec::Vec::new();
            #( #list.extend(self.#idents.dependency()); )*
            #list
        }
    };
    let ctx = Ident::new("ctx", hidden());
    let base = Ident::new("__base", hidden());
    let call_args = task.params.iter().map(|param| match param {
        Param::Argument(a) => {
            let ident = &a.ident;
            quote!(#ident)
        }
        Param::Context { by_ref: false } => quote!(#ctx),
        Param::Context { by_ref: true } => quote!(&#ctx),
    });
    let await_call = task.is_async().then(|| quote!(.await));
    // Spanned at the return type: a wrong error type is reported there.
    let call = quote_spanned!(task.return_type.span()=> Self::call(#(#call_args),*) #await_call);

    // Static assertions: a type that cannot be an argument or output is reported at that type.
    let argument_checks = arguments.iter().map(|a| {
        let ty = &a.ty;
        quote_spanned! {ty.span()=>
            #(#cfgs)*
            const _: () = {
                fn __sofleet_argument<
                    T: #krate::serde::Serialize
                        + #krate::serde::de::DeserializeOwned
                        + ::core::marker::Send
                        + 'static,
                >() {
                }
                let _ = __sofleet_argument::<#ty>;
            };
        }
    });
    let output_check = quote_spanned! {output.span()=>
        #(#cfgs)*
        const _: () = {
            fn __sofleet_output<
                T: #krate::serde::Serialize
                    + #krate::serde::de::DeserializeOwned
                    + ::core::clone::Clone
                    + ::core::marker::Send
                    + ::core::marker::Sync
                    + 'static,
            >() {
            }
            let _ = __sofleet_output::<#output>;
        };
    };

    quote! {
        #(#docs)*
        #separator
        #[doc = #constructor_doc]
        #(#constructor_attrs)*
        #vis fn #fn_ident(#(#constructor_params),*) -> #task_ident {
            #constructor_body
        }

        #(#cfgs)*
        #[doc = #struct_doc]
        #[derive(#krate::serde::Serialize, #krate::serde::Deserialize)]
        #[serde(crate = #serde_path)]
        #vis struct #task_ident {
            #(#fields)*
        }

        #(#cfgs)*
        impl #task_ident {
            #(#call_attrs)*
            #[doc = #call_doc]
            #vis #call_sig #block
        }

        #(#cfgs)*
        impl #krate::Task for #task_ident {
            type Output = #output;
            const NAME: &'static str = #name;
            const VERSION: u32 = #version;
            const PURE: bool = #pure;
            const BLOCKING: bool = #blocking;
            #retry_policy
            fn dependencies(&self) -> ::std::vec::Vec<#krate::AnyFuture> {
                #dependencies
            }
            async fn run(
                self,
                #ctx: #krate::TaskContext,
            ) -> ::core::result::Result<#output, #krate::TaskError> {
                let #base = #krate::input_base(&#ctx, &[#(self.#idents.is_dependency()),*]);
                #( let #idents = self.#idents.resolve(&#ctx, #base)?; )*
                #call
            }
        }

        #(#argument_checks)*
        #output_check

        #(#cfgs)*
        #krate::register_task!(#task_ident);
    }
}

/// `path` as text without spaces (`::sofleet`), for `#[serde(crate = "..")]`.
fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let leading = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{leading}{}", segments.join("::"))
}
