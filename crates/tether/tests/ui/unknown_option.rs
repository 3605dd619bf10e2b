#[tether::service]
pub trait Logger {
    #[tether(fire_and_forget)]
    async fn log(&self, line: String) -> Result<(), tether::RemoteError>;
}

fn main() {}
