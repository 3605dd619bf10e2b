//! `#[service(crate = "...")]` and `#[component(..., crate = "...")]`: generated code names the
//! framework through the given root, for crates that rename `tether` (or framework crates).

use std::sync::Arc;

extern crate tether as renamed;

#[renamed::service(crate = "renamed")]
pub trait Echo {
    async fn echo(&self, v: i32) -> Result<i32, renamed::RemoteError>;
}

#[renamed::component("renamed.Impl", crate = "renamed")]
#[derive(Default)]
pub struct Impl;

#[renamed::service(crate = "renamed")]
impl Echo for Impl {
    async fn echo(&self, v: i32) -> Result<i32, renamed::RemoteError> {
        Ok(v)
    }
}

#[tokio::test]
async fn renamed_root_works() {
    use renamed::Remotable;
    let local: Arc<dyn Echo> = Arc::new(Impl);
    let proxy = <dyn Echo>::proxy(Arc::new(renamed::LocalInvoker::of(local)));
    assert_eq!(proxy.echo(7).await.unwrap(), 7);
    assert!(renamed::submitted_classes().any(|c| c.name == "renamed.Impl"));
    assert!(renamed::submitted_facets().any(|f| f.trait_name == "Echo"));
}
