//! The records `sofleet_extract` must read back from the rendered pages:
//! every field of a question page's `Question` and of a listing page's
//! `ListingPage` (`tests/roundtrip.rs` parses every page and compares).

use sofleet_extract::{
    Answer, Author, ListingEntry, ListingPage, ListingType, MarkupEra, Pagination, Question,
};

use crate::model::{GenAuthor, Status};
use crate::render;
use crate::site::{ListingWindow, SITE_HOST, SiteContent};
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

/// The record `sofleet_extract::parse_listing` must produce for an
/// existing listing page (`tag == None`: `/questions?tab=SORT`). Pages of
/// a single-page listing have no pager (`pagination: None`), as on the
/// real site.
pub(crate) fn listing_page(site: &SiteContent, w: &ListingWindow<'_>) -> ListingPage {
    ListingPage {
        page_title: render::listing_title(w.tag, w.sort),
        site_host: Some(SITE_HOST.to_string()),
        listing_type: if w.tag.is_some() {
            ListingType::Tagged
        } else {
            ListingType::Questions
        },
        row_markup: "s-post-summary".to_string(),
        questions: w
            .slice
            .iter()
            .filter_map(|&i| entry(site, site.questions[i as usize].id))
            .collect(),
        pagination: (w.last > 1).then(|| Pagination {
            current_page: Some(w.page),
            next_href: (w.page < w.last)
                .then(|| render::listing_href(w.tag, w.sort, w.page + 1, w.pagesize)),
            highest_page_number_shown: Some(w.last),
        }),
        row_problems: Vec::new(),
    }
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
        answer_id: None,
    })
}
