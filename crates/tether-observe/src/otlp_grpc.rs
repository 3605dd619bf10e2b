//! OTLP over gRPC (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`): the same protobuf request as OTLP over
//! HTTP, sent as a unary call to `opentelemetry.proto.collector.trace.v1.TraceService/Export`
//! over HTTP/2 (cleartext with prior knowledge for `http://`, TLS with ALPN `h2` for
//! `https://`), framed as gRPC frames it: one byte saying it is not compressed, four bytes of
//! length (big-endian), the message. The call's outcome is its `grpc-status` (in the trailers,
//! or in the headers of a reply that has no body); anything but 0 is an error naming the
//! status and its `grpc-message`.
//!
//! One HTTP/2 connection is kept and reused; a call that fails on it because it broke (the
//! collector restarted, an idle timeout) is made once more on a new one, which is safe here:
//! an export that was not answered is one the collector did not take.

use bytes::Bytes;
use std::time::Duration;
use tether_core::RemoteError;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// The gRPC method OTLP's trace exports call.
pub(crate) const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// The gRPC method OTLP's logs exports call.
pub(crate) const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
/// The gRPC method OTLP's metrics exports call.
pub(crate) const METRICS_PATH: &str =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// Where the collector is and how to reach it.
pub(crate) struct GrpcChannel {
    host: String,
    port: u16,
    /// `host:port`, the `:authority` of every request.
    authority: String,
    tls: Option<tether_tls::ClientTls>,
    connect_timeout: Duration,
    /// The method called ([`TRACES_PATH`] or [`METRICS_PATH`]).
    path: &'static str,
    conn: Mutex<Option<h2::client::SendRequest<Bytes>>>,
}

impl GrpcChannel {
    /// A channel to `url` (`http://host:port` or `https://host:port`, the path ignored: gRPC
    /// names the method itself); `tls` for `https`.
    pub(crate) fn new(
        url: &str,
        tls: Option<tether_tls::ClientTls>,
        connect_timeout: Duration,
    ) -> Result<GrpcChannel, RemoteError> {
        let bad = || {
            RemoteError::config(format!(
                "the OTLP gRPC endpoint {url:?} is not http(s)://host[:port]"
            ))
        };
        let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(bad());
        };
        if https != tls.is_some() {
            return Err(RemoteError::config(format!(
                "the OTLP gRPC endpoint {url:?}: TLS settings are for https only"
            )));
        }
        let authority = rest.split('/').next().unwrap_or("");
        let default_port = if https { 443 } else { 80 };
        let port_of = |p: &str| p.parse::<u16>().map_err(|_| bad());
        let (host, port) = match authority.strip_prefix('[') {
            // An IPv6 literal: `[::1]` or `[::1]:4317`.
            Some(v6) => match v6.split_once(']') {
                Some((h, "")) => (h, default_port),
                Some((h, p)) => (h, port_of(p.strip_prefix(':').ok_or_else(bad)?)?),
                None => return Err(bad()),
            },
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, port_of(p)?),
                None => (authority, default_port),
            },
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(GrpcChannel {
            host: host.to_string(),
            port,
            authority: authority.to_string(),
            tls: tls.map(|t| t.with_alpn(&[b"h2"])),
            connect_timeout,
            path: TRACES_PATH,
            conn: Mutex::new(None),
        })
    }

    /// The same channel calling `path` ([`METRICS_PATH`] for metrics) instead of the trace
    /// service's export.
    pub(crate) fn calling(mut self, path: &'static str) -> Self {
        self.path = path;
        self
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// A new HTTP/2 connection; its driver runs as a task of the current runtime.
    async fn connect(&self) -> Result<h2::client::SendRequest<Bytes>, RemoteError> {
        let at = format!("{}:{}", self.host, self.port);
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| {
            RemoteError::timeout(format!("connecting to the OTLP collector {at} timed out"))
        })?
        .map_err(|e| {
            RemoteError::connection(format!("cannot connect to the OTLP collector {at}: {e}"))
        })?;
        let _ = tcp.set_nodelay(true);
        let h2_err = |e: h2::Error| {
            RemoteError::connection(format!("HTTP/2 with the OTLP collector {at}: {e}"))
        };
        match &self.tls {
            None => {
                let (send, conn) = h2::client::handshake(tcp).await.map_err(h2_err)?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(send)
            }
            Some(tls) => {
                let stream = tls
                    .connect(&self.host, tcp, self.connect_timeout)
                    .await
                    .map_err(|e| RemoteError::connection(e.to_string()))?;
                let (send, conn) = h2::client::handshake(stream).await.map_err(h2_err)?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(send)
            }
        }
    }

    /// Calls `Export` with the request whose bytes are `parts` one after the other (already
    /// gzipped when `gzip`: gRPC's `gzip` message encoding); `headers` go as metadata.
    pub(crate) async fn export(
        &self,
        parts: &[&[u8]],
        headers: &[(String, String)],
        gzip: bool,
    ) -> Result<(), RemoteError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len32 = u32::try_from(len).map_err(|_| {
            RemoteError::config(format!(
                "an OTLP export of {len} bytes is over gRPC's limit"
            ))
        })?;
        let mut body = Vec::with_capacity(5 + len);
        // The message's compressed flag, then its length.
        body.push(u8::from(gzip));
        body.extend_from_slice(&len32.to_be_bytes());
        for p in parts {
            body.extend_from_slice(p);
        }
        let body = Bytes::from(body);
        let mut conn = self.conn.lock().await;
        // A kept connection may have been closed meanwhile: one more try on a new one.
        for attempt in 0..2 {
            let send = match conn.take() {
                Some(s) => s,
                None => self.connect().await?,
            };
            match self.call(send.clone(), body.clone(), headers, gzip).await {
                Ok(outcome) => {
                    *conn = Some(send);
                    return outcome;
                }
                Err(e) if attempt == 0 => {
                    tracing::debug!(target: "tether::observe", "OTLP gRPC connection lost ({e}); reconnecting");
                }
                Err(e) => return Err(e),
            }
        }
        Err(RemoteError::connection("OTLP gRPC export failed"))
    }

    /// One call on `send`: `Err` when the connection failed (worth a new one), `Ok(outcome)`
    /// once the collector answered.
    async fn call(
        &self,
        send: h2::client::SendRequest<Bytes>,
        body: Bytes,
        headers: &[(String, String)],
        gzip: bool,
    ) -> Result<Result<(), RemoteError>, RemoteError> {
        let lost = |e: h2::Error| RemoteError::connection(format!("OTLP gRPC: {e}"));
        let mut send = send.ready().await.map_err(lost)?;
        let mut req = http::Request::builder()
            .method("POST")
            .uri(format!(
                "{}://{}{}",
                self.scheme(),
                self.authority,
                self.path
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header(
                "user-agent",
                concat!("tether-otlp/", env!("CARGO_PKG_VERSION")),
            );
        if gzip {
            req = req.header("grpc-encoding", "gzip");
        }
        for (k, v) in headers {
            req = req.header(k.to_ascii_lowercase(), v.as_str());
        }
        let req = req
            .body(())
            .map_err(|e| RemoteError::config(format!("OTLP gRPC headers: {e}")))?;
        let (response, mut stream) = send.send_request(req, false).map_err(lost)?;
        stream.send_data(body, true).map_err(lost)?;
        let response = response.await.map_err(lost)?;
        let status = response.status();
        if status != http::StatusCode::OK {
            return Ok(Err(RemoteError::protocol(format!(
                "OTLP gRPC export answered HTTP {status}"
            ))));
        }
        // A reply without a body carries its status in its headers.
        if let Some(outcome) = grpc_outcome(response.headers()) {
            return Ok(outcome);
        }
        let mut recv = response.into_body();
        while let Some(chunk) = recv.data().await {
            let chunk = chunk.map_err(lost)?;
            let _ = recv.flow_control().release_capacity(chunk.len());
        }
        let trailers = recv.trailers().await.map_err(lost)?;
        Ok(trailers.as_ref().and_then(grpc_outcome).unwrap_or_else(|| {
            Err(RemoteError::protocol(
                "OTLP gRPC export answered without a grpc-status",
            ))
        }))
    }
}

/// The call's outcome from `grpc-status` (and `grpc-message`), if these headers have it.
fn grpc_outcome(h: &http::HeaderMap) -> Option<Result<(), RemoteError>> {
    let status = h.get("grpc-status")?.to_str().ok()?.trim().to_string();
    if status == "0" {
        return Some(Ok(()));
    }
    let message = h
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or("");
    Some(Err(RemoteError::protocol(format!(
        "OTLP gRPC export failed: grpc-status {status} {message}"
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_read_as_grpc_clients_take_them() {
        let t = Duration::from_secs(1);
        let c = GrpcChannel::new("http://collector:4317", None, t).expect("channel");
        assert_eq!(
            (c.host.as_str(), c.port, c.authority.as_str()),
            ("collector", 4317, "collector:4317")
        );
        let c = GrpcChannel::new("http://[::1]:4317/ignored", None, t).expect("channel");
        assert_eq!((c.host.as_str(), c.port), ("::1", 4317));
        let c = GrpcChannel::new("http://collector", None, t).expect("channel");
        assert_eq!(c.port, 80);
        let c = GrpcChannel::new("http://[::1]", None, t).expect("channel");
        assert_eq!((c.host.as_str(), c.port), ("::1", 80));
        for bad in [
            "collector:4317",
            "ftp://x:1",
            "http://:4317",
            "http://x:port",
            "http://[::1",
        ] {
            assert!(GrpcChannel::new(bad, None, t).is_err(), "{bad}");
        }
        // https needs TLS settings, and TLS settings need https.
        assert!(GrpcChannel::new("https://collector:4317", None, t).is_err());
    }

    #[test]
    fn the_outcome_is_the_grpc_status() {
        let mut h = http::HeaderMap::new();
        assert!(grpc_outcome(&h).is_none());
        h.insert("grpc-status", http::HeaderValue::from_static("0"));
        assert!(matches!(grpc_outcome(&h), Some(Ok(()))));
        h.insert("grpc-status", http::HeaderValue::from_static("14"));
        h.insert(
            "grpc-message",
            http::HeaderValue::from_static("unavailable"),
        );
        let e = grpc_outcome(&h).expect("status").expect_err("failure");
        assert!(e.message().contains("grpc-status 14 unavailable"), "{e}");
    }
}
