#[tether::service]
pub struct Service;

fn main() {}
