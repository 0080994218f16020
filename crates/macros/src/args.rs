//! The attribute's own arguments: `#[sofleet::task(name = "..", version = 2, ..)]`.
//!
//! Every key is optional and given at most once:
//!
//! | key           | value                      | default                                  |
//! |---------------|----------------------------|------------------------------------------|
//! | `name`        | string literal, not empty  | `concat!(module_path!(), "::", "<fn>")`  |
//! | `version`     | `u32` integer literal      | `1`                                      |
//! | `pure`        | `true` / `false`           | `true`                                   |
//! | `retries`     | `u32` integer literal      | none (the trait's default policy)        |
//! | `crate`       | string literal with a path | `"::sofleet"`                            |
//! | `struct_name` | string literal, an ident   | the fn's name in UpperCamelCase + `Task` |
//!
//! Parsing goes on past a bad key so that one build reports every mistake at its own token.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

/// The accepted keys, as error messages list them.
pub(crate) const KEYS: &str = "`name`, `version`, `pure`, `retries`, `crate`, `struct_name`";

/// The parsed arguments of one `#[sofleet::task(..)]`; `None` where a key was not given.
#[derive(Default)]
pub(crate) struct TaskArgs {
    /// `name = "..."`: the task's stable name (`Task::NAME`).
    pub(crate) name: Option<LitStr>,
    /// `version = N`: `Task::VERSION`.
    pub(crate) version: Option<u32>,
    /// `pure = bool`: `Task::PURE`.
    pub(crate) pure: Option<bool>,
    /// `retries = N`: emits `Task::retry_policy` with `RetryPolicy::retries(N)`.
    pub(crate) retries: Option<u32>,
    /// `crate = "path"`: where the runtime items live (default `::sofleet`).
    pub(crate) krate: Option<Path>,
    /// `struct_name = "Ident"`: the name of the generated task struct.
    pub(crate) struct_name: Option<Ident>,
}

impl TaskArgs {
    /// Parses the attribute's tokens (what is inside the parentheses), reporting every bad key
    /// as one combined [`syn::Error`].
    pub(crate) fn parse(attr: TokenStream) -> syn::Result<TaskArgs> {
        let mut args = TaskArgs::default();
        let mut errors: Vec<syn::Error> = Vec::new();
        let parser = syn::meta::parser(|meta| {
            if let Err(e) = args.parse_one(&meta) {
                errors.push(e);
            }
            // Skip a value we could not use, so the keys after it are still checked.
            if meta.input.peek(Token![=]) {
                meta.input.parse::<Token![=]>()?;
                meta.input.parse::<Expr>()?;
            }
            Ok(())
        });
        if let Err(e) = parser.parse2(attr) {
            errors.push(e);
        }
        match combine(errors) {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }

    /// Parses one `key = value`, consuming the value when the key is known.
    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let key = match meta.path.get_ident() {
            Some(key) => key.to_string(),
            None => return Err(unknown_key(meta)),
        };
        let usage = match key.as_str() {
            "name" => "`name` takes a string literal, e.g. `name = \"crawl::fetch_page\"`",
            "version" => "`version` takes a u32 integer literal, e.g. `version = 2`",
            "pure" => "`pure` takes `true` or `false`, e.g. `pure = false`",
            "retries" => "`retries` takes a u32 integer literal, e.g. `retries = 3`",
            "crate" => {
                "`crate` takes the path of the sofleet crate as a string literal, \
                 e.g. `crate = \"sofleet_executor\"`"
            }
            "struct_name" => {
                "`struct_name` takes the name of the task struct as a string literal, \
                 e.g. `struct_name = \"FetchTask\"`"
            }
            _ => return Err(unknown_key(meta)),
        };
        let duplicate = match key.as_str() {
            "name" => self.name.is_some(),
            "version" => self.version.is_some(),
            "pure" => self.pure.is_some(),
            "retries" => self.retries.is_some(),
            "crate" => self.krate.is_some(),
            _ => self.struct_name.is_some(),
        };
        if duplicate {
            return Err(meta.error(format!(
                "duplicate `{key}` in #[sofleet::task]: give each key at most once"
            )));
        }
        if !meta.input.peek(Token![=]) {
            return Err(meta.error(format!("{usage} (missing `= value`)")));
        }
        meta.input.parse::<Token![=]>()?;
        let value: Expr = meta.input.parse()?;
        let bad_value = || syn::Error::new_spanned(&value, usage);
        let lit = match &value {
            Expr::Lit(ExprLit { lit, attrs }) if attrs.is_empty() => lit,
            _ => return Err(bad_value()),
        };
        match (key.as_str(), lit) {
            ("name", Lit::Str(s)) => {
                if s.value().is_empty() {
                    return Err(syn::Error::new_spanned(
                        s,
                        "`name` cannot be empty: it identifies the task's code to remote workers",
                    ));
                }
                self.name = Some(s.clone());
            }
            ("version", Lit::Int(i)) => self.version = Some(parse_u32(i, usage)?),
            ("retries", Lit::Int(i)) => self.retries = Some(parse_u32(i, usage)?),
            ("pure", Lit::Bool(b)) => self.pure = Some(b.value),
            ("crate", Lit::Str(s)) => {
                let path: Path = s.parse().map_err(|_| bad_value())?;
                if path
                    .segments
                    .iter()
                    .any(|segment| !segment.arguments.is_none())
                {
                    return Err(bad_value());
                }
                self.krate = Some(path);
            }
            ("struct_name", Lit::Str(s)) => {
                self.struct_name = Some(s.parse().map_err(|_| bad_value())?);
            }
            _ => return Err(bad_value()),
        }
        Ok(())
    }
}

/// The error for a key that is not one of [`KEYS`], at the key.
fn unknown_key(meta: &ParseNestedMeta<'_>) -> syn::Error {
    let key = meta
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    syn::Error::new_spanned(
        &meta.path,
        format!("unknown #[sofleet::task] attribute `{key}`: expected one of {KEYS}"),
    )
}

/// An unsuffixed (or `u32`-suffixed) integer literal that fits a `u32`.
fn parse_u32(lit: &syn::LitInt, usage: &str) -> syn::Result<u32> {
    if !matches!(lit.suffix(), "" | "u32") {
        return Err(syn::Error::new_spanned(lit, usage));
    }
    lit.base10_parse::<u32>()
        .map_err(|_| syn::Error::new_spanned(lit, usage))
}

/// All `errors` as one [`syn::Error`] (each keeps its own span), or `None` when there are none.
pub(crate) fn combine(errors: impl IntoIterator<Item = syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    })
}
