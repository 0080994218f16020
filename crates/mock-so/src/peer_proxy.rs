//! A thin layer in front of the mock site that tells it each request's source
//! address.
//!
//! wiremock's `Request` does not carry the peer address, so per-client rate
//! limits could otherwise only be keyed by a header the client chooses. The
//! [`PeerTaggingProxy`] accepts TCP connections itself, learns each
//! connection's source IP from the socket, and forwards every HTTP/1.1
//! request to the mock site with the [`CLIENT_HEADER`] set to that IP
//! (replacing any value the client sent, so it cannot be spoofed). Responses
//! stream back untouched. With it, a worker whose requests leave from
//! 127.0.0.2 and one leaving from 127.0.0.3 are two clients to the mock site's
//! rate limiter, exactly as two machines are to Stack Overflow.
//!
//! Only what HTTP clients send to a read-only site is supported: requests
//! without a body or with a `Content-Length` body. A request with
//! `Transfer-Encoding: chunked` gets the connection closed.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::server::CLIENT_HEADER;

/// Largest request head the proxy accepts (request line + headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct PeerTaggingProxy {
    addr: SocketAddr,
    accept_loop: JoinHandle<()>,
}

impl PeerTaggingProxy {
    /// Listens on `listen` (e.g. `127.0.0.1:0`) and forwards to `upstream`
    /// (the mock site's address). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// If `listen` cannot be bound.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let accept_loop = tokio::spawn(async move {
            loop {
                let Ok((client, peer)) = listener.accept().await else {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                tokio::spawn(async move {
                    // A broken connection only ends that connection.
                    let _ = forward_connection(client, peer.ip(), upstream).await;
                });
            }
        });
        Ok(PeerTaggingProxy { addr, accept_loop })
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` of the proxy: crawl this instead of the mock site.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for PeerTaggingProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn forward_connection(
    client: TcpStream,
    peer: IpAddr,
    upstream: SocketAddr,
) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let responses = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    });
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let result = async {
        loop {
            // Read until the end of the request head.
            let head_end = loop {
                if let Some(pos) = find_head_end(&buf) {
                    break pos;
                }
                if buf.len() > MAX_HEAD_BYTES {
                    return Ok(());
                }
                let mut chunk = [0u8; 8192];
                let n = client_read.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let Some(rewritten) = rewrite_head(&head, peer) else {
                return Ok(());
            };
            server_write.write_all(rewritten.as_bytes()).await?;
            buf.drain(..head_end + 4);
            // Forward a Content-Length body, if any.
            let mut body_left = content_length(&head);
            let from_buf = body_left.min(buf.len());
            server_write.write_all(&buf[..from_buf]).await?;
            buf.drain(..from_buf);
            body_left -= from_buf;
            while body_left > 0 {
                let mut chunk = vec![0u8; body_left.min(64 * 1024)];
                let n = client_read.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                server_write.write_all(&chunk[..n]).await?;
                body_left -= n;
            }
        }
    }
    .await;
    let _ = server_write.shutdown().await;
    let _ = responses.await;
    result
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Replaces any client header with the peer's address; `None` for requests
/// the proxy does not support (chunked bodies).
fn rewrite_head(head: &str, peer: IpAddr) -> Option<String> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?;
    let mut out = String::with_capacity(head.len() + 64);
    out.push_str(request_line);
    out.push_str("\r\n");
    for line in lines {
        let name = line.split(':').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case(CLIENT_HEADER) {
            continue;
        }
        if name.eq_ignore_ascii_case("transfer-encoding")
            && line.to_ascii_lowercase().contains("chunked")
        {
            return None;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(CLIENT_HEADER);
    out.push_str(": ");
    out.push_str(&peer.to_string());
    out.push_str("\r\n\r\n");
    Some(out)
}

fn content_length(head: &str) -> usize {
    head.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_gets_the_peer_address_and_loses_spoofed_values() {
        let head = "GET /questions HTTP/1.1\r\nhost: x\r\nX-Sofleet-Client: liar";
        let out = rewrite_head(head, "127.0.0.2".parse().unwrap()).unwrap();
        assert_eq!(
            out,
            "GET /questions HTTP/1.1\r\nhost: x\r\nx-sofleet-client: 127.0.0.2\r\n\r\n"
        );
        assert_eq!(content_length("POST / HTTP/1.1\r\nContent-Length: 12"), 12);
        assert!(
            rewrite_head(
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked",
                "127.0.0.1".parse().unwrap()
            )
            .is_none()
        );
    }
}
