#[derive(Debug)]
pub struct MyError;

impl From<MyError> for tether::RemoteError {
    fn from(_: MyError) -> Self {
        tether::RemoteError::value_error("mine")
    }
}

#[tether::service]
pub trait DataService {
    async fn get_data(&self, param: String) -> Result<String, MyError>;
}

fn main() {}
