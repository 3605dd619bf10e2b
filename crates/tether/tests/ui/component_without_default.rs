#[tether::component("server.Service")]
pub struct Service {
    pub name: String,
}

impl Service {
    pub fn new(name: String) -> Self {
        Service { name }
    }
}

fn main() {}
