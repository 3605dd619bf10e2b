//! `#[tether::component]` and `#[tether::service] impl` submit class and facet entries; the
//! facet views a type-erased object as `Arc<dyn Trait>` (the same allocation) and builds its
//! dispatcher.

use std::any::{Any, TypeId};
use std::sync::Arc;
use tether::{AnyArc, Call, RemoteError, Value};

#[tether::service]
pub trait DataService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
}

#[tether::service]
pub trait Health {
    async fn ping(&self) -> Result<String, RemoteError>;
}

#[tether::component("server.Service")]
#[derive(Default)]
pub struct Service {
    greeting: String,
}

#[tether::service]
impl DataService for Service {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(format!("{}You got remote data => {param}", self.greeting))
    }
}

#[tether::service]
impl Health for Service {
    async fn ping(&self) -> Result<String, RemoteError> {
        Ok("pong".into())
    }
}

/// A generic impl is not submitted (there is no single type to register).
pub struct Wrapper<T>(T);

#[tether::service]
impl<T: Send + Sync + 'static> Health for Wrapper<T> {
    async fn ping(&self) -> Result<String, RemoteError> {
        Ok("wrapped".into())
    }
}

#[test]
fn component_is_submitted_with_a_default_constructor() {
    let class = tether::submitted_classes()
        .find(|c| c.name == "server.Service")
        .expect("server.Service submitted");
    assert_eq!((class.type_id)(), TypeId::of::<Service>());
    assert!((class.type_name)().ends_with("Service"));
    let obj: AnyArc = (class.construct)();
    assert!(obj.downcast_ref::<Service>().is_some());
}

#[tokio::test]
async fn facets_view_the_same_allocation() {
    let facets: Vec<_> = tether::submitted_facets()
        .filter(|f| (f.impl_type)() == TypeId::of::<Service>())
        .collect();
    let mut names: Vec<&str> = facets.iter().map(|f| f.trait_name).collect();
    names.sort();
    assert_eq!(names, ["DataService", "Health"]);
    // Only the non-generic impl of Health is submitted.
    assert_eq!(
        tether::submitted_facets()
            .filter(|f| f.trait_name == "Health")
            .count(),
        1
    );

    let obj: AnyArc = Arc::new(Service {
        greeting: "* ".into(),
    });
    let facet = facets
        .iter()
        .find(|f| (f.trait_type)() == TypeId::of::<dyn DataService>())
        .unwrap();
    let boxed: Box<dyn Any + Send + Sync> = (facet.view)(&obj).expect("object is a Service");
    let svc: Arc<dyn DataService> = *boxed.downcast::<Arc<dyn DataService>>().unwrap();
    // Same allocation: the data pointers agree.
    assert_eq!(
        Arc::as_ptr(&svc) as *const u8,
        Arc::as_ptr(&obj) as *const u8
    );
    assert_eq!(
        svc.get_data("x".into()).await.unwrap(),
        "* You got remote data => x"
    );
    assert_eq!((facet.methods)()[0].name, "get_data");

    // The facet's dispatcher serves the object.
    let d = (facet.dispatcher)(&obj).unwrap();
    assert_eq!(
        d.dispatch(Call::new("get_data", vec![Value::str("y")]))
            .await
            .unwrap(),
        Value::str("* You got remote data => y")
    );

    // An object of another type is not viewed.
    let other: AnyArc = Arc::new(5u8);
    assert!((facet.view)(&other).is_none());
    assert!((facet.dispatcher)(&other).is_none());
}
