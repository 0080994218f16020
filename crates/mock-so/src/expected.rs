//! The records `sofleet_extract` must read back from the rendered pages:
//! every field of a question page's `Question` and of a listing page's
//! `ListingPage` (`tests/roundtrip.rs` parses every page and compares).

use sofleet_extract::{
    Answer, Author, ListingEntry, ListingPage, ListingType, MarkupEra, Pagination, Question,
};

use crate::model::{GenAuthor, Status};
use crate::render;
use crate::site::{SITE_HOST, SiteContent, Sort, normalize_pagesize};
use crate::text::iso;

fn author(site: &SiteContent, a: &GenAuthor) -> Author {
    match a {
        GenAuthor::User(u) => Author::User {
            display_name: site.users[*u].name.clone(),
            user_id: Some(site.users[*u].id),
        },
        GenAuthor::Deleted(n) => Author::Anonymous {
            display_name: Some(format!("user{n}")),
        },
        GenAuthor::CommunityWiki => Author::CommunityWiki,
    }
}

/// The record `sofleet_extract::parse_question` must produce for this
/// question's page, `None` for an unknown id. Independent of fault
/// settings (a `not_found` id still has its content here).
pub(crate) fn question(site: &SiteContent, id: u64) -> Option<Question> {
    let q = site.question(id)?;
    Some(Question {
        page_title: format!("{} - {} - Stack Overflow", q.tags[0], q.title),
        og_title: Some(q.title.clone()),
        site_host: Some(SITE_HOST.to_string()),
        id: q.id,
        title: q.display_title(),
        title_clean: q.title.clone(),
        title_status_suffix: match q.status {
            Status::Open => None,
            Status::Duplicate => Some(crate::STATUS_DUPLICATE.to_string()),
            Status::Closed => Some(crate::STATUS_CLOSED.to_string()),
        },
        score: q.score,
        tags: q.tags.clone(),
        body_text: q.body.text(true),
        body_text_excluding_notices: q.body.text(false),
        body_html: render::body_html(&q.body),
        author: author(site, &q.author),
        asked: Some(iso(q.created)),
        answer_count_declared: Some(q.answers.len() as u32),
        markup_era: MarkupEra::E,
        answer_sort: Some("scoredesc".to_string()),
        answers: q
            .answers
            .iter()
            .map(|a| Answer {
                id: a.id,
                score: a.score,
                accepted: a.accepted,
                author: author(site, &a.author),
                author_username_attr: None,
                body_text: a.body.text(true),
            })
            .collect(),
    })
}

/// The record `sofleet_extract::parse_listing` must produce for a
/// listing page (`tag == None`: `/questions?tab=SORT`); `None` when the
/// page does not exist. Pages of a single-page listing have no pager
/// (`pagination: None`), as on the real site.
pub(crate) fn listing_page(
    site: &SiteContent,
    tag: Option<&str>,
    sort: Sort,
    page: u32,
    pagesize: u32,
) -> Option<ListingPage> {
    let pagesize = normalize_pagesize(Some(pagesize));
    let slice = site.page_slice(tag, sort, page, pagesize)?;
    let last = site.last_page(tag, pagesize);
    Some(ListingPage {
        page_title: render::listing_title(tag, sort),
        site_host: Some(SITE_HOST.to_string()),
        listing_type: if tag.is_some() {
            ListingType::Tagged
        } else {
            ListingType::Questions
        },
        row_markup: "s-post-summary".to_string(),
        questions: slice
            .iter()
            .filter_map(|&i| entry(site, site.questions[i as usize].id))
            .collect(),
        pagination: (last > 1).then(|| Pagination {
            current_page: Some(page),
            next_href: (page < last).then(|| render::listing_href(tag, sort, page + 1, pagesize)),
            highest_page_number_shown: Some(last),
        }),
    })
}

/// The listing row of one question.
pub(crate) fn entry(site: &SiteContent, id: u64) -> Option<ListingEntry> {
    let q = site.question(id)?;
    Some(ListingEntry {
        id: q.id,
        title: q.display_title(),
        link: q.path(),
        score: q.score,
        answer_count: q.answers.len() as u32,
        view_count: Some(q.views),
        tags: q.tags.clone(),
        has_accepted_answer: Some(q.has_accepted()),
    })
}
