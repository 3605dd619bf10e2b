#[tether::service]
pub trait Logger {
    #[tether(oneway)]
    async fn log(&self, line: String) -> Result<u32, tether::RemoteError>;
}

fn main() {}
