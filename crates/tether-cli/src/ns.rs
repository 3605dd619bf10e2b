//! `tether ns`: a Pyro name server (`tether ns [-n HOST] [-p PORT | -u PATH] [--storage
//! FILE]`), and its control commands, used like Pyro's `nsc` (`tether ns list`, `lookup NAME`,
//! `register NAME URI`, `remove NAME`, `ping`, ...). Python's Pyro5 and Pyro4 clients use the
//! server unchanged; the commands work against Python's name servers too.

use std::path::PathBuf;
use std::process::ExitCode;
use tether::pyro::naming::{locate_ns, NameServerConfig, NameServerHandle, NsDefaults};
use tether::pyro::{HmacKey, Proxy, WireVersion};
use tether_core::{Call, Value};

#[derive(clap::Args, Debug)]
pub(crate) struct NsArgs {
    #[command(subcommand)]
    command: Option<NsCommand>,
    /// The name server's host: where to bind it, or where the commands find it (commands
    /// without it look at localhost:9090, then broadcast, as Pyro's `locate_ns`).
    #[arg(short = 'H', long, visible_short_alias = 'n', global = true)]
    host: Option<String>,
    /// Its port (default: PYRO_NS_PORT, as Pyro reads it, else 9090).
    #[arg(short, long, global = true)]
    port: Option<u16>,
    /// A Unix domain socket instead of host and port: where to serve (no broadcast responder
    /// then), or where the commands find the name server, as Pyro's `-u`.
    #[arg(short, long, global = true, value_name = "PATH", conflicts_with_all = ["host", "port"])]
    unixsocket: Option<PathBuf>,
    /// Keep registrations in this SQLite file across restarts (server; default: in memory).
    /// Pyro's forms work too: `sql:FILE`, `memory`.
    #[arg(short = 's', long, value_name = "FILE", value_parser = storage_arg)]
    storage: Option<Storage>,
    /// Do not start the UDP broadcast responder (server).
    #[arg(short = 'x', long = "nobc")]
    no_broadcast: bool,
    /// Host the broadcast responder binds (server; default: the name server's host; 0.0.0.0
    /// hears broadcasts on every interface).
    #[arg(long)]
    bchost: Option<String>,
    /// Port of the broadcast responder (server; default: PYRO_NS_BCPORT, else 9091).
    #[arg(long)]
    bcport: Option<u16>,
    /// Pyro4's shared HMAC key: the server refuses unsigned Pyro4 clients and all Pyro5 ones;
    /// the commands then talk Pyro4. Default: PYRO_HMAC_KEY, if set.
    #[arg(
        short = 'k',
        long = "hmac-key",
        visible_alias = "key",
        value_name = "KEY",
        global = true
    )]
    hmac_key: Option<String>,
    /// Serve the admin endpoint on HOST:PORT: /metrics (Prometheus), /healthz, /readyz
    /// (port 0: a free port, printed as `admin uri: http://HOST:PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    admin: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
enum NsCommand {
    /// Lists the registrations (with PREFIX: those whose name starts with it).
    List { prefix: Option<String> },
    /// Lists the registrations whose name matches REGEX (at its start, as Python's re.match).
    Listmatching { regex: String },
    /// Shows one registration.
    Lookup { name: String },
    /// Registers NAME for URI (refused if NAME is taken).
    Register { name: String, uri: String },
    /// Removes NAME.
    Remove { name: String },
    /// Removes every name matching REGEX.
    Removematching {
        regex: String,
        /// Do not ask for confirmation.
        #[arg(short, long)]
        yes: bool,
    },
    /// Replaces NAME's metadata with TAGS (none: clears it).
    Setmeta { name: String, tags: Vec<String> },
    /// Lists the registrations that have all the TAGS.
    #[command(name = "yplookup-all", visible_alias = "yplookup_all")]
    YplookupAll {
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Lists the registrations that have any of the TAGS.
    #[command(name = "yplookup-any", visible_alias = "yplookup_any")]
    YplookupAny {
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Checks that the name server answers.
    Ping,
}

impl NsArgs {
    /// Whether this runs a name server (no control command), which serves until a signal.
    pub(crate) fn serves(&self) -> bool {
        self.command.is_none()
    }
}

pub(crate) async fn ns(args: NsArgs, held: Option<crate::signals::Held>) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    let key = args.hmac_key.clone().or_else(|| {
        std::env::var("PYRO_HMAC_KEY")
            .ok()
            .filter(|k| !k.is_empty())
    });
    match args.command {
        None => match serve(&args, key, held).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tether ns: {e}");
                ExitCode::FAILURE
            }
        },
        Some(ref cmd) => control(&args, cmd, key).await,
    }
}

// The command's failure, printed as it is (`tether: ...`, exit 1).
async fn serve(
    args: &NsArgs,
    key: Option<String>,
    held: Option<crate::signals::Held>,
) -> Result<(), String> {
    // Installed before anything is bound (see `echo.rs`).
    let mut signals =
        crate::signals::watch(held).map_err(|e| format!("cannot watch for signals: {e}"))?;
    let host = args.host.clone().unwrap_or_else(|| "localhost".into());
    let defaults = NsDefaults::from_env();
    // Said whether or not -x is given, as Pyro's name server says it (nothing on a Unix
    // socket, where the name server runs no responder).
    let no_broadcast = args
        .unixsocket
        .is_none()
        .then(|| no_broadcast_reason(&host, args.bchost.is_some()))
        .flatten();
    if let Some(reason) = no_broadcast {
        crate::say(reason);
    }
    let broadcast = !args.no_broadcast && no_broadcast.is_none();
    let mut config = NameServerConfig {
        host: host.clone(),
        port: args.port.unwrap_or(defaults.port),
        storage: args.storage.clone().and_then(|s| s.0),
        broadcast_port: broadcast.then_some(args.bcport.unwrap_or(defaults.bcport)),
        broadcast_host: args.bchost.clone(),
        unixsocket: args.unixsocket.clone(),
        ..Default::default()
    };
    config.daemon.hmac_key = key.as_deref().map(|k| HmacKey::new(k.as_bytes()));
    let admin = crate::admin::Admin::start(args.admin.as_deref()).await?;
    let ns = NameServerHandle::start(config)
        .await
        .map_err(|e| e.message().to_string())?;
    // Ready before the URI is printed: whoever reads it may ask /readyz at once.
    admin.set(tether::observe::Phase::Serving);
    if let Some(bc) = ns.broadcast_addr() {
        crate::say(&format!("Broadcast server running on {bc}"));
    }
    // As Pyro's name servers print it: only when the store holds more than the name server's
    // own entry, and counting that entry.
    let n = ns.name_server().entries().map(|e| e.len()).unwrap_or(1);
    if n > 1 {
        crate::say(&format!(
            "Persistent store contains {n} existing registrations."
        ));
    }
    match (ns.local_addr(), &args.unixsocket) {
        (Some(addr), _) => crate::say(&format!("NS running on {addr} ({})", addr.ip())),
        (None, Some(path)) => crate::say(&format!(
            "NS running on ./u:{} (Unix domain socket)",
            path.display()
        )),
        (None, None) => {}
    }
    crate::say(&format!("URI = {}", ns.uri()));
    signals.wait().await;
    signals
        .or_exit_on_second(async {
            admin.set(tether::observe::Phase::Draining);
            ns.shutdown().await;
            admin.stop().await;
        })
        .await;
    crate::say("NS shut down.");
    Ok(())
}

/// Where `--storage` keeps the registrations: an SQLite file, or memory (`None`).
#[derive(Clone, Debug)]
struct Storage(Option<PathBuf>);

/// `--storage`: a file, or Pyro's `sql:FILE` and `memory`.
fn storage_arg(v: &str) -> Result<Storage, String> {
    if v == "memory" {
        return Ok(Storage(None));
    }
    if let Some(file) = v.strip_prefix("sql:") {
        if file.is_empty() {
            return Err("sql: needs a file name (sql:FILE)".into());
        }
        return Ok(Storage(Some(PathBuf::from(file))));
    }
    if v.starts_with("dbm:") {
        return Err("dbm storage is not built: use sql:FILE (an SQLite file) or memory".into());
    }
    Ok(Storage(Some(PathBuf::from(v))))
}

/// Why a name server on `host` starts no broadcast responder, in the words of Pyro's name
/// server (`None`: it starts one): not over IPv6 (the responder is IPv4 broadcast), not on a
/// loopback host (nobody could hear it) unless the responder's own host is given.
pub(crate) fn no_broadcast_reason(host: &str, bchost_given: bool) -> Option<&'static str> {
    if host.contains(':') {
        return Some("Not starting broadcast server for IPv6.");
    }
    let loopback = host == "localhost" || host.starts_with("127.");
    (loopback && !bchost_given).then_some("Not starting broadcast server for localhost.")
}

/// Prints a listing as `nsc` does: sorted by name, metadata under each entry.
fn print_list(result: &Value, title: &str) {
    crate::say(&format!("--------START LIST {title}"));
    let mut rows: Vec<(String, String, Vec<String>)> = result
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let name = k.as_str()?.to_string();
                    let (uri, meta) = match v {
                        Value::Tuple(t) | Value::List(t) if t.len() == 2 => (
                            t[0].as_str().unwrap_or_default().to_string(),
                            t[1].as_seq()
                                .map(|s| {
                                    s.iter()
                                        .filter_map(Value::as_str)
                                        .map(str::to_string)
                                        .collect()
                                })
                                .unwrap_or_default(),
                        ),
                        other => (other.as_str().unwrap_or_default().to_string(), Vec::new()),
                    };
                    Some((name, uri, meta))
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort();
    for (name, uri, mut meta) in rows {
        crate::say(&format!("{name} --> {uri}"));
        if !meta.is_empty() {
            meta.sort();
            crate::say(&format!("    metadata: {}", set_repr(&meta)));
        }
    }
    crate::say(&format!("--------END LIST {title}"));
}

fn set_repr(tags: &[String]) -> String {
    let items: Vec<Value> = tags.iter().map(|t| Value::str(t.as_str())).collect();
    tether_core::python::repr(&Value::Set(items))
}

fn strs(tags: &[String]) -> Value {
    Value::List(tags.iter().map(|t| Value::str(t.as_str())).collect())
}

async fn control(args: &NsArgs, cmd: &NsCommand, key: Option<String>) -> ExitCode {
    // With -u the name server is at the socket; else this is only the settings locate_ns
    // gives the proxy it finds.
    let at = match &args.unixsocket {
        Some(path) => format!("PYRO:Pyro.NameServer@./u:{}", path.display()),
        None => "PYRO:Pyro.NameServer@localhost:9090".to_string(),
    };
    let mut via = match Proxy::new(&at) {
        Ok(p) => p.with_timeout(std::time::Duration::from_secs(10)),
        Err(e) => {
            eprintln!("tether ns: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(k) = &key {
        via = via
            .with_wire(WireVersion::Pyro4)
            .with_hmac_key(HmacKey::new(k.as_bytes()));
    }
    let found = match &args.unixsocket {
        Some(_) => Ok(via),
        None => locate_ns(args.host.as_deref(), args.port, Some(&via)).await,
    };
    let ns = match found {
        Ok(p) => p,
        Err(e) => {
            println!("Error: {}", e.message());
            return ExitCode::FAILURE;
        }
    };
    let call = |method: &str, args: Vec<Value>| Call::new(method, args);
    let result: Result<(), tether_core::RemoteError> = async {
        match cmd {
            NsCommand::Ping => {
                ns.call(call("ping", vec![])).await?;
                crate::say("Name server ping ok.");
            }
            NsCommand::List { prefix } => {
                let mut c = call("list", vec![]).kwarg("return_metadata", true);
                let title = match prefix {
                    Some(p) => {
                        c = c.kwarg("prefix", p.as_str());
                        format!("- prefix '{p}'")
                    }
                    None => String::new(),
                };
                print_list(&ns.call(c).await?, &title);
            }
            NsCommand::Listmatching { regex } => {
                let c = call("list", vec![])
                    .kwarg("regex", regex.as_str())
                    .kwarg("return_metadata", true);
                print_list(&ns.call(c).await?, &format!("- regex '{regex}'"));
            }
            NsCommand::Lookup { name } => {
                let v = ns
                    .call(call("lookup", vec![Value::str(name.as_str()), Value::Bool(true)]))
                    .await?;
                let (uri, meta) = match &v {
                    Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
                    other => (other.clone(), Value::None),
                };
                let text = tether::pyro::PyroUri::from_value(&uri)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| uri.to_string());
                crate::say(&text);
                let mut tags: Vec<String> = meta
                    .as_seq()
                    .map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default();
                if !tags.is_empty() {
                    tags.sort();
                    crate::say(&format!("metadata: {}", set_repr(&tags)));
                }
            }
            NsCommand::Register { name, uri } => {
                ns.call(
                    call("register", vec![Value::str(name.as_str()), Value::str(uri.as_str())])
                        .kwarg("safe", true),
                )
                .await?;
                crate::say(&format!("Registered {name}"));
            }
            NsCommand::Remove { name } => {
                let n = ns.call(call("remove", vec![Value::str(name.as_str())])).await?;
                if n.as_i64().unwrap_or(0) > 0 {
                    crate::say(&format!("Removed {name}"));
                } else {
                    crate::say("Nothing removed");
                }
            }
            NsCommand::Removematching { regex, yes } => {
                if !*yes {
                    use std::io::Write;
                    print!("Potentially removing lots of items from the Name server. Are you sure (y/n)?");
                    let _ = std::io::stdout().flush();
                    let mut answer = String::new();
                    let _ = std::io::stdin().read_line(&mut answer);
                    if !matches!(answer.trim(), "y" | "Y") {
                        return Ok(());
                    }
                }
                let n = ns
                    .call(call("remove", vec![]).kwarg("regex", regex.as_str()))
                    .await?;
                crate::say(&format!("{} items removed.", n.as_i64().unwrap_or(0)));
            }
            NsCommand::Setmeta { name, tags } => {
                ns.call(call("set_metadata", vec![Value::str(name.as_str()), strs(tags)]))
                    .await?;
                crate::say(if tags.is_empty() { "Metadata cleared" } else { "Metadata updated" });
            }
            NsCommand::YplookupAll { tags } => {
                let c = call("yplookup", vec![]).kwarg("meta_all", strs(tags)).kwarg("return_metadata", true);
                print_list(&ns.call(c).await?, " - searched by metadata");
            }
            NsCommand::YplookupAny { tags } => {
                let c = call("yplookup", vec![]).kwarg("meta_any", strs(tags)).kwarg("return_metadata", true);
                print_list(&ns.call(c).await?, " - searched by metadata");
            }
        }
        Ok(())
    }
    .await;
    ns.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let class = e
                .class()
                .map(|c| c.rsplit('.').next().unwrap_or(c).to_string());
            println!(
                "Error: {} - {}",
                class.unwrap_or_else(|| format!("{:?}", e.kind())),
                e.message()
            );
            ExitCode::FAILURE
        }
    }
}
