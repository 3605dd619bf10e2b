//! The sample PKI behind `tether pki`: the layout of Spring Python's test PKI, made afresh with
//! current algorithms (ECDSA P-256, SHA-256) so that rustls, webpki and OpenSSL 3 accept it.
//!
//! A root CA signs a signing CA, which signs a server certificate (for `localhost`,
//! `127.0.0.1` and `::1`) and a client certificate whose subject is Spring Python's
//! "My Client" / "My Company" / "My State". **The keys are samples**: anyone who has the files
//! can impersonate these names. Use them for tests and demos only.

use crate::TlsError;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// The files [`generate_sample_pki`] writes, in order.
pub const SAMPLE_PKI_FILES: [&str; 9] = [
    "ca-root-cert.pem",
    "ca-root-key.pem",
    "ca-signing-cert.pem",
    "ca-signing-key.pem",
    "ca-chain.pem",
    "server-cert.pem",
    "server-key.pem",
    "client-cert.pem",
    "client-key.pem",
];

fn err(what: &str) -> impl Fn(rcgen::Error) -> TlsError + '_ {
    move |e| TlsError::config(format!("cannot make the {what}: {e}"))
}

fn dn(cn: &str, extra: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::StateOrProvinceName, "My State");
    dn.push(DnType::OrganizationName, "My Company");
    dn.push(DnType::OrganizationalUnitName, "My Unit");
    for (t, v) in extra {
        dn.push(t.clone(), *v);
    }
    dn.push(DnType::CommonName, cn);
    dn
}

fn params(
    sans: Vec<String>,
    subject: DistinguishedName,
    days: i64,
) -> Result<CertificateParams, TlsError> {
    let mut p = CertificateParams::new(sans).map_err(err("certificate parameters"))?;
    p.distinguished_name = subject;
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(days);
    Ok(p)
}

fn key_pem(key: &KeyPair, password: Option<&str>) -> Result<String, TlsError> {
    let Some(password) = password else {
        return Ok(key.serialize_pem());
    };
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .and_then(|_| getrandom::getrandom(&mut iv))
        .map_err(|e| TlsError::config(format!("no randomness for the key encryption: {e}")))?;
    let der = key.serialize_der();
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice())
        .map_err(|e| TlsError::config(format!("cannot read the generated key: {e}")))?;
    // PBES2 with PBKDF2-SHA256 and AES-256-CBC: what OpenSSL 3 writes by default, so
    // `openssl`, Python's `ssl` and tether all read it.
    let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(100_000, &salt, &iv)
        .map_err(|e| TlsError::config(format!("key encryption parameters: {e}")))?;
    let doc = info
        .encrypt_with_params(params, password)
        .map_err(|e| TlsError::config(format!("cannot encrypt the key: {e}")))?;
    doc.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .map(|s| s.to_string())
        .map_err(|e| TlsError::config(format!("cannot write the key: {e}")))
}

/// Writes the sample PKI into `dir` (created if missing; existing files are replaced) and
/// returns the paths written, in the order of [`SAMPLE_PKI_FILES`]. With `password`, every
/// private key is written as encrypted PKCS#8.
pub fn generate_sample_pki(dir: &Path, password: Option<&str>) -> Result<Vec<PathBuf>, TlsError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| TlsError::config(format!("cannot create {}: {e}", dir.display())))?;

    let root_key = KeyPair::generate().map_err(err("root CA key"))?;
    let mut p = params(vec![], dn("SAMPLE Root CA", &[]), 3650)?;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_key_pem = key_pem(&root_key, password)?;
    let root = CertifiedIssuer::self_signed(p, root_key).map_err(err("root CA"))?;

    let signing_key = KeyPair::generate().map_err(err("signing CA key"))?;
    let mut p = params(vec![], dn("SAMPLE Signing CA", &[]), 3650)?;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let signing_key_pem = key_pem(&signing_key, password)?;
    let signing = CertifiedIssuer::signed_by(p, signing_key, &root).map_err(err("signing CA"))?;

    let server_key = KeyPair::generate().map_err(err("server key"))?;
    let mut p = params(
        vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        dn("localhost", &[]),
        825,
    )?;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = p
        .signed_by(&server_key, &signing)
        .map_err(err("server certificate"))?;

    let client_key = KeyPair::generate().map_err(err("client key"))?;
    let mut p = params(
        vec![],
        dn("My Client", &[(DnType::LocalityName, "My Town")]),
        825,
    )?;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = p
        .signed_by(&client_key, &signing)
        .map_err(err("client certificate"))?;

    // A leaf file holds the leaf then the signing CA, so a peer that trusts only the root
    // can still build the chain.
    let contents = [
        root.pem(),
        root_key_pem,
        signing.pem(),
        signing_key_pem,
        format!("{}{}", signing.pem(), root.pem()),
        format!("{}{}", server.pem(), signing.pem()),
        key_pem(&server_key, password)?,
        format!("{}{}", client.pem(), signing.pem()),
        key_pem(&client_key, password)?,
    ];
    let mut written = Vec::new();
    for (name, text) in SAMPLE_PKI_FILES.iter().zip(contents) {
        let path = dir.join(name);
        write_file(&path, &text, name.ends_with("-key.pem"))?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, text: &str, secret: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let _ = secret;
    opts.open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| TlsError::config(format!("cannot write {}: {e}", path.display())))
}
