//! Progress display for `sofleet crawl`: indicatif bars on a terminal, plain
//! lines (at most one a second, plus the last) when stderr is not a terminal,
//! so logs and CI output never fill with control codes.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sofleet_crawl::CrawlProgress;

/// Shows crawl progress one way or the other.
pub enum Progress {
    /// Two bars (listing pages, questions) with rate and ETA.
    Bars {
        /// Keeps the bars drawn together.
        _multi: MultiProgress,
        /// Listing pages bar.
        listings: ProgressBar,
        /// Question pages bar.
        questions: ProgressBar,
    },
    /// Plain lines on stderr.
    Lines {
        /// When the last line was printed.
        last: Option<Instant>,
        /// The last progress seen (printed once more at the end).
        latest: CrawlProgress,
    },
}

impl Progress {
    /// Bars if stderr is a terminal and `plain` is false, lines otherwise.
    pub fn new(plain: bool) -> Progress {
        if plain || !std::io::stderr().is_terminal() {
            return Progress::Lines {
                last: None,
                latest: CrawlProgress::default(),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} {rate:>8} ETA {eta} {msg}",
        )
        .expect("static template is valid")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", per_second(state.per_sec()));
            },
        )
        .progress_chars("=> ");
        let listings = multi.add(ProgressBar::new(0).with_style(style.clone()));
        listings.set_prefix("listings");
        let questions = multi.add(ProgressBar::new(0).with_style(style));
        questions.set_prefix("questions");
        Progress::Bars {
            _multi: multi,
            listings,
            questions,
        }
    }

    /// Shows the latest counters.
    pub fn update(&mut self, progress: CrawlProgress) {
        match self {
            Progress::Bars {
                listings,
                questions,
                ..
            } => {
                listings.set_length(progress.listings_total as u64);
                listings.set_position(progress.listings_done as u64);
                questions.set_length(progress.questions_total as u64);
                questions.set_position(progress.questions_done as u64);
                if progress.failures > 0 {
                    questions.set_message(format!("{} failed", progress.failures));
                }
            }
            Progress::Lines { last, latest } => {
                *latest = progress;
                if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    *last = Some(Instant::now());
                    eprintln!("{}", line(progress));
                }
            }
        }
    }

    /// Clears the bars, or prints the final line.
    pub fn finish(self) {
        match self {
            Progress::Bars {
                listings,
                questions,
                ..
            } => {
                listings.finish();
                questions.finish();
            }
            Progress::Lines { latest, .. } => eprintln!("{}", line(latest)),
        }
    }
}

/// One plain progress line.
pub fn line(p: CrawlProgress) -> String {
    let mut line = format!(
        "progress: listings {}/{}, questions {}/{}, failures {}",
        p.listings_done, p.listings_total, p.questions_done, p.questions_total, p.failures
    );
    if p.questions_skipped > 0 {
        line.push_str(&format!(
            " ({} questions already in the dataset)",
            p.questions_skipped
        ));
    }
    line
}

/// A rate for people: `4.8/s`, `12/s`, `0.05/s`.
fn per_second(rate: f64) -> String {
    if !rate.is_finite() || rate <= 0.0 {
        "0/s".to_owned()
    } else if rate >= 10.0 {
        format!("{rate:.0}/s")
    } else if rate >= 0.1 {
        format!("{rate:.1}/s")
    } else {
        format!("{rate:.2}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_has_every_counter() {
        let p = CrawlProgress {
            listings_done: 1,
            listings_total: 6,
            questions_done: 10,
            questions_total: 45,
            failures: 2,
            ..CrawlProgress::default()
        };
        assert_eq!(
            line(p),
            "progress: listings 1/6, questions 10/45, failures 2"
        );
        let resumed = CrawlProgress {
            questions_skipped: 7,
            ..p
        };
        assert_eq!(
            line(resumed),
            "progress: listings 1/6, questions 10/45, failures 2 (7 questions already in the dataset)"
        );
    }

    #[test]
    fn rates_are_rounded() {
        assert_eq!(per_second(4.77184531), "4.8/s");
        assert_eq!(per_second(123.456), "123/s");
        assert_eq!(per_second(0.0512), "0.05/s");
        assert_eq!(per_second(f64::NAN), "0/s");
    }
}
