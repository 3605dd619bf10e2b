//! The seed's client.py: `quickstart-client [FILE.xml] [--log LEVEL]` (default `client.xml` next to this
//! crate). With `applicationContext.xml` the service is the local object; the code is the same.
use quickstart::DataService;
use std::path::PathBuf;
use std::process::ExitCode;
use tether::context::ApplicationContext;

#[tokio::main]
async fn main() -> ExitCode {
    let mut file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("client.xml");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--log" {
            let level = args.next().unwrap_or_else(|| "debug".into());
            if let Err(e) = tether_cli::init_logging(&level) {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        } else {
            file = PathBuf::from(a);
        }
    }
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
    let result: Result<String, tether::RemoteError> = match ctx.get::<dyn DataService>("service") {
        Ok(service) => service.get_data("Hello".into()).await,
        Err(e) => Err(e.into()),
    };
    ctx.close().await;
    match result {
        Ok(answer) => {
            println!("CLIENT: {answer}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
