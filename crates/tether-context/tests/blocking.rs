//! The blocking facade: a plain `fn main` server and client (the seed's server.py/client.py).
mod common;
use common::*;
use tether_context::{ApplicationContext, BlockingContext};

#[test]
fn blocking_server_and_client() {
    let (r, _) = registry();
    let server = BlockingContext::start(
        ApplicationContext::builder()
            .registry(r)
            .xml_file(fixture("pyro-export.xml")),
    )
    .unwrap();
    let port = server.context().holder().server_addrs()[0].port();
    let (r, _) = registry();
    let xml = format!(
        r#"<objects><object id="service" class="springpython.remoting.pyro.PyroProxyFactory">
             <property name="service_url" value="PYROLOC://127.0.0.1:{port}/ServiceName"/></object></objects>"#
    );
    let client =
        BlockingContext::start(ApplicationContext::builder().registry(r).xml_str(xml, None))
            .unwrap();
    let service = client.get::<dyn RemoteService1>("service").unwrap();
    assert_eq!(
        service.get_data("Hello".into()).unwrap(),
        "You got remote data => Hello"
    );
    client.close().unwrap();
    server.close().unwrap();
}

#[tokio::test]
async fn refuses_inside_a_runtime() {
    let (r, _) = registry();
    let e = BlockingContext::start(ApplicationContext::builder().registry(r)).unwrap_err();
    assert!(e.to_string().contains("inside an async runtime"), "{e}");
}
