//! The TLS options as Spring Python names them, as plain data.

use crate::TlsError;
use std::path::PathBuf;
use std::time::Duration;

/// Whether a server asks for a client certificate (Python's `ssl.CERT_*`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum CertReqs {
    /// No client certificate is asked for (`CERT_NONE`). The default.
    #[default]
    None,
    /// A client certificate is verified if sent (`CERT_OPTIONAL`).
    Optional,
    /// A client certificate signed by `ca_certs` is required (`CERT_REQUIRED`).
    Required,
}

impl std::str::FromStr for CertReqs {
    type Err = TlsError;

    /// Accepts `none`/`optional`/`required`, Python's `CERT_NONE`/`CERT_OPTIONAL`/
    /// `CERT_REQUIRED` (also as `ssl.CERT_...`), and their values 0/1/2.
    fn from_str(s: &str) -> Result<Self, TlsError> {
        let t = s.trim();
        let t = t.strip_prefix("ssl.").unwrap_or(t);
        match t.to_ascii_lowercase().as_str() {
            "none" | "cert_none" | "0" => Ok(CertReqs::None),
            "optional" | "cert_optional" | "1" => Ok(CertReqs::Optional),
            "required" | "cert_required" | "2" => Ok(CertReqs::Required),
            _ => Err(TlsError::config(format!(
                "cert_reqs {s:?} is not one of none, optional, required (or ssl.CERT_NONE, ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED)"
            ))),
        }
    }
}

impl std::fmt::Display for CertReqs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CertReqs::None => "none",
            CertReqs::Optional => "optional",
            CertReqs::Required => "required",
        })
    }
}

/// Which TLS versions a client or server speaks (Python's `ssl_version`). TLS 1.0 and 1.1 (and
/// SSL) are never spoken.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlsVersions {
    /// TLS 1.2 or 1.3, the highest both sides have (`PROTOCOL_SSLv23`, `PROTOCOL_TLS`,
    /// `PROTOCOL_TLS_SERVER`, `PROTOCOL_TLS_CLIENT`). The default.
    #[default]
    Tls12And13,
    /// TLS 1.2 only (`PROTOCOL_TLSv1_2`).
    Tls12,
    /// TLS 1.3 only (`TLSv1_3`; Python has no protocol constant for it).
    Tls13,
}

impl TlsVersions {
    /// The rustls versions.
    pub(crate) fn rustls(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static BOTH: [&rustls::SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            TlsVersions::Tls12And13 => &BOTH,
            TlsVersions::Tls12 => &TLS12,
            TlsVersions::Tls13 => &TLS13,
        }
    }
}

impl std::str::FromStr for TlsVersions {
    type Err = TlsError;

    /// Accepts Python's `ssl.PROTOCOL_*` names (with or without `ssl.`) and Python 2's values:
    /// `PROTOCOL_SSLv23` = `PROTOCOL_TLS` (2) and `PROTOCOL_TLS_SERVER`/`_CLIENT` negotiate
    /// TLS 1.2 or 1.3; `PROTOCOL_TLSv1_2` (5) pins TLS 1.2; `TLSv1_3` pins TLS 1.3. The older
    /// ones (`PROTOCOL_TLSv1`, Spring Python's default, `PROTOCOL_TLSv1_1`, `PROTOCOL_SSLv3`,
    /// `PROTOCOL_SSLv2`; 0, 1, 3, 4) are refused with what to write instead.
    fn from_str(s: &str) -> Result<Self, TlsError> {
        let t = s.trim();
        let t = t.strip_prefix("ssl.").unwrap_or(t);
        let t = t.strip_prefix("PROTOCOL_").unwrap_or(t);
        match t {
            "SSLv23" | "TLS" | "TLS_SERVER" | "TLS_CLIENT" | "2" => Ok(TlsVersions::Tls12And13),
            "TLSv1_2" | "5" => Ok(TlsVersions::Tls12),
            "TLSv1_3" => Ok(TlsVersions::Tls13),
            "TLSv1" | "TLSv1_1" | "SSLv3" | "SSLv2" | "0" | "1" | "3" | "4" => {
                Err(TlsError::config(format!(
                    "ssl_version {s:?} is not safe and not spoken (TLS 1.0 and 1.1 and SSL are refused): write ssl.PROTOCOL_SSLv23 (TLS 1.2 or 1.3, the highest both sides have) or ssl.PROTOCOL_TLSv1_2 (TLS 1.2 only)"
                )))
            }
            _ => Err(TlsError::config(format!(
                "ssl_version {s:?} is not one of ssl.PROTOCOL_SSLv23, ssl.PROTOCOL_TLS, ssl.PROTOCOL_TLS_SERVER, ssl.PROTOCOL_TLS_CLIENT, ssl.PROTOCOL_TLSv1_2, TLSv1_3"
            ))),
        }
    }
}

/// A TLS server's settings (Spring Python's `SSLServer` arguments).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerTlsSettings {
    /// PEM file with the server certificate, followed by its intermediates. Required.
    pub certfile: PathBuf,
    /// PEM file with the server's private key (PKCS#8, PKCS#1 or SEC1; PKCS#8 may be
    /// encrypted, see `key_password`). Default: the same file as `certfile`.
    pub keyfile: Option<PathBuf>,
    /// Password of an encrypted PKCS#8 key. Default `None`.
    pub key_password: Option<String>,
    /// PEM file with the CA certificates that sign client certificates (a chain file makes
    /// every certificate in it a trust anchor). Required unless `cert_reqs` is `None`.
    pub ca_certs: Option<PathBuf>,
    /// Whether to ask for a client certificate. Default [`CertReqs::None`].
    pub cert_reqs: CertReqs,
    /// Subject fields the client certificate must carry, by long name (`commonName`,
    /// `organizationName`, `stateOrProvinceName`, ...), compared exactly. Default empty (no
    /// check). Needs `cert_reqs` optional or required; a client without a certificate is then
    /// refused.
    pub verify_fields: Vec<(String, String)>,
    /// Most time from accepting a connection to the end of its TLS handshake. Default 10 s.
    pub handshake_timeout: Duration,
    /// The TLS versions spoken (`ssl_version`). Default TLS 1.2 or 1.3.
    pub versions: TlsVersions,
    /// An OpenSSL cipher string choosing the TLS 1.2 suites (`ciphers`, see the crate docs).
    /// Default `None`: every suite rustls has.
    pub ciphers: Option<String>,
}

impl ServerTlsSettings {
    /// Settings for a certificate and key, with the defaults for everything else.
    pub fn new(certfile: impl Into<PathBuf>, keyfile: impl Into<PathBuf>) -> Self {
        ServerTlsSettings {
            certfile: certfile.into(),
            keyfile: Some(keyfile.into()),
            key_password: None,
            ca_certs: None,
            cert_reqs: CertReqs::None,
            verify_fields: Vec::new(),
            handshake_timeout: Duration::from_secs(10),
            versions: TlsVersions::default(),
            ciphers: None,
        }
    }

    /// Requires (or, with [`CertReqs::Optional`], accepts) client certificates signed by a CA
    /// in `ca_certs`.
    pub fn client_certs(mut self, ca_certs: impl Into<PathBuf>, cert_reqs: CertReqs) -> Self {
        self.ca_certs = Some(ca_certs.into());
        self.cert_reqs = cert_reqs;
        self
    }

    /// Adds a required subject field.
    pub fn verify_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.verify_fields.push((name.into(), value.into()));
        self
    }
}

/// A TLS client's settings (Spring Python's `SSLClient` arguments).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientTlsSettings {
    /// PEM file with the CA certificates that the server's certificate must chain to.
    /// Required: tether does not fall back to the system store.
    pub ca_certs: Option<PathBuf>,
    /// PEM file with this client's certificate (and intermediates). Default `None` (no client
    /// certificate).
    pub certfile: Option<PathBuf>,
    /// PEM file with this client's key. Default: the same file as `certfile`.
    pub keyfile: Option<PathBuf>,
    /// Password of an encrypted PKCS#8 key. Default `None`.
    pub key_password: Option<String>,
    /// The name to check the server certificate against, when it is not the host being
    /// connected to. Default `None` (the host of the URL).
    pub server_name: Option<String>,
    /// The TLS versions spoken (`ssl_version`). Default TLS 1.2 or 1.3.
    pub versions: TlsVersions,
    /// An OpenSSL cipher string choosing the TLS 1.2 suites (`ciphers`). Default `None`:
    /// every suite rustls has.
    pub ciphers: Option<String>,
    /// Skips every check of the server's certificate (Python's `cert_reqs=CERT_NONE` on a
    /// client): anyone can then pose as the server, and the client logs a WARN saying so each
    /// time it is built. `ca_certs` is not needed then. Default `false`: the certificate must
    /// chain to `ca_certs` and carry the host name.
    pub skip_server_verification: bool,
}

impl ClientTlsSettings {
    /// Settings trusting the CAs in `ca_certs`, without a client certificate.
    pub fn new(ca_certs: impl Into<PathBuf>) -> Self {
        ClientTlsSettings {
            ca_certs: Some(ca_certs.into()),
            ..Default::default()
        }
    }

    /// Presents a client certificate.
    pub fn client_cert(
        mut self,
        certfile: impl Into<PathBuf>,
        keyfile: impl Into<PathBuf>,
    ) -> Self {
        self.certfile = Some(certfile.into());
        self.keyfile = Some(keyfile.into());
        self
    }
}
