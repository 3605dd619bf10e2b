//! [`HttpClient`]: one keep-alive HTTP/1.1 connection to a server, for POSTs.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{ErrorKind, RemoteError};
use tokio::sync::Mutex;

const LOG: &str = "tether::http::client";

#[derive(Clone, Debug)]
struct Settings {
    url: String,
    https: bool,
    host: String,
    port: u16,
    path: String,
    tls: Option<tether_tls::ClientTls>,
    connect_timeout: Duration,
    max_body: usize,
    user_agent: String,
}

/// A reply: status and (inflated) body.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The body, inflated if it came gzipped.
    pub body: Bytes,
}

/// A client for one URL: one keep-alive connection, opened on the first request and replaced
/// when it breaks; requests on one client are serialized on it.
#[derive(Clone)]
pub struct HttpClient {
    settings: Arc<Settings>,
    conn: Arc<Mutex<Option<SendRequest<Full<Bytes>>>>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("url", &self.settings.url)
            .finish()
    }
}

fn bad_url(url: &str, why: &str) -> RemoteError {
    RemoteError::config(format!(
        "invalid URL {url:?}: {why} (expected http://host:port/path or https://...)"
    ))
}

impl HttpClient {
    /// Parses the URL; does no I/O.
    pub fn new(url: &str) -> Result<HttpClient, RemoteError> {
        let url = url.trim();
        let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(bad_url(url, "not an http or https URL"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, p) = v6
                .split_once(']')
                .ok_or_else(|| bad_url(url, "unclosed [ in the host"))?;
            (h.to_string(), p.strip_prefix(':').unwrap_or(""))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (authority.to_string(), ""),
            }
        };
        if host.is_empty() {
            return Err(bad_url(url, "no host"));
        }
        let port = if port.is_empty() {
            if https {
                443
            } else {
                80
            }
        } else {
            port.parse().map_err(|_| bad_url(url, "bad port"))?
        };
        Ok(HttpClient {
            settings: Arc::new(Settings {
                url: url.to_string(),
                https,
                host,
                port,
                path: path.to_string(),
                tls: None,
                connect_timeout: Duration::from_secs(10),
                max_body: 64 << 20,
                user_agent: "tether".into(),
            }),
            conn: Arc::new(Mutex::new(None)),
        })
    }

    fn with(&self, f: impl FnOnce(&mut Settings)) -> HttpClient {
        let mut s = (*self.settings).clone();
        f(&mut s);
        HttpClient {
            settings: Arc::new(s),
            conn: Arc::new(Mutex::new(None)),
        }
    }

    /// TLS settings (needed for `https://`; the server's certificate is checked against the
    /// URL's host).
    pub fn with_tls(self, tls: tether_tls::ClientTls) -> HttpClient {
        self.with(|s| s.tls = Some(tls))
    }

    /// Bounds connecting and the TLS handshake. Default 10 s.
    pub fn with_connect_timeout(self, t: Duration) -> HttpClient {
        self.with(|s| s.connect_timeout = t)
    }

    /// The User-Agent header. Default `tether`.
    pub fn with_user_agent(self, ua: &str) -> HttpClient {
        let ua = ua.to_string();
        self.with(|s| s.user_agent = ua)
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// The URL's path.
    pub fn path(&self) -> &str {
        &self.settings.path
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, RemoteError> {
        let s = &self.settings;
        let tcp = tokio::time::timeout(
            s.connect_timeout,
            tokio::net::TcpStream::connect((s.host.as_str(), s.port)),
        )
        .await
        .map_err(|_| {
            RemoteError::timeout(format!("connecting to {}:{} timed out", s.host, s.port))
        })?
        .map_err(|e| {
            RemoteError::connection(format!("cannot connect to {}:{}: {e}", s.host, s.port))
                .with_source(e)
        })?;
        tcp.set_nodelay(true)?;
        let io: Box<dyn Io> = if s.https {
            let tls = s.tls.as_ref().ok_or_else(|| {
                RemoteError::config(format!(
                    "{} is https: TLS settings (CA certificates) are needed",
                    s.url
                ))
            })?;
            Box::new(tls.connect(&s.host, tcp, s.connect_timeout).await?)
        } else {
            Box::new(tcp)
        };
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| RemoteError::connection(format!("HTTP handshake with {}: {e}", s.url)))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: LOG, "connection ended: {e}");
            }
        });
        Ok(sender)
    }

    /// POSTs `body` to the URL's path. Errors before the request went out are marked not sent
    /// (safe to retry).
    pub async fn post(
        &self,
        content_type: &str,
        extra_headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<HttpReply, RemoteError> {
        let s = &self.settings;
        let mut guard = self.conn.lock().await;
        // Taken while in use: a request dropped midway drops its connection with it.
        let mut sender = match guard.take() {
            Some(c) if !c.is_closed() => c,
            _ => self.connect().await.map_err(RemoteError::not_sent)?,
        };
        sender
            .ready()
            .await
            .map_err(|e| RemoteError::connection(format!("{}: {e}", s.url)).not_sent())?;
        let mut req = hyper::Request::post(s.path.as_str())
            .header(hyper::header::HOST, format!("{}:{}", s.host, s.port))
            .header(hyper::header::CONTENT_TYPE, content_type)
            .header(hyper::header::USER_AGENT, s.user_agent.as_str())
            .header(hyper::header::ACCEPT_ENCODING, "gzip");
        for (k, v) in extra_headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| RemoteError::new(ErrorKind::Protocol, e.to_string()).not_sent())?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| RemoteError::connection(format!("{}: {e}", s.url)))?;
        let status = resp.status().as_u16();
        let gzipped = resp
            .headers()
            .get(hyper::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let bytes = Limited::new(resp.into_body(), s.max_body)
            .collect()
            .await
            .map_err(|e| RemoteError::connection(format!("reading the reply from {}: {e}", s.url)))?
            .to_bytes();
        *guard = Some(sender);
        drop(guard);
        let body = if gzipped {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .take(s.max_body as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| RemoteError::protocol(format!("{}: bad gzip reply: {e}", s.url)))?;
            if out.len() > s.max_body {
                return Err(RemoteError::new(
                    ErrorKind::MessageTooLarge,
                    "reply over the size limit",
                ));
            }
            Bytes::from(out)
        } else {
            bytes
        };
        Ok(HttpReply { status, body })
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}
