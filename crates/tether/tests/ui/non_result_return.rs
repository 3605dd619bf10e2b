#[tether::service]
pub trait DataService {
    async fn get_data(&self, param: String) -> String;
}

fn main() {}
