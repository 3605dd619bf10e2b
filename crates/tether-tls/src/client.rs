//! [`ClientTls`]: a rustls client configuration from [`ClientTlsSettings`].

use crate::pem::{load_certs, load_private_key};
use crate::server::root_store;
use crate::{provider_for, ClientTlsSettings, TlsError, TlsErrorKind};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A TLS client configuration, cheap to clone.
#[derive(Clone)]
pub struct ClientTls {
    connector: TlsConnector,
    server_name: Option<String>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Reads the files and builds the configuration.
    pub fn new(settings: &ClientTlsSettings) -> Result<Self, TlsError> {
        let provider = provider_for(settings.ciphers.as_deref())?;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(settings.versions.rustls())
            .map_err(|e| TlsError::config(format!("TLS versions: {e}")))?;
        let builder = if settings.skip_server_verification {
            tracing::warn!(
                target: "tether::tls",
                "cert_reqs=CERT_NONE: this TLS client does not verify the server's certificate; anyone can pose as the server"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            let ca = settings.ca_certs.as_ref().ok_or_else(|| {
                TlsError::config(
                    "a TLS client needs ca_certs (the CAs that sign the server's certificate)",
                )
            })?;
            builder.with_root_certificates(root_store(ca)?)
        };
        let config = match (&settings.certfile, &settings.keyfile) {
            (None, None) => builder.with_no_client_auth(),
            (None, Some(_)) => {
                return Err(TlsError::config(
                    "a client keyfile was given without its certfile",
                ))
            }
            (Some(cert), key) => {
                let key_path = key.as_ref().unwrap_or(cert);
                let chain = load_certs(cert)?;
                let key = load_private_key(key_path, settings.key_password.as_deref())?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    TlsError::config(format!(
                        "client certificate {} and key {} do not fit: {e}",
                        cert.display(),
                        key_path.display()
                    ))
                })?
            }
        };
        Ok(ClientTls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name: settings.server_name.clone(),
        })
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<ClientConfig> {
        self.connector.config().clone()
    }

    /// The same configuration offering `protocols` by ALPN (`h2` for HTTP/2: gRPC over TLS
    /// needs it).
    pub fn with_alpn(&self, protocols: &[&[u8]]) -> ClientTls {
        let mut config = (*self.config()).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        ClientTls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name: self.server_name.clone(),
        }
    }

    /// Runs the client side of the handshake on `io` within `timeout`, checking the server's
    /// certificate against `host` (a DNS name or an IP address; the configured `server_name`
    /// wins when set).
    pub async fn connect<IO>(
        &self,
        host: &str,
        io: IO,
        timeout: Duration,
    ) -> Result<TlsStream<IO>, TlsError>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(name.to_string()).map_err(|e| {
            TlsError::config(format!("{name:?} is not a valid TLS server name: {e}"))
        })?;
        match tokio::time::timeout(timeout, self.connector.connect(server_name, io)).await {
            Err(_) => Err(TlsError::new(
                TlsErrorKind::Timeout,
                format!("TLS handshake with {name} did not finish in {timeout:?}"),
            )),
            Ok(Err(e)) => Err(TlsError::new(
                TlsErrorKind::Handshake,
                format!("TLS handshake with {name} failed: {e}"),
            )),
            Ok(Ok(s)) => Ok(s),
        }
    }
}

/// Accepts any server certificate (`cert_reqs=CERT_NONE`), still checking that the server holds
/// the key of the certificate it sent (the handshake signatures), so the connection is at least
/// encrypted to whoever answered.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
