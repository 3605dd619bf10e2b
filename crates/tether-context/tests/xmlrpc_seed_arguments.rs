//! Spring Python's `SSLServer` and `SSLClient` as the seed writes them: every documented
//! constructor argument, by name or by position in the seed's order, and the client's TLS
//! properties in any order (they depend on each other, so the container checks them once every
//! property is set: all 24 orders of `uri`, `ca_certs`, `keyfile`, `certfile` load and call);
//! a real mistake is still reported with the file, line and object.
mod common;
use common::*;
use std::time::Duration;
use tether_context::remoting::ServiceExporter;
use tether_context::{ApplicationContext, ContextErrorKind};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// Starts a context from `xml` (named `name`), calls `getData(arg)` through its object `id`
/// (a `RemoteService1`), closes it, and returns the answer; panics naming `name` on a failure.
async fn get_data_via(xml: String, name: &str, id: &str, arg: &str) -> String {
    let (r, _) = registry();
    let ctx = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some(name))
        .start()
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let svc = ctx.get::<dyn RemoteService1>(id).unwrap();
    let got = timeout(LIMIT, svc.get_data(arg.into()))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    ctx.close().await;
    got
}

/// Starts a context from `xml` (named `name`) that must fail, and returns the error.
async fn start_error(xml: String, name: &str) -> tether_context::ContextError {
    let (r, _) = registry();
    ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some(name))
        .start()
        .await
        .unwrap_err()
}

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
        let got = get_data_via(
            xml,
            &format!("client.xml {order:?}"),
            "client",
            &format!("{order:?}"),
        )
        .await;
        assert_eq!(got, format!("You got remote data => {order:?}"));
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
    let e = start_error(xml, "half.xml").await;
    assert_eq!(e.kind(), ContextErrorKind::BadProperty);
    let text = e.to_string();
    assert!(
        text.starts_with("half.xml:2:") && text.contains("'half'") && text.contains("certfile"),
        "{text}"
    );
    timeout(LIMIT, srv.close()).await.unwrap();
    std::fs::remove_dir_all(dir).ok();
}

/// Spring Python's `SSLServer` and `SSLClient` with every constructor argument the seed
/// documents, by position in the seed's order, including those that have no effect in Rust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_constructor_arguments_in_its_order() {
    let dir = std::env::temp_dir().join(format!("tether-ctx-args-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).unwrap();
    let d = |f: &str| dir.join(f).display().to_string();
    let (r, _) = registry();
    // SSLServer(host, port, keyfile, certfile, ca_certs, cert_reqs, ssl_version,
    //           do_handshake_on_connect, suppress_ragged_eofs, ciphers, log_requests)
    let server = format!(
        r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="server" class="springpython.remoting.xmlrpc.SSLServer">
        <constructor-arg value="localhost"/>
        <constructor-arg value="0"/>
        <constructor-arg value="{}"/>
        <constructor-arg value="{}"/>
        <constructor-arg value="{}"/>
        <constructor-arg value="ssl.CERT_REQUIRED"/>
        <constructor-arg value="ssl.PROTOCOL_SSLv23"/>
        <constructor-arg value="True"/>
        <constructor-arg value="True"/>
        <constructor-arg><null/></constructor-arg>
        <constructor-arg value="False"/>
        <property name="service" ref="svc"/><property name="service_name" value="service"/>
      </object>
    </objects>"#,
        d("server-key.pem"),
        d("server-cert.pem"),
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
    // SSLClient(uri, ca_certs, keyfile, certfile, cert_reqs, ssl_version, transport, encoding,
    //           verbose, allow_none, use_datetime, timeout, strict)
    let client = format!(
        r#"<objects>
      <object id="client" class="springpython.remoting.xmlrpc.SSLClient">
        <constructor-arg value="{url}"/>
        <constructor-arg value="{}"/>
        <constructor-arg value="{}"/>
        <constructor-arg value="{}"/>
        <constructor-arg value="ssl.CERT_REQUIRED"/>
        <constructor-arg value="ssl.PROTOCOL_TLSv1_2"/>
        <constructor-arg><null/></constructor-arg>
        <constructor-arg value="utf-8"/>
        <constructor-arg value="False"/>
        <constructor-arg value="False"/>
        <constructor-arg value="False"/>
        <constructor-arg value="30"/>
        <constructor-arg><null/></constructor-arg>
      </object>
    </objects>"#,
        d("ca-chain.pem"),
        d("client-key.pem"),
        d("client-cert.pem")
    );
    assert_eq!(
        get_data_via(client, "client.xml", "client", "seed").await,
        "You got remote data => seed"
    );
    // cert_reqs=CERT_NONE: no ca_certs, no check of the server's certificate (a WARN), and
    // ciphers choosing the suite
    let xml = format!(
        r#"<objects>
  <object id="blind" class="springpython.remoting.xmlrpc.SSLClient">
    <property name="uri" value="{url}"/>
    <property name="cert_reqs" value="ssl.CERT_NONE"/>
    <property name="keyfile" value="{}"/><property name="certfile" value="{}"/>
    <property name="ssl_version" value="ssl.PROTOCOL_TLSv1_2"/>
    <property name="ciphers" value="ECDHE+CHACHA20"/>
  </object>
</objects>"#,
        d("client-key.pem"),
        d("client-cert.pem")
    );
    assert_eq!(
        get_data_via(xml, "blind.xml", "blind", "blind").await,
        "You got remote data => blind"
    );
    // a cipher string that chooses nothing is an error at its property
    let xml = format!(
        r#"<objects>
  <object id="weak" class="springpython.remoting.xmlrpc.SSLClient">
    <property name="uri" value="{url}"/>
    <property name="ciphers" value="RC4-MD5"/>
  </object>
</objects>"#
    );
    let e = start_error(xml, "weak.xml").await.to_string();
    assert!(
        e.starts_with("weak.xml:4:") && e.contains("names none"),
        "{e}"
    );
    // an encoding tether's client does not write is refused, not ignored
    let xml = format!(
        r#"<objects>
  <object id="latin" class="springpython.remoting.xmlrpc.SSLClient">
    <property name="uri" value="{url}"/><property name="encoding" value="koi8-r"/>
  </object>
</objects>"#
    );
    let e = start_error(xml, "latin.xml").await.to_string();
    assert!(
        e.starts_with("latin.xml:3:") && e.contains("'latin'") && e.contains("iso-8859-1"),
        "{e}"
    );
    timeout(LIMIT, srv.close()).await.unwrap();
    std::fs::remove_dir_all(dir).ok();
}
