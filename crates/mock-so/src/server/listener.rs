//! The accept loop: one hyper HTTP/1.1 connection task per accepted socket,
//! on the site's own thread.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::responder::SiteResponder;
use super::routing::request_info;

/// Serves `responder` on `listener` until `shutdown` is dropped; runs on the
/// site's own thread.
pub(super) async fn serve_connections(
    listener: std::net::TcpListener,
    responder: Arc<SiteResponder>,
    mut shutdown: tokio::sync::watch::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let responder = responder.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let responder = responder.clone();
                async move {
                    let reply = responder.respond(request_info(&request));
                    let delay = reply.delay;
                    // Wait outside the state lock, so one slow response delays nothing else.
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Ok::<_, Infallible>(reply.into_response())
                }
            });
            // A broken connection only ends that connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
