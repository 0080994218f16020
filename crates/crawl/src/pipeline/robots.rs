//! The first stage: robots.txt, once, before any page (an unreachable one is recorded once, as
//! a robots failure). A stop request does not wait for a slow robots.txt.

use sofleet_records::Stage;

use super::exec_failure;
use super::run::Run;
use crate::events::CrawlEvent;
use crate::tasks::{CrawlOutput, RobotsTask};

impl<S: FnMut(CrawlEvent)> Run<'_, S> {
    /// Runs the robots task and records its failure row, if any; a stop request meanwhile
    /// cancels it and stops the run.
    pub(super) async fn robots_first(&mut self) {
        let robots_task = self.client.submit(RobotsTask {
            config: self.config.clone(),
            run_id: self.run_id,
        });
        let robots = tokio::select! {
            biased;
            _ = self.stop.stopped() => None,
            result = robots_task.clone() => Some(result),
        };
        match robots {
            None => {
                robots_task.cancel();
                self.stop_now()
            }
            Some(Ok(report)) => {
                self.tally.record(report.worker);
                if let CrawlOutput::Failed(record) = report.output {
                    self.failure(record);
                }
            }
            Some(Err(e)) => {
                let mut robots_url = self.base.clone();
                robots_url.set_path("/robots.txt");
                robots_url.set_query(None);
                let record = exec_failure(Stage::Robots, robots_url.as_str(), &e);
                self.failure(record);
            }
        }
    }
}
