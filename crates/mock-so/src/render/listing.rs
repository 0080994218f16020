//! Listing pages (`templates/listing.html`, rows in
//! `templates/partials/listing_row.html`, the pager in
//! `templates/partials/pager.html`).

use askama::Template;

use super::filters;
use super::post::UserView;
use super::{Layout, excerpt, listing_base, listing_href, listing_title, render};
use crate::model::{GenAuthor, GenQuestion};
use crate::site::{ListingWindow, SiteContent, Sort};
use crate::text::{relative, short_number, thousands, title_time};

/// One question row of a listing.
#[derive(Template)]
#[template(path = "partials/listing_row.html", escape = "none")]
struct ListingRow<'a> {
    q: &'a GenQuestion,
    position: usize,
    /// Number of answers.
    n: usize,
    accepted: bool,
    answers_class: &'static str,
    answers_title: String,
    /// ` is-hot` / ` is-warm` / nothing, by views.
    heat: &'static str,
    views_long: String,
    views_short: String,
    created_title: String,
    created_relative: String,
    path: String,
    title: String,
    excerpt: &'a str,
    user: Option<UserView<'a>>,
    deleted: Option<u64>,
}

impl<'a> ListingRow<'a> {
    fn new(site: &'a SiteContent, q: &'a GenQuestion, position: usize) -> Self {
        let n = q.answers.len();
        let accepted = q.has_accepted();
        let (answers_class, answers_title) = if accepted {
            (
                " has-answers has-accepted-answer",
                "one of the answers was accepted as the correct answer".to_string(),
            )
        } else if n > 0 {
            (
                " has-answers",
                format!("{n} answer{}", if n == 1 { "" } else { "s" }),
            )
        } else {
            ("", "0 answers".to_string())
        };
        ListingRow {
            q,
            position,
            n,
            accepted,
            answers_class,
            answers_title,
            heat: if q.views >= 10_000 {
                " is-hot"
            } else if q.views >= 1_000 {
                " is-warm"
            } else {
                ""
            },
            views_long: thousands(q.views),
            views_short: short_number(q.views),
            created_title: title_time(q.created),
            created_relative: relative(q.created, site.now),
            path: q.path(),
            title: q.display_title(),
            excerpt: q.excerpt.get_or_init(|| excerpt(&q.body, 180)),
            user: match q.author {
                GenAuthor::User(ix) => Some(UserView::new(&site.users[ix])),
                _ => None,
            },
            deleted: match q.author {
                GenAuthor::Deleted(n) => Some(n),
                _ => None,
            },
        }
    }
}

/// One page number of the pager.
struct PagerItem {
    /// An ellipsis comes before it.
    gap_before: bool,
    page: u32,
    current: bool,
    href: String,
}

/// The pager of a listing with more than one page.
#[derive(Template)]
#[template(path = "partials/pager.html", escape = "none")]
struct Pager {
    prev: Option<(String, u32)>,
    items: Vec<PagerItem>,
    next: Option<(String, u32)>,
}

impl Pager {
    fn new(page: u32, last: u32, href: &dyn Fn(u32) -> String) -> Self {
        let mut shown: Vec<u32> = vec![1, last];
        shown.extend(page.saturating_sub(2).max(1)..=(page + 2).min(last));
        if page <= 4 {
            shown.extend(1..=5u32.min(last));
        }
        shown.sort_unstable();
        shown.dedup();
        let mut prev = 0;
        let items = shown
            .into_iter()
            .map(|p| {
                let item = PagerItem {
                    gap_before: p > prev + 1,
                    page: p,
                    current: p == page,
                    href: href(p),
                };
                prev = p;
                item
            })
            .collect();
        Pager {
            prev: (page > 1).then(|| (href(page - 1), page - 1)),
            items,
            next: (page < last).then(|| (href(page + 1), page + 1)),
        }
    }
}

/// A sort button.
struct SortTab {
    selected: bool,
    name: &'static str,
    href: String,
}

/// A page-size button.
struct SizeTab {
    selected: bool,
    size: u32,
    href: String,
}

/// The content of a listing page.
#[derive(Template)]
#[template(path = "listing.html", escape = "none")]
struct ListingHtml<'a> {
    tag: Option<&'a str>,
    /// The heading of an all-questions listing.
    heading: &'static str,
    total: String,
    sorts: Vec<SortTab>,
    rows: Vec<ListingRow<'a>>,
    sizes: Vec<SizeTab>,
    pager: Option<Pager>,
    sidebar: &'a str,
    related_tags: Vec<(&'a str, usize)>,
}

/// Renders a listing page: `tag == None` is `/questions?tab=SORT`,
/// otherwise `/questions/tagged/TAG?tab=SORT`.
pub(crate) fn listing_page(site: &SiteContent, window: &ListingWindow<'_>) -> String {
    let &ListingWindow {
        tag,
        sort,
        page,
        pagesize,
        slice,
        last,
    } = window;
    let total = site.order(tag, sort).map_or(0, <[u32]>::len);
    let title = listing_title(tag, sort);
    let base = listing_base(tag);
    let content = ListingHtml {
        tag,
        heading: match sort {
            Sort::Newest => "Newest Questions",
            _ => "All Questions",
        },
        total: thousands(total as u64),
        sorts: Sort::ALL
            .into_iter()
            .map(|s| SortTab {
                selected: s == sort,
                name: s.as_str(),
                href: listing_href(tag, s, 1, pagesize),
            })
            .collect(),
        rows: slice
            .iter()
            .enumerate()
            .map(|(i, &ix)| {
                let position = (page as usize - 1) * pagesize as usize + i + 1;
                ListingRow::new(site, &site.questions[ix as usize], position)
            })
            .collect(),
        sizes: [15u32, 30, 50]
            .into_iter()
            .map(|size| SizeTab {
                selected: size == pagesize,
                size,
                href: format!("{base}?tab={}&pagesize={size}", sort.as_str()),
            })
            .collect(),
        pager: (last > 1)
            .then(|| Pager::new(page, last, &|p| listing_href(tag, sort, p, pagesize))),
        sidebar: &site.chrome.sidebar_static,
        related_tags: site
            .by_tag
            .iter()
            .take(30)
            .map(|(t, orders)| (t.as_str(), orders[0].len()))
            .collect(),
    };
    let layout = Layout {
        body_class: if tag.is_some() {
            "tagged-questions-page"
        } else {
            "questions-page"
        },
        ..Layout::new(site, &title, &base, content)
    };
    render(&layout, 260_000)
}
