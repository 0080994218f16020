//! Listing pages (tagged, newest, home page, search results), both row markups.
//!
//! Rows are read independently of each other's markup: a row whose broken markup left
//! it open (a misspelled end tag) has the rows after it parsed *inside* it, so every
//! row is first moved out of any row it was parsed into ([`independent_rows`]), then
//! read on its own (`row.rs`). A row that cannot be read is a [`RowProblem`] on the
//! page; a page with rows of which none can be read is an
//! [`ExtractError::UnreadableListing`].

mod row;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html};

use crate::dom::{self, attr_of, elements, find, has_class};
use crate::error::ExtractError;
use crate::model::{ListingPage, ListingType, Pagination, RowProblem};

/// A listing row: `.s-post-summary` (2021 on) or `.question-summary`.
fn row_markup(el: ElementRef<'_>) -> Option<&'static str> {
    if has_class(el, "s-post-summary") {
        Some("s-post-summary")
    } else if has_class(el, "question-summary") {
        Some("question-summary")
    } else {
        None
    }
}

/// The first element (in document order) matching `container` that has a
/// descendant matching `content`, in one walk of the tree: with nested
/// candidates, searching each one's subtree would be quadratic.
fn first_container_of<'a>(
    root: ElementRef<'a>,
    container: impl Fn(ElementRef<'a>) -> bool,
    content: impl Fn(ElementRef<'a>) -> bool,
) -> Option<ElementRef<'a>> {
    // Open candidates, outermost first, each with whether content was seen
    // inside it. Content marks every open candidate, so the marked ones
    // are always a bottom part of the stack.
    let mut open: Vec<(ElementRef<'a>, bool)> = Vec::new();
    let mut first: Option<(usize, ElementRef<'a>)> = None;
    let mut order = 0usize;
    let mut order_of: Vec<usize> = Vec::new();
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                let Some(el) = ElementRef::wrap(node) else {
                    continue;
                };
                if content(el) {
                    for (i, (cand, marked)) in open.iter_mut().enumerate().rev() {
                        if *marked {
                            break;
                        }
                        *marked = true;
                        if first.is_none_or(|(o, _)| order_of[i] < o) {
                            first = Some((order_of[i], *cand));
                        }
                    }
                }
                if container(el) {
                    open.push((el, false));
                    order_of.push(order);
                    order += 1;
                }
            }
            Edge::Close(node) => {
                if open.last().is_some_and(|(c, _)| c.id() == node.id()) {
                    open.pop();
                    order_of.pop();
                }
            }
        }
    }
    first.map(|(_, el)| el)
}

fn pagination(root: ElementRef<'_>) -> Option<Pagination> {
    // The pager, not the page-size selector (same classes, `page-sizer`).
    let pager = first_container_of(
        root,
        |e| (has_class(e, "pager") || has_class(e, "s-pagination")) && !has_class(e, "page-sizer"),
        |x| attr_of(x.value(), "href").is_some_and(|h| h.contains("page=")),
    )?;
    let current = elements(pager)
        .skip(1)
        .find(|e| {
            has_class(*e, "current")
                || has_class(*e, "is-selected")
                || attr_of(e.value(), "aria-current") == Some("page")
        })
        .and_then(|e| dom::first_number(&dom::text(e)))
        .and_then(|n| u32::try_from(n).ok());
    let next_href = elements(pager)
        .find(|e| e.value().name() == "a" && attr_of(e.value(), "rel") == Some("next"))
        .and_then(|a| attr_of(a.value(), "href"))
        .map(dom::url_path);
    let highest = elements(pager)
        .filter_map(|e| attr_of(e.value(), "href"))
        .filter_map(|h| dom::query_param(h, "page"))
        .filter_map(|p| p.parse::<u32>().ok())
        .chain(current)
        .max();
    Some(Pagination {
        current_page: current,
        next_href,
        highest_page_number_shown: highest,
    })
}

/// Kind of listing from the canonical / og:url path, else the body class.
fn listing_type(html: &Html) -> ListingType {
    let url = dom::canonical(html).or_else(|| dom::meta_property(html, "og:url"));
    if let Some(url) = url {
        let path = dom::url_path(url);
        let path = path.split(['?', '#']).next().unwrap_or("");
        if path.starts_with("/questions/tagged/") {
            return ListingType::Tagged;
        }
        if path == "/questions" || path == "/questions/" {
            return ListingType::Questions;
        }
        if path.is_empty() || path == "/" {
            return ListingType::Homepage;
        }
    }
    let body = find(html.root_element(), |e| e.value().name() == "body");
    if let Some(body) = body {
        if has_class(body, "tagged-questions-page") {
            return ListingType::Tagged;
        }
        if has_class(body, "questions-page") {
            return ListingType::Questions;
        }
        if has_class(body, "home-page") {
            return ListingType::Homepage;
        }
    }
    ListingType::Other
}

/// Every row element of the document, in document order, each moved out of any row it
/// was parsed into: after this no row's subtree holds another row. One walk of the tree
/// plus one O(1) move per nested row.
///
/// A row left open by broken markup swallows the rows after it (row *k* + 1 becomes a
/// child of row *k*, row *k* + 2 of row *k* + 1, …). Each nested row is re-inserted
/// right after the row before it in document order (its container or a row already
/// moved out of it), which keeps the rows in page order.
fn independent_rows(html: &mut Html) -> Vec<NodeId> {
    let mut rows: Vec<(NodeId, bool)> = Vec::new();
    let mut open: Vec<NodeId> = Vec::new();
    for edge in html.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if let Some(el) = ElementRef::wrap(node)
                    && row_markup(el).is_some()
                {
                    rows.push((node.id(), !open.is_empty()));
                    open.push(node.id());
                }
            }
            Edge::Close(node) => {
                if open.last() == Some(&node.id()) {
                    open.pop();
                }
            }
        }
    }
    for pair in rows.windows(2) {
        let [(prev, _), (nested, true)] = pair else {
            continue;
        };
        if let Some(mut prev) = html.tree.get_mut(*prev) {
            prev.insert_id_after(*nested);
        }
    }
    rows.into_iter().map(|(id, _)| id).collect()
}

/// Extracts a listing page from a parsed document (moving rows that broken markup
/// nested in other rows out of them first).
pub(crate) fn extract(html: &mut Html) -> Result<ListingPage, ExtractError> {
    let ids = independent_rows(html);
    let html = &*html;
    let rows: Vec<ElementRef<'_>> = ids
        .iter()
        .filter_map(|id| html.tree.get(*id))
        .filter_map(ElementRef::wrap)
        .collect();
    let markup =
        rows.first()
            .and_then(|r| row_markup(*r))
            .ok_or_else(|| ExtractError::NotAPage {
                reason: "no listing rows (.question-summary / .s-post-summary)".to_string(),
            })?;
    let mut questions = Vec::with_capacity(rows.len());
    let mut row_problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match row::entry(*row) {
            Ok(entry) => questions.push(entry),
            Err(missing) => row_problems.push(RowProblem {
                position: u32::try_from(i + 1).unwrap_or(u32::MAX),
                row_id: row.value().id().map(str::to_string),
                missing: missing.to_string(),
            }),
        }
    }
    if questions.is_empty() {
        return Err(ExtractError::UnreadableListing {
            row_markup: markup,
            rows: rows.len(),
            missing: row_problems
                .first()
                .map_or(row::NO_TITLE_LINK, |p| p.missing.as_str())
                .to_string(),
        });
    }
    let root = html.root_element();
    Ok(ListingPage {
        page_title: dom::page_title(html),
        site_host: dom::site_host(html),
        listing_type: listing_type(html),
        row_markup: markup.to_string(),
        questions,
        pagination: pagination(root),
        row_problems,
    })
}
