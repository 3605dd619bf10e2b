#[tether::service]
pub trait Geometry {
    async fn area(&self, (w, h): (f64, f64)) -> Result<f64, tether::RemoteError>;
}

fn main() {}
