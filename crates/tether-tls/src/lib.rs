//! # tether-tls: one TLS layer for every wire
//!
//! Every tether wire (Pyro, Hessian over HTTPS, XML-RPC over HTTPS) gets TLS from here, so a
//! client-certificate requirement or a subject check behaves the same whatever the protocol.
//! rustls only (no OpenSSL), TLS 1.2 and 1.3 only.
//!
//! - [`ServerTlsSettings`] / [`ClientTlsSettings`] (`settings.rs`): Spring Python's options as
//!   plain data (`keyfile`, `certfile`, `ca_certs`, `cert_reqs`, `verify_fields`,
//!   `ssl_version` as [`TlsVersions`], `ciphers`, a key password), settable from an
//!   application context or in code.
//! - [`ServerTls`] (`server.rs`): a server configuration built from the settings;
//!   [`ServerTls::accept`] runs the handshake under a timeout and then checks `verify_fields`,
//!   returning the verified subject. Call it on the connection's own task, never in the accept
//!   loop, so that one silent client cannot stall others.
//! - [`ClientTls`] (`client.rs`): a client configuration; [`ClientTls::connect`] checks the
//!   server's hostname (or IP address) against its certificate.
//! - `subject.rs`: subject fields under the long names Python's `ssl` uses (`commonName`, ...)
//!   and the `verify_fields` rule, with Spring Python's messages.
//! - `ciphers.rs`: OpenSSL cipher strings (`ciphers`) read into rustls suites.
//! - `pem.rs`: certificates and keys from PEM files, PKCS#8 keys encrypted with a password.
//! - [`generate_sample_pki`] (`pki.rs`): the sample PKI behind `tether pki`.
//! - [`TlsError`] (`error.rs`): one error with a [`TlsErrorKind`].
//!
//! ## Where tether differs from Spring Python on purpose
//! Spring Python defaulted to TLS 1.0, sent no SNI, checked no hostname on the client, and ran
//! the handshake in its single accept loop without a timeout. tether refuses TLS below 1.2,
//! checks the hostname, runs each handshake under [`ServerTlsSettings::handshake_timeout`], and
//! refuses `verify_fields` with `cert_reqs = none` when the settings are built (Spring Python
//! silently rejected every client then).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod ciphers;
mod client;
mod error;
mod pem;
mod pki;
mod server;
mod settings;
mod subject;

pub use ciphers::check_ciphers;
pub use client::ClientTls;
pub use error::{TlsError, TlsErrorKind};
pub use pem::{load_certs, load_private_key};
pub use pki::{generate_sample_pki, SAMPLE_PKI_FILES};
pub use server::{Accepted, ServerTls, TlsLogger};
pub use settings::{CertReqs, ClientTlsSettings, ServerTlsSettings, TlsVersions};
pub use subject::{check_fields, subject_of};
pub use tether_core::TlsSubject;
pub use tokio_rustls::{client::TlsStream as ClientStream, server::TlsStream as ServerStream};

/// The crypto provider every configuration uses (ring: pure Rust and C without cmake).
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// The provider with the suites an OpenSSL cipher string chooses (every one without).
pub(crate) fn provider_for(
    ciphers: Option<&str>,
) -> Result<std::sync::Arc<rustls::crypto::CryptoProvider>, TlsError> {
    let Some(spec) = ciphers else {
        return Ok(provider());
    };
    Ok(std::sync::Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: ciphers::choose(spec)?,
        ..rustls::crypto::ring::default_provider()
    }))
}
