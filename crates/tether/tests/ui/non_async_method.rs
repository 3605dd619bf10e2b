#[tether::service]
pub trait DataService {
    fn get_data(&self, param: String) -> Result<String, tether::RemoteError>;
}

fn main() {}
