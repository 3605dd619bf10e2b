//! High availability, client side: `quickstart-ha-client [ha-client.xml]` makes 12 calls through
//! the pool over ten servers (`tether.cluster.PoolProxyFactory`; start `quickstart-server run
//! ha-server.xml` first), then prints the calls each server got.
use quickstart::DataService;
use std::path::PathBuf;
use std::process::ExitCode;
use tether::context::ApplicationContext;

#[tokio::main]
async fn main() -> ExitCode {
    let file = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ha-client.xml"));
    let ctx = match ApplicationContext::builder()
        .registry(quickstart::registry())
        .xml_file(&file)
        .start()
        .await
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut code = ExitCode::SUCCESS;
    match ctx.get::<dyn DataService>("service") {
        Ok(pool) => {
            for i in 0..12 {
                match pool.get_data(format!("Hello #{i}")).await {
                    Ok(answer) => println!("CLIENT: {answer}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        code = ExitCode::FAILURE;
                        break;
                    }
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            code = ExitCode::FAILURE;
        }
    }
    let factory = ctx.get_as::<tether::cluster::component::PoolProxyFactory>("service");
    if let Some(pool) = factory.ok().and_then(|f| f.pool().ok()) {
        for s in pool.stats() {
            println!(
                "POOL: {} calls={} failures={} ejected={}",
                s.url, s.calls, s.failures, s.ejected
            );
        }
    }
    ctx.close().await;
    code
}
