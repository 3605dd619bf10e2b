//! The protocol seam: a protocol registered from outside the container (the in-memory one of
//! `common/memory.rs`) serves the same service as Pyro5 from one XML context, with no change to
//! any container file; server options travel from XML to the protocol; the seam's errors are
//! typed.
mod common;
use common::memory::MemoryProtocol;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_context::remoting::{ClientOptions, ProxyFactory, ServiceExporter, TransportErrorKind};
use tether_context::{ApplicationContext, ContextErrorKind};

fn registry_with_memory() -> (tether_context::ClassRegistry, MemoryProtocol) {
    let (mut r, _) = registry();
    let mem = MemoryProtocol::own();
    r.register_protocol(Arc::new(mem.clone()));
    (r, mem)
}

#[tokio::test]
async fn one_service_on_two_protocols_from_one_context() {
    let (r, mem) = registry_with_memory();
    let xml = r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
      <object id="service" class="test.RemoteService1"/>
      <object id="overPyro" class="tether.pyro.ServiceExporter">
        <property name="service" ref="service"/>
        <property name="service_name" value="Service"/>
        <property name="service_host" value="127.0.0.1"/>
        <property name="service_port" value="0"/>
      </object>
      <object id="inMemory" class="tether.memory.ServiceExporter">
        <property name="service" ref="service"/>
        <property name="service_name" value="Service"/>
        <property name="service_host" value="127.0.0.1"/>
        <property name="service_port" value="9"/>
        <property name="max_connections" value="5"/>
        <property name="idle_timeout" value="2.5"/>
      </object>
      <object id="memoryClient" class="tether.ProxyFactory">
        <property name="service_url" value="mem://127.0.0.1:9/Service"/>
      </object>
    </objects>"#;
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("two-wires.xml"))
        .start()
        .await
        .unwrap();
    // The memory protocol got its server options from the XML.
    let opts = mem.last_options().expect("memory server bound");
    assert_eq!(opts.limits.max_connections, Some(5));
    assert_eq!(opts.limits.idle_timeout, Some(Duration::from_millis(2500)));
    assert!(opts.tls.is_none());
    // Through the generic proxy factory (protocol chosen by URL) over memory...
    let via_memory = c.get::<dyn RemoteService1>("memoryClient").unwrap();
    assert_eq!(
        via_memory.get_data("one".into()).await.unwrap(),
        "You got remote data => one"
    );
    // ... and over real Pyro5 sockets, to the URI the exporter reports.
    let uri = c
        .get_as::<ServiceExporter>("overPyro")
        .unwrap()
        .uri()
        .unwrap();
    assert!(uri.starts_with("PYRO:Service@127.0.0.1:"), "{uri}");
    let protocols = c.registry().protocols().clone();
    let mut generic = ProxyFactory::by_url(
        tether_context::remoting::ClassFamily::plain("", "x", "x"),
        protocols,
    );
    generic.set_service_url(&uri).unwrap();
    assert_eq!(
        generic
            .service::<dyn RemoteService1>()
            .get_more_data("two".into())
            .await
            .unwrap(),
        "You got more remote data => two"
    );
    c.close().await;
    assert!(mem.running().is_empty());
}

#[tokio::test]
async fn exporters_sharing_an_address_must_share_its_options() {
    let (r, mem) = registry_with_memory();
    let xml = "<objects>\n<object id=\"s\" class=\"test.RemoteService1\"/>\n\
      <object id=\"first\" class=\"tether.memory.ServiceExporter\"><property name=\"service\" ref=\"s\"/><property name=\"service_name\" value=\"A\"/><property name=\"max_message_size\" value=\"1000\"/></object>\n\
      <object id=\"second\" class=\"tether.memory.ServiceExporter\"><property name=\"service\" ref=\"s\"/><property name=\"service_name\" value=\"B\"/></object>\n\
      </objects>";
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("shared.xml"))
        .start()
        .await
        .unwrap_err();
    let t = e.to_string();
    assert_eq!(e.object_id(), Some("second"));
    assert!(
        t.contains("shared.xml:4")
            && t.contains("exporters 'first' and 'second' share memory address 127.0.0.1:7766")
            && t.contains("max_message_size differ"),
        "{t}"
    );
    assert!(mem.running().is_empty(), "a failed start leaves no server");
}

#[tokio::test]
async fn tls_options_reach_the_protocol_from_xml() {
    let (r, mem) = registry_with_memory();
    let xml = r#"<objects>
      <object id="s" class="test.RemoteService1"/>
      <object id="secure" class="tether.memory.ServiceExporter">
        <property name="service" ref="s"/><property name="service_name" value="A"/>
        <property name="certfile" value="/pki/server-cert.pem"/>
        <property name="keyfile" value="/pki/server-key.pem"/>
        <property name="ca_certs" value="/pki/ca-chain.pem"/>
        <property name="cert_reqs" value="ssl.CERT_REQUIRED"/>
        <property name="verify_fields"><dict>
          <entry><key><value>commonName</value></key><value>My Client</value></entry>
          <entry><key><value>organizationName</value></key><value>My Company</value></entry>
        </dict></property>
      </object>
    </objects>"#;
    let c = ApplicationContext::builder()
        .registry(r.clone())
        .xml_str(xml, Some("tls.xml"))
        .start()
        .await
        .unwrap();
    let tls = mem.last_options().unwrap().tls.expect("TLS settings");
    assert_eq!(tls.cert_reqs, tether_tls::CertReqs::Required);
    assert_eq!(
        tls.verify_fields,
        vec![
            ("commonName".to_string(), "My Client".to_string()),
            ("organizationName".to_string(), "My Company".to_string())
        ]
    );
    c.close().await;

    let xml = "<objects>\n<object id=\"s\" class=\"test.RemoteService1\"/>\n<object id=\"e\" class=\"tether.pyro.ServiceExporter\">\n<property name=\"service\" ref=\"s\"/><property name=\"service_name\" value=\"A\"/><property name=\"service_port\" value=\"0\"/><property name=\"certfile\" value=\"x.pem\"/>\n</object>\n</objects>";
    let e = ApplicationContext::builder()
        .registry(r.clone())
        .xml_str(xml, Some("pyro-tls.xml"))
        .start()
        .await
        .unwrap_err();
    // Pyro5 takes TLS through the seam: a certificate that does not load names its file.
    assert_eq!(e.object_id(), Some("e"));
    assert!(e.to_string().contains("x.pem"), "{e}");

    // A TLS property without its certificate is an error at the property's line.
    let xml = "<objects>\n<object id=\"s\" class=\"test.RemoteService1\"/>\n<object id=\"e\" class=\"tether.memory.ServiceExporter\">\n<property name=\"service\" ref=\"s\"/><property name=\"service_name\" value=\"A\"/>\n<property name=\"cert_reqs\" value=\"sometimes\"/>\n</object>\n</objects>";
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("bad.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ContextErrorKind::BadProperty);
    assert_eq!(e.line(), Some(5));
    assert!(e.to_string().contains("cert_reqs"), "{e}");
}

#[test]
fn seam_errors_are_typed() {
    let (r, _) = registry_with_memory();
    let set = r.protocols();
    let e = set
        .proxy("gopher://example.invalid/", &ClientOptions::default())
        .err()
        .unwrap();
    assert_eq!(e.kind(), TransportErrorKind::BadUrl);
    assert!(
        e.message().contains("PYRO:") && e.message().contains("mem://"),
        "{e}"
    );
    assert_eq!(set.for_url("mem://h:1/x").unwrap().name(), "memory");
    assert_eq!(set.for_url("PYRO:x@h:1").unwrap().name(), "pyro5");
    let mut o = ClientOptions::default();
    o.serializer = Some("pickle".into());
    let e = set.proxy("PYRO:x@h:1", &o).err().unwrap();
    assert_eq!(e.kind(), TransportErrorKind::BadOption);
}
