//! `tether call URL METHOD [ARG...]` (or `--context FILE.xml OBJECT METHOD [ARG...]`):
//! tether's grpcurl.
//!
//! Exit codes: 0 the call returned (its result on stdout); 1 the remote side raised (class and
//! message on stderr, the remote traceback too with `-v`); 2 a usage error (bad option or
//! argument literal); 3 no answer (cannot connect, connection lost, timeout); 4 the exchange
//! failed (protocol, security or serialization error, message too large); 5 a configuration
//! error (no protocol claims the URL, bad context file, unknown object).

use crate::target::{build_call, CallSpec, Failure, TargetArgs};
use std::process::ExitCode;
use tether::context::ClassRegistry;
use tether_core::{ErrorKind, RemoteError, Value};

#[derive(clap::Args, Debug)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    spec: CallSpec,
    #[command(flatten)]
    how: TargetArgs,
    /// Send the call oneway (no reply is awaited; prints nothing).
    #[arg(long)]
    oneway: bool,
    /// Print the result as JSON instead of Python's repr.
    #[arg(long)]
    json: bool,
    /// On a remote exception, also print the remote traceback.
    #[arg(short, long)]
    verbose: bool,
}

/// The exit code for a failed call.
pub(crate) fn exit_code(e: &RemoteError) -> u8 {
    match e.kind() {
        ErrorKind::Remote => 1,
        ErrorKind::Connection
        | ErrorKind::Timeout
        | ErrorKind::NoLiveServer
        | ErrorKind::Shutdown => 3,
        ErrorKind::Config => 5,
        _ => 4,
    }
}

/// How Python would name the exception class in a traceback's last line.
fn class_name(e: &RemoteError) -> String {
    match e.class() {
        Some(c) => c.strip_prefix("builtins.").unwrap_or(c).to_string(),
        None => "Exception".to_string(),
    }
}

pub(crate) async fn call(registry: ClassRegistry, args: CallArgs) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    match run(registry, &args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn run(registry: ClassRegistry, args: &CallArgs) -> Result<(), Failure> {
    let protocols = registry.protocols().clone();
    let target = args.how.resolve(registry, &args.spec.target).await?;
    let call = build_call(&protocols, &args.spec, args.oneway, &target)?;
    let invoker = target.invoker()?;
    match invoker.invoke(call).await {
        Ok(_) if args.oneway => Ok(()),
        Ok(v) => {
            crate::say(&if args.json { json(&v) } else { target.repr(&v) });
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::Remote => {
            let mut msg = String::new();
            if args.verbose {
                if let Some(tb) = e.remote_traceback() {
                    msg.push_str(tb.trim_end());
                    msg.push('\n');
                }
            }
            msg.push_str(&format!("{}: {}", class_name(&e), e.message()));
            Err(Failure {
                code: 1,
                message: msg,
            })
        }
        Err(e) => Err(Failure {
            code: exit_code(&e),
            message: format!("tether call: {e}"),
        }),
    }
}

/// JSON for a result, as Python's `json.dumps` writes the nearest thing: tuples and sets as
/// arrays, non-string keys as their repr, bytes as base64 text, NaN/Infinity as Python writes
/// them, a date-time as ISO text, an object as a map with `__class__` first.
pub(crate) fn json(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out, 0);
    out
}

fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(v: &Value, out: &mut String, depth: usize) {
    if depth > 512 {
        out.push_str("null");
        return;
    }
    let arr = |items: &[Value], out: &mut String| {
        out.push('[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_json(x, out, depth + 1);
        }
        out.push(']');
    };
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int32(i) => out.push_str(&i.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(i) => out.push_str(&i.to_string()),
        Value::Float(x) if x.is_nan() => out.push_str("NaN"),
        Value::Float(x) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float(_) => out.push_str(&tether_core::python::repr(v)),
        Value::Str(s) => json_str(s, out),
        Value::Bytes(b) => {
            use base64::Engine;
            json_str(&base64::engine::general_purpose::STANDARD.encode(b), out)
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => arr(items, out),
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    Value::Str(s) => json_str(s, out),
                    other => json_str(&tether_core::python::repr(other), out),
                }
                out.push_str(": ");
                write_json(x, out, depth + 1);
            }
            out.push('}');
        }
        Value::DateTime(ms) => json_str(&tether_core::python::iso_datetime(*ms), out),
        Value::Object(o) => {
            out.push_str("{\"__class__\": ");
            json_str(&o.class, out);
            for (k, x) in &o.fields {
                out.push_str(", ");
                json_str(k, out);
                out.push_str(": ");
                write_json(x, out, depth + 1);
            }
            out.push('}');
        }
        Value::Typed(t) => write_json(&t.value, out, depth),
        other => json_str(&tether_core::python::repr(other), out),
    }
}
