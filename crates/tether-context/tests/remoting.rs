//! Ports of Spring Python's PyroRemotingTestCase over the in-process loopback transport (the
//! fixed ports 7766 and 7000 of the original are safe there), plus bind failures.
mod common;
use common::memory::MemoryProtocol;
use common::*;
use std::net::SocketAddr;
use std::sync::Arc;
use tether::pyro::seam::{SPRING_PYRO, SPRING_PYRO4};
use tether_context::remoting::{DaemonHolder, Protocol, ProxyFactory, ServiceExporter};
use tether_context::{ApplicationContext, ContextErrorKind};

fn loopback_registry() -> (tether_context::ClassRegistry, MemoryProtocol) {
    let (mut r, _) = registry();
    let lo = MemoryProtocol::posing_as_pyro();
    r.register_protocol(Arc::new(lo.clone()));
    (r, lo)
}

async fn check_clients(c: &ApplicationContext) {
    let local1 = c.get::<dyn RemoteService1>("remoteService1").unwrap();
    let local2 = c.get::<dyn RemoteService2>("remoteService2").unwrap();
    let want1 = local1.get_data("Alabama".into()).await.unwrap();
    let want1b = local1.get_more_data("Alaska".into()).await.unwrap();
    let want2 = local2.execute_operation("Arizona".into()).await.unwrap();
    let want2b = local2
        .execute_other_operation("Arkansas".into())
        .await
        .unwrap();
    for (id, one) in [
        ("accountServiceClient1", true),
        ("accountServiceClient2", false),
        ("accountServiceClient3", true),
        ("accountServiceClient4", false),
        ("accountServiceClient5", true),
        ("accountServiceClient6", false),
    ] {
        if one {
            let p = c.get::<dyn RemoteService1>(id).unwrap();
            assert_eq!(p.get_data("Alabama".into()).await.unwrap(), want1, "{id}");
            assert_eq!(
                p.get_more_data("Alaska".into()).await.unwrap(),
                want1b,
                "{id}"
            );
        } else {
            let p = c.get::<dyn RemoteService2>(id).unwrap();
            assert_eq!(
                p.execute_operation("Arizona".into()).await.unwrap(),
                want2,
                "{id}"
            );
            assert_eq!(
                p.execute_other_operation("Arkansas".into()).await.unwrap(),
                want2b,
                "{id}"
            );
        }
    }
}

#[tokio::test]
async fn exporting_through_ioc_four_ways_and_shared_servers() {
    let (r, lo) = loopback_registry();
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture("remoting.xml"))
        .start()
        .await
        .unwrap();
    // testExportingAServiceThroughIoCWithoutPullingTheIntermediateComponent: no exporter was fetched.
    assert_eq!(
        lo.connects(),
        0,
        "proxies are lazy: no traffic at context start"
    );
    // six exporters, two addresses: one server per resolved address (localhost == 127.0.0.1)
    assert_eq!(lo.binds(), 2);
    let want: Vec<SocketAddr> = vec![
        "127.0.0.1:7000".parse().unwrap(),
        "127.0.0.1:7766".parse().unwrap(),
    ];
    assert_eq!(c.holder().server_addrs(), want);
    check_clients(&c).await;
    let e = c.get_as::<ServiceExporter>("service_exporter5").unwrap();
    assert_eq!(
        e.uri().as_deref(),
        Some("PYRO:RemoteService5@127.0.0.1:7000")
    );
    c.close().await;
    assert!(lo.running().is_empty(), "close shuts every server down");
    let p = c
        .get::<dyn RemoteService1>("accountServiceClient1")
        .unwrap();
    assert!(
        p.get_data("x".into()).await.is_err(),
        "nothing serves after close"
    );
}

#[tokio::test]
async fn exporting_programmatically() {
    // testExportingAServiceThroughProgrammatically(WithNonStandardPorts): build, set, after_properties_set.
    let lo = MemoryProtocol::posing_as_pyro();
    let t: Arc<dyn Protocol> = Arc::new(lo.clone());
    let holder = DaemonHolder::new();
    let mut e1 = ServiceExporter::new(SPRING_PYRO, t.clone());
    e1.set_service_name("RemoteService1")
        .set_service_impl::<dyn RemoteService1>(Arc::new(Service1));
    let mut e2 = ServiceExporter::new(SPRING_PYRO4, t.clone());
    e2.set_service_name("RemoteService2")
        .set_service_impl::<dyn RemoteService2>(Arc::new(Service2))
        .set_service_host("127.0.0.1")
        .set_service_port(7000);
    let init = tether_context::InitContext::with_holder(holder.clone());
    tether_context::Component::after_properties_set(&e1, &init).unwrap();
    tether_context::Component::after_properties_set(&e2, &init).unwrap();
    let mut c1 = ProxyFactory::new(SPRING_PYRO, t.clone());
    c1.set_service_url("PYROLOC://localhost:7766/RemoteService1")
        .unwrap();
    let mut c2 = ProxyFactory::new(SPRING_PYRO4, t.clone());
    c2.set_service_url("PYRO:RemoteService2@localhost:7000")
        .unwrap();
    assert_eq!(
        c1.service::<dyn RemoteService1>()
            .get_data("Alabama".into())
            .await
            .unwrap(),
        "You got remote data => Alabama"
    );
    assert_eq!(
        c2.service::<dyn RemoteService2>()
            .execute_operation("Arizona".into())
            .await
            .unwrap(),
        "Operation Arizona has been carried out"
    );
    e1.close().await;
    e2.close().await;
    assert!(lo.running().is_empty());
    // the exporter's own checks, worded as Spring Python's
    let e = ServiceExporter::new(SPRING_PYRO, t);
    assert_eq!(
        tether_context::Component::after_properties_set(&e, &init)
            .unwrap_err()
            .message(),
        "service must NOT be None"
    );
}

#[tokio::test]
async fn bind_error_fails_start_and_leaves_no_server() {
    let (r, lo) = loopback_registry();
    lo.occupy("127.0.0.1:7000".parse().unwrap()); // another process has the port
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture("remoting.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ContextErrorKind::Lifecycle);
    let t = e.to_string();
    assert!(
        t.contains("remoting.xml:")
            && t.contains("service_exporter3")
            && t.contains("Address already in use"),
        "{t}"
    );
    // the exporters already serving on 7766 were shut down: only the foreign occupant remains
    assert_eq!(
        lo.running(),
        vec!["127.0.0.1:7000".parse::<SocketAddr>().unwrap()]
    );
    assert_eq!(lo.binds(), 1);
}

#[tokio::test]
async fn duplicate_service_name_on_one_address() {
    let (r, lo) = loopback_registry();
    let xml = r#"<objects>
      <object id="s" class="test.RemoteService1"/>
      <object id="e1" class="tether.pyro.ServiceExporter"><property name="service" ref="s"/><property name="service_name" value="X"/></object>
      <object id="e2" class="tether.pyro.ServiceExporter"><property name="service" ref="s"/><property name="service_name" value="X"/></object>
    </objects>"#;
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("dup.xml"))
        .start()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already exported"), "{e}");
    assert_eq!(e.object_id(), Some("e2"));
    assert!(lo.running().is_empty());
}

#[tokio::test]
async fn exporting_an_object_without_a_service_trait_fails_clearly() {
    let (r, _) = loopback_registry();
    let xml = r#"<objects>
      <object id="s" class="test.Bag"/>
      <object id="e" class="tether.pyro.ServiceExporter"><property name="service" ref="s"/><property name="service_name" value="X"/></object>
    </objects>"#;
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("x.xml"))
        .start()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("provides no service trait"), "{e}");
}

#[tokio::test]
async fn lazy_exporter_starts_on_first_get() {
    let (r, lo) = loopback_registry();
    let xml = r#"<objects>
      <object id="s" class="test.RemoteService1"/>
      <object id="e" class="tether.pyro.ServiceExporter" lazy-init="true">
        <property name="service" ref="s"/><property name="service_name" value="Lazy"/>
      </object>
    </objects>"#;
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, None)
        .start()
        .await
        .unwrap();
    assert_eq!(lo.binds(), 0, "a lazy exporter does not serve at start");
    let e = c.get_as::<ServiceExporter>("e").unwrap();
    assert_eq!(
        lo.binds(),
        1,
        "fix: a lazy singleton gets after_properties_set on first creation"
    );
    assert_eq!(e.uri().as_deref(), Some("PYRO:Lazy@127.0.0.1:7766"));
    c.close().await;
    assert!(lo.running().is_empty());
}

#[tokio::test]
async fn unknown_exporter_property_is_located() {
    let (r, _) = loopback_registry();
    let xml = "<objects>\n<object id=\"s\" class=\"test.RemoteService1\"/>\n<object id=\"e\" class=\"tether.pyro.ServiceExporter\">\n<property name=\"servce\" ref=\"s\"/>\n</object>\n</objects>";
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("typo.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ContextErrorKind::BadProperty);
    assert_eq!(e.line(), Some(4));
    assert!(
        e.to_string()
            .contains("has no property 'servce' (expected one of service, service_name"),
        "{e}"
    );
}
