//! One listing row, read on its own: a question row (tagged / newest / home page), a search
//! hit on a question, or a search hit on an answer.

use scraper::ElementRef;

use crate::dom::{self, all_digits, attr, attr_of, elements, find, has_class, id_after, parse_int};
use crate::model::ListingEntry;

/// What a row without a title link was missing.
pub(super) const NO_TITLE_LINK: &str = "title link (a.question-hyperlink, a.answer-hyperlink, \
     .s-post-summary--content-title a, h3 a, .result-link a)";
/// What a row whose title link has no address was missing.
const NO_HREF: &str = "href on its title link";
/// What a question row without any id was missing.
const NO_QUESTION_ID: &str =
    "question id (data-post-id, id=\"question-summary-N\", a /questions/N/ link)";
/// What an answer hit without the link to its question was missing.
const NO_ANSWER_QUESTION: &str = "question id of the answer hit (a /questions/N/ link)";

/// The row's title link, by era: `a.question-hyperlink` (search answer hits:
/// `a.answer-hyperlink`), the `s-post-summary` title, an `h3` link, or the
/// `.result-link` link of 2013–2016 search results (no class, inside a `<span>`).
fn title_link(row: ElementRef<'_>) -> Option<ElementRef<'_>> {
    fn link_in(container: ElementRef<'_>) -> Option<ElementRef<'_>> {
        find(container, |e| e.value().name() == "a")
    }
    find(row, |e| {
        e.value().name() == "a"
            && (has_class(e, "question-hyperlink") || has_class(e, "answer-hyperlink"))
    })
    .or_else(|| find(row, |e| has_class(e, "s-post-summary--content-title")).and_then(link_in))
    .or_else(|| find(row, |e| e.value().name() == "h3").and_then(link_in))
    .or_else(|| find(row, |e| has_class(e, "result-link")).and_then(link_in))
}

/// The answer id of a link to an answer: `/questions/Q/slug/A` (query and fragment
/// ignored), else the fragment `#A`.
fn answer_in_link(href: &str) -> Option<u64> {
    let (path, fragment) = href.split_once('#').unwrap_or((href, ""));
    let path = path.split('?').next().unwrap_or("");
    let mut segments = path.split('/').skip_while(|s| *s != "questions").skip(3);
    segments
        .next()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .or_else(|| (!fragment.is_empty()).then_some(fragment))
        .and_then(|n| n.parse().ok())
}

/// The answer id when the row is a search hit on an answer: `id="answer-id-A"`,
/// `data-post-type-id="2"` (with the answer's `data-post-id`), an `answer-hyperlink`
/// title link, or a title link to `/questions/Q/slug/A`.
fn answer_hit(row: ElementRef<'_>, link: ElementRef<'_>, href: &str) -> Option<u64> {
    if let Some(n) = row
        .value()
        .id()
        .and_then(|id| id.strip_prefix("answer-id-"))
    {
        return n.parse().ok();
    }
    if attr(row, "data-post-type-id") == Some("2") {
        return attr(row, "data-post-id")
            .and_then(|v| v.parse().ok())
            .or_else(|| answer_in_link(href));
    }
    let in_link = answer_in_link(href);
    if has_class(link, "answer-hyperlink") {
        return in_link;
    }
    // A link to an answer's place on its question page.
    let path = href.split(['?', '#']).next().unwrap_or("");
    if path
        .split('/')
        .skip_while(|s| *s != "questions")
        .nth(3)
        .is_some()
    {
        return in_link;
    }
    None
}

/// The id of a question row: `data-post-id`, the row's `id` (`question-summary-N`),
/// else the link.
fn question_id(row: ElementRef<'_>, link: &str) -> Option<u64> {
    attr(row, "data-post-id")
        .and_then(|v| v.parse().ok())
        .or_else(|| {
            row.value()
                .id()
                .and_then(|id| id.rsplit('-').next())
                .and_then(|n| n.parse().ok())
        })
        .or_else(|| id_after(link, "questions"))
}

/// `Q: How do I…` → `How do I…`: search hits prefix their titles with a short
/// (localised) word for the post type.
fn without_hit_prefix(title: &str) -> &str {
    match title.split_once(": ") {
        Some((word, rest)) if !word.is_empty() && word.chars().count() <= 3 => rest,
        _ => title,
    }
}

/// The title as shown: on search hits the link's `title` attribute (the bare title),
/// else its text without the `Q:` / `A:` prefix; elsewhere the link's text.
fn title(row: ElementRef<'_>, link: ElementRef<'_>) -> String {
    let text = dom::text(link);
    let search =
        has_class(row, "search-result") || attr_of(link.value(), "data-searchsession").is_some();
    if !search {
        return text;
    }
    attr(link, "title")
        .map(dom::collapse)
        .unwrap_or_else(|| without_hit_prefix(&text).to_string())
}

fn number_in(el: ElementRef<'_>) -> Option<i64> {
    parse_int(&dom::text(el))
}

/// (score, answers, views, accepted) of an `s-post-summary` row from its stats items, in
/// their fixed order: votes, answers, views (a bounty badge is not one of them).
fn post_summary_stats(
    row: ElementRef<'_>,
    stats: &[ElementRef<'_>],
) -> (Option<i64>, Option<i64>, Option<u64>, Option<bool>) {
    let number = |item: ElementRef<'_>| {
        find(item, |e| has_class(e, "s-post-summary--stats-item-number")).and_then(number_in)
    };
    let by_prop =
        |p: &str| find(row, |e| attr_of(e.value(), "itemprop") == Some(p)).and_then(number_in);
    let score = by_prop("upvoteCount").or_else(|| stats.first().and_then(|s| number(*s)));
    let answers = by_prop("answerCount").or_else(|| stats.get(1).and_then(|s| number(*s)));
    // The title carries the exact count (`1,234 views`); the number may be
    // abbreviated (`1k`).
    let views = stats.get(2).and_then(|s| {
        attr(*s, "title")
            .and_then(all_digits)
            .or_else(|| number(*s).and_then(|n| u64::try_from(n).ok()))
    });
    let accepted = stats.iter().any(|s| has_class(*s, "has-accepted-answer"));
    (score, answers, views, Some(accepted))
}

/// (score, answers, views, accepted) of a `question-summary` row.
fn question_summary_stats(
    row: ElementRef<'_>,
) -> (Option<i64>, Option<i64>, Option<u64>, Option<bool>) {
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
                find(v, |e| attr_of(e.value(), "title").is_some())
                    .and_then(|t| attr(t, "title"))
                    .and_then(all_digits)
            })
            .or_else(|| number_in(v).and_then(|n| u64::try_from(n).ok()))
    });
    let accepted = status.map(|s| has_class(s, "answered-accepted"));
    (score, answers, views, accepted)
}

/// Reads one row (whose subtree holds no other row). `Err` names what the row was
/// missing.
pub(super) fn entry(row: ElementRef<'_>) -> Result<ListingEntry, &'static str> {
    let link_el = title_link(row).ok_or(NO_TITLE_LINK)?;
    let href = attr_of(link_el.value(), "href").ok_or(NO_HREF)?;
    let link = dom::url_path(href);
    let answer_id = answer_hit(row, link_el, &link);
    let id = match answer_id {
        // The row's own ids are the answer's: the question is the link's.
        Some(_) => id_after(&link, "questions").ok_or(NO_ANSWER_QUESTION)?,
        None => question_id(row, &link).ok_or(NO_QUESTION_ID)?,
    };

    let stats: Vec<_> = elements(row)
        .filter(|e| has_class(*e, "s-post-summary--stats-item"))
        .filter(|e| !dom::classes(e.value()).any(|c| c.contains("bounty")))
        .collect();
    let (score, answer_count, view_count, has_accepted) = if stats.is_empty() {
        question_summary_stats(row)
    } else {
        post_summary_stats(row, &stats)
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
    Ok(ListingEntry {
        id,
        title: title(row, link_el),
        link,
        score: score.unwrap_or(0),
        answer_count: answer_count
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        view_count,
        tags,
        has_accepted_answer: has_accepted,
        answer_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_links() {
        assert_eq!(
            answer_in_link("/questions/1/slug/22?r=SearchResults#22"),
            Some(22)
        );
        assert_eq!(answer_in_link("/questions/1/slug/22"), Some(22));
        assert_eq!(answer_in_link("/questions/1/slug#33"), Some(33));
        assert_eq!(answer_in_link("/questions/1/slug?r=SearchResults"), None);
        assert_eq!(answer_in_link("/questions/1/slug#comments"), None);
    }

    #[test]
    fn hit_prefixes() {
        assert_eq!(without_hit_prefix("Q: Why: a story"), "Why: a story");
        assert_eq!(without_hit_prefix("A: x"), "x");
        assert_eq!(without_hit_prefix("Borrowing: why"), "Borrowing: why");
    }
}
