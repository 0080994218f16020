//! The generated site held in memory ([`SiteContent`]) and its public face:
//! lookups, listing orders and pages, the pages themselves (rendered by
//! [`render`](crate::render)) and the records extract must read back from
//! them ([`expected`](crate::expected)).

use std::collections::{BTreeMap, HashMap};

use sofleet_extract::{ListingEntry, ListingPage, Question};

use crate::config::MockSiteConfig;
use crate::error::MockSiteError;
use crate::model::{GenAuthor, GenQuestion, Status, User};
use crate::render::Chrome;
use crate::{expected, generator, render};

/// The host the generated pages claim to belong to (canonical / `og:url`).
pub const SITE_HOST: &str = "stackoverflow.com";

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
        generator::generate(config)
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

    /// One existing listing page (page size normalised), `None` when it does
    /// not exist (unknown tag, page 0 or past the last page).
    pub(crate) fn listing_window<'a>(
        &'a self,
        tag: Option<&'a str>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    ) -> Option<ListingWindow<'a>> {
        let pagesize = normalize_pagesize(Some(pagesize));
        Some(ListingWindow {
            tag,
            sort,
            page,
            pagesize,
            slice: self.page_slice(tag, sort, page, pagesize)?,
            last: self.last_page(tag, pagesize),
        })
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

    /// Renders a question page (newest markup, 150+ KB), `None` for an
    /// unknown id.
    pub fn render_question_page(&self, id: u64) -> Option<String> {
        render::question_page(self, id)
    }

    /// Renders a listing page: `tag == None` is `/questions?tab=SORT`,
    /// otherwise `/questions/tagged/TAG?tab=SORT`. `None` when the page does
    /// not exist (unknown tag, page 0, past the last page).
    pub fn render_listing_page(
        &self,
        tag: Option<&str>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    ) -> Option<String> {
        let window = self.listing_window(tag, sort, page, pagesize)?;
        Some(render::listing_page(self, &window))
    }

    /// A real-looking "Page not found" page (served with status 404).
    pub fn render_not_found_page(&self) -> String {
        render::not_found_page(self)
    }

    /// The record `sofleet_extract::parse_question` must produce for this
    /// question's page, `None` for an unknown id. Independent of fault
    /// settings (a `not_found` id still has its content here).
    pub fn expected_question(&self, id: u64) -> Option<Question> {
        expected::question(self, id)
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
        let window = self.listing_window(tag, sort, page, pagesize)?;
        Some(expected::listing_page(self, &window))
    }

    /// The listing row of one question.
    pub fn expected_entry(&self, id: u64) -> Option<ListingEntry> {
        expected::entry(self, id)
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

/// One existing listing page: what was asked for (page size normalised),
/// the indices of its questions and the listing's last page.
pub(crate) struct ListingWindow<'a> {
    pub(crate) tag: Option<&'a str>,
    pub(crate) sort: Sort,
    pub(crate) page: u32,
    pub(crate) pagesize: u32,
    pub(crate) slice: &'a [u32],
    pub(crate) last: u32,
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
