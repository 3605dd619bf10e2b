#[tether::service]
pub trait Settings {
    #[tether(getter = "level")]
    async fn level(&self, which: String) -> Result<u8, tether::RemoteError>;
}

fn main() {}
