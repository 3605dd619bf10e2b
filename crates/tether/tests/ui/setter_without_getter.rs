#[tether::service]
pub trait Settings {
    #[tether(setter = "verbose")]
    async fn set_verbose(&self, on: bool) -> Result<(), tether::RemoteError>;
}

fn main() {}
