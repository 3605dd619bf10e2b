//! `tether list URL` and `tether describe URL METHOD`: what a remote object exposes, as far as
//! its wire can tell (grpcurl's `list` and `describe`). Pyro (4 and 5) reports its metadata
//! (methods, which are oneway, attributes); XML-RPC its introspection (`system.listMethods`,
//! and `system.methodSignature` / `system.methodHelp` for one method); an object of an
//! application context (`--context`) its dispatcher's methods. Hessian and Pyro 3 cannot list
//! their methods: the command says so (exit 4).

use crate::call::exit_code;
use crate::target::{Failure, TargetArgs};
use std::process::ExitCode;
use tether::context::ClassRegistry;
use tether_core::{Call, Description, ErrorKind, Value};

#[derive(clap::Args, Debug)]
pub(crate) struct ListArgs {
    /// The object's URL, or with --context its id.
    #[arg(value_name = "URL")]
    target: String,
    #[command(flatten)]
    how: TargetArgs,
}

#[derive(clap::Args, Debug)]
pub(crate) struct DescribeArgs {
    /// The object's URL, or with --context its id.
    #[arg(value_name = "URL")]
    target: String,
    /// The method (or attribute) to describe; without it, every one.
    method: Option<String>,
    #[command(flatten)]
    how: TargetArgs,
}

async fn description(
    registry: ClassRegistry,
    target: &str,
    how: &TargetArgs,
) -> Result<(Description, std::sync::Arc<dyn tether_core::Invoker>), Failure> {
    let resolved = how.resolve(registry, target).await?;
    let invoker = resolved.invoker()?;
    match invoker.describe().await {
        Ok(Some(d)) => Ok((d, invoker)),
        Ok(None) => Err(Failure {
            code: 4,
            message: format!(
                "tether: {target}: its wire cannot list the object's methods (Hessian and Pyro 3 have no metadata or introspection)"
            ),
        }),
        Err(e) => Err(Failure {
            code: exit_code(&e),
            message: format!("tether: {e}"),
        }),
    }
}

fn finish(r: Result<(), Failure>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

pub(crate) async fn list(registry: ClassRegistry, args: ListArgs) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    finish(
        async {
            let (d, _) = description(registry, &args.target, &args.how).await?;
            let mut names = d.methods.clone();
            names.sort();
            for n in names {
                crate::say(&n);
            }
            Ok(())
        }
        .await,
    )
}

pub(crate) async fn describe(registry: ClassRegistry, args: DescribeArgs) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("warn")) {
        eprintln!("tether: {e}");
    }
    finish(
        async {
            let (d, invoker) = description(registry, &args.target, &args.how).await?;
            let mut names: Vec<&String> = match &args.method {
                Some(m) => {
                    if !d.methods.contains(m) && !d.attrs.contains(m) {
                        return Err(Failure {
                            code: 1,
                            message: format!(
                                "tether: {}: no method or attribute {m:?} (it has: {})",
                                args.target,
                                d.methods.join(", ")
                            ),
                        });
                    }
                    vec![m]
                }
                None => d.methods.iter().chain(&d.attrs).collect(),
            };
            names.sort();
            names.dedup();
            for n in names {
                if d.attrs.contains(n) {
                    crate::say(&format!("{n}: attribute"));
                    continue;
                }
                let kind = if d.oneway.contains(n) {
                    "oneway method"
                } else {
                    "method"
                };
                crate::say(&format!("{n}: {kind}"));
                // XML-RPC servers may say more about one method.
                if args.method.is_some() {
                    for (q, label) in [
                        ("system.methodSignature", "signature"),
                        ("system.methodHelp", "help"),
                    ] {
                        match invoker
                            .invoke(Call::new(q, vec![Value::Str(n.clone())]))
                            .await
                        {
                            Ok(Value::Str(s)) if !s.is_empty() => {
                                crate::say(&format!("  {label}: {s}"))
                            }
                            Ok(Value::List(l)) if !l.is_empty() => crate::say(&format!(
                                "  {label}: {}",
                                tether_core::python::repr(&Value::List(l))
                            )),
                            Err(e) if e.kind() != ErrorKind::Remote => {}
                            _ => {}
                        }
                    }
                }
            }
            Ok(())
        }
        .await,
    )
}
