//! Certificates and private keys from PEM files.

use crate::TlsError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::Path;

/// Most bytes read from one PEM file: a certificate chain is a few kilobytes.
const MAX_PEM_BYTES: u64 = 1 << 20;

fn read(path: &Path, what: &str) -> Result<Vec<u8>, TlsError> {
    use std::io::Read;
    let f = std::fs::File::open(path)
        .map_err(|e| TlsError::config(format!("cannot read {what} {}: {e}", path.display())))?;
    let mut buf = Vec::new();
    f.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| TlsError::config(format!("cannot read {what} {}: {e}", path.display())))?;
    if buf.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsError::config(format!(
            "{what} {} is larger than {MAX_PEM_BYTES} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Every certificate in a PEM file, in order (an error if there is none).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path, "certificate file")?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::config(format!("bad PEM in {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError::config(format!(
            "no certificate in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// The private key in a PEM file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), or an encrypted PKCS#8
/// key (`BEGIN ENCRYPTED PRIVATE KEY`, what OpenSSL 3 and `tether pki --password` write),
/// decrypted with `password`.
pub fn load_private_key(
    path: &Path,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path, "key file")?;
    let text = String::from_utf8_lossy(&pem);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let password = password.ok_or_else(|| {
            TlsError::config(format!(
                "the key in {} is encrypted: give its password",
                path.display()
            ))
        })?;
        let (_, doc) = pkcs8::SecretDocument::from_pem(&text).map_err(|e| {
            TlsError::config(format!("bad encrypted key in {}: {e}", path.display()))
        })?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).map_err(|e| {
            TlsError::config(format!("bad encrypted key in {}: {e}", path.display()))
        })?;
        let plain = info.decrypt(password).map_err(|_| {
            TlsError::config(format!(
                "cannot decrypt the key in {}: wrong password or unsupported cipher",
                path.display()
            ))
        })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            plain.as_bytes().to_vec(),
        )));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(TlsError::config(format!(
            "the key in {} uses legacy PEM encryption; convert it with `openssl pkcs8 -topk8`",
            path.display()
        )));
    }
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| TlsError::config(format!("no usable private key in {}: {e}", path.display())))
}
