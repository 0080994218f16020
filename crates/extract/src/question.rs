//! Question pages, every markup era.

use std::collections::HashSet;

use scraper::{ElementRef, Html};

use crate::dom::{
    self, attr, attr_of, collapse, elements, find, first_number, has_class, id_after, outermost,
    parse_int, query_param, visible_text,
};
use crate::error::ExtractError;
use crate::model::{Answer, Author, MarkupEra, Question};

fn not_a_page(reason: impl Into<String>) -> ExtractError {
    ExtractError::NotAPage {
        reason: reason.into(),
    }
}

/// `div#question` (every era) or the element carrying `data-questionid`
/// with class `question`.
fn is_question(el: ElementRef<'_>) -> bool {
    el.value().id() == Some("question")
        || (attr_of(el.value(), "data-questionid").is_some() && has_class(el, "question"))
}

/// The numeric id of an answer element: `id="answer-NNN"` (every era) or
/// `data-answerid` on an element with class `answer`.
fn answer_id(el: ElementRef<'_>) -> Option<u64> {
    if let Some(id) = el.value().id()
        && let Some(n) = id.strip_prefix("answer-")
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return n.parse().ok();
    }
    if has_class(el, "answer") {
        return attr(el, "data-answerid").and_then(|v| v.parse().ok());
    }
    None
}

/// The vote score of a post (question or answer element), by era:
/// `data-score` on the post (E), `itemprop=upvoteCount` / `.js-vote-count`
/// (`data-value`, else text; C–E), `.vote-count-post` text (A–B).
fn post_score(post: ElementRef<'_>) -> Option<i64> {
    if let Some(v) = attr(post, "data-score").and_then(parse_int) {
        return Some(v);
    }
    let count = find(post, |e| {
        attr_of(e.value(), "itemprop") == Some("upvoteCount") || has_class(e, "js-vote-count")
    })
    .or_else(|| find(post, |e| has_class(e, "vote-count-post")))?;
    attr(count, "data-value")
        .and_then(parse_int)
        .or_else(|| parse_int(&dom::text(count)))
}

/// The body element of a post: `.js-post-body` / `.s-prose` (D–E),
/// `.post-text` (A–C), `itemprop=text` as a last resort.
fn post_body(post: ElementRef<'_>) -> Option<ElementRef<'_>> {
    find(post, |e| has_class(e, "js-post-body"))
        .or_else(|| find(post, |e| has_class(e, "post-text")))
        .or_else(|| find(post, |e| attr_of(e.value(), "itemprop") == Some("text")))
}

/// The owner's signature of a post: `.post-signature.owner` (questions),
/// else the last `.post-signature` (the "edited" signature comes first).
fn owner_signature(post: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let sigs: Vec<_> = elements(post)
        .skip(1)
        .filter(|e| has_class(*e, "post-signature"))
        .collect();
    sigs.iter()
        .copied()
        .find(|s| has_class(*s, "owner"))
        .or_else(|| sigs.last().copied())
}

fn user_link(el: ElementRef<'_>) -> Option<(ElementRef<'_>, u64)> {
    elements(el)
        .filter(|e| e.value().name() == "a")
        .find_map(|a| {
            let href = attr_of(a.value(), "href")?;
            id_after(href, "users").map(|id| (a, id))
        })
}

/// Direct text children of an element (not its descendants' text).
fn own_text(el: ElementRef<'_>) -> String {
    let raw: String = el
        .children()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect();
    collapse(&raw)
}

/// Who owns a post, read from its signature block.
pub(crate) fn author_from_signature(sig: Option<ElementRef<'_>>) -> Author {
    let Some(sig) = sig else {
        return Author::Anonymous { display_name: None };
    };
    let details: Vec<_> = elements(sig)
        .filter(|e| has_class(*e, "user-details"))
        .collect();
    let community = find(sig, |e| has_class(e, "community-wiki")).is_some()
        || find(sig, |e| {
            e.value().name() == "a" && e.value().id().is_some_and(|id| id.starts_with("history-"))
        })
        .is_some()
        // Outermost details only: each subtree is walked once.
        || outermost(sig, |e| has_class(e, "user-details")).iter().any(|d| {
            find(*d, |e| {
                e.value().name() == "a"
                    && attr_of(e.value(), "href")
                        .is_some_and(|h| h.contains("/revisions"))
            })
            .is_some()
        });
    if community {
        return Author::CommunityWiki;
    }
    let scope = details.first().copied().unwrap_or(sig);
    if let Some((link, id)) = user_link(scope) {
        let mut name = dom::text(link);
        if name.is_empty() {
            name = find(scope, |e| attr_of(e.value(), "itemprop") == Some("name"))
                .map(dom::text)
                .unwrap_or_default();
        }
        return Author::User {
            display_name: name,
            user_id: Some(id),
        };
    }
    let name = find(scope, |e| attr_of(e.value(), "itemprop") == Some("name"))
        .map(dom::text)
        .filter(|n| !n.is_empty())
        .or_else(|| Some(own_text(scope)).filter(|n| !n.is_empty()));
    Author::Anonymous { display_name: name }
}

/// Splits `Title [closed]` into (`Title`, `closed`).
fn split_status_suffix(title: &str) -> (String, Option<String>) {
    if let Some(stripped) = title.strip_suffix(']')
        && let Some(open) = stripped.rfind(" [")
    {
        let suffix = stripped[open + 2..].trim();
        if !suffix.is_empty() && !suffix.contains('[') {
            return (
                stripped[..open].trim().to_string(),
                Some(suffix.to_string()),
            );
        }
    }
    (title.to_string(), None)
}

/// Normalises `2008-07-31 21:42:52Z` to `2008-07-31T21:42:52Z`.
fn iso(ts: &str) -> String {
    let ts = ts.trim();
    let b = ts.as_bytes();
    if b.len() > 10 && b[10] == b' ' && b[4] == b'-' {
        format!("{}T{}", &ts[..10], &ts[11..])
    } else {
        ts.to_string()
    }
}

/// The order the answers were rendered in.
fn answer_sort(root: ElementRef<'_>) -> Option<String> {
    // E: a <select> with the selected option.
    if let Some(select) = find(root, |e| {
        e.value().name() == "select"
            && e.value()
                .id()
                .is_some_and(|id| id.starts_with("answer-sort"))
    }) && let Some(opt) = find(select, |e| {
        e.value().name() == "option" && attr_of(e.value(), "selected").is_some()
    }) && let Some(v) = attr(opt, "value")
    {
        return Some(v.to_ascii_lowercase());
    }
    // A–D: the highlighted tab link in the answers header.
    let header = find(root, |e| e.value().id() == Some("answers-header"))?;
    let tab = find(header, |e| {
        e.value().name() == "a" && (has_class(e, "youarehere") || has_class(e, "is-selected"))
    })?;
    if let Some(v) = attr(tab, "data-value") {
        return Some(v.to_ascii_lowercase());
    }
    let href = attr_of(tab.value(), "href")?;
    query_param(href, "answertab")
        .or_else(|| query_param(href, "tab"))
        .map(str::to_ascii_lowercase)
}

fn answer_count_declared(root: ElementRef<'_>) -> Option<u32> {
    if let Some(v) = elements(root).find_map(|e| attr(e, "data-answercount")) {
        return v.parse().ok();
    }
    let header = find(root, |e| e.value().id() == Some("answers-header"))?;
    if let Some(e) = find(header, |e| {
        attr_of(e.value(), "itemprop") == Some("answerCount")
    }) {
        return first_number(&dom::text(e)).and_then(|n| u32::try_from(n).ok());
    }
    let h2 = find(header, |e| e.value().name() == "h2")?;
    first_number(&dom::text(h2)).and_then(|n| u32::try_from(n).ok())
}

/// The era, each from the markup that defines it (newest first): `data-score` on the
/// question (E), an `.s-prose` / `.js-post-body` body (D), a `.js-vote-count` vote count
/// (C), `data-questionid` / `data-answerid` (B), none of these (A).
///
/// Layout is not an era marker: the 2018 pages already wrap posts in the grid's
/// `post-layout` elements but keep the table era's `.vote-count-post` and `.post-text`
/// (B); the grid's own vote count, `.js-vote-count`, is what came with C in 2019.
fn markup_era(
    question: ElementRef<'_>,
    body: ElementRef<'_>,
    answers: &[ElementRef<'_>],
) -> MarkupEra {
    if attr_of(question.value(), "data-score").is_some() {
        MarkupEra::E
    } else if has_class(body, "s-prose") || has_class(body, "js-post-body") {
        MarkupEra::D
    } else if find(question, |e| has_class(e, "js-vote-count")).is_some() {
        MarkupEra::C
    } else if attr_of(question.value(), "data-questionid").is_some()
        || answers
            .iter()
            .any(|a| attr_of(a.value(), "data-answerid").is_some())
    {
        MarkupEra::B
    } else {
        MarkupEra::A
    }
}

/// The question id: `data-questionid`, the header link, the canonical URL,
/// or the hidden post-id input of the oldest layout.
fn question_id(
    html: &Html,
    question: ElementRef<'_>,
    title_link: Option<ElementRef<'_>>,
) -> Option<u64> {
    attr(question, "data-questionid")
        .and_then(|v| v.parse().ok())
        .or_else(|| {
            title_link
                .and_then(|a| attr_of(a.value(), "href"))
                .and_then(|h| id_after(h, "questions"))
        })
        .or_else(|| dom::canonical(html).and_then(|h| id_after(h, "questions")))
        .or_else(|| {
            find(question, |e| {
                e.value().name() == "input" && attr_of(e.value(), "type") == Some("hidden")
            })
            .and_then(|i| attr(i, "value"))
            .and_then(|v| v.parse().ok())
        })
}

fn extract_answer(el: ElementRef<'_>, id: u64) -> Result<Answer, ExtractError> {
    let score =
        post_score(el).ok_or_else(|| not_a_page(format!("answer {id} has no vote count")))?;
    let accepted = has_class(el, "accepted-answer")
        || attr_of(el.value(), "itemprop") == Some("acceptedAnswer")
        || find(el, |e| has_class(e, "vote-accepted-on")).is_some();
    let body_text = post_body(el)
        .map(|b| visible_text(b, false))
        .ok_or_else(|| not_a_page(format!("answer {id} has no body")))?;
    Ok(Answer {
        id,
        score,
        accepted,
        author: author_from_signature(owner_signature(el)),
        author_username_attr: attr(el, "data-author-username").map(str::to_string),
        body_text,
    })
}

/// Extracts a question page from a parsed document.
pub(crate) fn extract(html: &Html) -> Result<Question, ExtractError> {
    let root = html.root_element();
    let question = outermost(root, is_question)
        .into_iter()
        .next()
        .ok_or_else(|| not_a_page("no question element (div#question)"))?;
    let header = find(root, |e| e.value().id() == Some("question-header"));
    let h1 = header
        .and_then(|h| find(h, |e| e.value().name() == "h1"))
        .or_else(|| {
            find(root, |e| {
                e.value().name() == "h1" && attr_of(e.value(), "itemprop") == Some("name")
            })
        });
    let title_link = h1
        .and_then(|h| find(h, |e| e.value().name() == "a"))
        .or_else(|| find(root, |e| has_class(e, "question-hyperlink")));
    let title = title_link
        .or(h1)
        .map(dom::text)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| not_a_page("no question title (#question-header h1)"))?;
    let (title_clean, title_status_suffix) = split_status_suffix(&title);
    let id = question_id(html, question, title_link).ok_or_else(|| not_a_page("no question id"))?;
    let score = post_score(question).ok_or_else(|| not_a_page("question has no vote count"))?;
    let body = post_body(question).ok_or_else(|| not_a_page("question has no body"))?;
    // Outermost tag links only (nested ones, possible in foreign content,
    // would make the text walks quadratic), deduplicated through a set.
    let mut tags = Vec::new();
    let mut seen = HashSet::new();
    for e in outermost(question, |e| {
        e.value().name() == "a" && has_class(e, "post-tag")
    }) {
        let t = dom::text(e);
        if !t.is_empty() && seen.insert(t.clone()) {
            tags.push(t);
        }
    }
    let owner = owner_signature(question);
    let asked = find(root, |e| {
        e.value().name() == "time" && attr_of(e.value(), "itemprop") == Some("dateCreated")
    })
    .and_then(|t| attr(t, "datetime"))
    .map(iso)
    .or_else(|| {
        owner
            .and_then(|s| find(s, |e| has_class(e, "user-action-time")))
            .and_then(|t| find(t, |e| has_class(e, "relativetime")))
            .and_then(|t| attr(t, "title"))
            .map(iso)
    });

    let answer_els = outermost(root, |e| answer_id(e).is_some());
    let mut answers = Vec::with_capacity(answer_els.len());
    for el in &answer_els {
        if let Some(aid) = answer_id(*el) {
            answers.push(extract_answer(*el, aid)?);
        }
    }

    Ok(Question {
        page_title: dom::page_title(html),
        og_title: dom::meta_property(html, "og:title").map(collapse),
        site_host: dom::site_host(html),
        id,
        title,
        title_clean,
        title_status_suffix,
        score,
        tags,
        body_text: visible_text(body, false),
        body_text_excluding_notices: visible_text(body, true),
        body_html: body.inner_html(),
        author: author_from_signature(owner),
        asked,
        answer_count_declared: answer_count_declared(root),
        answer_sort: answer_sort(root),
        markup_era: markup_era(question, body, &answer_els),
        answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_split() {
        assert_eq!(
            split_status_suffix("A b [duplicate]"),
            ("A b".to_string(), Some("duplicate".to_string()))
        );
        assert_eq!(split_status_suffix("arr[i]"), ("arr[i]".to_string(), None));
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso("2008-07-31 21:42:52Z"), "2008-07-31T21:42:52Z");
        assert_eq!(iso("2013-01-04T07:12:11"), "2013-01-04T07:12:11");
    }
}
