//! One service exported over XML-RPC (Spring Python's `SSLServer`, with its constructor
//! arguments as properties: certificates, a client certificate required, `verify_fields`,
//! `log_requests`) and Pyro5 at once from one context; Python's xmlrpc client with its
//! certificate, and tether's `SSLClient` proxy factory, call it.
mod common;
use common::*;
use std::time::Duration;
use tether_context::remoting::ServiceExporter;
use tether_context::ApplicationContext;
use tether_test_support::python;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_over_xmlrpc_with_client_certificates_and_pyro5() {
    let dir = std::env::temp_dir().join(format!("tether-ctx-xmlrpc-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).unwrap();
    let d = |f: &str| dir.join(f).display().to_string();
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="pyro" class="springpython.remoting.pyro.PyroServiceExporter">
        <property name="service" ref="svc"/><property name="service_name" value="ServiceName"/>
        <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
      </object>
      <object id="secure" class="springpython.remoting.xmlrpc.SSLServer">
        <property name="service" ref="svc"/><property name="service_name" value="service"/>
        <property name="service_host" value="localhost"/><property name="service_port" value="0"/>
        <property name="certfile" value="{}"/><property name="keyfile" value="{}"/>
        <property name="ca_certs" value="{}"/><property name="cert_reqs" value="ssl.CERT_REQUIRED"/>
        <property name="ssl_version" value="ssl.PROTOCOL_TLSv1_2"/>
        <property name="log_requests" value="False"/>
        <property name="verify_fields"><dict>
          <entry><key><value>commonName</value></key><value>My Client</value></entry>
          <entry><key><value>organizationName</value></key><value>My Company</value></entry>
        </dict></property>
      </object>
    </objects>"#,
        d("server-cert.pem"),
        d("server-key.pem"),
        d("ca-chain.pem")
    );
    let srv = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("server.xml"))
        .start()
        .await
        .unwrap();
    let url = srv
        .get_as::<ServiceExporter>("secure")
        .unwrap()
        .uri()
        .unwrap();
    assert!(
        url.starts_with("https://") && url.ends_with("/RPC2"),
        "{url}"
    );
    // ssl_version = PROTOCOL_TLSv1_2 pins TLS 1.2, which Python (able to speak 1.3) negotiates.
    let code = "import socket, ssl, sys, urllib.parse, xmlrpc.client\nd = sys.argv[2]\nctx = ssl.create_default_context(cafile=d + '/ca-chain.pem')\nctx.load_cert_chain(d + '/client-cert.pem', d + '/client-key.pem')\nprint(xmlrpc.client.ServerProxy(sys.argv[1], context=ctx).getData('py'))\nu = urllib.parse.urlsplit(sys.argv[1])\nwith socket.create_connection((u.hostname, u.port)) as raw:\n    with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n        print(s.version())\n";
    let out = tokio::process::Command::new(python())
        .args(["-c", code, &url, dir.to_str().unwrap()])
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, out).await.unwrap().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "You got remote data => py\nTLSv1.2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // tether's SSLClient from XML
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
             <object id="client" class="springpython.remoting.xmlrpc.SSLClient">
               <property name="service_url" value="{url}"/>
               <property name="ca_certs" value="{}"/>
               <property name="certfile" value="{}"/><property name="keyfile" value="{}"/>
               <property name="verbose" value="False"/>
             </object>
           </objects>"#,
        d("ca-chain.pem"),
        d("client-cert.pem"),
        d("client-key.pem")
    );
    let client = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let svc = client.get::<dyn RemoteService1>("client").unwrap();
    assert_eq!(
        timeout(LIMIT, svc.get_data("rs".into()))
            .await
            .unwrap()
            .unwrap(),
        "You got remote data => rs"
    );
    client.close().await;
    timeout(LIMIT, srv.close()).await.unwrap();

    // an old TLS version is a configuration error naming the object
    let (r, _) = registry();
    let xml = format!(
        r#"<objects>
      <object id="svc" class="test.RemoteService1"/>
      <object id="old" class="springpython.remoting.xmlrpc.SSLServer">
        <property name="service" ref="svc"/><property name="service_name" value="s"/>
        <property name="service_host" value="localhost"/><property name="service_port" value="0"/>
        <property name="certfile" value="{}"/><property name="keyfile" value="{}"/>
        <property name="ssl_version" value="ssl.PROTOCOL_TLSv1"/>
      </object>
    </objects>"#,
        d("server-cert.pem"),
        d("server-key.pem")
    );
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("old.xml"))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("old.xml:") && e.contains("'old'") && e.contains("TLS 1.2"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).ok();
}
