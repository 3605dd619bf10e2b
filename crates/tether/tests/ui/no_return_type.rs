#[tether::service]
pub trait DataService {
    async fn reset(&self);
}

fn main() {}
