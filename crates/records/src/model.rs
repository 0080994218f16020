//! The page model: what `sofleet-extract` reads out of a Stack Overflow page (and re-exports
//! as its own API). The types own all their data and are
//! `Send + Sync`, so they can leave the synchronous parse call and travel
//! between threads, tasks and processes (they are serde-serializable).

use serde::{Deserialize, Serialize};

/// Who wrote a post.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    /// A registered user, with the display name shown in the signature and
    /// the numeric user id when the page links to the profile.
    User {
        /// Display name as shown on the page.
        display_name: String,
        /// Numeric user id from the profile link, when present.
        user_id: Option<u64>,
    },
    /// A community-wiki post: no single owner.
    CommunityWiki,
    /// An anonymous or deleted user (no profile link); the page may still
    /// show a name such as `user12345`.
    Anonymous {
        /// The name shown, if any.
        display_name: Option<String>,
    },
}

impl Author {
    /// The display name to show in reports: the user's name, `"community wiki"`,
    /// or the anonymous name (or `"anonymous"`).
    pub fn display_name(&self) -> &str {
        match self {
            Author::User { display_name, .. } => display_name,
            Author::CommunityWiki => "community wiki",
            Author::Anonymous { display_name } => display_name.as_deref().unwrap_or("anonymous"),
        }
    }
}

/// One answer on a question page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Answer id (from `id="answer-NNN"` / `data-answerid`).
    pub id: u64,
    /// Vote score (may be negative).
    pub score: i64,
    /// Whether this is the accepted answer.
    pub accepted: bool,
    /// Who answered (the "answered" signature, not the editor's).
    pub author: Author,
    /// `data-author-username` attribute, where the markup era has it.
    pub author_username_attr: Option<String>,
    /// Body as clean text: text nodes joined, whitespace collapsed, code kept.
    pub body_text: String,
}

/// A question page: the question and every answer rendered on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// The page's `<title>` text.
    pub page_title: String,
    /// `og:title` meta content, when present.
    pub og_title: Option<String>,
    /// Host the page says it belongs to (from canonical / og:url), when present.
    pub site_host: Option<String>,
    /// Question id.
    pub id: u64,
    /// Title as displayed, with any status suffix such as `[closed]`.
    pub title: String,
    /// Title without the status suffix.
    pub title_clean: String,
    /// The status suffix without its brackets (`closed`, `duplicate`, or the
    /// localised word), if any.
    pub title_status_suffix: Option<String>,
    /// Vote score (may be negative).
    pub score: i64,
    /// The question's own tags, in order, decoded (`c++`).
    pub tags: Vec<String>,
    /// Body as clean text (whitespace collapsed, code kept as text).
    pub body_text: String,
    /// Body text without post notices (closed / duplicate asides).
    pub body_text_excluding_notices: String,
    /// Body as inner HTML.
    pub body_html: String,
    /// Who asked.
    pub author: Author,
    /// When asked, as the page states it (ISO 8601 where the markup gives it).
    pub asked: Option<String>,
    /// Total answers the page declares (pages render at most 30).
    pub answer_count_declared: Option<u32>,
    /// Which markup era the page was rendered in.
    pub markup_era: MarkupEra,
    /// The order the answers were rendered in (`votes`, `active`, `oldest`…), when shown.
    pub answer_sort: Option<String>,
    /// Every answer in page order.
    pub answers: Vec<Answer>,
}

impl Question {
    /// The first answer in page order (what the lesson's notebook reads).
    pub fn first_answer(&self) -> Option<&Answer> {
        self.answers.first()
    }

    /// The highest-scored answer; ties go to the accepted answer, then page order.
    pub fn top_answer(&self) -> Option<&Answer> {
        let mut best: Option<&Answer> = None;
        for answer in &self.answers {
            best = match best {
                None => Some(answer),
                Some(b) if (answer.score, answer.accepted) > (b.score, b.accepted) => Some(answer),
                keep => keep,
            };
        }
        best
    }

    /// The accepted answer, if any.
    pub fn accepted_answer(&self) -> Option<&Answer> {
        self.answers.iter().find(|a| a.accepted)
    }
}

/// One row of a listing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingEntry {
    /// Question id.
    pub id: u64,
    /// Title as displayed.
    pub title: String,
    /// Absolute path of the question link (`/questions/123/slug`).
    pub link: String,
    /// Vote score.
    pub score: i64,
    /// Number of answers.
    pub answer_count: u32,
    /// View count, where shown.
    pub view_count: Option<u64>,
    /// Tags, in order.
    pub tags: Vec<String>,
    /// Whether the question has an accepted answer, where the row shows it.
    pub has_accepted_answer: Option<bool>,
    /// Set when the row is a search hit on an answer rather than on a question: the
    /// answer's id. `id` and `link` then name the question the answer belongs to, `score`
    /// is the answer's score and `answer_count` is 0 (the row shows no count). Absent
    /// from records written before search listings were read (and from question rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<u64>,
}

impl ListingEntry {
    /// Whether the row is a search hit on an answer (see [`ListingEntry::answer_id`]).
    ///
    /// ```
    /// let row: sofleet_records::ListingEntry = serde_json::from_str(
    ///     r#"{"id":7,"title":"T","link":"/questions/7/t","score":1,"answer_count":0,
    ///         "view_count":null,"tags":[],"has_accepted_answer":null}"#,
    /// ).unwrap();
    /// assert!(!row.is_answer_hit());
    /// ```
    pub fn is_answer_hit(&self) -> bool {
        self.answer_id.is_some()
    }
}

/// A row of a listing page that was found but could not be read, so it is not among the
/// page's [`ListingPage::questions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// Position of the row among all the rows found on the page, from 1, in page order.
    pub position: u32,
    /// The row element's `id` attribute (`question-summary-123`), when it has one.
    pub row_id: Option<String>,
    /// What the row was missing (the markup that was looked for).
    pub missing: String,
}

/// Pager state of a listing page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// Current page number, where the pager shows it.
    pub current_page: Option<u32>,
    /// The pager's "next" link (`rel="next"`), as an absolute path, if any.
    pub next_href: Option<String>,
    /// The highest page number shown in the pager.
    pub highest_page_number_shown: Option<u32>,
}

/// Which kind of listing a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingType {
    /// `/questions/tagged/{tag}`.
    Tagged,
    /// `/questions` (newest, active, …).
    Questions,
    /// The site's home page (no pager).
    Homepage,
    /// Some other listing (search results (`/search?q=`), …).
    Other,
}

impl ListingType {
    /// Stable snake_case word.
    pub fn as_str(self) -> &'static str {
        match self {
            ListingType::Tagged => "tagged",
            ListingType::Questions => "questions",
            ListingType::Homepage => "homepage",
            ListingType::Other => "other",
        }
    }
}

/// The markup generations of Stack Overflow question pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MarkupEra {
    /// ≤ 2011: table layout, no `data-questionid` / `data-answerid`.
    A,
    /// 2012–2018: `data-questionid` / `data-answerid`, vote counts in `.vote-count-post`
    /// (table layout; in 2018 inside the first `post-layout` grid wrappers).
    B,
    /// 2019–2020H1: grid layout, vote counts in `.js-vote-count[data-value]`, `.post-text`.
    C,
    /// 2020H2–2021Q1: `.s-prose.js-post-body`.
    D,
    /// 2021-04 on: `data-score` on the question and answer elements.
    E,
}

impl MarkupEra {
    /// The era's letter.
    pub fn letter(self) -> char {
        match self {
            MarkupEra::A => 'A',
            MarkupEra::B => 'B',
            MarkupEra::C => 'C',
            MarkupEra::D => 'D',
            MarkupEra::E => 'E',
        }
    }
}

/// A listing page (tagged questions, newest questions, home page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingPage {
    /// The page's `<title>` text.
    pub page_title: String,
    /// Host the page says it belongs to (from canonical / og:url), when present.
    pub site_host: Option<String>,
    /// Which kind of listing (from the canonical URL, else the body class).
    pub listing_type: ListingType,
    /// Which row markup the page uses (`question-summary` or `s-post-summary`).
    pub row_markup: String,
    /// Questions in page order.
    pub questions: Vec<ListingEntry>,
    /// Pagination; `None` on pages without a pager (home page).
    pub pagination: Option<Pagination>,
    /// Rows that were found but could not be read (left out of `questions`), in page
    /// order; empty when every row was read. Absent from records written before it
    /// existed, and not written when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub row_problems: Vec<RowProblem>,
}

/// A listing order: the `tab=` / `sort=` query value of a listing page. The one definition
/// the crawler, the mock site and the command line share.
///
/// ```
/// use sofleet_records::Sort;
/// assert_eq!(Sort::parse("Votes"), Some(Sort::Votes));
/// assert_eq!(Sort::Frequent.as_str(), "frequent");
/// assert_eq!(Sort::parse("hot"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// `votes`: highest score first.
    Votes,
    /// `newest`: most recently asked first.
    Newest,
    /// `active`: most recently modified first.
    Active,
    /// `frequent`: most linked first.
    Frequent,
}

impl Sort {
    /// All sorts, in declaration order.
    pub const ALL: [Sort; 4] = [Sort::Votes, Sort::Newest, Sort::Active, Sort::Frequent];

    /// Parses a `tab=` / `sort=` value (case-insensitive); `None` if unknown.
    pub fn parse(value: &str) -> Option<Sort> {
        Sort::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(value))
    }

    /// The query value (`votes`, `newest`, `active`, `frequent`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Sort::Votes => "votes",
            Sort::Newest => "newest",
            Sort::Active => "active",
            Sort::Frequent => "frequent",
        }
    }
}

impl Sort {
    /// What the order means, for people (`--help`).
    pub const fn description(self) -> &'static str {
        match self {
            Sort::Votes => "Highest score first",
            Sort::Newest => "Newest first",
            Sort::Active => "Most recently active first",
            Sort::Frequent => "Most linked first",
        }
    }
}

impl std::fmt::Display for Sort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
