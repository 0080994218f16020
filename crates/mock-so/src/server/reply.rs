//! A response being built: status, headers, body and delay.

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};

/// A response being built: status, headers, body, and how long to wait
/// before sending it.
pub(super) struct Reply {
    pub(super) status: u16,
    headers: Vec<(&'static str, HeaderValue)>,
    pub(super) content_type: &'static str,
    pub(super) body: Vec<u8>,
    pub(super) delay: Duration,
}

impl Reply {
    pub(super) fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "text/html; charset=utf-8",
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header. Values come from validated configuration or from the
    /// site itself; one that still cannot be a header value is sent empty.
    pub(super) fn header(mut self, name: &'static str, value: &str) -> Reply {
        let value =
            HeaderValue::from_bytes(value.as_bytes()).unwrap_or(HeaderValue::from_static(""));
        self.headers.push((name, value));
        self
    }

    pub(super) fn into_response(self) -> hyper::Response<Full<Bytes>> {
        let mut response = hyper::Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(self.status).unwrap_or(hyper::StatusCode::OK);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            headers.append(HeaderName::from_static(name), value);
        }
        response
    }
}

/// An HTML reply with the site's usual headers.
pub(super) fn html(status: u16, body: String) -> Reply {
    let mut reply = Reply::new(status)
        .header("cache-control", "private")
        .header("x-frame-options", "SAMEORIGIN");
    reply.body = body.into_bytes();
    reply
}
