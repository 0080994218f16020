//! The lesson's first exercise: the titles of the newest-questions pages, serial or parallel.

use std::ops::RangeInclusive;

use sofleet_executor::{Client, ExecError, SubmitOptions, TaskContext, TaskFuture, TaskKey};
use sofleet_records::{FailureKind, FailureRecord, Stage};
use url::Url;

use crate::config::CrawlConfig;
use crate::error::CrawlError;
use crate::pipeline::{exec_failure, fresh_run_id, host_resource};
use crate::tasks::{CrawlOutput, CrawlReport, ListingResult, ListingTask};
use crate::worker::CrawlWorker;

/// The URL of newest-questions page `page` on `base` (`/questions?tab=newest&page=N`).
pub fn newest_url(base: &Url, page: u32) -> Url {
    let mut url = base.join("/questions").unwrap_or_else(|_| base.clone());
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("tab", "newest")
        .append_pair("page", &page.to_string());
    url
}

fn listing_outcome(
    url: &str,
    output: Result<CrawlReport, ExecError>,
) -> Result<ListingResult, FailureRecord> {
    match output.map(|report| report.output) {
        Ok(CrawlOutput::Listing(listing)) => Ok(listing),
        Ok(CrawlOutput::Failed(record)) => Err(record),
        Ok(CrawlOutput::Question(_) | CrawlOutput::Robots) => Err(FailureRecord {
            url: url.to_owned(),
            stage: Stage::Listing,
            kind: FailureKind::Parse,
            http_status: None,
            attempts: 1,
            message: "expected a listing page, got a question page".to_owned(),
        }),
        Err(e) => Err(exec_failure(Stage::Listing, url, &e)),
    }
}

/// The lesson's first exercise: the question titles of the newest-questions pages `pages`,
/// fetched one after another in the caller (`client` = `None`, the serial version, through a
/// [`CrawlWorker::local`] made for the call) or as parallel listing tasks on `client` (whose
/// backend must have a [`CrawlWorker`] among its resources). One entry per page, in page order: the page's titles
/// ([`ListingResult::titles`]) or its failure row.
///
/// # Errors
/// [`CrawlError`] for an invalid configuration or page range.
pub async fn fetch_titles(
    client: Option<&Client>,
    config: &CrawlConfig,
    pages: RangeInclusive<u32>,
) -> Result<Vec<Result<ListingResult, FailureRecord>>, CrawlError> {
    let base = config.validate()?;
    if *pages.start() == 0 || pages.is_empty() {
        return Err(CrawlError::InvalidPlan {
            message: format!(
                "page range {}..={} must be non-empty and start at 1 or later",
                pages.start(),
                pages.end()
            ),
        });
    }
    let run_id = fresh_run_id();
    let job = config.for_job();
    let tasks: Vec<ListingTask> = pages
        .map(|page| ListingTask {
            config: job.clone(),
            run_id,
            url: newest_url(&base, page).to_string(),
            tag: None,
            page: Some(page),
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    match client {
        None => {
            let resources = CrawlWorker::local(config)?.into_resources();
            for task in tasks {
                let url = task.url.clone();
                let ctx = TaskContext::new(TaskKey::new(&url), 0, Vec::new())
                    .with_resources(resources.clone());
                results.push(listing_outcome(&url, Ok(task.execute(&ctx).await)));
            }
        }
        Some(client) => {
            let resource = host_resource(&base);
            client.set_resource_limit(&resource, config.max_concurrency_per_host as usize);
            let futures: Vec<(String, TaskFuture<CrawlReport>)> = tasks
                .into_iter()
                .map(|task| {
                    let url = task.url.clone();
                    (
                        url,
                        client.submit_with(task, SubmitOptions::new().resource(resource.clone())),
                    )
                })
                .collect();
            for (url, future) in futures {
                results.push(listing_outcome(&url, future.await));
            }
        }
    }
    Ok(results)
}
