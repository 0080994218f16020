//! The web server: the page, `/api/status`, the live stream and `/metrics`, behind the token.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use futures::Stream;
use tokio::sync::watch;

use crate::Published;
use crate::error::DashboardError;
use crate::metrics::prometheus_text;

/// The page (HTML, CSS and script in one file, built into the binary: no network needed).
pub(crate) const PAGE: &str = include_str!("../assets/index.html");

/// Ports tried after a busy one.
pub(crate) const PORTS_TRIED: u16 = 20;

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) latest: watch::Receiver<Arc<Published>>,
    pub(crate) token: Option<Arc<str>>,
}

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/status") }))
        .route("/status", get(page))
        .route("/api/status", get(api_status))
        .route("/api/events", get(events))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(state.clone(), check_token))
        .with_state(state)
}

/// Binds `addr`, or when its port is busy the next free one of the [`PORTS_TRIED`] after it.
pub(crate) async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, DashboardError> {
    let mut last = None;
    for step in 0..=PORTS_TRIED {
        let Some(port) = addr.port().checked_add(step) else {
            break;
        };
        let candidate = SocketAddr::new(addr.ip(), port);
        match tokio::net::TcpListener::bind(candidate).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && addr.port() != 0 => {
                last = Some(e);
            }
            Err(e) => {
                return Err(DashboardError::Bind {
                    addr,
                    message: e.to_string(),
                });
            }
        }
    }
    Err(DashboardError::Bind {
        addr,
        message: format!(
            "port {} and the {PORTS_TRIED} after it are busy ({}); choose another port",
            addr.port(),
            last.map_or_else(String::new, |e| e.to_string())
        ),
    })
}

async fn check_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let from_query = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")));
    let given = from_header.or(from_query);
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "this dashboard needs its token: open it as /status?token=YOUR_TOKEN, or send \
         'Authorization: Bearer YOUR_TOKEN'\n",
    )
        .into_response()
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn page() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], Html(PAGE))
}

async fn api_status(State(state): State<AppState>) -> Response {
    let json = state.latest.borrow().json.clone();
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        json.to_string(),
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let status = state.latest.borrow().status.clone();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        prometheus_text(&status),
    )
        .into_response()
}

/// Server-sent events: the current status at once, then each new one. Only the latest status
/// is ever waiting for a slow browser; the stream ends when the dashboard stops.
async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut rx = state.latest.clone();
    rx.mark_changed();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let json = rx.borrow_and_update().json.clone();
        Some((Ok(Event::default().event("status").data(json.as_ref())), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
}
