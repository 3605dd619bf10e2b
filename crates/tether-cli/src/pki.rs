//! `tether pki DIR [--password P]`: the sample PKI of Spring Python's Secure XML-RPC section,
//! made afresh.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct PkiArgs {
    /// Where to write the files (created if missing; existing files are replaced).
    dir: PathBuf,
    /// Encrypt every private key with this password (PKCS#8, PBKDF2-SHA256 + AES-256-CBC).
    #[arg(long)]
    password: Option<String>,
}

pub(crate) fn pki(args: PkiArgs) -> ExitCode {
    match tether_tls::generate_sample_pki(&args.dir, args.password.as_deref()) {
        Ok(files) => {
            for f in files {
                crate::say(&f.display().to_string());
            }
            eprintln!(
                "tether pki: WARNING: these are SAMPLE keys for tests and demos; anyone with the files can impersonate these names. Never use them in production."
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tether pki: {e}");
            ExitCode::FAILURE
        }
    }
}
