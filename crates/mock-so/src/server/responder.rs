//! The catch-all responder: routes a request, applies the configured
//! behaviours in their documented order and renders the page.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use parking_lot::Mutex;

use super::faults;
use super::reply::{Reply, html};
use super::routing::{RequestInfo, Route, route};
use super::state::State;
use super::{DEFAULT_ROBOTS_TXT, RecordedRequest, robots_txt_with_crawl_delay};
use crate::render::{captcha_page, error_page};
use crate::site::SiteContent;

/// Answers every request from the in-memory site and the shared state.
pub(super) struct SiteResponder {
    pub(super) content: Arc<SiteContent>,
    pub(super) state: Arc<Mutex<State>>,
}

impl SiteResponder {
    /// The question, listing or 404 page of a route that passed the gate,
    /// with the question-page faults applied.
    fn page(&self, state: &mut State, route: Route, key: &str) -> Reply {
        let config = &self.content.config;
        if let Route::Question(id) = route {
            if config.always_429.contains(&id) {
                return faults::too_many_requests(config, || "1".to_string());
            }
            if let Some((_, location)) = config.redirects.iter().find(|(r, _)| *r == id) {
                return html(301, String::new()).header("location", location);
            }
        }
        if let Some(reply) = faults::server_error(config, state, key) {
            return reply;
        }
        match route {
            Route::Question(id) => {
                if config.not_found.contains(&id) {
                    return html(404, self.content.render_not_found_page());
                }
                match self.content.render_question_page(id) {
                    None => html(404, self.content.render_not_found_page()),
                    Some(mut page) => {
                        if config.truncated.contains(&id) {
                            let mut cut = page.len() / 2;
                            while !page.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            page.truncate(cut);
                        }
                        let mut reply = html(200, page);
                        // Slow bodies: successful question pages only, on top of the latency.
                        reply.delay = config.slow_body.unwrap_or_default();
                        reply
                    }
                }
            }
            Route::Listing {
                tag,
                sort,
                page,
                pagesize,
            } => match self
                .content
                .render_listing_page(tag.as_deref(), sort, page, pagesize)
            {
                Some(body) => html(200, body),
                None => html(404, self.content.render_not_found_page()),
            },
            _ => html(404, self.content.render_not_found_page()),
        }
    }

    fn robots(&self) -> Reply {
        let config = &self.content.config;
        let body = if let Some(bytes) = &config.robots_txt_bytes {
            bytes.clone()
        } else if let Some(text) = &config.robots_txt {
            text.clone().into_bytes()
        } else if let Some(value) = &config.crawl_delay {
            robots_txt_with_crawl_delay(value).into_bytes()
        } else {
            DEFAULT_ROBOTS_TXT.as_bytes().to_vec()
        };
        let mut reply = Reply::new(200);
        reply.content_type = "text/plain; charset=utf-8";
        reply.body = body;
        reply
    }

    /// Answers one request (the delay is waited by the caller).
    pub(super) fn respond(&self, request: RequestInfo<'_>) -> Reply {
        let now = Instant::now();
        let RequestInfo {
            method,
            key,
            url,
            client,
            user_agent,
        } = request;
        let config = &self.content.config;
        let mut state = self.state.lock();
        state.received += 1;
        let latency = faults::latency(config, &mut state);
        let mut reply = if method != "GET" && method != "HEAD" {
            html(405, error_page(405)).header("allow", "GET, HEAD")
        } else {
            match route(&url) {
                Route::Robots => self.robots(),
                Route::Captcha(token) => html(200, captcha_page(&token)),
                other => match faults::gate(config, &mut state, &client, now, &key) {
                    Some(short) => short,
                    None => self.page(&mut state, other, &key),
                },
            }
        };
        if let Some(log) = &mut state.log {
            log.push(RecordedRequest {
                method: method.to_string(),
                path: key,
                client,
                user_agent,
                status: reply.status,
                at: now,
                time: SystemTime::now(),
            });
        }
        drop(state);
        reply.delay += latency;
        reply
    }
}
