use std::sync::Arc;
use tether::{LocalInvoker, Remotable, RemoteError};

#[tether::service]
pub trait DataService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
}

fn proxy_of<T: ?Sized + Remotable>(inv: Arc<LocalInvoker>) -> Arc<T> {
    T::proxy(inv)
}

pub fn client(inv: Arc<LocalInvoker>) {
    let _p = proxy_of::<dyn DataService + Send>(inv);
}

fn main() {}
