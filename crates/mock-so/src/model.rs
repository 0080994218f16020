//! The generated site's data: posts (bodies made of blocks and inline runs),
//! comments, authors and the user pool. Plain data, filled by the
//! [`generator`](crate::generator), read by the [`render`](crate::render)
//! templates and by the expected records ([`expected`](crate::expected)).

use std::sync::OnceLock;

use crate::text::collapse_ws;

/// A run of text inside a block.
#[derive(Clone, Debug)]
pub(crate) enum Inline {
    Text(String),
    Code(String),
    Link { href: String, text: String },
}

/// One block of a post body.
#[derive(Clone, Debug)]
pub(crate) enum Block {
    Para(Vec<Inline>),
    Code {
        lang: String,
        code: String,
    },
    Quote(Vec<Inline>),
    List(Vec<Vec<Inline>>),
    /// The "This question already has answers here" notice some questions
    /// carry at the top of their body.
    DuplicateNotice {
        target_id: u64,
        target_slug: String,
        target_title: String,
        target_answers: usize,
        closed: String,
    },
}

/// A post body: a list of blocks separated by newlines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Body {
    pub(crate) blocks: Vec<Block>,
}

/// Appends the text of inline runs (what a browser shows).
pub(crate) fn push_inline_text(text: &mut String, inlines: &[Inline]) {
    for inline in inlines {
        match inline {
            Inline::Text(t) | Inline::Code(t) => text.push_str(t),
            Inline::Link { text: t, .. } => text.push_str(t),
        }
    }
}

impl Body {
    /// The raw (uncollapsed) text of the body, laid out the way an HTML
    /// parser sees the rendered body; notices are included only when
    /// `with_notices`.
    fn raw_text(&self, with_notices: bool) -> String {
        let mut text = String::with_capacity(512);
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            match block {
                Block::Para(inl) => push_inline_text(&mut text, inl),
                Block::Quote(inl) => {
                    text.push('\n');
                    push_inline_text(&mut text, inl);
                    text.push('\n');
                }
                Block::Code { code, .. } => text.push_str(code),
                Block::List(items) => {
                    for item in items {
                        text.push('\n');
                        push_inline_text(&mut text, item);
                    }
                    text.push('\n');
                }
                Block::DuplicateNotice {
                    target_title,
                    target_answers,
                    closed,
                    ..
                } => {
                    if with_notices {
                        let answers = if *target_answers == 1 {
                            "1 answer".to_string()
                        } else {
                            format!("{target_answers} answers")
                        };
                        text.push_str("\nThis question already has answers here:\n");
                        text.push_str(target_title);
                        text.push_str(&format!(" ({answers})\nClosed {closed}.\n"));
                    }
                }
            }
        }
        text
    }

    /// Visible text, whitespace collapsed.
    pub(crate) fn text(&self, with_notices: bool) -> String {
        collapse_ws(&self.raw_text(with_notices))
    }
}

/// A comment under a post.
#[derive(Clone, Debug)]
pub(crate) struct Comment {
    pub(crate) id: u64,
    pub(crate) score: u32,
    pub(crate) user: usize,
    pub(crate) text: String,
    pub(crate) at: i64,
}

/// Generated author: an index into the user pool, a deleted user, or community wiki.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GenAuthor {
    User(usize),
    Deleted(u64),
    CommunityWiki,
}

/// A generated answer.
#[derive(Clone, Debug)]
pub(crate) struct GenAnswer {
    pub(crate) id: u64,
    pub(crate) score: i64,
    pub(crate) accepted: bool,
    pub(crate) author: GenAuthor,
    pub(crate) created: i64,
    pub(crate) edited: Option<(usize, i64)>,
    pub(crate) body: Body,
    pub(crate) comments: Vec<Comment>,
}

/// Status suffix of a question title.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Open,
    Duplicate,
    Closed,
}

/// A generated question.
#[derive(Clone, Debug)]
pub(crate) struct GenQuestion {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) slug: String,
    pub(crate) status: Status,
    pub(crate) score: i64,
    pub(crate) views: u64,
    pub(crate) tags: Vec<String>,
    pub(crate) body: Body,
    pub(crate) author: GenAuthor,
    pub(crate) created: i64,
    pub(crate) modified: i64,
    pub(crate) edited: Option<(usize, i64)>,
    pub(crate) answers: Vec<GenAnswer>,
    pub(crate) comments: Vec<Comment>,
    pub(crate) bookmarks: u32,
    /// Listing excerpt, computed on first use.
    pub(crate) excerpt: OnceLock<String>,
}

impl GenQuestion {
    /// Title as displayed (with `[duplicate]` / `[closed]`).
    pub(crate) fn display_title(&self) -> String {
        match self.status {
            Status::Open => self.title.clone(),
            Status::Duplicate => format!("{} [duplicate]", self.title),
            Status::Closed => format!("{} [closed]", self.title),
        }
    }

    /// Whether one of the answers is accepted.
    pub(crate) fn has_accepted(&self) -> bool {
        self.answers.iter().any(|a| a.accepted)
    }

    /// `/questions/ID/slug`.
    pub(crate) fn path(&self) -> String {
        format!("/questions/{}/{}", self.id, self.slug)
    }
}

/// A member of the user pool.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) reputation: u64,
    pub(crate) gold: u32,
    pub(crate) silver: u32,
    pub(crate) bronze: u32,
}
