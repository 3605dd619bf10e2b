//! One service exported over Pyro5 and Hessian at once from one context: a tether client
//! through each wire (Spring Python's `HessianProxyFactory` and `PyroProxyFactory` in XML),
//! python-hessian, and Python Pyro5 all get the same answer.
mod common;
use common::*;
use std::time::Duration;
use tether_context::remoting::ServiceExporter;
use tether_context::ApplicationContext;
use tether_test_support::python;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_over_pyro5_and_hessian_from_one_context() {
    let (r, _) = registry();
    let xml = r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="pyro" class="springpython.remoting.pyro.PyroServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="ServiceName"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
      </object>
      <object id="hessian" class="org.springframework.remoting.caucho.HessianServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="service"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
      </object>
    </objects>"#;
    let srv = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("server.xml"))
        .start()
        .await
        .unwrap();
    let pyro_uri = srv
        .get_as::<ServiceExporter>("pyro")
        .unwrap()
        .uri()
        .unwrap();
    let hessian_url = srv
        .get_as::<ServiceExporter>("hessian")
        .unwrap()
        .uri()
        .unwrap();
    assert!(
        hessian_url.starts_with("http://127.0.0.1:") && hessian_url.ends_with("/service"),
        "{hessian_url}"
    );
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
             <object id="over_hessian" class="springpython.remoting.hessian.HessianProxyFactory">
               <property name="service_url" value="{hessian_url}"/>
             </object>
             <object id="over_pyro" class="springpython.remoting.pyro.PyroProxyFactory">
               <property name="service_url" value="{pyro_uri}"/>
             </object>
           </objects>"#
    );
    let client = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    for id in ["over_hessian", "over_pyro"] {
        let svc = client.get::<dyn RemoteService1>(id).unwrap();
        let got = timeout(LIMIT, svc.get_data("Hello".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, "You got remote data => Hello", "{id}");
    }
    // With the `pyro3` feature the Spring exporter names its object with a Pyro 3 URL
    // (PYROLOC://host:port/name); the same daemon answers Pyro5 at PYRO:name@host:port.
    let pyro_uri = match pyro_uri.strip_prefix("PYROLOC://") {
        Some(rest) => {
            let (loc, name) = rest.split_once('/').unwrap();
            format!("PYRO:{name}@{loc}")
        }
        None => pyro_uri,
    };
    let code = "import sys\nfrom pyhessian.client import HessianProxy\nimport Pyro5.api\nprint(HessianProxy(sys.argv[1]).getData('py'))\nprint(Pyro5.api.Proxy(sys.argv[2]).getData('py'))\n";
    let out = tokio::process::Command::new(python())
        .args(["-c", code, &hessian_url, &pyro_uri])
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, out).await.unwrap().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "You got remote data => py\nYou got remote data => py\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    client.close().await;
    timeout(LIMIT, srv.close()).await.unwrap();
}
