use tether::RemoteError;

#[tether::service]
pub trait DataService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
}

pub struct Service;

// Missing `#[tether::service]` here: the impl does not match the rewritten trait.
impl DataService for Service {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(param)
    }
}

fn main() {}
