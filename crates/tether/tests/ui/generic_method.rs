#[tether::service]
pub trait Store {
    async fn put<T: serde::Serialize + Send>(&self, value: T) -> Result<(), tether::RemoteError>;
}

fn main() {}
