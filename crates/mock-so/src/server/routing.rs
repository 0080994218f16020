//! From a hyper request to what the responder needs: the request's facts
//! ([`RequestInfo`]) and the page it asks for ([`Route`]).

use hyper::body::Incoming;

use crate::server::CLIENT_HEADER;
use crate::site::{Sort, normalize_pagesize};
use crate::text::percent_decode;

/// The page a request asks for.
pub(super) enum Route {
    Robots,
    Captcha(String),
    Question(u64),
    Listing {
        tag: Option<String>,
        sort: Sort,
        page: u32,
        pagesize: u32,
    },
    NotFound,
}

/// Routes a request URL.
pub(super) fn route(url: &url::Url) -> Route {
    let path = url.path();
    let query = |names: &[&str]| {
        url.query_pairs()
            .find(|(k, _)| names.contains(&k.as_ref()))
            .map(|(_, v)| v.into_owned())
    };
    let sort = query(&["tab", "sort"])
        .and_then(|v| Sort::parse(&v))
        .unwrap_or(Sort::Newest);
    // Out-of-range page numbers are kept out of range (they answer 404).
    let page = query(&["page"])
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&p| p > 0)
        .map_or(1, |p| u32::try_from(p).unwrap_or(u32::MAX));
    let pagesize = normalize_pagesize(query(&["pagesize"]).and_then(|v| v.parse::<u32>().ok()));
    if path == "/robots.txt" {
        return Route::Robots;
    }
    if path == "/nocaptcha" {
        return Route::Captcha(query(&["s"]).unwrap_or_default());
    }
    if path == "/" {
        return Route::Listing {
            tag: None,
            sort,
            page,
            pagesize,
        };
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["questions"] | ["questions", ""] => Route::Listing {
            tag: None,
            sort,
            page,
            pagesize,
        },
        ["questions", "tagged", tag] | ["questions", "tagged", tag, ""] => Route::Listing {
            tag: Some(percent_decode(tag).to_lowercase()),
            sort,
            page,
            pagesize,
        },
        ["questions", id] | ["questions", id, _] => match id.parse::<u64>() {
            Ok(id) => Route::Question(id),
            Err(_) => Route::NotFound,
        },
        _ => Route::NotFound,
    }
}

/// What the responder needs of a request.
pub(super) struct RequestInfo<'a> {
    pub(super) method: &'a str,
    /// Path plus query.
    pub(super) key: String,
    pub(super) url: url::Url,
    pub(super) client: String,
    pub(super) user_agent: Option<String>,
}

/// Reads the facts the responder needs from a hyper request.
pub(super) fn request_info(request: &hyper::Request<Incoming>) -> RequestInfo<'_> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let key = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string());
    let url = url::Url::parse("http://127.0.0.1/")
        .and_then(|base| base.join(&key))
        .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1/").expect("a valid URL"));
    RequestInfo {
        method: request.method().as_str(),
        key,
        url,
        client: header(CLIENT_HEADER).unwrap_or_else(|| "default".to_string()),
        user_agent: header("user-agent"),
    }
}
