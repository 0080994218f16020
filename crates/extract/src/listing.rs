//! Listing pages (tagged, newest, home page), both row markups.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html};

use crate::dom::{
    self, all_digits, attr, elements, find, has_class, id_after, outermost, parse_int,
};
use crate::error::ExtractError;
use crate::model::{ListingEntry, ListingPage, ListingType, Pagination};

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

fn row_id(row: ElementRef<'_>, link: Option<&str>) -> Option<u64> {
    attr(row, "data-post-id")
        .and_then(|v| v.parse().ok())
        .or_else(|| {
            row.value()
                .id()
                .and_then(|id| id.rsplit('-').next())
                .and_then(|n| n.parse().ok())
        })
        .or_else(|| link.and_then(|l| id_after(l, "questions")))
}

fn number_in(el: ElementRef<'_>) -> Option<i64> {
    parse_int(&dom::text(el))
}

fn entry(row: ElementRef<'_>) -> Option<ListingEntry> {
    let link_el = find(row, |e| {
        e.value().name() == "a" && has_class(e, "question-hyperlink")
    })
    .or_else(|| {
        find(row, |e| has_class(e, "s-post-summary--content-title"))
            .and_then(|h| find(h, |e| e.value().name() == "a"))
    })
    .or_else(|| {
        find(row, |e| e.value().name() == "h3").and_then(|h| find(h, |e| e.value().name() == "a"))
    })?;
    let href = link_el.value().attr("href")?;
    let link = dom::url_path(href);
    let id = row_id(row, Some(&link))?;
    let title = dom::text(link_el);

    // s-post-summary stats items, in their fixed order: votes, answers,
    // views (a bounty badge, when present, is not one of them).
    let stats: Vec<_> = elements(row)
        .filter(|e| has_class(*e, "s-post-summary--stats-item"))
        .filter(|e| !e.value().classes().any(|c| c.contains("bounty")))
        .collect();
    let (score, answer_count, view_count, has_accepted) = if !stats.is_empty() {
        let number = |item: ElementRef<'_>| {
            find(item, |e| has_class(e, "s-post-summary--stats-item-number")).and_then(number_in)
        };
        let by_prop =
            |p: &str| find(row, |e| e.value().attr("itemprop") == Some(p)).and_then(number_in);
        let score = by_prop("upvoteCount").or_else(|| stats.first().and_then(|s| number(*s)));
        let answers = by_prop("answerCount").or_else(|| stats.get(1).and_then(|s| number(*s)));
        // The title carries the exact count (`1,234 views`); the number
        // may be abbreviated (`1k`).
        let views = stats.get(2).and_then(|s| {
            attr(*s, "title")
                .and_then(all_digits)
                .or_else(|| number(*s).and_then(|n| u64::try_from(n).ok()))
        });
        let accepted = stats.iter().any(|s| has_class(*s, "has-accepted-answer"));
        (score, answers, views, Some(accepted))
    } else {
        let score = find(row, |e| has_class(e, "vote-count-post"))
            .and_then(number_in)
            .or_else(|| {
                find(row, |e| has_class(e, "votes"))
                    .and_then(|v| find(v, |e| has_class(e, "mini-counts")).or(Some(v)))
                    .and_then(number_in)
            });
        let status = find(row, |e| has_class(e, "status"));
        let answers = status.and_then(|s| {
            find(s, |e| {
                e.value().name() == "strong" || has_class(e, "mini-counts")
            })
            .and_then(number_in)
            .or_else(|| number_in(s))
        });
        let views = find(row, |e| has_class(e, "views")).and_then(|v| {
            attr(v, "title")
                .and_then(all_digits)
                .or_else(|| {
                    find(v, |e| e.value().attr("title").is_some())
                        .and_then(|t| attr(t, "title"))
                        .and_then(all_digits)
                })
                .or_else(|| number_in(v).and_then(|n| u64::try_from(n).ok()))
        });
        let accepted = status.map(|s| has_class(s, "answered-accepted"));
        (score, answers, views, accepted)
    };
    let mut tags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for e in elements(row) {
        if e.value().name() == "a" && has_class(e, "post-tag") {
            let t = dom::text(e);
            if !t.is_empty() && seen.insert(t.clone()) {
                tags.push(t);
            }
        }
    }
    Some(ListingEntry {
        id,
        title,
        link,
        score: score.unwrap_or(0),
        answer_count: answer_count
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        view_count,
        tags,
        has_accepted_answer: has_accepted,
    })
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
        |x| x.value().attr("href").is_some_and(|h| h.contains("page=")),
    )?;
    let current = elements(pager)
        .skip(1)
        .find(|e| {
            has_class(*e, "current")
                || has_class(*e, "is-selected")
                || e.value().attr("aria-current") == Some("page")
        })
        .and_then(|e| dom::first_number(&dom::text(e)))
        .and_then(|n| u32::try_from(n).ok());
    let next_href = elements(pager)
        .find(|e| e.value().name() == "a" && e.value().attr("rel") == Some("next"))
        .and_then(|a| a.value().attr("href"))
        .map(dom::url_path);
    let highest = elements(pager)
        .filter_map(|e| e.value().attr("href"))
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

/// Extracts a listing page from a parsed document.
pub(crate) fn extract(html: &Html) -> Result<ListingPage, ExtractError> {
    let root = html.root_element();
    let rows = outermost(root, |e| row_markup(e).is_some());
    let markup =
        rows.first()
            .and_then(|r| row_markup(*r))
            .ok_or_else(|| ExtractError::NotAPage {
                reason: "no listing rows (.question-summary / .s-post-summary)".to_string(),
            })?;
    let questions = rows.iter().filter_map(|r| entry(*r)).collect();
    Ok(ListingPage {
        page_title: dom::page_title(html),
        site_host: dom::site_host(html),
        listing_type: listing_type(html),
        row_markup: markup.to_string(),
        questions,
        pagination: pagination(root),
    })
}
