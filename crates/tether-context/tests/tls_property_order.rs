//! TLS settings depend on each other (a client certificate needs its key and the CAs), so the
//! container checks them once every property is set: Spring Python's `SSLClient` loads and
//! calls with its four TLS-related properties in each of their 24 orders, `uri` (the seed's
//! own name for the URL) works as `service_url`, and a real mistake is still reported with the
//! file, line and object.
mod common;
use common::*;
use std::time::Duration;
use tether_context::remoting::ServiceExporter;
use tether_context::{ApplicationContext, ContextErrorKind};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, *first);
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssl_client_takes_its_properties_in_any_order() {
    let dir = std::env::temp_dir().join(format!("tether-ctx-order-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).unwrap();
    let d = |f: &str| dir.join(f).display().to_string();
    let (r, _) = registry();
    let server = format!(
        r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="server" class="springpython.remoting.xmlrpc.SSLServer">
        <property name="service" ref="svc"/><property name="service_name" value="service"/>
        <property name="service_host" value="localhost"/><property name="service_port" value="0"/>
        <property name="certfile" value="{}"/><property name="keyfile" value="{}"/>
        <property name="ca_certs" value="{}"/><property name="cert_reqs" value="ssl.CERT_REQUIRED"/>
        <property name="log_requests" value="False"/>
      </object>
    </objects>"#,
        d("server-cert.pem"),
        d("server-key.pem"),
        d("ca-chain.pem")
    );
    let srv = ApplicationContext::builder()
        .registry(r)
        .xml_str(server, Some("server.xml"))
        .start()
        .await
        .unwrap();
    let url = srv
        .get_as::<ServiceExporter>("server")
        .unwrap()
        .uri()
        .unwrap();
    let props = [
        format!(r#"<property name="uri" value="{url}"/>"#),
        format!(
            r#"<property name="ca_certs" value="{}"/>"#,
            d("ca-chain.pem")
        ),
        format!(
            r#"<property name="keyfile" value="{}"/>"#,
            d("client-key.pem")
        ),
        format!(
            r#"<property name="certfile" value="{}"/>"#,
            d("client-cert.pem")
        ),
    ];
    let orders = permutations(&[0, 1, 2, 3]);
    assert_eq!(orders.len(), 24);
    for order in orders {
        let body: String = order.iter().map(|i| props[*i].as_str()).collect();
        let xml = format!(
            r#"<objects><object id="client" class="springpython.remoting.xmlrpc.SSLClient">{body}<property name="cert_reqs" value="ssl.CERT_REQUIRED"/></object></objects>"#
        );
        let (r, _) = registry();
        let client = ApplicationContext::builder()
            .registry(r)
            .xml_str(xml, Some("client.xml"))
            .start()
            .await
            .unwrap_or_else(|e| panic!("order {order:?}: {e}"));
        let svc = client.get::<dyn RemoteService1>("client").unwrap();
        let got = timeout(LIMIT, svc.get_data(format!("{order:?}")))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("order {order:?}: {e}"));
        assert_eq!(got, format!("You got remote data => {order:?}"));
        client.close().await;
    }

    // a key without its certificate is still an error, named at the object
    let xml = format!(
        r#"<objects>
  <object id="half" class="springpython.remoting.xmlrpc.SSLClient">
    <property name="uri" value="{url}"/>
    <property name="keyfile" value="{}"/>
    <property name="ca_certs" value="{}"/>
  </object>
</objects>"#,
        d("client-key.pem"),
        d("ca-chain.pem")
    );
    let (r, _) = registry();
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("half.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ContextErrorKind::BadProperty);
    let text = e.to_string();
    assert!(
        text.starts_with("half.xml:2:") && text.contains("'half'") && text.contains("certfile"),
        "{text}"
    );
    timeout(LIMIT, srv.close()).await.unwrap();
    std::fs::remove_dir_all(dir).ok();
}
