//! Question pages (`templates/question.html`, answers in
//! `templates/partials/answer.html`).

use askama::Template;

use super::body::BodyHtml;
use super::filters;
use super::post::{Comments, PostMenu, SignatureEdited, SignatureOwner, TagList, Votecell};
use super::{Layout, excerpt, render};
use crate::model::{GenAnswer, GenAuthor, GenQuestion, Status};
use crate::site::{SiteContent, Sort};
use crate::text::{iso, relative, short_number, thousands, title_time};

/// One answer.
#[derive(Template)]
#[template(path = "partials/answer.html", escape = "none")]
struct AnswerHtml<'a> {
    a: &'a GenAnswer,
    q_id: u64,
    position: usize,
    /// 1 for the first (top-scored) answer.
    highest: u8,
    /// 1 when the first answer is the accepted one.
    accepted_highest: u8,
    votecell: Votecell,
    body: BodyHtml<'a>,
    created_iso: String,
    menu: PostMenu,
    edited: Option<SignatureEdited<'a>>,
    owner: SignatureOwner<'a>,
    comments: Comments<'a>,
}

impl<'a> AnswerHtml<'a> {
    fn new(site: &'a SiteContent, q: &'a GenQuestion, a: &'a GenAnswer, index: usize) -> Self {
        AnswerHtml {
            a,
            q_id: q.id,
            position: index + 1,
            highest: u8::from(index == 0),
            accepted_highest: u8::from(q.answers.first().is_some_and(|f| f.accepted)),
            votecell: Votecell::new(a.id, a.score, false, a.accepted, 0),
            body: BodyHtml::new(&a.body),
            created_iso: iso(a.created),
            menu: PostMenu::new(a.id, false),
            edited: a
                .edited
                .map(|edited| SignatureEdited::new(site, a.id, 2, edited, &a.author)),
            owner: SignatureOwner::new(
                site,
                a.id,
                "answered",
                &a.author,
                a.created,
                2 + (a.id % 4) as usize,
            ),
            comments: Comments::new(site, a.id, &a.comments),
        }
    }
}

/// A question in the "Related" sidebar.
struct Related {
    id: u64,
    accepted: bool,
    score: i64,
    path: String,
    title: String,
}

/// The content of a question page.
#[derive(Template)]
#[template(path = "question.html", escape = "none")]
struct QuestionHtml<'a> {
    q: &'a GenQuestion,
    path: &'a str,
    title: String,
    created_title: String,
    created_iso: String,
    created_relative: String,
    modified_title: String,
    modified_relative: String,
    views_long: String,
    views_short: String,
    author_rep: u64,
    votecell: Votecell,
    body: BodyHtml<'a>,
    /// When the question was closed (title form, relative), for `[closed]`.
    closed: Option<(String, String)>,
    tag_list: TagList<'a>,
    menu: PostMenu,
    edited: Option<SignatureEdited<'a>>,
    owner: SignatureOwner<'a>,
    comments: Comments<'a>,
    n: usize,
    answers: Vec<AnswerHtml<'a>>,
    sidebar: &'a str,
    related: Vec<Related>,
}

/// Renders a question page (newest markup, 150+ KB), `None` for an
/// unknown id.
pub(crate) fn question_page(site: &SiteContent, id: u64) -> Option<String> {
    let q = site.question(id)?;
    let excerpt = excerpt(&q.body, 200);
    let title = format!("{} - {} - Stack Overflow", q.tags[0], q.title);
    let path = q.path();
    let related = site
        .order(Some(&q.tags[0]), Sort::Votes)
        .unwrap_or_default()
        .iter()
        .map(|&ix| &site.questions[ix as usize])
        .filter(|r| r.id != q.id)
        .take(10)
        .map(|r| Related {
            id: r.id,
            accepted: r.has_accepted(),
            score: r.score,
            path: r.path(),
            title: r.display_title(),
        })
        .collect();
    let content = QuestionHtml {
        q,
        path: &path,
        title: q.display_title(),
        created_title: title_time(q.created),
        created_iso: iso(q.created),
        created_relative: relative(q.created, site.now),
        modified_title: title_time(q.modified),
        modified_relative: relative(q.modified, site.now),
        views_long: thousands(q.views),
        views_short: short_number(q.views),
        author_rep: match q.author {
            GenAuthor::User(u) => site.users[u].reputation,
            _ => 1,
        },
        votecell: Votecell::new(q.id, q.score, true, false, q.bookmarks),
        body: BodyHtml::new(&q.body),
        closed: (q.status == Status::Closed).then(|| {
            (
                title_time(q.created + 7_200),
                relative(q.created + 7_200, site.now),
            )
        }),
        tag_list: TagList { tags: &q.tags },
        menu: PostMenu::new(q.id, true),
        edited: q
            .edited
            .map(|edited| SignatureEdited::new(site, q.id, 1, edited, &q.author)),
        owner: SignatureOwner::new(site, q.id, "asked", &q.author, q.created, 1),
        comments: Comments::new(site, q.id, &q.comments),
        n: q.answers.len(),
        answers: q
            .answers
            .iter()
            .enumerate()
            .map(|(i, a)| AnswerHtml::new(site, q, a, i))
            .collect(),
        sidebar: &site.chrome.sidebar_static,
        related,
    };
    let layout = Layout {
        og: Some((&q.title, &excerpt)),
        body_class: "question-page",
        ..Layout::new(site, &title, &path, content)
    };
    Some(render(&layout, 220_000))
}
