//! Exporters and proxies over the real Pyro5 wire: a Rust client, a Python Pyro5 client, and a
//! real bind failure.
mod common;
use common::*;
use std::time::Duration;
use tether_context::remoting::ServiceExporter;
use tether_context::ApplicationContext;
use tether_test_support::python;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

async fn server() -> (ApplicationContext, u16) {
    let (r, _) = registry();
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture("pyro-export.xml"))
        .start()
        .await
        .unwrap();
    let addrs = c.holder().server_addrs();
    assert_eq!(
        addrs.len(),
        1,
        "two exporters on 127.0.0.1:0 share one daemon"
    );
    let port = addrs[0].port();
    let e = c.get_as::<ServiceExporter>("service_exporter").unwrap();
    // Spring Python's exporter names its object the Pyro 3 way when Pyro 3 is built in.
    let pyro3_built = tether_context::ClassRegistry::from_inventory()
        .protocols()
        .by_name("pyro3")
        .is_some();
    let want = if pyro3_built {
        format!("PYROLOC://127.0.0.1:{port}/ServiceName")
    } else {
        format!("PYRO:ServiceName@127.0.0.1:{port}")
    };
    assert_eq!(e.uri(), Some(want));
    (c, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_through_xml_multi_thread() {
    let (srv, port) = server().await;
    let (r, _) = registry();
    let xml = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects">
             <object id="service" class="springpython.remoting.pyro.PyroProxyFactory">
               <property name="service_url" value="PYROLOC://127.0.0.1:{port}/ServiceName"/>
             </object>
             <object id="second" class="springpython.remoting.pyro.Pyro4ProxyFactory">
               <property name="service_url" value="PYRO:Second@localhost:{port}"/>
             </object>
           </objects>"#
    );
    let client = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let svc = client.get::<dyn RemoteService1>("service").unwrap();
    let got = timeout(LIMIT, svc.get_data("Hello".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, "You got remote data => Hello");
    let second = client.get::<dyn RemoteService1>("second").unwrap();
    let got = timeout(LIMIT, second.get_more_data("x".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, "You got more remote data => x");
    client.close().await;
    timeout(LIMIT, srv.close()).await.unwrap();
    let after = timeout(LIMIT, svc.get_data("again".into())).await.unwrap();
    assert!(after.is_err(), "the server is gone after close");
}

#[tokio::test]
async fn current_thread_runtime_can_export() {
    let (srv, port) = server().await;
    let mut p = tether_context::remoting::ProxyFactory::new(
        tether::pyro::seam::SPRING_PYRO,
        std::sync::Arc::new(tether::pyro::seam::Pyro5::default()),
    );
    p.set_service_url(&format!("PYRO:ServiceName@127.0.0.1:{port}"))
        .unwrap();
    let got = timeout(
        LIMIT,
        p.service::<dyn RemoteService1>().get_data("cur".into()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(got, "You got remote data => cur");
    timeout(LIMIT, srv.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pyro5_client_calls_a_service_exported_from_xml() {
    let (srv, port) = server().await;
    let script = r#"
import sys, Pyro5.api
with Pyro5.api.Proxy(sys.argv[1]) as p:
    print(p.getData("Hello"))
    print(p.getMoreData("World"))
    try:
        p.nope()
    except AttributeError as e:
        print("AttributeError")
with Pyro5.api.Proxy(sys.argv[2]) as p:
    print(p.getData("second"))
"#;
    let child = tokio::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(format!("PYRO:ServiceName@127.0.0.1:{port}"))
        .arg(format!("PYRO:Second@localhost:{port}"))
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, child).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            "You got remote data => Hello",
            "You got more remote data => World",
            "AttributeError",
            "You got remote data => second"
        ]
    );
    timeout(LIMIT, srv.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_bind_error_fails_start_without_half_started_server() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let free_port = free.local_addr().unwrap().port();
    drop(free);
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
             <object id="s" class="test.RemoteService1"/>
             <object id="first" class="tether.pyro.ServiceExporter">
               <property name="service" ref="s"/><property name="service_name" value="A"/>
               <property name="service_host" value="127.0.0.1"/><property name="service_port" value="{free_port}"/>
             </object>
             <object id="second" class="tether.pyro.ServiceExporter">
               <property name="service" ref="s"/><property name="service_name" value="B"/>
               <property name="service_host" value="127.0.0.1"/><property name="service_port" value="{port}"/>
             </object>
           </objects>"#
    );
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("bind.xml"))
        .start()
        .await
        .unwrap_err();
    let t = e.to_string();
    assert!(
        t.starts_with("bind.xml:") && t.contains("'second'") && t.contains("cannot bind"),
        "{t}"
    );
    // the first exporter's daemon was shut down: its port can be bound again
    let again = std::net::TcpListener::bind(("127.0.0.1", free_port));
    assert!(again.is_ok(), "port {free_port} still held: {again:?}");
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_programmatically_over_pyro5() {
    // The seed's "Do I have to use XML?": build the exporter and the proxy in code, set their
    // properties, call after_properties_set explicitly.
    use std::sync::Arc;
    let mut exporter = tether_context::remoting::ServiceExporter::new(
        tether::pyro::seam::SPRING_PYRO,
        std::sync::Arc::new(tether::pyro::seam::Pyro5::default()),
    );
    exporter
        .set_service_impl::<dyn RemoteService1>(Arc::new(Service1))
        .set_service_name("ProgrammaticService")
        .set_service_host("127.0.0.1")
        .set_service_port(0);
    exporter.after_properties_set().unwrap();
    let port = exporter.local_addr().unwrap().port();
    let mut client = tether_context::remoting::ProxyFactory::new(
        tether::pyro::seam::SPRING_PYRO,
        std::sync::Arc::new(tether::pyro::seam::Pyro5::default()),
    );
    client
        .set_service_url(&format!("PYROLOC://localhost:{port}/ProgrammaticService"))
        .unwrap();
    let svc = client.service::<dyn RemoteService1>();
    let got = timeout(LIMIT, svc.get_data("by hand".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, "You got remote data => by hand");
    timeout(LIMIT, exporter.close()).await.unwrap();
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "the daemon let go of its port"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_service_from_xml_for_python() {
    let (r, _) = registry();
    let xml = r#"<objects>
      <object id="echo" class="tether.echo.EchoService"/>
      <object id="exporter" class="tether.pyro.ServiceExporter">
        <property name="service" ref="echo"/><property name="service_name" value="test.echoserver"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
      </object>
    </objects>"#;
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("echo.xml"))
        .start()
        .await
        .unwrap();
    let port = c.holder().server_addrs()[0].port();
    let script = "import sys, Pyro5.api\nwith Pyro5.api.Proxy(sys.argv[1]) as p:\n    print(p.echo([1, 'two', (3.5, None)]))\n";
    let child = tokio::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(format!("PYRO:test.echoserver@127.0.0.1:{port}"))
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, child).await.unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "[1, 'two', (3.5, None)]"
    );
    timeout(LIMIT, c.close()).await.unwrap();
}

/// A serializer name Pyro does not have in `serializers_accepted` stops the context, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_accepted_serializer_is_named() {
    let (r, _) = registry();
    let xml = r#"<objects>
      <object id="echo" class="tether.echo.EchoService"/>
      <object id="v4" class="springpython.remoting.pyro.Pyro4ServiceExporter">
        <property name="service" ref="echo"/><property name="service_name" value="echo4"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="serializers_accepted" value="serpent,pickle"/>
      </object>
    </objects>"#;
    let Err(e) = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("server.xml"))
        .start()
        .await
    else {
        panic!("an unknown serializer was accepted");
    };
    let text = e.to_string();
    assert!(
        text.contains("pickle")
            && text.contains("serializers_accepted")
            && text.contains("server.xml"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyro4_names_speak_the_pyro4_wire_on_the_shared_daemon() {
    use tether_context::remoting::ProxyFactory;
    use tether_core::Call;
    let (r, _) = registry();
    let xml = r#"<objects>
      <object id="echo" class="tether.echo.EchoService"/>
      <object id="v5" class="springpython.remoting.pyro.PyroServiceExporter">
        <property name="service" ref="echo"/><property name="service_name" value="test.echoserver"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="serializers_accepted" value="serpent,marshal,json,msgpack"/>
      </object>
      <object id="v4" class="springpython.remoting.pyro.Pyro4ServiceExporter">
        <property name="service" ref="echo"/><property name="service_name" value="echo4"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="serializers_accepted" value="serpent,marshal,json,msgpack"/>
      </object>
    </objects>"#;
    let srv = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("server.xml"))
        .start()
        .await
        .unwrap();
    let addrs = srv.holder().server_addrs();
    assert_eq!(addrs.len(), 1, "Pyro4 and Pyro5 exporters share one daemon");
    let port = addrs[0].port();
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
             <object id="p4" class="springpython.remoting.pyro.Pyro4ProxyFactory">
               <property name="service_url" value="PYRO:echo4@127.0.0.1:{port}"/>
             </object>
             <object id="p5" class="springpython.remoting.pyro.PyroProxyFactory">
               <property name="service_url" value="PYRO:echo4@127.0.0.1:{port}"/>
             </object>
           </objects>"#
    );
    let client = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    // The echo service words error() after the wire the call came on.
    for (id, text) in [
        ("p4", "expected error from echoserver error() method"),
        (
            "p5",
            "this is the generated error from echoserver echo() method",
        ),
    ] {
        let inv = client
            .get_as::<ProxyFactory>(id)
            .unwrap()
            .fresh_invoker()
            .unwrap();
        let e = timeout(LIMIT, inv.invoke(Call::new("error", vec![])))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(e.message(), text, "{id}");
    }
    // and Python's Pyro4 client calls the same exporter, in msgpack too (which the exporter's
    // `serializers_accepted` lets in, as Pyro4's SERIALIZERS_ACCEPTED does)
    let script = r#"
import sys, Pyro4
with Pyro4.Proxy(sys.argv[1]) as p:
    p._pyroSerializer = "msgpack"
    print(p.echo("from Pyro4"))
"#;
    let child = tokio::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(format!("PYRO:echo4@127.0.0.1:{port}"))
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, child).await.unwrap().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "from Pyro4",
        "{out:?}"
    );
    client.close().await;
    timeout(LIMIT, srv.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporters_register_in_a_name_server_and_leave_on_shutdown() {
    use tether::pyro::naming::{NameServerConfig, NameServerHandle};
    let ns = NameServerHandle::start(NameServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        broadcast_port: None,
        ..Default::default()
    })
    .await
    .unwrap();
    let ns_port = ns.local_addr().unwrap().port();
    // Python's own name server too: an exporter registers wherever it is told.
    let mut py_ns = std::process::Command::new(python())
        .args([
            "-u",
            "-m",
            "Pyro5.nameserver",
            "-n",
            "127.0.0.1",
            "-p",
            "0",
            "-x",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let py_uri = {
        use std::io::BufRead;
        let out = py_ns.stdout.take().unwrap();
        std::io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("URI = "))
            .unwrap()
            .trim_start_matches("URI = ")
            .to_string()
    };
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="v5" class="springpython.remoting.pyro.PyroServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="example.five"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="name_server" value="{}"/>
        <property name="metadata"><list><value>class:RemoteService1</value></list></property>
      </object>
      <object id="v4" class="springpython.remoting.pyro.Pyro4ServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="example.four"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="name_server" value="127.0.0.1:{ns_port}"/>
      </object>
      <object id="py" class="tether.pyro.ServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="example.py"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="name_server" value="{py_uri}"/>
      </object>
    </objects>"#,
        ns.uri()
    );
    let srv = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("server.xml"))
        .start()
        .await
        .unwrap();
    let names = |ns: &NameServerHandle| -> Vec<(String, Vec<String>)> {
        ns.name_server()
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.metadata))
            .collect()
    };
    let listed = names(&ns);
    assert!(
        listed.contains(&("example.five".into(), vec!["class:RemoteService1".into()])),
        "{listed:?}"
    );
    assert!(
        listed.iter().any(|(n, _)| n == "example.four"),
        "{listed:?}"
    );
    // Clients find them by name, and by metadata.
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
             <object id="by_name" class="springpython.remoting.pyro.PyroProxyFactory">
               <property name="service_url" value="PYRONAME:example.four@127.0.0.1:{ns_port}"/>
             </object>
             <object id="by_meta" class="springpython.remoting.pyro.Pyro4ProxyFactory">
               <property name="service_url" value="PYROMETA:class:RemoteService1@127.0.0.1:{ns_port}"/>
             </object>
             <object id="in_python_ns" class="tether.pyro.ProxyFactory">
               <property name="service_url" value="PYRONAME:example.py@{}"/>
             </object>
           </objects>"#,
        py_uri.rsplit('@').next().unwrap()
    );
    let client = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    for id in ["by_name", "by_meta", "in_python_ns"] {
        let svc = client.get::<dyn RemoteService1>(id).unwrap();
        let got = timeout(LIMIT, svc.get_data(id.into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, format!("You got remote data => {id}"));
    }
    client.close().await;
    // A graceful shutdown removes them again.
    timeout(LIMIT, srv.close()).await.unwrap();
    let listed = names(&ns);
    assert_eq!(
        listed.len(),
        1,
        "only the name server itself is left: {listed:?}"
    );
    let check = std::process::Command::new(python())
        .args([
            "-c",
            "import sys, Pyro5.api; print(sorted(Pyro5.api.Proxy(sys.argv[1]).list()))",
            &py_uri,
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "['Pyro.NameServer']"
    );
    let _ = py_ns.kill();
    let _ = py_ns.wait();
    ns.shutdown().await;

    // A name server that is not there: the start fails, naming the object.
    let (r, _) = registry();
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = unused.local_addr().unwrap().port();
    drop(unused);
    let xml = format!(
        r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="lonely" class="tether.pyro.ServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="x"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
        <property name="name_server" value="127.0.0.1:{dead}"/>
      </object>
    </objects>"#
    );
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("lonely.xml"))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("lonely.xml:") && e.contains("'lonely'") && e.contains("name server"),
        "{e}"
    );
}
