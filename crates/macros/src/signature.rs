//! Checking the function under `#[sofleet::task]` and splitting its signature into what the
//! expansion needs: the arguments (which become fields), the optional `TaskContext` parameter,
//! the output type and the attributes.
//!
//! Every problem becomes a [`syn::Error`] at the offending token saying what to write instead;
//! all of them are reported together.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Attribute, Block, FnArg, GenericArgument, Ident, Item, ItemFn, Pat, PathArguments, ReturnType,
    Signature, Type, Visibility,
};

use crate::args::combine;

/// The message for a missing or non-`Result` return type.
pub(crate) const RESULT_MESSAGE: &str = "a #[sofleet::task] function returns Result<T, TaskError>, \
     where T is the task's output: write `-> Result<T, TaskError>` and return `Ok(value)` \
     or `Err(TaskError::fatal(..))`";

/// A checked `#[sofleet::task]` function.
pub(crate) struct TaskFn {
    /// The function's attributes (docs included), in order.
    pub(crate) attrs: Vec<Attribute>,
    /// The function's visibility, given to every generated item.
    pub(crate) vis: Visibility,
    /// The signature as written (it becomes the signature of `call`).
    pub(crate) sig: Signature,
    /// The body as written (it becomes the body of `call`).
    pub(crate) block: Box<Block>,
    /// The parameters in order: arguments and at most one context.
    pub(crate) params: Vec<Param>,
    /// `T` of `Result<T, E>`: the task's output.
    pub(crate) output: Type,
    /// The whole return type `Result<T, E>` as written.
    pub(crate) return_type: Type,
}

/// One parameter of the function.
pub(crate) enum Param {
    /// A serialised argument: a field of the task struct and a constructor parameter.
    Argument(Box<Argument>),
    /// The `TaskContext` parameter, taken by value or (`by_ref`) by shared reference.
    Context {
        /// Whether the function takes `&TaskContext`.
        by_ref: bool,
    },
}

/// A serialised argument.
pub(crate) struct Argument {
    /// Its name (without `mut`).
    pub(crate) ident: Ident,
    /// Its type as written.
    pub(crate) ty: Type,
}

impl TaskFn {
    /// The arguments (without the context parameter), in order.
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &Argument> {
        self.params.iter().filter_map(|param| match param {
            Param::Argument(argument) => Some(&**argument),
            Param::Context { .. } => None,
        })
    }

    /// Whether the function is `async` (otherwise it is a blocking task).
    pub(crate) fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }

    /// Checks `item`, returning every problem at once.
    pub(crate) fn check(item: &Item) -> syn::Result<TaskFn> {
        let item = match item {
            Item::Fn(item) => item,
            other => return Err(not_a_fn(other)),
        };
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
        } = item;
        let mut errors = Vec::new();
        check_qualifiers(sig, &mut errors);
        let params = check_params(sig, &mut errors);
        let return_type = check_return(sig, &mut errors);
        if let Some(e) = combine(errors) {
            return Err(e);
        }
        let (return_type, output) = return_type.expect("checked above");
        Ok(TaskFn {
            attrs: attrs.clone(),
            vis: vis.clone(),
            sig: sig.clone(),
            block: block.clone(),
            params,
            output,
            return_type,
        })
    }
}

/// Whether re-emitting `item` unchanged next to the errors is harmless: it keeps later uses of
/// the function from piling more errors on the ones that matter, but a `self` parameter or a
/// variadic outside an `impl`/`extern` block would only add a second error.
pub(crate) fn can_reemit(item: &Item) -> bool {
    match item {
        Item::Fn(f) => f.sig.receiver().is_none() && f.sig.variadic.is_none(),
        _ => true,
    }
}

/// The error for an item that is not a function, at its first tokens.
fn not_a_fn(item: &Item) -> syn::Error {
    let message = "#[sofleet::task] goes on a free function with a body (`fn` or `async fn`), \
                   whose arguments become the fields of the task struct";
    let span = match item {
        Item::Struct(s) => s.ident.span(),
        Item::Enum(e) => e.ident.span(),
        Item::Union(u) => u.ident.span(),
        Item::Trait(t) => t.ident.span(),
        Item::Mod(m) => m.ident.span(),
        Item::Const(c) => c.ident.span(),
        Item::Static(s) => s.ident.span(),
        Item::Type(t) => t.ident.span(),
        Item::Impl(i) => i.impl_token.span,
        other => other.span(),
    };
    syn::Error::new(span, message)
}

/// `const`, `unsafe`, `extern` and variadic functions.
fn check_qualifiers(sig: &Signature, errors: &mut Vec<syn::Error>) {
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            token,
            "a #[sofleet::task] function cannot be `const`: it runs on a worker; remove `const`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            token,
            "a #[sofleet::task] function cannot be `unsafe`: a worker calls it with no caller \
             to uphold a safety contract; remove `unsafe` (use an `unsafe` block inside)",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "a #[sofleet::task] function cannot be `extern`: it is called from Rust by the \
             task's `run`; remove the ABI",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "a #[sofleet::task] function cannot be variadic: each argument becomes a field of \
             the task struct; take a `Vec<T>` instead",
        ));
    }
    let generics = &sig.generics;
    if !generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            generics,
            "a #[sofleet::task] function cannot have generic or lifetime parameters: its \
             arguments are serialised and its name is fixed; write one task per concrete type",
        ));
    }
    if let Some(where_clause) = &generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "a #[sofleet::task] function cannot have a `where` clause: its argument types must \
             be concrete; remove it",
        ));
    }
}

/// Splits the parameters into arguments and the context, checking each.
fn check_params(sig: &Signature, errors: &mut Vec<syn::Error>) -> Vec<Param> {
    let mut params = Vec::new();
    let mut seen_context = false;
    for input in &sig.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "a #[sofleet::task] is a free function: it cannot take `self`; move it out \
                     of the `impl` block and pass the value as an owned argument",
                ));
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        if let Some(by_ref) = context_kind(&typed.ty, errors) {
            if seen_context {
                errors.push(syn::Error::new_spanned(
                    &typed.ty,
                    "a #[sofleet::task] function takes at most one TaskContext parameter; \
                     remove this one",
                ));
            }
            seen_context = true;
            params.push(Param::Context { by_ref });
            continue;
        }
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
            other => {
                errors.push(syn::Error::new_spanned(
                    other,
                    "a #[sofleet::task] argument must be a plain name (like `pair: (u32, u32)`), \
                     not a pattern: each argument becomes a field of the task struct; \
                     destructure it in the body",
                ));
                continue;
            }
        };
        BorrowFinder::check(&typed.ty, &ARGUMENT, errors);
        params.push(Param::Argument(Box::new(Argument {
            ident,
            ty: (*typed.ty).clone(),
        })));
    }
    params
}

/// `Some(false)` for `TaskContext`, `Some(true)` for `&TaskContext` (any path ending in
/// `TaskContext`), `None` for anything else; an error for `&mut TaskContext`.
fn context_kind(ty: &Type, errors: &mut Vec<syn::Error>) -> Option<bool> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            (last.ident == "TaskContext" && last.arguments.is_none()).then_some(false)
        }
        Type::Reference(reference) => {
            context_kind(&reference.elem, &mut Vec::new()).filter(|by_ref| !by_ref)?;
            if reference.mutability.is_some() {
                errors.push(syn::Error::new_spanned(
                    reference,
                    "a #[sofleet::task] takes its context as `ctx: TaskContext` or \
                     `ctx: &TaskContext`, not `&mut TaskContext`",
                ));
            }
            Some(true)
        }
        Type::Paren(paren) => context_kind(&paren.elem, errors),
        _ => None,
    }
}

/// The output type `T` of `Result<T, E>` (or of a one-parameter `Result<T>` alias).
fn check_return(sig: &Signature, errors: &mut Vec<syn::Error>) -> Option<(Type, Type)> {
    let ty = match &sig.output {
        ReturnType::Default => {
            // Point at the whole signature: the return type is missing after its `)`.
            errors.push(syn::Error::new_spanned(
                sig,
                format!("{RESULT_MESSAGE} (this function returns nothing)"),
            ));
            return None;
        }
        ReturnType::Type(_, ty) => &**ty,
    };
    let output = result_output(ty);
    match output {
        Some(output) => {
            BorrowFinder::check(output, &OUTPUT, errors);
            Some((ty.clone(), output.clone()))
        }
        None => {
            errors.push(syn::Error::new_spanned(ty, RESULT_MESSAGE));
            None
        }
    }
}

/// `T` when `ty` is a path ending in `Result<T, E>` or `Result<T>`.
fn result_output(ty: &Type) -> Option<&Type> {
    let path = match ty {
        Type::Path(path) if path.qself.is_none() => &path.path,
        Type::Paren(paren) => return result_output(&paren.elem),
        _ => return None,
    };
    let last = path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect();
    match (types.as_slice(), args.args.len()) {
        ([output], 1) | ([output, _], 2) => Some(output),
        _ => None,
    }
}

/// What a borrow in an argument's or the output's type is told.
struct Subject {
    /// Why it cannot borrow.
    why: &'static str,
    /// What the user does with such a type.
    verb: &'static str,
}

/// Borrows in an argument's type.
const ARGUMENT: Subject = Subject {
    why: "arguments are serialised",
    verb: "take",
};

/// Borrows in the output type.
const OUTPUT: Subject = Subject {
    why: "task outputs are serialised and cloned",
    verb: "return",
};

/// Finds borrows in a type: references, `impl Trait` and lifetimes other than `'static`.
struct BorrowFinder<'e> {
    subject: &'static Subject,
    errors: &'e mut Vec<syn::Error>,
}

impl BorrowFinder<'_> {
    /// Pushes an error for every borrow in `ty`.
    fn check(ty: &Type, subject: &'static Subject, errors: &mut Vec<syn::Error>) {
        BorrowFinder { subject, errors }.visit_type(ty);
    }
}

impl<'ast> Visit<'ast> for BorrowFinder<'_> {
    fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
        // One error for the whole reference, not another for its lifetime.
        let Subject { why, verb } = self.subject;
        self.errors.push(syn::Error::new_spanned(
            reference,
            format!(
                "{why}: {verb} an owned type instead of a reference \
                 (e.g. `String` for `&str`, `Vec<T>` for `&[T]`)"
            ),
        ));
    }

    fn visit_type_impl_trait(&mut self, impl_trait: &'ast syn::TypeImplTrait) {
        let Subject { why, verb } = self.subject;
        self.errors.push(syn::Error::new_spanned(
            impl_trait,
            format!("{why}: {verb} a concrete, owned type instead of `impl Trait`"),
        ));
    }

    fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
        if lifetime.ident != "static" {
            let Subject { why, verb } = self.subject;
            self.errors.push(syn::Error::new_spanned(
                lifetime,
                format!("{why}: {verb} an owned type that borrows nothing (no `{lifetime}`)"),
            ));
        }
    }
}

/// The function's name as text, without any `r#`.
pub(crate) fn unraw(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// A span for generated locals that user code cannot see or shadow.
pub(crate) fn hidden() -> Span {
    Span::mixed_site()
}
