//! `tether echo-server [--protocol NAME]`: the echo service (a twin of
//! `python -m Pyro5.utils.echoserver`) as `test.echoserver` on any registered protocol; the
//! black-box target for interop tests and for users checking a setup.

use std::process::ExitCode;
use std::sync::Arc;
use tether::context::remoting::{resolve, ServerOptions};
use tether::context::ClassRegistry;
use tether_core::echo::{EchoService, ECHO_OBJECT_ID};

#[derive(clap::Args, Debug)]
pub(crate) struct EchoServerArgs {
    /// Host name to bind the server on.
    #[arg(short = 'H', long, default_value = "localhost")]
    host: String,
    /// Port to bind the server on (0 = any free port).
    #[arg(short, long, default_value_t = 0)]
    port: u16,
    /// Unix domain socket path to bind the server on (instead of TCP).
    #[arg(short, long)]
    unixsocket: Option<std::path::PathBuf>,
    /// Print a line for every call (the service's `verbose` attribute).
    #[arg(short, long)]
    verbose: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// The protocol to serve (a registered protocol's name).
    #[arg(long, default_value = "pyro5")]
    protocol: String,
    /// Serve TLS with this PEM certificate (+ intermediates), e.g. `tether pki`'s server-cert.pem.
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<std::path::PathBuf>,
    /// The certificate's PEM key (default: the --tls-cert file).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Password of an encrypted --tls-key.
    #[arg(long, value_name = "PASSWORD", requires = "tls_cert")]
    tls_key_password: Option<String>,
    /// PEM CAs that sign client certificates (with --cert-reqs optional or required).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_ca: Option<std::path::PathBuf>,
    /// Ask for a client certificate: none, optional or required.
    #[arg(long, default_value = "none", requires = "tls_cert")]
    cert_reqs: String,
}

pub(crate) async fn echo_server(registry: ClassRegistry, args: EchoServerArgs) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    match serve(registry, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(registry: ClassRegistry, args: EchoServerArgs) -> Result<(), String> {
    let say = |line: &str| {
        if !args.quiet || args.verbose {
            crate::say(line)
        }
    };
    let protocols = registry.protocols();
    let protocol = protocols.by_name(&args.protocol).ok_or_else(|| {
        let names: Vec<&str> = protocols.iter().map(|p| p.name()).collect();
        format!(
            "no protocol called {:?} (registered: {})",
            args.protocol,
            names.join(", ")
        )
    })?;
    say("Starting tether's built-in test echo server.");
    let mut options = ServerOptions::default();
    if let Some(cert) = &args.tls_cert {
        let mut tls =
            tether_tls::ServerTlsSettings::new(cert, args.tls_key.as_ref().unwrap_or(cert));
        tls.key_password = args.tls_key_password.clone();
        tls.ca_certs = args.tls_ca.clone();
        tls.cert_reqs = args
            .cert_reqs
            .parse()
            .map_err(|e: tether_tls::TlsError| e.to_string())?;
        options = options.with_tls(tls);
    }
    let server = match &args.unixsocket {
        Some(path) => protocol.bind_unix(path, &options),
        None => {
            let addr = resolve(&args.host, args.port).map_err(|e| e.to_string())?;
            protocol.bind(&args.host, addr, &options)
        }
    }
    .map_err(|e| e.to_string())?;
    let echo = EchoService::new(args.verbose);
    let uri = server
        .register(ECHO_OBJECT_ID, Arc::new(echo.clone()))
        .map_err(|e| e.to_string())?;
    if args.verbose {
        say("not using a name server.");
    }
    say(&format!("object name: {ECHO_OBJECT_ID}"));
    say(&format!("echo uri: {uri}"));
    say("echoserver running.");
    tokio::select! {
        _ = echo.shutdown_requested() => {}
        _ = tether::context::wait_for_signal() => {}
    }
    server.shutdown().await;
    Ok(())
}
