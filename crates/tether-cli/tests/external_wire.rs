//! A wire that tether does not ship, defined outside the container and the CLI (the in-memory
//! wire of the test-support crate), is registered from outside and then works everywhere a
//! built-in wire does: exported and called from an XML context, reached by URL through the
//! resolution `tether call` uses, and used as a pool member. Nothing in tether-context or
//! tether-cli knows it.

use std::process::ExitCode;
use std::sync::Arc;
use tether::context::{ApplicationContext, ClassRegistry};
use tether_core::{Call, Value};
use tether_test_support::memory::MemoryProtocol;

const XML: &str = r#"<objects>
  <object id="echo" class="tether.echo.EchoService"/>
  <object id="exporter" class="tether.memory.ServiceExporter">
    <property name="service" ref="echo"/>
    <property name="service_name" value="echo"/>
    <property name="service_host" value="127.0.0.1"/>
    <property name="service_port" value="7001"/>
  </object>
  <object id="client" class="tether.ProxyFactory">
    <property name="service_url" value="mem://127.0.0.1:7001/echo"/>
  </object>
  <object id="own" class="tether.memory.ProxyFactory">
    <property name="service_url" value="mem://127.0.0.1:7001/echo"/>
  </object>
  <object id="pool" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls">
      <list><value>mem://127.0.0.1:7001/echo</value><ref object="own"/></list>
    </property>
  </object>
</objects>"#;

#[test]
fn a_wire_registered_from_outside_is_exported_called_by_url_and_pooled() {
    let memory = MemoryProtocol::own();
    let mut registry = ClassRegistry::from_inventory();
    registry.register_protocol(Arc::new(memory.clone()));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = rt.block_on(async {
        ApplicationContext::builder()
            .registry(registry.clone())
            .xml_str(XML, Some("memory.xml"))
            .start()
            .await
            .unwrap()
    });
    assert_eq!(memory.binds(), 1, "the exporter bound the wire's server");
    rt.block_on(async {
        for id in ["client", "own", "pool"] {
            let invoker = ctx.get_object(id).unwrap().invoker().unwrap();
            let v = invoker
                .invoke(Call::new("echo", vec![Value::str(id)]))
                .await
                .unwrap();
            assert_eq!(v, Value::str(id), "through {id}");
        }
        let e = ctx
            .get_object("pool")
            .unwrap()
            .invoker()
            .unwrap()
            .invoke(Call::new("error", vec![]))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("ValueError"), "{e}");
    });
    // The URL resolution `tether call` uses finds the wire by its URL form...
    assert_eq!(
        registry
            .protocols()
            .for_url("mem://127.0.0.1:7001/echo")
            .unwrap()
            .name(),
        "memory"
    );
    // ...and `tether call` itself calls it (exit 0), and reports its remote error (exit 1).
    let call = |method: &str| {
        tether_cli::run_with_args(
            registry.clone(),
            [
                "tether",
                "call",
                "mem://127.0.0.1:7001/echo",
                method,
                "'hi'",
            ],
        )
    };
    assert_eq!(call("echo"), ExitCode::SUCCESS);
    assert_eq!(call("error"), ExitCode::from(1));
    rt.block_on(ctx.close());
    assert!(
        memory.running().is_empty(),
        "closing the context stopped the server"
    );
}
