//! Code generation: from a checked [`TaskFn`] and its [`TaskArgs`] to the constructor, the task
//! struct, its `call`, its `Task` impl, the static assertions and the registration.

use heck::ToUpperCamelCase;
use proc_macro2::{Literal, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, LitStr, Meta, Path, parse_quote};

use crate::args::{TaskArgs, combine};
use crate::signature::{Argument, Param, TaskFn, can_reemit, hidden, unraw};

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
    let fn_name = unraw(&task.sig.ident);
    let task_ident = args.struct_name.clone().unwrap_or_else(|| {
        let camel = fn_name.to_upper_camel_case();
        format_ident!("{}Task", camel, span = task.sig.ident.span())
    });
    let expansion = Expansion {
        args,
        task,
        krate: args
            .krate
            .clone()
            .unwrap_or_else(|| parse_quote!(::sofleet)),
        fn_name,
        task_ident,
        attrs: Attrs::sort(&task.attrs),
        arguments: task.arguments().collect(),
        ctx: Ident::new("ctx", hidden()),
    };
    let constructor = expansion.constructor();
    let task_struct = expansion.task_struct();
    let call = expansion.call();
    let task_impl = expansion.task_impl();
    let argument_checks = expansion.argument_checks();
    let Expansion {
        krate,
        task_ident,
        attrs,
        ..
    } = &expansion;
    let cfgs = &attrs.cfgs;
    quote! {
        #constructor
        #task_struct
        #call
        #task_impl
        #argument_checks
        #(#cfgs)*
        #krate::register_task!(#task_ident);
    }
}

/// What the parts of one expansion share.
struct Expansion<'a> {
    /// The attribute's arguments.
    args: &'a TaskArgs,
    /// The checked function.
    task: &'a TaskFn,
    /// The path of the runtime crate (`::sofleet` unless `crate = ".."`).
    krate: Path,
    /// The function's name, without `r#`.
    fn_name: String,
    /// The name of the task struct.
    task_ident: Ident,
    /// The function's attributes, sorted by where they go.
    attrs: Attrs<'a>,
    /// The arguments (the parameters but the context), in order.
    arguments: Vec<&'a Argument>,
    /// `run`'s context parameter (hygienic: an argument named `ctx` does not shadow it).
    ctx: Ident,
}

impl Expansion<'_> {
    /// The constructor: the function's name, attributes and docs, building the struct from
    /// values or futures.
    fn constructor(&self) -> TokenStream {
        let Expansion {
            task,
            krate,
            fn_name,
            task_ident,
            attrs,
            arguments,
            ..
        } = self;
        let (vis, fn_ident) = (&task.vis, &task.sig.ident);
        let Attrs {
            docs, constructor, ..
        } = attrs;
        let separator = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
        let doc = format!(
            " Builds the task [`{task_ident}`]; each argument is a value or a `TaskFuture` of \
             it (submit with `client.submit({fn_name}(..))`)."
        );
        let params = arguments.iter().map(|a| {
            let (ident, ty) = (&a.ident, &a.ty);
            quote_spanned!(ty.span()=> #ident: impl #krate::IntoInput<#ty>)
        });
        let body = if arguments.is_empty() {
            quote!(#task_ident {})
        } else {
            let idents = arguments.iter().map(|a| &a.ident);
            let deps = Ident::new("__sofleet_deps", hidden());
            quote! {
                let mut #deps = 0usize;
                #task_ident {
                    #( #idents: #krate::IntoInput::into_input(#idents, &mut #deps), )*
                }
            }
        };
        quote! {
            #(#docs)*
            #separator
            #[doc = #doc]
            #(#constructor)*
            #vis fn #fn_ident(#(#params),*) -> #task_ident {
                #body
            }
        }
    }

    /// The struct: one documented `Input<T>` field per argument.
    fn task_struct(&self) -> TokenStream {
        let Expansion {
            task,
            krate,
            fn_name,
            task_ident,
            attrs,
            arguments,
            ..
        } = self;
        let (vis, cfgs) = (&task.vis, &attrs.cfgs);
        let doc = format!(
            " The task made from [`{fn_name}`] by `#[sofleet::task]`: its arguments, each a \
             value or a dependency."
        );
        let serde_path = format!("{}::serde", path_text(krate));
        let fields = arguments.iter().map(|a| {
            let (ident, ty) = (&a.ident, &a.ty);
            let doc = format!(" Argument `{}`.", unraw(ident));
            // The field's own (de)serialisation, through paths spanned at the argument's type:
            // serde reports a type that is not serde there (its derive would report at the
            // attribute). The serialised form is the same as the derive's.
            let with =
                |function: &str| LitStr::new(&format!("{serde_path}::{function}"), ty.span());
            let (ser, de) = (
                with("Serialize::serialize"),
                with("Deserialize::deserialize"),
            );
            quote! {
                #[doc = #doc]
                #[serde(serialize_with = #ser, deserialize_with = #de)]
                #vis #ident: #krate::Input<#ty>,
            }
        });
        quote! {
            #(#cfgs)*
            #[doc = #doc]
            #[derive(#krate::serde::Serialize, #krate::serde::Deserialize)]
            #[serde(crate = #serde_path)]
            #vis struct #task_ident {
                #(#fields)*
            }
        }
    }

    /// `call`: the function itself (signature, lint levels and body untouched).
    fn call(&self) -> TokenStream {
        let Expansion {
            task,
            fn_name,
            task_ident,
            attrs,
            ..
        } = self;
        let (vis, block, cfgs, lints) = (&task.vis, &task.block, &attrs.cfgs, &attrs.call);
        let doc =
            format!(" Runs the body of [`{fn_name}`] directly, without a client (for tests).");
        let mut sig = task.sig.clone();
        sig.ident = Ident::new("call", sig.ident.span());
        quote! {
            #(#cfgs)*
            impl #task_ident {
                #(#lints)*
                #[doc = #doc]
                #vis #sig #block
            }
        }
    }

    /// The `Task` impl: constants, retry policy, dependencies and `run`.
    fn task_impl(&self) -> TokenStream {
        let Expansion {
            args,
            task,
            krate,
            fn_name,
            task_ident,
            attrs,
            arguments,
            ctx,
        } = self;
        let (output, cfgs) = (&task.output, &attrs.cfgs);
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
        let idents: Vec<&Ident> = arguments.iter().map(|a| &a.ident).collect();
        let dependencies = if arguments.is_empty() {
            quote!(::std::vec::Vec::new())
        } else {
            let list = Ident::new("deps", hidden());
            quote! {
                let mut #list = ::std::vec::Vec::new();
                #( #list.extend(self.#idents.take_dependency()); )*
                #list
            }
        };
        let base = Ident::new("__base", hidden());
        // `resolve` at the type: its bounds (a dependency's output is cloned) are reported there.
        let resolves = arguments.iter().map(|a| {
            let ident = &a.ident;
            let resolve = quote_spanned!(a.ty.span()=> self.#ident.resolve(&#ctx, #base));
            quote!(let #ident = #resolve?;)
        });
        let call_args = task.params.iter().map(|param| match param {
            Param::Argument(a) => a.ident.to_token_stream(),
            Param::Context { by_ref: false } => quote!(#ctx),
            Param::Context { by_ref: true } => quote!(&#ctx),
        });
        let await_call = task.is_async().then(|| quote!(.await));
        // At the return type: a wrong error type is reported there.
        let out = Ident::new("__out", hidden());
        let call = quote_spanned!(task.return_type.span()=>
            let #out: ::core::result::Result<#output, #krate::TaskError> =
                Self::call(#(#call_args),*) #await_call;
        );
        let resolved = Ident::new("__resolved", hidden());
        quote! {
            #(#cfgs)*
            impl #krate::Task for #task_ident {
                type Output = #output;
                const NAME: &'static str = #name;
                const VERSION: u32 = #version;
                const PURE: bool = #pure;
                const BLOCKING: bool = #blocking;
                #retry_policy
                fn dependencies(&mut self) -> ::std::vec::Vec<#krate::AnyFuture> {
                    #dependencies
                }
                // The arguments are resolved before the future is made, so the future holds
                // only the body's (not the task, nor the context unless the body takes it).
                fn run(
                    self,
                    #ctx: #krate::TaskContext,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<#output, #krate::TaskError>,
                > + ::core::marker::Send {
                    let #resolved = (|| -> ::core::result::Result<_, #krate::TaskError> {
                        let #base =
                            #krate::input_base(&#ctx, &[#(self.#idents.is_dependency()),*]);
                        #(#resolves)*
                        ::core::result::Result::Ok((#(#idents,)*))
                    })();
                    async move {
                        let (#(#idents,)*) = #resolved?;
                        #call
                        #out
                    }
                }
            }
        }
    }

    /// Static assertions: a type that cannot be an argument is reported at that type. The
    /// output needs none: `type Output = T` carries the user's span, and the trait's bounds on
    /// `Output` are reported there.
    fn argument_checks(&self) -> TokenStream {
        let Expansion {
            krate,
            attrs,
            arguments,
            ..
        } = self;
        let cfgs = &attrs.cfgs;
        arguments
            .iter()
            .map(|a| {
                let ty = &a.ty;
                quote_spanned! {ty.span()=>
                    #(#cfgs)*
                    const _: () = {
                        fn __sofleet_argument<
                            T: #krate::serde::Serialize
                                + #krate::serde::de::DeserializeOwned
                                + ::core::clone::Clone
                                + ::core::marker::Send
                                + ::core::marker::Sync
                                + 'static,
                        >() {
                        }
                        let _ = __sofleet_argument::<#ty>;
                    };
                }
            })
            .collect()
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
