//! The generated site: questions, answers, users and the listing orders,
//! all derived deterministically from the configuration's seed.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;

use sofleet_extract::{
    Answer, Author, ListingEntry, ListingPage, ListingType, MarkupEra, Pagination, Question,
};

use crate::config::MockSiteConfig;
use crate::error::MockSiteError;
use crate::render::Chrome;
use crate::rng::{Rng, hash_str};
use crate::text::{body_attr, collapse_ws, encode_tag, push_esc, relative, slugify};

/// The host the generated pages claim to belong to (canonical / `og:url`).
pub const SITE_HOST: &str = "stackoverflow.com";

/// First question id of every generated site.
const BASE_ID: u64 = 67_000_000;
/// Creation time of the first question: 2021-05-03T00:00:00Z.
const T0: i64 = 1_620_000_000;

/// A listing order (`tab=` / `sort=` query value): the one shared by the whole workspace.
pub use sofleet_records::Sort;

/// Normalises a requested page size the way the site does: `None`, 0 or
/// garbage -> 15, above 50 -> 50.
pub fn normalize_pagesize(pagesize: Option<u32>) -> u32 {
    match pagesize {
        None | Some(0) => 15,
        Some(n) => n.min(50),
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Inline {
    Text(String),
    Code(String),
    Strong(String),
    Link { href: String, text: String },
}

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

fn push_inlines(html: &mut String, text: &mut String, inlines: &[Inline]) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => {
                push_esc(html, t);
                text.push_str(t);
            }
            Inline::Code(t) => {
                html.push_str("<code>");
                push_esc(html, t);
                html.push_str("</code>");
                text.push_str(t);
            }
            Inline::Strong(t) => {
                html.push_str("<strong>");
                push_esc(html, t);
                html.push_str("</strong>");
                text.push_str(t);
            }
            Inline::Link { href, text: t } => {
                html.push_str("<a href=\"");
                html.push_str(&body_attr(href));
                html.push_str("\">");
                push_esc(html, t);
                html.push_str("</a>");
                text.push_str(t);
            }
        }
    }
}

impl Body {
    /// Renders the inner HTML and the raw (uncollapsed) text of the body;
    /// notices are included in the text only when `with_notices`.
    fn render(&self, with_notices: bool) -> (String, String) {
        let mut html = String::with_capacity(1024);
        let mut text = String::with_capacity(512);
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                html.push('\n');
                text.push('\n');
            }
            match block {
                Block::Para(inl) => {
                    html.push_str("<p>");
                    push_inlines(&mut html, &mut text, inl);
                    html.push_str("</p>");
                }
                Block::Quote(inl) => {
                    html.push_str("<blockquote>\n<p>");
                    text.push('\n');
                    push_inlines(&mut html, &mut text, inl);
                    html.push_str("</p>\n</blockquote>");
                    text.push('\n');
                }
                Block::Code { lang, code } => {
                    html.push_str("<pre class=\"");
                    html.push_str(&body_attr(&format!("lang-{lang} s-code-block")));
                    html.push_str("\"><code>");
                    push_esc(&mut html, code);
                    html.push_str("</code></pre>");
                    text.push_str(code);
                }
                Block::List(items) => {
                    html.push_str("<ul>");
                    for item in items {
                        html.push_str("\n<li>");
                        text.push('\n');
                        push_inlines(&mut html, &mut text, item);
                        html.push_str("</li>");
                    }
                    html.push_str("\n</ul>");
                    text.push('\n');
                }
                Block::DuplicateNotice {
                    target_id,
                    target_slug,
                    target_title,
                    target_answers,
                    closed,
                } => {
                    let mut notice_text = String::new();
                    html.push_str(
                        "<aside class=\"s-notice s-notice__info js-post-notice mb16\">\n",
                    );
                    notice_text.push('\n');
                    let answers = if *target_answers == 1 {
                        "1 answer".to_string()
                    } else {
                        format!("{target_answers} answers")
                    };
                    let inl = [
                        vec![Inline::Strong(
                            "This question already has answers here:".into(),
                        )],
                        vec![
                            Inline::Link {
                                href: format!("/questions/{target_id}/{target_slug}"),
                                text: target_title.clone(),
                            },
                            Inline::Text(format!(" ({answers})")),
                        ],
                        vec![Inline::Text(format!("Closed {closed}."))],
                    ];
                    for (j, line) in inl.iter().enumerate() {
                        if j > 0 {
                            html.push('\n');
                            notice_text.push('\n');
                        }
                        html.push_str("<p>");
                        push_inlines(&mut html, &mut notice_text, line);
                        html.push_str("</p>");
                    }
                    html.push_str("\n</aside>");
                    notice_text.push('\n');
                    if with_notices {
                        text.push_str(&notice_text);
                    }
                }
            }
        }
        (html, text)
    }

    /// The inner HTML of the body element.
    pub(crate) fn html(&self) -> String {
        self.render(true).0
    }

    /// Visible text, whitespace collapsed.
    pub(crate) fn text(&self, with_notices: bool) -> String {
        collapse_ws(&self.render(with_notices).1)
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

    pub(crate) fn has_accepted(&self) -> bool {
        self.answers.iter().any(|a| a.accepted)
    }

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

struct Vocabulary {
    users: Vec<String>,
    titles: Vec<String>,
    /// Sentences for question bodies, answer bodies and comments.
    sentences: [Vec<String>; 3],
    code: Vec<String>,
    verbs: Vec<String>,
    objs: Vec<String>,
    errs: Vec<String>,
    extra_tags: Vec<String>,
}

fn template_lines(src: &str) -> impl Iterator<Item = &str> {
    src.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

fn vocabulary() -> &'static Vocabulary {
    static VOCAB: OnceLock<Vocabulary> = OnceLock::new();
    VOCAB.get_or_init(|| {
        let words: HashMap<&str, Vec<String>> =
            template_lines(include_str!("../templates/words.txt"))
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| {
                    (
                        k.trim(),
                        v.split(',')
                            .map(|w| w.trim().to_string())
                            .filter(|w| !w.is_empty())
                            .collect(),
                    )
                })
                .collect();
        let get = |k: &str| words.get(k).cloned().unwrap_or_default();
        let code_src = include_str!("../templates/code.txt");
        let code = code_src
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
            .split("\n---\n")
            .map(|c| format!("{}\n", c.trim_matches('\n')))
            .collect();
        Vocabulary {
            users: template_lines(include_str!("../templates/users.txt"))
                .map(|l| l.trim().to_string())
                .collect(),
            titles: template_lines(include_str!("../templates/titles.txt"))
                .map(String::from)
                .collect(),
            sentences: {
                let lines: Vec<(&str, String)> =
                    template_lines(include_str!("../templates/sentences.txt"))
                        .filter_map(|l| l.split_once(':'))
                        .map(|(kind, text)| (kind.trim(), text.trim().to_string()))
                        .collect();
                let of = |kinds: &[&str]| {
                    lines
                        .iter()
                        .filter(|(k, _)| kinds.contains(k))
                        .map(|(_, t)| t.clone())
                        .collect()
                };
                [of(&["Q", "*"]), of(&["A", "*"]), of(&["*", "Q", "A"])]
            },
            code,
            verbs: get("verb"),
            objs: get("obj"),
            errs: get("err"),
            extra_tags: get("extra_tags"),
        }
    })
}

/// Values substituted into one question's templates.
struct Fill<'a> {
    tag: &'a str,
    verb: &'a str,
    obj: &'a str,
    obj2: &'a str,
    err: &'a str,
    n: u64,
}

impl Fill<'_> {
    /// Substitutes the placeholders in one pass (unknown ones are kept).
    fn apply(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            let Some(close) = after.find('}') else {
                break;
            };
            let value = match &after[1..close] {
                "tag" => Some(self.tag),
                "verb" => Some(self.verb),
                "obj" => Some(self.obj),
                "obj2" => Some(self.obj2),
                "err" => Some(self.err),
                "n" => None,
                _ => {
                    out.push_str(&after[..=close]);
                    rest = &after[close + 1..];
                    continue;
                }
            };
            match value {
                Some(v) => out.push_str(v),
                None => {
                    let _ = write!(out, "{}", self.n);
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    fn ident(&self) -> String {
        self.obj.replace([' ', '\''], "_").to_ascii_lowercase()
    }
}

fn new_fill<'a>(rng: &mut Rng, v: &'a Vocabulary, tag: &'a str) -> Fill<'a> {
    let obj = rng.pick(&v.objs).as_str();
    let mut obj2 = rng.pick(&v.objs).as_str();
    if obj2 == obj {
        obj2 = &v.objs[(v.objs.iter().position(|o| o == obj).unwrap_or(0) + 1) % v.objs.len()];
    }
    Fill {
        tag,
        verb: rng.pick(&v.verbs).as_str(),
        obj,
        obj2,
        err: rng.pick(&v.errs).as_str(),
        n: [3, 8, 12, 50, 100, 250, 1000, 20_000, 1_000_000][rng.below(9) as usize],
    }
}

fn inline_code(rng: &mut Rng, f: &Fill<'_>) -> String {
    match rng.below(6) {
        0 => format!("{}.{}()", f.ident(), f.verb),
        1 => format!("{}(axis=1)", f.verb),
        2 => format!("{}.compute()", f.tag.replace(['.', '+', '#', '-'], "_")),
        3 => "map_partitions".to_string(),
        4 => format!("set_index(\"{}\")", f.obj.split(' ').next().unwrap_or("id")),
        _ => "x < y && y > 0".to_string(),
    }
}

/// Which sentence pool to draw from.
#[derive(Clone, Copy)]
enum Voice {
    Question = 0,
    Answer = 1,
    Comment = 2,
}

fn sentence(rng: &mut Rng, v: &Vocabulary, f: &Fill<'_>, voice: Voice, out: &mut Vec<Inline>) {
    let template = f.apply(rng.pick(&v.sentences[voice as usize]).as_str());
    let mut pieces = template.split("{code}").peekable();
    while let Some(piece) = pieces.next() {
        if !piece.is_empty() {
            match out.last_mut() {
                Some(Inline::Text(t)) => t.push_str(piece),
                _ => out.push(Inline::Text(piece.to_string())),
            }
        }
        if pieces.peek().is_some() {
            out.push(Inline::Code(inline_code(rng, f)));
        }
    }
}

fn paragraph(
    rng: &mut Rng,
    v: &Vocabulary,
    f: &Fill<'_>,
    voice: Voice,
    sentences: u64,
) -> Vec<Inline> {
    let mut out = Vec::new();
    for i in 0..sentences {
        if i > 0 {
            out.push(Inline::Text(" ".into()));
        }
        sentence(rng, v, f, voice, &mut out);
    }
    if rng.chance(150) {
        out.push(Inline::Text(" See the ".into()));
        out.push(Inline::Link {
            href: format!(
                "https://docs.example.org/{}/api.html?q={}&v=2",
                encode_tag(f.tag),
                f.verb
            ),
            text: format!("{} reference", f.verb),
        });
        out.push(Inline::Text(" for the details.".into()));
    }
    // Merge adjacent text pieces so the HTML has one text node per run.
    let mut merged: Vec<Inline> = Vec::with_capacity(out.len());
    for inline in out {
        match (merged.last_mut(), inline) {
            (Some(Inline::Text(a)), Inline::Text(b)) => a.push_str(&b),
            (_, other) => merged.push(other),
        }
    }
    merged
}

fn body(rng: &mut Rng, v: &Vocabulary, f: &Fill<'_>, is_question: bool) -> Body {
    let mut blocks = Vec::new();
    let voice = if is_question {
        Voice::Question
    } else {
        Voice::Answer
    };
    let paras = 1 + rng.below(if is_question { 3 } else { 2 });
    for p in 0..paras {
        let sentences = 1 + rng.below(3);
        blocks.push(Block::Para(paragraph(rng, v, f, voice, sentences)));
        if p == 0 && rng.chance(if is_question { 650 } else { 450 }) {
            let lang = if f.tag.contains('#') || f.tag.contains('+') {
                "cpp"
            } else {
                "python"
            };
            blocks.push(Block::Code {
                lang: lang.into(),
                code: f.apply(rng.pick(&v.code).as_str()),
            });
        }
        if p == 0 && is_question && rng.chance(180) {
            blocks.push(Block::Quote(vec![Inline::Text(f.err.to_string())]));
        }
    }
    if rng.chance(150) {
        let items = (0..2 + rng.below(3))
            .map(|_| {
                let mut item = Vec::new();
                sentence(rng, v, f, voice, &mut item);
                item
            })
            .collect();
        blocks.push(Block::List(items));
    }
    Body { blocks }
}

fn comments(
    rng: &mut Rng,
    v: &Vocabulary,
    f: &Fill<'_>,
    users: usize,
    after: i64,
    next_id: &mut u64,
) -> Vec<Comment> {
    let n = if rng.chance(500) { 0 } else { 1 + rng.below(3) };
    (0..n)
        .map(|_| {
            *next_id += 1 + rng.below(7);
            let mut inl = Vec::new();
            sentence(rng, v, f, Voice::Comment, &mut inl);
            let mut text = String::new();
            push_inlines(&mut String::new(), &mut text, &inl);
            Comment {
                id: *next_id,
                score: rng.below(12) as u32,
                user: rng.below(users as u64) as usize,
                text,
                at: after + rng.range(60, 86_400 * 5),
            }
        })
        .collect()
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn vote_score(rng: &mut Rng, negative_per_mille: u64) -> i64 {
    if rng.chance(negative_per_mille) {
        -rng.range(1, 8)
    } else if rng.chance(120) {
        rng.range(40, 900)
    } else {
        rng.range(0, 35)
    }
}

/// The whole generated site, held in memory. Cheap to share (`Arc`), pages
/// are rendered on demand from it.
///
/// ```
/// use sofleet_mock_so::{MockSiteConfig, SiteContent};
///
/// let site = SiteContent::generate(&MockSiteConfig { questions_per_tag: Some(20), ..Default::default() }).unwrap();
/// let id = site.listing_ids("dask", "votes", 1, 15)[0];
/// let page = site.render_question_page(id).unwrap();
/// assert!(page.len() > 150_000);
/// assert_eq!(site.expected_question(id).unwrap().id, id);
/// ```
pub struct SiteContent {
    pub(crate) config: MockSiteConfig,
    pub(crate) users: Vec<User>,
    pub(crate) questions: Vec<GenQuestion>,
    pub(crate) by_id: HashMap<u64, u32>,
    /// Question indices per tag, one order per [`Sort`].
    pub(crate) by_tag: BTreeMap<String, [Vec<u32>; 4]>,
    /// All questions, one order per [`Sort`].
    pub(crate) all: [Vec<u32>; 4],
    /// The site's "now" (relative times are computed against it).
    pub(crate) now: i64,
    pub(crate) chrome: Chrome,
}

impl std::fmt::Debug for SiteContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteContent")
            .field("questions", &self.questions.len())
            .field("tags", &self.by_tag.len())
            .field("users", &self.users.len())
            .finish()
    }
}

impl SiteContent {
    /// Generates the site described by `config` (validated first).
    pub fn generate(config: &MockSiteConfig) -> Result<SiteContent, MockSiteError> {
        config.validate()?;
        let v = vocabulary();
        let seed = config.seed;
        let users: Vec<User> = v
            .users
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let h = hash_str(seed, name);
                let reputation = 1 + (h % 250_000) / (1 + (i as u64 % 5));
                User {
                    id: 10_000 + (h >> 20) % 20_000_000,
                    name: name.clone(),
                    slug: slugify(name).replace("question", "user"),
                    reputation,
                    gold: (reputation / 20_000) as u32,
                    silver: (reputation / 2_000) as u32 % 150,
                    bronze: (reputation / 300) as u32 % 400,
                }
            })
            .collect();
        let tags = &config.tags;
        let extra_pool: Vec<&String> = v.extra_tags.iter().filter(|t| !tags.contains(t)).collect();
        let total = config.effective_questions_per_tag() as usize * tags.len();
        let mut questions: Vec<GenQuestion> = Vec::with_capacity(total);
        for k in 0..total {
            let mut rng = Rng::derive(seed, k as u64);
            let primary = &tags[k % tags.len()];
            let id = BASE_ID + k as u64 * 100 + rng.below(20);
            let created = T0 + k as i64 * 2_400 + rng.below(2_000) as i64;
            let f = new_fill(&mut rng, v, primary);
            let template = rng.pick(&v.titles).as_str();
            let mut title = collapse_ws(&f.apply(template));
            if template.starts_with("{verb}") {
                title = capitalize(&title);
            }
            let status = if k > 0 && rng.chance(30) {
                Status::Duplicate
            } else if rng.chance(30) {
                Status::Closed
            } else {
                Status::Open
            };
            let mut qtags = vec![primary.clone()];
            if tags.len() > 1 && rng.chance(200) {
                let other = &tags
                    [(k % tags.len() + 1 + rng.below(tags.len() as u64 - 1) as usize) % tags.len()];
                qtags.push(other.clone());
            }
            for _ in 0..rng.below(3) {
                if let Some(extra) = (!extra_pool.is_empty()).then(|| *rng.pick(&extra_pool))
                    && !qtags.contains(extra)
                {
                    qtags.push(extra.clone());
                }
            }
            if qtags.len() > 1 && rng.chance(250) {
                let last = qtags.pop().unwrap_or_default();
                qtags.insert(0, last);
            }
            let score = vote_score(&mut rng, 90);
            let author = if rng.chance(40) {
                GenAuthor::Deleted(1_000_000 + rng.below(30_000_000))
            } else {
                GenAuthor::User(rng.below(users.len() as u64) as usize)
            };
            let mut qbody = body(&mut rng, v, &f, true);
            if status == Status::Duplicate {
                let target = &questions[rng.below(k as u64) as usize];
                qbody.blocks.insert(
                    0,
                    Block::DuplicateNotice {
                        target_id: target.id,
                        target_slug: target.slug.clone(),
                        target_title: target.title.clone(),
                        target_answers: target.answers.len(),
                        closed: String::new(),
                    },
                );
            }
            let edited = rng.chance(400).then(|| {
                (
                    rng.below(users.len() as u64) as usize,
                    created + rng.range(300, 86_400 * 40),
                )
            });
            let mut next_comment = 120_000_000 + k as u64 * 40;
            let qcomments = comments(&mut rng, v, &f, users.len(), created, &mut next_comment);
            let n_answers = if rng.chance(150) {
                0
            } else if rng.chance(150) {
                4 + rng.below(9)
            } else {
                1 + rng.below(4)
            };
            let mut answers: Vec<GenAnswer> = (0..n_answers)
                .map(|j| {
                    let a_created = created + rng.range(60, 86_400 * 30);
                    let author = if rng.chance(80) {
                        GenAuthor::CommunityWiki
                    } else if rng.chance(60) {
                        GenAuthor::Deleted(1_000_000 + rng.below(30_000_000))
                    } else {
                        GenAuthor::User(rng.below(users.len() as u64) as usize)
                    };
                    GenAnswer {
                        id: id + 21 + j * 5 + rng.below(4),
                        score: vote_score(&mut rng, 120),
                        accepted: false,
                        author,
                        created: a_created,
                        edited: rng.chance(300).then(|| {
                            (
                                rng.below(users.len() as u64) as usize,
                                a_created + rng.range(300, 86_400 * 90),
                            )
                        }),
                        body: body(&mut rng, v, &f, false),
                        comments: comments(
                            &mut rng,
                            v,
                            &f,
                            users.len(),
                            a_created,
                            &mut next_comment,
                        ),
                    }
                })
                .collect();
            if !answers.is_empty() && rng.chance(550) {
                let idx = rng.below(answers.len() as u64) as usize;
                answers[idx].accepted = true;
            }
            answers.sort_by(|a, b| b.score.cmp(&a.score).then(a.created.cmp(&b.created)));
            let modified = answers
                .iter()
                .flat_map(|a| [Some(a.created), a.edited.map(|e| e.1)])
                .chain([Some(created), edited.map(|e| e.1)])
                .flatten()
                .max()
                .unwrap_or(created);
            let views = 20
                + score.unsigned_abs() * rng.range(30, 200) as u64
                + rng.below(5_000)
                + n_answers * 40;
            questions.push(GenQuestion {
                id,
                slug: slugify(&title),
                title,
                status,
                score,
                views,
                tags: qtags,
                body: qbody,
                author,
                created,
                modified,
                edited,
                answers,
                comments: qcomments,
                bookmarks: rng.below(40) as u32,
                excerpt: OnceLock::new(),
            });
        }
        let now = questions.iter().map(|q| q.modified).max().unwrap_or(T0) + 3 * 86_400;
        // Duplicate notices state when the question was closed, relative to "now".
        for q in &mut questions {
            let closed_at = q.created + 3_600;
            for block in &mut q.body.blocks {
                if let Block::DuplicateNotice { closed, .. } = block {
                    *closed = relative(closed_at, now);
                }
            }
        }
        let by_id = questions
            .iter()
            .enumerate()
            .map(|(i, q)| (q.id, i as u32))
            .collect();
        let order = |idx: &mut Vec<u32>, sort: Sort| {
            let key = |i: &u32| {
                let q = &questions[*i as usize];
                match sort {
                    Sort::Votes => (std::cmp::Reverse(q.score), std::cmp::Reverse(q.id)),
                    Sort::Newest => (std::cmp::Reverse(q.created), std::cmp::Reverse(q.id)),
                    Sort::Active => (std::cmp::Reverse(q.modified), std::cmp::Reverse(q.id)),
                    Sort::Frequent => (std::cmp::Reverse(q.views as i64), std::cmp::Reverse(q.id)),
                }
            };
            idx.sort_by_key(key);
        };
        let mut tag_members: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (i, q) in questions.iter().enumerate() {
            for t in &q.tags {
                tag_members.entry(t.clone()).or_default().push(i as u32);
            }
        }
        let sorted = |members: &Vec<u32>| -> [Vec<u32>; 4] {
            Sort::ALL.map(|s| {
                let mut m = members.clone();
                order(&mut m, s);
                m
            })
        };
        let by_tag = tag_members
            .iter()
            .map(|(t, m)| (t.clone(), sorted(m)))
            .collect();
        let all = sorted(&(0..questions.len() as u32).collect());
        let chrome = Chrome::build(seed, &questions, config);
        Ok(SiteContent {
            config: config.clone(),
            users,
            questions,
            by_id,
            by_tag,
            all,
            now,
            chrome,
        })
    }

    /// The configuration this site was generated from.
    pub fn config(&self) -> &MockSiteConfig {
        &self.config
    }

    /// Number of distinct questions.
    pub fn question_count(&self) -> usize {
        self.questions.len()
    }

    /// Every question id, ascending.
    pub fn question_ids(&self) -> Vec<u64> {
        self.questions.iter().map(|q| q.id).collect()
    }

    /// Every tag that has a listing (configured tags plus tags that appear
    /// on questions), sorted.
    pub fn tags(&self) -> Vec<String> {
        self.by_tag.keys().cloned().collect()
    }

    /// Whether a question with this id exists.
    pub fn has_question(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }

    pub(crate) fn question(&self, id: u64) -> Option<&GenQuestion> {
        self.by_id.get(&id).map(|&i| &self.questions[i as usize])
    }

    /// The path of a question: `/questions/ID/slug` (or `/questions/ID` for
    /// an unknown id).
    pub fn question_path(&self, id: u64) -> String {
        match self.question(id) {
            Some(q) => q.path(),
            None => format!("/questions/{id}"),
        }
    }

    /// The order of a tag's questions (or of all questions for `tag == None`).
    pub(crate) fn order(&self, tag: Option<&str>, sort: Sort) -> Option<&[u32]> {
        match tag {
            None => Some(&self.all[sort as usize]),
            Some(t) => self.by_tag.get(t).map(|o| o[sort as usize].as_slice()),
        }
    }

    /// Number of listing pages for a tag (or all questions) at this page
    /// size: `min(pages_per_tag, ceil(questions / pagesize))`, 0 for an
    /// unknown tag.
    pub fn last_page(&self, tag: Option<&str>, pagesize: u32) -> u32 {
        let pagesize = normalize_pagesize(Some(pagesize)) as usize;
        match self.order(tag, Sort::Newest) {
            Some(o) => (o.len().div_ceil(pagesize) as u32).min(self.config.pages_per_tag),
            None => 0,
        }
    }

    /// Indices of the questions on one listing page, `None` when the page
    /// does not exist (unknown tag, page 0 or past the last page).
    pub(crate) fn page_slice(
        &self,
        tag: Option<&str>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    ) -> Option<&[u32]> {
        let pagesize = normalize_pagesize(Some(pagesize));
        if page == 0 || page > self.last_page(tag, pagesize) {
            return None;
        }
        let order = self.order(tag, sort)?;
        let start = (page as usize - 1) * pagesize as usize;
        Some(&order[start..(start + pagesize as usize).min(order.len())])
    }

    /// Question ids on a tagged listing page, in page order; empty when the
    /// page does not exist. `sort` is `votes`, `newest`, `active` or
    /// `frequent` (anything else is treated as `newest`, as the site does);
    /// `pagesize` is normalised like the site does (0 -> 15, > 50 -> 50).
    pub fn listing_ids(&self, tag: &str, sort: &str, page: u32, pagesize: u32) -> Vec<u64> {
        let sort = Sort::parse(sort).unwrap_or(Sort::Newest);
        self.page_slice(Some(tag), sort, page, pagesize)
            .map(|s| s.iter().map(|&i| self.questions[i as usize].id).collect())
            .unwrap_or_default()
    }

    /// Question ids on a `/questions?tab=SORT&page=N` page (all tags).
    pub fn all_listing_ids(&self, sort: &str, page: u32, pagesize: u32) -> Vec<u64> {
        let sort = Sort::parse(sort).unwrap_or(Sort::Newest);
        self.page_slice(None, sort, page, pagesize)
            .map(|s| s.iter().map(|&i| self.questions[i as usize].id).collect())
            .unwrap_or_default()
    }

    /// Every question id reachable through a tag's listing pages at this
    /// sort and page size, in crawl order (page 1 first).
    pub fn reachable_ids(&self, tag: &str, sort: &str, pagesize: u32) -> Vec<u64> {
        (1..=self.last_page(Some(tag), pagesize))
            .flat_map(|p| self.listing_ids(tag, sort, p, pagesize))
            .collect()
    }

    /// Every question id carrying `tag`, in `sort` order, ignoring the
    /// `pages_per_tag` cap (empty for an unknown tag).
    pub fn tag_ids(&self, tag: &str, sort: &str) -> Vec<u64> {
        let sort = Sort::parse(sort).unwrap_or(Sort::Newest);
        self.order(Some(tag), sort)
            .map(|o| o.iter().map(|&i| self.questions[i as usize].id).collect())
            .unwrap_or_default()
    }

    fn author(&self, a: &GenAuthor) -> Author {
        match a {
            GenAuthor::User(u) => Author::User {
                display_name: self.users[*u].name.clone(),
                user_id: Some(self.users[*u].id),
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
    pub fn expected_question(&self, id: u64) -> Option<Question> {
        let q = self.question(id)?;
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
            body_html: q.body.html(),
            author: self.author(&q.author),
            asked: Some(crate::text::iso(q.created)),
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
                    author: self.author(&a.author),
                    author_username_attr: None,
                    body_text: a.body.text(true),
                })
                .collect(),
        })
    }

    /// The listing rows `sofleet_extract::parse_listing` must produce for a
    /// tagged listing page (empty when the page does not exist).
    pub fn expected_listing_entries(
        &self,
        tag: &str,
        sort: &str,
        page: u32,
        pagesize: u32,
    ) -> Vec<ListingEntry> {
        self.listing_ids(tag, sort, page, pagesize)
            .into_iter()
            .filter_map(|id| self.expected_entry(id))
            .collect()
    }

    /// The record `sofleet_extract::parse_listing` must produce for a
    /// listing page (`tag == None`: `/questions?tab=SORT`); `None` when the
    /// page does not exist. Pages of a single-page listing have no pager
    /// (`pagination: None`), as on the real site.
    pub fn expected_listing_page(
        &self,
        tag: Option<&str>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    ) -> Option<ListingPage> {
        let pagesize = normalize_pagesize(Some(pagesize));
        let slice = self.page_slice(tag, sort, page, pagesize)?;
        let last = self.last_page(tag, pagesize);
        Some(ListingPage {
            page_title: crate::render::listing_title(tag, sort),
            site_host: Some(SITE_HOST.to_string()),
            listing_type: if tag.is_some() {
                ListingType::Tagged
            } else {
                ListingType::Questions
            },
            row_markup: "s-post-summary".to_string(),
            questions: slice
                .iter()
                .filter_map(|&i| self.expected_entry(self.questions[i as usize].id))
                .collect(),
            pagination: (last > 1).then(|| Pagination {
                current_page: Some(page),
                next_href: (page < last)
                    .then(|| crate::render::listing_href(tag, sort, page + 1, pagesize)),
                highest_page_number_shown: Some(last),
            }),
        })
    }

    /// The listing row of one question.
    pub fn expected_entry(&self, id: u64) -> Option<ListingEntry> {
        let q = self.question(id)?;
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

    /// One example question id for each interesting case the generator
    /// produces (no answers, accepted answer not first, community wiki, ...),
    /// handy for tests.
    pub fn examples(&self) -> Examples {
        let find = |pred: &dyn Fn(&GenQuestion) -> bool| {
            self.questions.iter().find(|q| pred(q)).map(|q| q.id)
        };
        let configured = &self.config.tags;
        Examples {
            no_answers: find(&|q| q.answers.is_empty()),
            accepted_not_first: find(&|q| q.answers.iter().skip(1).any(|a| a.accepted)),
            community_wiki_answer: find(&|q| {
                q.answers
                    .iter()
                    .any(|a| a.author == GenAuthor::CommunityWiki)
            }),
            deleted_user_answer: find(&|q| {
                q.answers
                    .iter()
                    .any(|a| matches!(a.author, GenAuthor::Deleted(_)))
            }),
            negative_score: find(&|q| q.score < 0 || q.answers.iter().any(|a| a.score < 0)),
            multi_tag: find(&|q| q.tags.iter().filter(|t| configured.contains(t)).count() > 1),
            duplicate: find(&|q| q.status == Status::Duplicate),
            closed: find(&|q| q.status == Status::Closed),
            non_ascii_author: find(
                &|q| matches!(q.author, GenAuthor::User(u) if !self.users[u].name.is_ascii()),
            ),
        }
    }
}

/// One example question id per interesting case (see [`SiteContent::examples`]);
/// `None` when the site is too small to contain one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Examples {
    /// A question without answers.
    pub no_answers: Option<u64>,
    /// A question whose accepted answer is not the first (top-scored) one.
    pub accepted_not_first: Option<u64>,
    /// A question with a community-wiki answer.
    pub community_wiki_answer: Option<u64>,
    /// A question with an answer by a deleted user.
    pub deleted_user_answer: Option<u64>,
    /// A question with a negative score, or with a negatively scored answer.
    pub negative_score: Option<u64>,
    /// A question tagged with two configured tags (listed under both).
    pub multi_tag: Option<u64>,
    /// A question closed as a duplicate (title suffix and body notice).
    pub duplicate: Option<u64>,
    /// A question closed for another reason (`[closed]`).
    pub closed: Option<u64>,
    /// A question asked by a user with a non-ASCII display name.
    pub non_ascii_author: Option<u64>,
}
