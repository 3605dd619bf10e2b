#[tether::service]
pub trait DataService {
    async fn get_data(param: String) -> Result<String, tether::RemoteError>;
}

fn main() {}
