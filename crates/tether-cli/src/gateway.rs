//! `tether gateway TARGET_URL --listen URL`: a bridge between two wires from the shell, without
//! XML: serves the object at TARGET_URL (any registered wire) at the listen URL (any registered
//! wire), forwarding every call (see `tether::remoting::gateway`). The same as an XML exporter
//! whose `service` is a proxy factory.

use std::process::ExitCode;
use tether::context::remoting::{resolve, ClientOptions, ServerOptions};
use tether::context::ClassRegistry;
use tether::remoting::observe::CallSite;

#[derive(clap::Args, Debug)]
pub(crate) struct GatewayArgs {
    /// The object calls are forwarded to (`PYRO:obj@host:port`, `http://host:port/path`,
    /// `PYROLOC://host:port/name`, ...).
    #[arg(value_name = "TARGET_URL")]
    target: String,
    /// Where to serve it, as a URL of the serving wire: `PYRO:NAME@HOST:PORT`,
    /// `PYROLOC://HOST:PORT/NAME` (Pyro 3), `http://HOST:PORT/PATH` (Hessian or XML-RPC: say
    /// which with --protocol). Port 0 picks a free one (printed as `gateway uri:`).
    #[arg(long, value_name = "URL")]
    listen: String,
    /// The serving wire by name (pyro5, pyro4, pyro3, hessian, xmlrpc); default: the wire that
    /// claims the listen URL.
    #[arg(long)]
    protocol: Option<String>,
    /// The target's wire by name (an `http://` URL is Hessian unless this says xmlrpc);
    /// default: the wire that claims TARGET_URL.
    #[arg(long, value_name = "NAME")]
    target_protocol: Option<String>,
    /// The method names to answer Pyro clients with (comma-separated); default: what the
    /// target's wire reports (Pyro metadata, XML-RPC introspection); a Hessian target reports
    /// none, so give them for Pyro clients.
    #[arg(long, value_delimiter = ',')]
    methods: Option<Vec<String>>,
    /// How long a forwarded call may take: `5s`, `500ms`, or plain seconds (default: the
    /// target wire's own).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    timeout: Option<std::time::Duration>,
    /// Serve the admin endpoint on HOST:PORT: /metrics (Prometheus), /healthz, /readyz
    /// (port 0: a free port, printed as `admin uri: http://HOST:PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    admin: Option<String>,
}

pub(crate) async fn gateway(
    registry: ClassRegistry,
    args: GatewayArgs,
    held: Option<crate::signals::Held>,
) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    // Installed before anything is bound (see `echo.rs`).
    let signals = match crate::signals::watch(held) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tether gateway: cannot watch for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serve(registry, args, signals).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    registry: ClassRegistry,
    args: GatewayArgs,
    mut signals: crate::signals::Signals,
) -> Result<(), String> {
    let protocols = registry.protocols();
    let mut client = ClientOptions::default();
    client.timeout = args.timeout;
    let target = match &args.target_protocol {
        Some(name) => protocols
            .by_name(name)
            .ok_or_else(|| format!("--target-protocol {name:?}: no such wire"))?
            .proxy(&args.target, &client),
        None => protocols.proxy(&args.target, &client),
    }
    .map_err(|e| format!("{}: {e}", args.target))?;
    let listen = match &args.protocol {
        Some(name) => protocols
            .by_name(name)
            .ok_or_else(|| format!("--protocol {name:?}: no such wire"))?,
        None => protocols
            .for_url(&args.listen)
            .map_err(|e| format!("--listen: {e}"))?,
    }
    .clone();
    let site = CallSite::client(listen.name(), &args.listen);
    let host = site.host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let port = site.port.ok_or_else(|| {
        format!(
            "--listen {:?}: no port (use :0 for a free one)",
            args.listen
        )
    })?;
    let name = match site.service.trim_matches('/') {
        "" => "gateway".to_string(),
        s => s.to_string(),
    };
    let admin = crate::admin::Admin::start(args.admin.as_deref()).await?;
    let forward = tether::remoting::gateway::forwarder_async(target, args.methods.as_deref()).await;
    let addr = resolve(&host, port).map_err(|e| e.to_string())?;
    let server = listen
        .bind(&host, addr, &ServerOptions::default())
        .map_err(|e| e.to_string())?;
    let uri = server.register(&name, forward).map_err(|e| e.to_string())?;
    // Ready before the URI is printed: whoever reads it may ask /readyz at once.
    admin.set(tether::observe::Phase::Serving);
    crate::say(&format!("forwarding to: {}", args.target));
    crate::say(&format!("gateway uri: {}", listen.object_url(&uri, &name)));
    signals.wait().await;
    signals
        .or_exit_on_second(async {
            admin.set(tether::observe::Phase::Draining);
            server.shutdown().await;
            admin.stop().await;
        })
        .await;
    Ok(())
}
