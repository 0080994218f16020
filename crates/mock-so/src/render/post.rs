//! What question and answer posts share: the vote cell, the post menu, the
//! tag list, the "edited" and owner signatures with their user cards, and
//! the comments (`templates/partials/`).

use askama::Template;

use super::filters;
use crate::model::{Comment, GenAuthor, User};
use crate::site::SiteContent;
use crate::text::{human_time, short_number, thousands, title_time};

/// A user as the templates print them.
pub(super) struct UserView<'a> {
    pub(super) id: u64,
    pub(super) name: &'a str,
    /// `/users/ID/slug`.
    pub(super) url: String,
    /// The avatar hash (16 hex digits).
    pub(super) avatar: String,
    /// Reputation as `1,234`.
    pub(super) rep_title: String,
    /// Reputation as `1.2k`.
    pub(super) rep_short: String,
    /// (count, CSS class, word) of each badge kind the user has.
    pub(super) badges: Vec<(u32, &'static str, &'static str)>,
}

impl<'a> UserView<'a> {
    pub(super) fn new(u: &'a User) -> Self {
        UserView {
            id: u.id,
            name: &u.name,
            url: format!("/users/{}/{}", u.id, u.slug),
            avatar: format!("{:016x}", u.id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            rep_title: thousands(u.reputation),
            rep_short: short_number(u.reputation),
            badges: [
                (u.gold, "badge1", "gold"),
                (u.silver, "badge2", "silver"),
                (u.bronze, "badge3", "bronze"),
            ]
            .into_iter()
            .filter(|(n, _, _)| *n > 0)
            .collect(),
        }
    }
}

/// The vote buttons, score, accepted mark and bookmark button of a post.
#[derive(Template)]
#[template(path = "partials/votecell.html", escape = "none")]
pub(super) struct Votecell {
    post_id: u64,
    score: i64,
    is_question: bool,
    accepted: bool,
    bookmarks: u32,
    up: &'static str,
    down: &'static str,
    vote_hash: String,
    post_type: u8,
}

impl Votecell {
    pub(super) fn new(
        post_id: u64,
        score: i64,
        is_question: bool,
        accepted: bool,
        bookmarks: u32,
    ) -> Self {
        let (up, down) = if is_question {
            (
                "This question shows research effort; it is useful and clear",
                "This question does not show any research effort; it is unclear or not useful",
            )
        } else {
            ("This answer is useful", "This answer is not useful")
        };
        Votecell {
            post_id,
            score,
            is_question,
            accepted,
            bookmarks,
            up,
            down,
            vote_hash: format!("{:x}", post_id.wrapping_mul(0x2545_F491_4F6C_DD1D)),
            post_type: if is_question { 1 } else { 2 },
        }
    }
}

/// Share / Improve / Follow links of a post.
#[derive(Template)]
#[template(path = "partials/post_menu.html", escape = "none")]
pub(super) struct PostMenu {
    post_id: u64,
    what: &'static str,
    t: u8,
    short: &'static str,
}

impl PostMenu {
    pub(super) fn new(post_id: u64, is_question: bool) -> Self {
        let (what, t, short) = if is_question {
            ("question", 1, "q")
        } else {
            ("answer", 2, "a")
        };
        PostMenu {
            post_id,
            what,
            t,
            short,
        }
    }
}

/// The tags under a question.
#[derive(Template)]
#[template(path = "partials/tag_list.html", escape = "none")]
pub(super) struct TagList<'a> {
    pub(super) tags: &'a [String],
}

/// The "edited ..." signature, with the editor's card unless the editor is
/// the owner.
#[derive(Template)]
#[template(path = "partials/signature_edited.html", escape = "none")]
pub(super) struct SignatureEdited<'a> {
    post_id: u64,
    post_type: u8,
    at_title: String,
    at_human: String,
    editor: Option<UserView<'a>>,
}

impl<'a> SignatureEdited<'a> {
    pub(super) fn new(
        site: &'a SiteContent,
        post_id: u64,
        post_type: u8,
        (editor, at): (usize, i64),
        owner: &GenAuthor,
    ) -> Self {
        SignatureEdited {
            post_id,
            post_type,
            at_title: title_time(at),
            at_human: human_time(at),
            editor: (*owner != GenAuthor::User(editor)).then(|| UserView::new(&site.users[editor])),
        }
    }
}

/// The "asked ..." / "answered ..." signature of the post's owner: a user,
/// a deleted user or community wiki.
#[derive(Template)]
#[template(path = "partials/signature_owner.html", escape = "none")]
pub(super) struct SignatureOwner<'a> {
    post_id: u64,
    action: &'static str,
    owner_class: &'static str,
    contributors: usize,
    revs: usize,
    percent: u64,
    at_title: String,
    at_human: String,
    wiki: Option<UserView<'a>>,
    user: Option<UserView<'a>>,
    deleted: Option<u64>,
}

impl<'a> SignatureOwner<'a> {
    pub(super) fn new(
        site: &'a SiteContent,
        post_id: u64,
        action: &'static str,
        author: &GenAuthor,
        at: i64,
        contributors: usize,
    ) -> Self {
        let mut signature = SignatureOwner {
            post_id,
            action,
            owner_class: if action == "asked" { " owner" } else { "" },
            contributors,
            revs: contributors + 2,
            percent: 30 + post_id % 60,
            at_title: title_time(at),
            at_human: human_time(at),
            wiki: None,
            user: None,
            deleted: None,
        };
        match author {
            GenAuthor::CommunityWiki => {
                let u = &site.users[(post_id % site.users.len() as u64) as usize];
                signature.wiki = Some(UserView::new(u));
            }
            GenAuthor::User(ix) => signature.user = Some(UserView::new(&site.users[*ix])),
            GenAuthor::Deleted(n) => signature.deleted = Some(*n),
        }
        signature
    }
}

/// One comment as printed.
pub(super) struct CommentView<'a> {
    id: u64,
    score: u32,
    text: &'a str,
    user: UserView<'a>,
    at_title: String,
    at_human: String,
}

/// The comments under a post and the "Add a comment" link.
#[derive(Template)]
#[template(path = "partials/comments.html", escape = "none")]
pub(super) struct Comments<'a> {
    post_id: u64,
    count: usize,
    hidden: &'static str,
    comments: Vec<CommentView<'a>>,
}

impl<'a> Comments<'a> {
    pub(super) fn new(site: &'a SiteContent, post_id: u64, comments: &'a [Comment]) -> Self {
        Comments {
            post_id,
            count: comments.len(),
            hidden: if comments.is_empty() { "dno" } else { "" },
            comments: comments
                .iter()
                .map(|c| CommentView {
                    id: c.id,
                    score: c.score,
                    text: &c.text,
                    user: UserView::new(&site.users[c.user]),
                    at_title: title_time(c.at),
                    at_human: human_time(c.at),
                })
                .collect(),
        }
    }
}
