//! `sofleet mock-site` exposes every fault of the mock library: the real binary is started
//! with fault flags and a plain HTTP/1.1 client (a raw socket, so headers are seen exactly
//! as sent) checks that each fault is served; bad flag values exit 2 naming the flag.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{command_line, sofleet, wait_or_kill};
use sofleet_mock_so::{MockSiteConfig, SiteContent, robots_txt_with_crawl_delay};

/// A running `sofleet mock-site`, killed when dropped.
struct Site {
    child: Child,
    addr: String,
}

impl Site {
    fn start(flags: &[&str]) -> Site {
        let mut child = sofleet()
            .args([
                "mock-site",
                "--port",
                "0",
                "--tag",
                "dask",
                "--questions-per-tag",
                "30",
            ])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        let url = first_line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("mock-site printed no URL: {first_line:?}"));
        Site {
            child,
            addr: url.trim_start_matches("http://").to_string(),
        }
    }

    /// GET `path` as client `who` on a fresh connection.
    fn get(&self, path: &str, who: &str) -> Reply {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nX-Sofleet-Client: {who}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let head_end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a response head");
        let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: raw[head_end + 4..].to_vec(),
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The content `--tag dask --questions-per-tag 30` generates (same seed as the binary).
fn content() -> SiteContent {
    SiteContent::generate(&MockSiteConfig {
        tags: vec!["dask".into()],
        questions_per_tag: Some(30),
        pages_per_tag: 2,
        ..MockSiteConfig::default()
    })
    .unwrap()
}

#[test]
fn redirects_always_429_not_found_truncated_and_crawl_delay_are_served() {
    let content = content();
    let ids = content.question_ids();
    let off_site = format!("http://127.0.0.2:9/questions/{}/x", ids[0]);
    let on_site = format!("/questions/{}/y", ids[2]);
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    let site = Site::start(&[
        "--redirect",
        &format!("{}={off_site}", ids[0]),
        "--redirect",
        &format!("{}={on_site}", ids[1]),
        "--always-429",
        &ids[3].to_string(),
        "--retry-after",
        date,
        "--not-found",
        &ids[4].to_string(),
        "--truncated",
        &ids[5].to_string(),
        "--crawl-delay",
        "1e30",
    ]);
    let page = |id: u64| content.question_path(id);

    let reply = site.get(&page(ids[0]), "t");
    assert_eq!(reply.status, 301);
    assert_eq!(reply.header("location"), Some(off_site.as_str()));
    let reply = site.get(&page(ids[1]), "t");
    assert_eq!(reply.status, 301);
    assert_eq!(reply.header("location"), Some(on_site.as_str()));
    assert_eq!(site.get(&on_site, "t").status, 200);

    for _ in 0..3 {
        let reply = site.get(&page(ids[3]), "t");
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some(date));
    }
    assert_eq!(site.get(&page(ids[4]), "t").status, 404);

    let full = content.render_question_page(ids[5]).unwrap();
    let reply = site.get(&page(ids[5]), "t");
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() <= full.len() / 2 + 1, "cut in half");
    assert!(full.as_bytes().starts_with(&reply.body));

    let reply = site.get("/robots.txt", "t");
    assert_eq!(reply.status, 200);
    assert_eq!(
        String::from_utf8(reply.body).unwrap(),
        robots_txt_with_crawl_delay("1e30")
    );
    // An untouched question is served whole.
    let reply = site.get(&page(ids[6]), "t");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        content.render_question_page(ids[6]).unwrap().into_bytes()
    );
}

#[test]
fn server_errors_slow_bodies_and_captcha_bursts_are_served() {
    let content = content();
    let ids = content.question_ids();
    let site = Site::start(&[
        "--server-errors",
        "1",
        "--slow-body",
        "1s",
        "--captcha-after",
        "3",
        "--captcha-cooldown",
        "10min",
    ]);
    // Every URL fails its first attempt (500 or 503) and recovers on the retry.
    let listing = "/questions/tagged/dask?tab=votes&page=1&pagesize=15";
    let first = site.get(listing, "errors").status;
    assert!(first == 500 || first == 503, "{first}");
    assert_eq!(site.get(listing, "errors").status, 200);

    // A successful question page takes the slow-body delay; an error page does not.
    let question = content.question_path(ids[0]);
    let started = Instant::now();
    let first = site.get(&question, "slow").status;
    assert!(first == 500 || first == 503, "{first}");
    assert!(started.elapsed() < Duration::from_secs(1));
    let started = Instant::now();
    assert_eq!(site.get(&question, "slow").status, 200);
    assert!(started.elapsed() >= Duration::from_secs(1));

    // Past 3 requests within a second a client is sent to the captcha page.
    let statuses: Vec<u16> = (1..=4)
        .map(|page| {
            site.get(&format!("/questions?tab=newest&page={page}"), "burst")
                .status
        })
        .collect();
    assert!(statuses[..3].iter().all(|&s| s != 302), "{statuses:?}");
    assert_eq!(statuses[3], 302);
    let reply = site.get("/questions?tab=newest&page=9", "burst");
    assert_eq!(reply.status, 302);
    assert!(
        reply
            .header("location")
            .unwrap()
            .starts_with("/nocaptcha?s=")
    );
}

#[test]
fn rate_limit_with_hostile_retry_after_and_a_robots_file_are_served() {
    let dir = tempfile::tempdir().unwrap();
    // Not UTF-8: a BOM, a Latin-1 byte and a NUL.
    let robots = b"\xef\xbb\xbfUser-agent: *\nDisallow: /caf\xe9\n\0Crawl-delay: -5\n".to_vec();
    let file = dir.path().join("robots.txt");
    std::fs::write(&file, &robots).unwrap();
    let site = Site::start(&[
        "--rate",
        "1/s",
        "--retry-after",
        "-5",
        "--latency",
        "20ms",
        "--robots-txt",
        file.to_str().unwrap(),
    ]);
    let listing = "/questions/tagged/dask?tab=votes&page=1&pagesize=15";
    assert_eq!(site.get(listing, "r").status, 200);
    let reply = site.get(listing, "r");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("-5"));
    // Another client has its own budget; robots.txt is exempt and served byte for byte.
    assert_eq!(site.get(listing, "other").status, 200);
    let reply = site.get("/robots.txt", "r");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, robots);
}

#[test]
fn bad_flag_values_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let robots = dir.path().join("robots.txt");
    std::fs::write(&robots, "User-agent: *\n").unwrap();
    let robots = robots.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--latency", "11min"], "--latency"),
        (&["--slow-body", "1h"], "--slow-body"),
        (&["--slow-body", "soon"], "--slow-body"),
        (
            &["--captcha-after", "3", "--captcha-cooldown", "20min"],
            "--captcha-cooldown",
        ),
        (&["--captcha-after", "0"], "--captcha-after"),
        (&["--server-errors", "0"], "--server-errors"),
        (&["--truncated", "abc"], "--truncated"),
        (&["--not-found=-3"], "--not-found"),
        (&["--always-429", "x"], "--always-429"),
        (&["--redirect", "67000001"], "--redirect"),
        (&["--redirect", "x=/a"], "--redirect"),
        (&["--redirect", "5="], "--redirect"),
        (&["--retry-after", "1\r\nSet-Cookie: a=b"], "--retry-after"),
        (&["--crawl-delay", "1\nDisallow: /"], "--crawl-delay"),
        (&["--robots-txt", "/nonexistent/robots.txt"], "--robots-txt"),
        (
            &["--robots-txt", robots, "--crawl-delay", "1"],
            "--crawl-delay",
        ),
        (&["--not-found", "5", "--redirect", "5=/x"], "--redirect"),
        (&["--always-429", "5", "--truncated", "5"], "--always-429"),
        (&["--tag", "Bad Tag"], "--tag"),
    ];
    let mut transcript = String::new();
    for (flags, flag) in cases {
        let mut child = sofleet()
            .args(["mock-site", "--port", "0"])
            .args(*flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_or_kill(&mut child, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{flags:?} was accepted: the site started"));
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.contains(flag),
            "{flags:?} should name {flag}: {stderr}"
        );
        let typed = command_line(&[&["mock-site", "--port", "0"], *flags].concat());
        // A carriage return the message echoes is shown as `\r` (a snapshot file keeps text
        // lines).
        transcript.push_str(&format!("{typed}\n{}\n", stderr.replace('\r', "\\r")));
    }
    // Each refusal whole, as a user reads it.
    insta::assert_snapshot!("refused_flags", common::stable(&transcript, "", dir.path()));
}
