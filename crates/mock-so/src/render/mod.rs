//! HTML rendering of the generated site in the newest Stack Overflow markup
//! (era E: `s-post-summary` listing rows, `data-score` on post divs,
//! `.s-prose.js-post-body` bodies), with realistic head, sidebar and script
//! padding so pages have the size of real ones.
//!
//! Every page is an askama template under `templates/` (compiled into the
//! binary; nothing is read at run time) filled from a small view struct:
//! `layout.html` (head, top bar, footer, scripts) around `question.html`,
//! `listing.html` or `not_found.html`; the parts of a post under
//! `templates/partials/`; the per-site chrome under `templates/chrome/`.
//! Templates escape with the site's own [`filters`] (`escape = "none"`), so
//! the bytes are exactly what an HTML serializer writes back.
//!
//! - [`chrome`]: the parts of every page built once per site;
//! - [`question`]: question pages; [`listing`]: listing pages;
//! - [`post`]: what question and answer share (vote cell, menu,
//!   signatures, comments, tags); [`body`]: post bodies.

mod body;
mod chrome;
mod filters;
mod listing;
mod post;
mod question;

use std::fmt::Display;

use askama::Template;

pub(crate) use body::body_html;
pub(crate) use chrome::Chrome;
pub(crate) use listing::listing_page;
pub(crate) use question::question_page;

use crate::model::Body;
use crate::site::{SITE_HOST, SiteContent, Sort};
use crate::text::encode_tag;

/// Renders a template into a string of about `capacity` bytes.
fn render(template: &impl Template, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    // Writing into a `String` cannot fail, and no filter returns an error.
    let _ = template.render_into(&mut out);
    out
}

/// Head, top bar, footer and scripts around a page's content.
#[derive(Template)]
#[template(path = "layout.html", escape = "none")]
struct Layout<'a, C: Display> {
    chrome: &'a Chrome,
    host: &'static str,
    title: &'a str,
    canonical: &'a str,
    /// `og:title` and description (question pages only).
    og: Option<(&'a str, &'a str)>,
    body_class: &'a str,
    content: C,
}

impl<'a, C: Display> Layout<'a, C> {
    fn new(site: &'a SiteContent, title: &'a str, canonical: &'a str, content: C) -> Self {
        Layout {
            chrome: &site.chrome,
            host: SITE_HOST,
            title,
            canonical,
            og: None,
            body_class: "",
            content,
        }
    }
}

/// The content of the "Page not found" page.
#[derive(Template)]
#[template(path = "not_found.html", escape = "none")]
struct NotFound;

/// A real-looking "Page not found" page (served with status 404).
pub(crate) fn not_found_page(site: &SiteContent) -> String {
    let layout = Layout {
        body_class: "error-page",
        ..Layout::new(site, "Page not found - Stack Overflow", "/404", NotFound)
    };
    render(&layout, 200_000)
}

/// The human-verification page.
#[derive(Template)]
#[template(path = "captcha.html", escape = "none")]
struct Captcha<'a> {
    token: &'a str,
}

/// The human-verification page `/nocaptcha` serves.
pub(crate) fn captcha_page(token: &str) -> String {
    render(&Captcha { token }, 1_024)
}

/// A small error page.
#[derive(Template)]
#[template(path = "error.html", escape = "none")]
struct ErrorPage {
    title: &'static str,
    heading: &'static str,
    text: &'static str,
}

/// Small error pages for 429 / 500 / 503.
pub(crate) fn error_page(status: u16) -> String {
    let (title, text) = match status {
        429 => (
            "Too Many Requests - Stack Overflow",
            "Too many requests. Please slow down and retry after the time the Retry-After header states.",
        ),
        503 => (
            "Service Unavailable - Stack Overflow",
            "Stack Overflow is currently offline for maintenance or overloaded. Please retry shortly.",
        ),
        _ => (
            "Something went wrong - Stack Overflow",
            "An error occurred while processing your request. Please retry.",
        ),
    };
    let heading = title.trim_end_matches(" - Stack Overflow");
    render(
        &ErrorPage {
            title,
            heading,
            text,
        },
        512,
    )
}

/// The first `max_chars` characters of a body's text (notices excluded),
/// cut at a word end with `...`.
fn excerpt(body: &Body, max_chars: usize) -> String {
    let text = body.text(false);
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    format!("{}...", cut.trim_end())
}

/// The `<title>` of a listing page.
pub(crate) fn listing_title(tag: Option<&str>, sort: Sort) -> String {
    match (tag, sort) {
        (Some(t), Sort::Votes) => format!("Highest scored '{t}' questions - Stack Overflow"),
        (Some(t), Sort::Newest) => format!("Newest '{t}' Questions - Stack Overflow"),
        (Some(t), Sort::Active) => format!("Active '{t}' Questions - Stack Overflow"),
        (Some(t), Sort::Frequent) => format!("Frequent '{t}' Questions - Stack Overflow"),
        (None, Sort::Votes) => "Highest scored questions - Stack Overflow".to_string(),
        (None, Sort::Newest) => "Newest Questions - Stack Overflow".to_string(),
        (None, Sort::Active) => "Active Questions - Stack Overflow".to_string(),
        (None, Sort::Frequent) => "Frequent Questions - Stack Overflow".to_string(),
    }
}

/// `/questions/tagged/TAG` or `/questions`.
pub(crate) fn listing_base(tag: Option<&str>) -> String {
    match tag {
        Some(t) => format!("/questions/tagged/{}", encode_tag(t)),
        None => "/questions".to_string(),
    }
}

/// The href of a listing page as the pager writes it.
pub(crate) fn listing_href(tag: Option<&str>, sort: Sort, page: u32, pagesize: u32) -> String {
    format!(
        "{}?tab={}&page={page}&pagesize={pagesize}",
        listing_base(tag),
        sort.as_str()
    )
}
