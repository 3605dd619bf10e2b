//! `tether echo-server [--protocol NAME]`: the echo service (a twin of
//! `python -m Pyro5.utils.echoserver`) as `test.echoserver` on any registered protocol; the
//! black-box target for interop tests and for users checking a setup.

use std::process::ExitCode;
use std::sync::Arc;
use tether::context::remoting::{resolve, ServerOptions};
use tether::context::ClassRegistry;
use tether_core::echo::EchoService;

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
    /// Register the echo object with a Pyro name server, found as Pyro's `locate_ns` finds
    /// one (PYRO_NS_HOST and PYRO_NS_PORT, default localhost:9090, then a broadcast), like
    /// Pyro's echoserver `-n`; the entry is removed on a graceful shutdown. Pyro5 and Pyro4
    /// wires.
    #[arg(short = 'n', long)]
    naming: bool,
    /// Also start a name server (on --host, port PYRO_NS_PORT or 9090, with a broadcast
    /// responder unless the host is a loopback one) and register there, like Pyro's echoserver
    /// `-N` (implies -n).
    #[arg(short = 'N', long)]
    nameserver: bool,
    /// Print a line for every call (the service's `verbose` attribute).
    #[arg(short, long)]
    verbose: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// The protocol to serve (a registered protocol's name); default: the registry's default
    /// wire (Pyro5 in the `tether` command).
    #[arg(long)]
    protocol: Option<String>,
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
    #[arg(long, default_value = "none")]
    cert_reqs: String,
    /// Serve TLS with the files `tether pki DIR` wrote: DIR/server-cert.pem and
    /// server-key.pem, and DIR/ca-chain.pem for client certificates.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tls_cert", "tls_ca"])]
    tls: Option<std::path::PathBuf>,
    /// Require a client certificate signed by the CAs (same as --cert-reqs required).
    #[arg(long)]
    require_client_cert: bool,
    /// Password of the encrypted keys in --tls DIR.
    #[arg(long, value_name = "PASSWORD", requires = "tls")]
    tls_password: Option<String>,
    /// Shared secret Pyro4 clients must sign their messages with (Pyro4's HMAC; Pyro5
    /// clients are then refused). Default: the PYRO_HMAC_KEY environment variable, as
    /// Pyro4's echo server reads it. (Pyro4 clients may use the serializers
    /// PYRO_SERIALIZERS_ACCEPTED names, also as Pyro4 reads it; default serpent,marshal,json.)
    #[arg(
        short = 'k',
        long = "hmac-key",
        visible_alias = "key",
        value_name = "KEY"
    )]
    hmac_key: Option<String>,
    /// Serve the admin endpoint on HOST:PORT: /metrics (Prometheus), /healthz, /readyz
    /// (port 0: a free port, printed as `admin uri: http://HOST:PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    admin: Option<String>,
}

pub(crate) async fn echo_server(
    registry: ClassRegistry,
    args: EchoServerArgs,
    held: Option<crate::signals::Held>,
) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    // Installed before anything is bound: a signal from here on (or held since `main` began)
    // ends in a graceful shutdown, even one sent the moment the URI is printed.
    let signals = match crate::signals::watch(held) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tether: cannot watch for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serve(registry, args, signals).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether: {e}");
            ExitCode::FAILURE
        }
    }
}

// The command's failure, printed as it is (`tether: ...`, exit 1).
async fn serve(
    registry: ClassRegistry,
    args: EchoServerArgs,
    mut signals: crate::signals::Signals,
) -> Result<(), String> {
    let say = |line: &str| {
        if !args.quiet || args.verbose {
            crate::say(line)
        }
    };
    let protocols = registry.protocols();
    let names = || -> String {
        protocols
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let protocol = match &args.protocol {
        Some(name) => protocols
            .by_name(name)
            .ok_or_else(|| format!("no protocol called {name:?} (registered: {})", names()))?,
        None => protocols
            .default_protocol()
            .ok_or_else(|| "no protocol is registered".to_string())?,
    };
    say("Starting tether's built-in test echo server.");
    let mut options = ServerOptions::default();
    let mut cert_reqs: tether_tls::CertReqs = args
        .cert_reqs
        .parse()
        .map_err(|e: tether_tls::TlsError| e.to_string())?;
    if args.require_client_cert {
        cert_reqs = tether_tls::CertReqs::Required;
    }
    let tls = match (&args.tls_cert, &args.tls) {
        (Some(cert), _) => {
            let mut tls =
                tether_tls::ServerTlsSettings::new(cert, args.tls_key.as_ref().unwrap_or(cert));
            tls.key_password = args.tls_key_password.clone();
            tls.ca_certs = args.tls_ca.clone();
            Some(tls)
        }
        (None, Some(dir)) => {
            let mut tls = tether_tls::ServerTlsSettings::new(
                dir.join("server-cert.pem"),
                dir.join("server-key.pem"),
            );
            tls.key_password = args.tls_password.clone();
            tls.ca_certs = Some(dir.join("ca-chain.pem"));
            Some(tls)
        }
        (None, None) => None,
    };
    match tls {
        Some(mut tls) => {
            tls.cert_reqs = cert_reqs;
            options = options.with_tls(tls);
        }
        None if cert_reqs != tether_tls::CertReqs::None => {
            return Err(
                "--cert-reqs and --require-client-cert need TLS (--tls DIR or --tls-cert)".into(),
            );
        }
        None => {}
    }
    let hmac = args.hmac_key.clone().or_else(|| {
        std::env::var("PYRO_HMAC_KEY")
            .ok()
            .filter(|k| !k.is_empty())
    });
    if let Some(key) = hmac.clone() {
        if !protocol.server_option_names().contains(&"hmac_key") {
            return Err(format!(
                "--key (or PYRO_HMAC_KEY) signs messages; the {} wire has no message signing",
                protocol.name()
            ));
        }
        options = options.with_wire_option("hmac_key", key);
    }
    // Pyro4 reads its SERIALIZERS_ACCEPTED from the environment, and so does its echo server.
    if let Some(list) = std::env::var("PYRO_SERIALIZERS_ACCEPTED")
        .ok()
        .filter(|l| !l.trim().is_empty())
    {
        if protocol
            .server_option_names()
            .contains(&"serializers_accepted")
        {
            options = options.with_wire_option("serializers_accepted", list);
        }
    }
    let admin = crate::admin::Admin::start(args.admin.as_deref()).await?;
    for note in protocol.shell().echo_server_notes(&options) {
        say(&note);
    }
    let server = match &args.unixsocket {
        Some(path) => protocol.bind_unix(path, &options),
        None => {
            let addr = resolve(&args.host, args.port).map_err(|e| e.to_string())?;
            protocol.bind(&args.host, addr, &options)
        }
    }
    .map_err(|e| e.to_string())?;
    let echo = EchoService::with_error_texts(args.verbose, protocols.echo_error_texts());
    let name = protocol.shell().echo_object_name();
    let uri = server
        .register(name, Arc::new(echo.clone()))
        .map_err(|e| e.to_string())?;
    let uri = protocol.object_url(&uri, name);
    let naming = NameServerUse::start(&registry, &args, protocol.name(), hmac.as_deref()).await?;
    let listed = match &naming {
        Some(ns) => {
            let listed = ns.register(name, &uri, server.local_addr()).await?;
            if args.verbose {
                for line in ns.lines() {
                    say(&line);
                }
            }
            Some(listed)
        }
        None => {
            if args.verbose {
                say("not using a name server.");
            }
            None
        }
    };
    // Ready before the URI is printed: whoever reads it may ask /readyz at once.
    admin.set(tether::observe::Phase::Serving);
    say(&format!("object name: {name}"));
    say(&format!("echo uri: {uri}"));
    say("echoserver running.");
    tokio::select! {
        _ = echo.shutdown_requested() => {}
        _ = signals.wait() => {}
    }
    signals
        .or_exit_on_second(async {
            admin.set(tether::observe::Phase::Draining);
            if let Some(listed) = listed {
                listed.withdraw().await;
            }
            server.shutdown().await;
            if let Some(ns) = naming {
                ns.shutdown().await;
            }
            admin.stop().await;
        })
        .await;
    Ok(())
}

/// The name server of `-n`/`-N`: where the echo object is registered, and the one `-N`
/// started.
struct NameServerUse {
    /// `pyro-ns://...`: where the object is listed, and the directory that answers it.
    url: String,
    directory: Arc<dyn tether::remoting::Directory>,
    started: Option<tether::pyro::naming::NameServerHandle>,
    protocol: &'static str,
    options: tether::remoting::ClientOptions,
}

impl NameServerUse {
    /// `None` without `-n`/`-N`; with `-N` the name server is started here.
    async fn start(
        registry: &ClassRegistry,
        args: &EchoServerArgs,
        protocol: &'static str,
        hmac: Option<&str>,
    ) -> Result<Option<NameServerUse>, String> {
        if !args.naming && !args.nameserver {
            return Ok(None);
        }
        if !matches!(protocol, "pyro5" | "pyro4") {
            return Err(format!(
                "-n/-N register with a Pyro name server: serve the pyro5 or pyro4 wire (this is {protocol})"
            ));
        }
        let mut options = tether::remoting::ClientOptions::new();
        options.timeout = Some(std::time::Duration::from_secs(5));
        if let Some(key) = hmac {
            options = options.with_wire_option("hmac_key", key);
        }
        let started = if args.nameserver {
            // Where Pyro's start_ns puts it: NS_PORT and NS_BCPORT of Pyro's configuration.
            let defaults = tether::pyro::naming::NsDefaults::from_env();
            let broadcast = crate::ns::no_broadcast_reason(&args.host, false).is_none();
            let mut config = tether::pyro::naming::NameServerConfig {
                host: args.host.clone(),
                port: defaults.port,
                broadcast_port: broadcast.then_some(defaults.bcport),
                ..Default::default()
            };
            config.daemon.hmac_key = hmac.map(|k| tether::pyro::HmacKey::new(k.as_bytes()));
            Some(
                tether::pyro::naming::NameServerHandle::start(config)
                    .await
                    .map_err(|e| format!("cannot start the name server: {}", e.message()))?,
            )
        } else {
            None
        };
        let url = match started.as_ref().and_then(|ns| ns.local_addr()) {
            Some(addr) => format!("pyro-ns://{addr}/"),
            // As Pyro's locate_ns: localhost:9090, then a broadcast.
            None => "pyro-ns:///".to_string(),
        };
        let directory = registry
            .directories()
            .for_url(&url)
            .map_err(|e| e.to_string())?
            .clone();
        Ok(Some(NameServerUse {
            url,
            directory,
            started,
            protocol,
            options,
        }))
    }

    /// Registers `name` → `uri` (the server at `addr`).
    async fn register(
        &self,
        name: &str,
        uri: &str,
        addr: std::net::SocketAddr,
    ) -> Result<Box<dyn tether::remoting::Listed>, String> {
        let listing = tether::remoting::Listing {
            name: name.to_string(),
            url: uri.to_string(),
            addr,
            ttl: std::time::Duration::from_secs(30),
            protocol: self.protocol,
            options: self.options.clone(),
        };
        self.directory
            .list(&self.url, listing)
            .await
            .map_err(|e| format!("cannot register with the name server: {}", e.message()))
    }

    /// What Pyro's echoserver prints about its name server with `-v`.
    fn lines(&self) -> Vec<String> {
        match &self.started {
            Some(ns) => vec![
                format!("using name server at {}", ns.uri()),
                match ns.broadcast_addr() {
                    Some(bc) => format!("broadcast server running at {bc}"),
                    None => "not using a broadcast server".to_string(),
                },
            ],
            None => vec!["using a name server found as locate_ns finds it".to_string()],
        }
    }

    async fn shutdown(self) {
        if let Some(ns) = self.started {
            ns.shutdown().await;
        }
    }
}
