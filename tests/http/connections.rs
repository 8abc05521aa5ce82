//! Connection limits over raw sockets: idle and trickled heads are cut, trickled bodies answered
//! 408, answers a client does not read are cut after the write timeout, the connection cap refuses
//! cleanly, and the budget of body bytes in flight answers 503.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::*;

const CREATE: &str = "/v2/ProspectActivity.svc/Create";

fn connect(srv: &Server) -> TcpStream {
    let s = TcpStream::connect(&srv.host_port).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Everything the server sends until it closes the connection (or 10 s pass: then panics).
fn read_to_close(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the connection open ({e}); got so far {} bytes, starting {:?}",
                buf.len(),
                String::from_utf8_lossy(&buf[..buf.len().min(300)])
            ),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// One keep-alive `GET /healthz` on `s`; panics unless it is answered 200.
fn healthz(s: &mut TcpStream) {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !String::from_utf8_lossy(&buf).ends_with("ok") {
        let n = s.read(&mut chunk).expect("read the healthz answer");
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

fn post_head(srv: &Server, c: &Creds, len: usize) -> String {
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {len}\r\n\r\n",
        with_keys(CREATE, c),
        srv.host_port
    )
}

fn body_of(response: &str) -> Value {
    let (_, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body:?}"))
}

#[test]
fn an_idle_connection_is_closed_after_the_head_timeout() {
    let db = Db::new();
    let srv = Server::start_with(&db, &["--no-rate-limit", "--head-timeout", "1"]);
    // Never sends anything.
    let mut fresh = connect(&srv);
    // Sends one request, then stays idle on keep-alive.
    let mut used = connect(&srv);
    healthz(&mut used);
    let start = Instant::now();
    assert_eq!(read_to_close(&mut fresh), "");
    assert_eq!(read_to_close(&mut used), "");
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
}

#[test]
fn a_head_trickled_slower_than_the_head_timeout_is_cut() {
    let db = Db::new();
    let srv = Server::start_with(&db, &["--no-rate-limit", "--head-timeout", "2"]);
    let mut s = connect(&srv);
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(200)
    );
    let start = Instant::now();
    let mut cut = None;
    for byte in head.as_bytes() {
        if s.write_all(&[*byte]).is_err() {
            cut = Some(start.elapsed());
            break;
        }
        match s.read(&mut [0u8; 256]) {
            Ok(0) => {
                cut = Some(start.elapsed());
                break;
            }
            Ok(_) => panic!("the trickled head was answered"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                cut = Some(start.elapsed());
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cut = cut.expect("the server kept reading a head trickled for 30 s");
    assert!(
        cut >= Duration::from_millis(1900) && cut < Duration::from_secs(5),
        "cut after {cut:?}"
    );
}

#[test]
fn a_trickled_body_is_answered_408_and_the_connection_closed() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start_with(&db, &["--no-rate-limit", "--body-timeout", "1"]);
    let mut s = connect(&srv);
    s.write_all(post_head(&srv, &admin, 100).as_bytes())
        .unwrap();
    s.write_all(b"{\"ActivityEvent\":").unwrap();
    let start = Instant::now();
    let answer = read_to_close(&mut s);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_envelope(
        "trickled body",
        StatusCode::REQUEST_TIMEOUT,
        &body_of(&answer),
        408,
        "MXInvalidInputException",
        &["in time"],
    );
}

#[test]
fn at_the_connection_cap_new_connections_get_503_and_existing_ones_are_served() {
    let db = Db::new();
    let srv = Server::start_with(&db, &["--no-rate-limit", "--max-connections", "3"]);
    let mut held: Vec<TcpStream> = (0..3).map(|_| connect(&srv)).collect();
    for s in &mut held {
        healthz(s);
    }
    for _ in 0..3 {
        let mut extra = connect(&srv);
        let answer = read_to_close(&mut extra);
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
        assert!(
            answer.to_ascii_lowercase().contains("retry-after: 1"),
            "{answer}"
        );
        assert_eq!(body_of(&answer)["error"]["code"], "overloaded");
    }
    // Those already in are still served.
    healthz(&mut held[0]);
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = connect(&srv);
        if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .is_ok()
        {
            let answer = read_to_close(&mut s);
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "not served again after the crowd left"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn past_the_body_budget_a_body_is_answered_503_instead_of_buffered() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start_with(&db, &["--no-rate-limit", "--body-budget", "200000"]);
    // Holds 150,000 bytes of its body, withholding the last one.
    let mut holder = connect(&srv);
    holder
        .write_all(post_head(&srv, &admin, 150_001).as_bytes())
        .unwrap();
    holder.write_all(&vec![b' '; 150_000]).unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let body = vec![b' '; 100_000];
    let send = |srv: &Server| {
        let mut s = connect(srv);
        s.write_all(post_head(srv, &admin, body.len()).as_bytes())
            .unwrap();
        // The server may answer and close before it has all of it.
        let _ = s.write_all(&body);
        read_to_close(&mut s)
    };
    let answer = send(&srv);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert_envelope(
        "body past the budget",
        StatusCode::SERVICE_UNAVAILABLE,
        &body_of(&answer),
        503,
        "MXServiceUnavailableException",
        &["too many request bodies"],
    );

    // Once the holder leaves, its bytes are free again.
    drop(holder);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = send(&srv);
        if !answer.starts_with("HTTP/1.1 503") {
            // White space only counts as `{}`: read whole, then refused for what it lacks.
            assert!(answer.contains("RelatedProspectId is required"), "{answer}");
            break;
        }
        assert!(Instant::now() < deadline, "the budget was not returned");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_client_that_never_reads_its_answers_is_cut_after_the_write_timeout() {
    let db = Db::new();
    let srv = Server::start_with(&db, &["--no-rate-limit", "--write-timeout", "1"]);
    let mut s = connect(&srv);
    // 400 pipelined requests for a ~70 KB document: ~28 MB of answers, far more than the socket
    // buffers of both ends hold, so the server's writes block while the client reads nothing.
    const ASKED: usize = 400;
    let request = format!(
        "GET /openapi.json HTTP/1.1\r\nHost: {}\r\n\r\n",
        srv.host_port
    );
    s.write_all(request.repeat(ASKED).as_bytes())
        .expect("send the requests");
    std::thread::sleep(Duration::from_secs(4));

    // What was buffered before the cut still arrives; then the connection ends instead of
    // streaming the rest (without a write timeout it would deliver all 400 answers and then sit
    // idle, and read_to_close would panic on its read timeout).
    let got = read_to_close(&mut s);
    let answered = got.matches("HTTP/1.1 200").count();
    assert!(
        answered < ASKED,
        "all {ASKED} answers were written to a client that did not read for 4 s"
    );
    // The server is unharmed and serves other connections.
    healthz(&mut connect(&srv));
}

/// Sends `head` (a request head without its final blank line) with `Connection: close` and
/// returns the answer's status line and JSON body.
fn answer_to(srv: &Server, head: &str) -> (String, Value) {
    let mut s = connect(srv);
    s.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
        .expect("send");
    let got = read_to_close(&mut s);
    let status = got.lines().next().unwrap_or_default().to_string();
    (status, body_of(&got))
}

#[test]
fn over_long_uris_and_oversized_headers_are_refused_in_each_dialects_envelope() {
    let db = Db::new();
    let srv = Server::start_with(&db, &["--no-rate-limit"]);
    let long_query = "x".repeat(20 * 1024);
    for (path, dialect) in [
        ("/v2/ProspectActivity.svc/Retrieve", "lsq"),
        ("/v2/activity_histories", "salesloft"),
        ("/api/v1/leads", "native"),
    ] {
        let asks = [
            (
                format!("GET {path}?q={long_query} HTTP/1.1\r\nHost: t\r\n"),
                "414",
                "URI is",
            ),
            (
                format!(
                    "GET {path} HTTP/1.1\r\nHost: t\r\n{}",
                    (0..150)
                        .map(|i| format!("X-H{i}: v\r\n"))
                        .collect::<String>()
                ),
                "431",
                "153 headers",
            ),
            (
                format!(
                    "GET {path} HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n",
                    "y".repeat(40 * 1024)
                ),
                "431",
                "headers hold",
            ),
        ];
        for (head, status, says) in asks {
            let (line, body) = answer_to(&srv, &head);
            assert!(
                line.starts_with(&format!("HTTP/1.1 {status}")),
                "{dialect} {says}: {line}"
            );
            let message = match dialect {
                "lsq" => {
                    assert_eq!(body["Status"], "Error", "{body}");
                    assert_eq!(body["ExceptionType"], "MXInvalidInputException", "{body}");
                    body["ExceptionMessage"].as_str()
                }
                "salesloft" => body["error"].as_str(),
                _ => body["error"]["message"].as_str(),
            };
            assert!(
                message.is_some_and(|m| m.contains(says) && m.contains("limit")),
                "{dialect}: the message says what is over which limit: {body}"
            );
        }
    }
    // Within the limits the same requests are routed as usual (here: refused for want of keys).
    let (line, _) = answer_to(
        &srv,
        &format!(
            "GET /api/v1/leads?q={} HTTP/1.1\r\nHost: t\r\n",
            "x".repeat(8 * 1024)
        ),
    );
    assert!(line.starts_with("HTTP/1.1 401"), "{line}");
}
