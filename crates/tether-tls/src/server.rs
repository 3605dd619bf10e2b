//! [`ServerTls`]: a rustls server configuration from [`ServerTlsSettings`], and the accept
//! step every wire runs on a new connection.

use crate::pem::{load_certs, load_private_key};
use crate::subject::{check_fields, subject_of};
use crate::{provider, provider_for, CertReqs, ServerTlsSettings, TlsError, TlsErrorKind};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tether_core::TlsSubject;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tracing::Level;

const LOG: &str = "tether::tls";

/// A TLS server configuration, cheap to clone and share between connections.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    verify_fields: Arc<[(String, String)]>,
    handshake_timeout: Duration,
    logger: Option<TlsLogger>,
}

/// Where a server's TLS lines go instead of the `tether::tls` target: a wire passes one that
/// logs under its own logger names (Spring Python's `SSLServer` for XML-RPC). A function
/// rather than a name because `tracing` targets must be static.
pub type TlsLogger = Arc<dyn Fn(Level, std::fmt::Arguments<'_>) + Send + Sync>;

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("verify_fields", &self.verify_fields)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// A connection whose handshake (and subject check) passed.
#[derive(Debug)]
pub struct Accepted<IO> {
    /// The encrypted stream.
    pub stream: TlsStream<IO>,
    /// The verified client certificate's subject, if the client sent one.
    pub subject: Option<Arc<TlsSubject>>,
}

fn roots(path: &std::path::Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(load_certs(path)?);
    if added == 0 {
        return Err(TlsError::config(format!(
            "no usable CA certificate in {}",
            path.display()
        )));
    }
    Ok(roots)
}

pub(crate) fn root_store(path: &std::path::Path) -> Result<RootCertStore, TlsError> {
    roots(path)
}

impl ServerTls {
    /// Reads the files and builds the configuration. Every mistake in the settings is an error
    /// here, before anything is served: an unreadable file, a key that does not fit, a wrong
    /// password, client certificates without `ca_certs`, `verify_fields` with `cert_reqs`
    /// none.
    pub fn new(settings: &ServerTlsSettings) -> Result<Self, TlsError> {
        let chain = load_certs(&settings.certfile)?;
        let keyfile = settings.keyfile.as_ref().unwrap_or(&settings.certfile);
        let key = load_private_key(keyfile, settings.key_password.as_deref())?;
        if !settings.verify_fields.is_empty() && settings.cert_reqs == CertReqs::None {
            return Err(TlsError::config(
                "verify_fields needs client certificates: set cert_reqs to required (or optional)",
            ));
        }
        let builder =
            ServerConfig::builder_with_provider(provider_for(settings.ciphers.as_deref())?)
                .with_protocol_versions(settings.versions.rustls())
                .map_err(|e| TlsError::config(format!("TLS versions: {e}")))?;
        let builder = match settings.cert_reqs {
            CertReqs::None => builder.with_no_client_auth(),
            reqs => {
                let ca = settings.ca_certs.as_ref().ok_or_else(|| {
                    TlsError::config(format!(
                        "cert_reqs {reqs} needs ca_certs (the CAs that sign client certificates)"
                    ))
                })?;
                let v =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider());
                let v = if reqs == CertReqs::Optional {
                    v.allow_unauthenticated()
                } else {
                    v
                };
                let v = v
                    .build()
                    .map_err(|e| TlsError::config(format!("client verifier: {e}")))?;
                builder.with_client_cert_verifier(v)
            }
        };
        let config = builder.with_single_cert(chain, key).map_err(|e| {
            TlsError::config(format!(
                "certificate {} and key {} do not make a server identity: {e}",
                settings.certfile.display(),
                keyfile.display()
            ))
        })?;
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            verify_fields: settings.verify_fields.clone().into(),
            handshake_timeout: settings.handshake_timeout,
            logger: None,
        })
    }

    /// The same server logging its TLS lines through `logger`.
    pub fn with_logger(mut self, logger: TlsLogger) -> Self {
        self.logger = Some(logger);
        self
    }

    fn log(&self, level: Level, args: std::fmt::Arguments<'_>) {
        if let Some(l) = &self.logger {
            return l(level, args);
        }
        match level {
            Level::ERROR => tracing::error!(target: LOG, "{args}"),
            Level::WARN => tracing::warn!(target: LOG, "{args}"),
            Level::INFO => tracing::info!(target: LOG, "{args}"),
            _ => tracing::debug!(target: LOG, "{args}"),
        }
    }

    /// The rustls configuration (for wires that drive TLS themselves).
    pub fn config(&self) -> Arc<ServerConfig> {
        self.acceptor.config().clone()
    }

    /// Runs the server side of the handshake on `io` within the handshake timeout, then checks
    /// `verify_fields` (once per connection, before any application byte is read, as Spring
    /// Python does). Logs each client's subject and address at DEBUG, a refusal at ERROR
    /// (nothing is sent to the client, which sees the connection close), and a failed
    /// handshake at DEBUG. Run it on the connection's own task, not in the accept loop.
    pub async fn accept<IO>(
        &self,
        io: IO,
        peer: Option<SocketAddr>,
    ) -> Result<Accepted<IO>, TlsError>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let from = peer.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
        let stream =
            match tokio::time::timeout(self.handshake_timeout, self.acceptor.accept(io)).await {
                Err(_) => {
                    self.log(
                        Level::DEBUG,
                        format_args!("TLS handshake timed out, from_addr={from}"),
                    );
                    return Err(TlsError::new(
                        TlsErrorKind::Timeout,
                        format!(
                            "TLS handshake with {from} did not finish in {:?}",
                            self.handshake_timeout
                        ),
                    ));
                }
                Ok(Err(e)) => {
                    // A client certificate missing or not signed by the CAs is a refusal
                    // (ERROR, with the address); anything else (a scanner, plain TCP) DEBUG.
                    let refused = e
                        .get_ref()
                        .and_then(|i| i.downcast_ref::<rustls::Error>())
                        .is_some_and(|r| {
                            matches!(
                                r,
                                rustls::Error::NoCertificatesPresented
                                    | rustls::Error::InvalidCertificate(_)
                            )
                        });
                    if refused && error_budget() {
                        self.log(
                            Level::ERROR,
                            format_args!("TLS client refused: {e}, from_addr={from}"),
                        );
                    } else {
                        self.log(
                            Level::DEBUG,
                            format_args!("TLS handshake failed: {e}, from_addr={from}"),
                        );
                    }
                    return Err(TlsError::new(
                        TlsErrorKind::Handshake,
                        format!("TLS handshake with {from} failed: {e}"),
                    ));
                }
                Ok(Ok(s)) => s,
            };
        let subject = match stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
        {
            Some(leaf) => Some(Arc::new(subject_of(leaf).map_err(|e| {
                TlsError::new(TlsErrorKind::Handshake, format!("client {from}: {e}"))
            })?)),
            None => None,
        };
        match &subject {
            Some(s) => self.log(
                Level::DEBUG,
                format_args!("TLS client connected: subject={s}, from_addr={from}"),
            ),
            None => self.log(
                Level::DEBUG,
                format_args!("TLS client connected without a certificate, from_addr={from}"),
            ),
        }
        if !self.verify_fields.is_empty() {
            let verdict = match &subject {
                None => Err(format!(
                    "Couldn't verify fields, peer didn't send the certificate, from_addr={from}"
                )),
                Some(s) => check_fields(s, &self.verify_fields)
                    .map_err(|r| format!("{r}, from_addr={from}")),
            };
            if let Err(reason) = verdict {
                if error_budget() {
                    self.log(Level::ERROR, format_args!("{reason}"));
                }
                return Err(TlsError::new(TlsErrorKind::Refused, reason));
            }
        }
        Ok(Accepted { stream, subject })
    }
}

/// Whether another refusal may be logged at ERROR now: at most 10 a second, so a client
/// hammering the port with bad certificates cannot flood the log (the rest go to DEBUG).
fn error_budget() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static WINDOW: AtomicU64 = AtomicU64::new(0);
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if WINDOW.swap(now, Ordering::Relaxed) != now {
        COUNT.store(0, Ordering::Relaxed);
    }
    COUNT.fetch_add(1, Ordering::Relaxed) < 10
}
