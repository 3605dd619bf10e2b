//! A stopping HTTP server (every HTTP wire's, Hessian and XML-RPC) finishes the request in
//! progress, its reply saying the connection closes; closes an idle kept-alive connection at
//! once; takes no new request; and its header-timeout guard (a thread of its own) ends.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::BoxFuture;
use tether_http::{Handler, HttpConfig, HttpRequest, HttpResponse, HttpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long `/slow` takes to answer.
const SLOW: Duration = Duration::from_millis(600);

/// `/slow` answers `done` after [`SLOW`]; anything else `ok` at once.
struct Slow;

impl Handler for Slow {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(async move {
            if req.path() == "/slow" {
                tokio::time::sleep(SLOW).await;
                HttpResponse::new(200, "text/plain", "done")
            } else {
                HttpResponse::new(200, "text/plain", "ok")
            }
        })
    }
}

fn request(path: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi").into_bytes()
}

/// Reads until the server closes the connection (at most 10 s); what it sent.
async fn until_closed(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("closed within 10 s")
        .expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

/// How many threads of this process are an HTTP server's header-timeout guard.
#[cfg(target_os = "linux")]
fn guard_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .filter(|name| name.trim() == "tether-sweep")
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_finishes_the_request_in_progress_and_closes_idle_connections() {
    let config = HttpConfig {
        host: "127.0.0.1".into(),
        shutdown_grace: Duration::from_secs(5),
        ..HttpConfig::default()
    };
    let server = HttpServer::bind(config, Arc::new(Slow))
        .await
        .expect("bind");
    let addr = server.local_addr();
    #[cfg(target_os = "linux")]
    {
        // (A thread takes its name once it runs.)
        let until = Instant::now() + Duration::from_secs(5);
        while guard_threads() == 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(guard_threads(), 1, "the server's guard runs on a thread");
    }

    // A kept-alive connection, idle after one request.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(&request("/fast")).await.expect("write");
    let mut first = vec![0u8; 4096];
    let mut got = 0;
    while !String::from_utf8_lossy(&first[..got]).ends_with("\r\n\r\nok") {
        let n = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut first[got..]))
            .await
            .expect("the first reply within 10 s")
            .expect("read");
        assert!(n > 0, "closed before its first reply");
        got += n;
    }

    // A request in progress when the server stops.
    let mut busy = TcpStream::connect(addr).await.expect("connect");
    busy.write_all(&request("/slow")).await.expect("write");
    tokio::time::sleep(SLOW / 3).await;

    let stopping = Instant::now();
    let stop = {
        let server = server.clone();
        tokio::spawn(async move { server.shutdown().await })
    };

    // The idle connection closes at once, with nothing more said.
    assert_eq!(until_closed(&mut idle).await, "");
    assert!(
        stopping.elapsed() < SLOW,
        "the idle connection waited {:?} for the busy one",
        stopping.elapsed()
    );

    // The busy one gets its reply, which says the connection closes.
    let reply = until_closed(&mut busy).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("connection: close\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\ndone"), "{reply}");

    tokio::time::timeout(Duration::from_secs(10), stop)
        .await
        .expect("the shutdown ends within 10 s")
        .expect("shutdown task");

    // No new request is taken.
    if let Ok(mut late) = TcpStream::connect(addr).await {
        let _ = late.write_all(&request("/fast")).await;
        let said = until_closed(&mut late).await;
        assert!(!said.contains("200"), "a stopped server answered: {said}");
    }

    // The guard's thread ends with the server (this file runs no other server).
    #[cfg(target_os = "linux")]
    {
        let until = Instant::now() + Duration::from_secs(5);
        while guard_threads() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(guard_threads(), 0, "the guard's thread outlived its server");
    }
}
