//! `rediss://` (TLS) with a private CA, against a real TLS redis-server; certificates are made
//! with the `openssl` command-line tool.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use sofleet_executor::Client;
use sofleet_redis::testing::RedisServer;
use sofleet_redis::testing::tasks::Square;
use sofleet_redis::{RedisBackend, RedisError};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
fn make_certs(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=sofleet test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n\
         basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_urls_work_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let ca = dir.path().join("ca.crt");
    let server = RedisServer::start_tls(
        &dir.path().join("server.crt"),
        &dir.path().join("server.key"),
        &ca,
    )
    .expect("start TLS redis-server");
    let url = server.url();
    assert!(url.starts_with("rediss://"));

    let _worker = WorkerProc::start(&url, "tls", &["--tls-ca", ca.to_str().unwrap()]);
    let mut opts = client_opts();
    opts.tls_ca_file = Some(ca.clone());
    let backend = RedisBackend::connect(&url, opts)
        .await
        .expect("connect over TLS");
    wait_workers(&backend, 1).await;
    let client = Client::new(backend);
    assert_eq!(client.submit(Square { x: 11 }).value().await.unwrap(), 121);

    // Without the CA the server's certificate is not trusted: a clear connect error.
    let mut opts = client_opts();
    opts.connect_timeout = std::time::Duration::from_millis(500);
    let err = RedisBackend::connect(&url, opts).await.unwrap_err();
    assert!(matches!(err, RedisError::Connect { .. }), "{err}");
    let msg = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");
}
