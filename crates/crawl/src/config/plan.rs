//! What to crawl: [`CrawlPlan`], with the listing orders ([`SORTS`]) and page sizes
//! ([`PAGE_SIZES`]) Stack Overflow offers.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use sofleet_records::Sort;
use url::Url;

use crate::error::CrawlError;

/// The listing orders Stack Overflow offers (`?tab=`): the values of [`Sort`].
pub const SORTS: [&str; 4] = [
    Sort::Votes.as_str(),
    Sort::Newest.as_str(),
    Sort::Active.as_str(),
    Sort::Frequent.as_str(),
];

/// The page sizes Stack Overflow offers for tag listings (`&pagesize=`).
pub const PAGE_SIZES: [u32; 3] = [15, 30, 50];

/// What to crawl: tag listings in one order, a range of pages each, then every question linked.
///
/// ```
/// let plan = sofleet_crawl::CrawlPlan::new(["dask"], "votes", 1..=2);
/// assert_eq!(plan.pagesize, 15);
/// assert!(plan.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlPlan {
    /// Tags whose listings are crawled (`/questions/tagged/{tag}`).
    pub tags: Vec<String>,
    /// Listing order: one of [`SORTS`].
    pub sort: String,
    /// Listing pages to fetch per tag (1-based, inclusive).
    pub pages: RangeInclusive<u32>,
    /// Questions per listing page: one of [`PAGE_SIZES`].
    pub pagesize: u32,
}

impl CrawlPlan {
    /// A plan with the default page size (15).
    pub fn new<S: Into<String>>(
        tags: impl IntoIterator<Item = S>,
        sort: &str,
        pages: RangeInclusive<u32>,
    ) -> CrawlPlan {
        CrawlPlan {
            tags: tags.into_iter().map(Into::into).collect(),
            sort: sort.to_owned(),
            pages,
            pagesize: 15,
        }
    }

    /// Checks the plan.
    ///
    /// # Errors
    /// [`CrawlError::InvalidPlan`] saying what is wrong and what is accepted.
    pub fn validate(&self) -> Result<(), CrawlError> {
        let invalid = |message: String| CrawlError::InvalidPlan { message };
        if self.tags.is_empty() {
            return Err(invalid(
                "no tags given: name at least one tag, e.g. dask".to_owned(),
            ));
        }
        for tag in &self.tags {
            if tag.trim().is_empty() || tag.contains('/') || tag.contains(char::is_whitespace) {
                return Err(invalid(format!(
                    "tag {tag:?} is not a Stack Overflow tag (no spaces or slashes)"
                )));
            }
        }
        if !SORTS.contains(&self.sort.as_str()) {
            return Err(invalid(format!(
                "sort {:?} is not one of {SORTS:?}",
                self.sort
            )));
        }
        if *self.pages.start() == 0 || self.pages.is_empty() {
            return Err(invalid(format!(
                "page range {}..={} must be non-empty and start at 1 or later",
                self.pages.start(),
                self.pages.end()
            )));
        }
        if !PAGE_SIZES.contains(&self.pagesize) {
            return Err(invalid(format!(
                "pagesize {} is not one of {PAGE_SIZES:?}",
                self.pagesize
            )));
        }
        Ok(())
    }

    /// The listing URL of one tag and page on `base`.
    pub fn listing_url(&self, base: &Url, tag: &str, page: u32) -> Url {
        let mut url = base.clone();
        url.set_path("");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().extend(["questions", "tagged", tag]);
        }
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("tab", &self.sort)
            .append_pair("page", &page.to_string())
            .append_pair("pagesize", &self.pagesize.to_string());
        url
    }
}
