//! tether in a crate of one's own (the README's "Use tether in your crate"): a service trait,
//! its implementation registered under a class name, an XML context that exports it over
//! Pyro5 and another that calls it through a proxy, in one `main`.
//!
//!     cargo run -p embed

use tether::RemoteError;

/// The service: what clients call and servers implement.
#[tether::service]
trait Greeter {
    /// Says hello.
    async fn greet(&self, name: String) -> Result<String, RemoteError>;
}

/// The implementation, known to XML contexts as `app.Greeter`.
#[tether::component("app.Greeter")]
#[derive(Default)]
struct Hello;

#[tether::service]
impl Greeter for Hello {
    async fn greet(&self, name: String) -> Result<String, RemoteError> {
        Ok(format!("hello, {name}"))
    }
}

const SERVER: &str = r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="greeter" class="app.Greeter"/>
  <object id="exporter" class="tether.pyro.ServiceExporter">
    <property name="service" ref="greeter"/>
    <property name="service_name" value="greeter"/>
    <property name="service_host" value="127.0.0.1"/>
    <property name="service_port" value="0"/>
  </object>
</objects>"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans go out over OTLP when OpenTelemetry's variables ask for it; flushed when dropped.
    let _telemetry = tether::observe::init("embed");
    let server = tether::ApplicationContext::builder()
        .xml_str(SERVER, Some("server.xml"))
        .start()
        .await?;
    let addr = server.holder().server_addrs()[0];
    let client_xml = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="greeter" class="tether.pyro.ProxyFactory">
    <property name="service_url" value="PYRO:greeter@{addr}"/>
  </object>
</objects>"#
    );
    let client = tether::ApplicationContext::builder()
        .xml_str(client_xml, Some("client.xml"))
        .start()
        .await?;
    // The client's code cannot tell the proxy from the local object.
    let greeter = client.get::<dyn Greeter>("greeter")?;
    println!("{}", greeter.greet("world".into()).await?);
    client.close().await;
    server.close().await;
    Ok(())
}
