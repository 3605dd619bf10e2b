//! Interceptors around calls, configured in XML with Spring Python's AOP names and the
//! `interceptors` lists of exporters and proxy factories: in process (`ProxyFactoryObject` with a
//! `RegexpMethodPointcutAdvisor`, written the way Spring Python's own contexts write them: a
//! single `<ref>` where a list is expected), and on both sides of a wire, with Python's Pyro5 as
//! the client of an intercepted exporter.
mod common;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_context::remoting::{Interceptor, Next, ServiceExporter};
use tether_context::{ApplicationContext, Component, ContextError, ContextValue};
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_test_support::python;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

/// Records `tag:method` for each call it sees, and appends `suffix` to string results.
#[derive(Default)]
struct Recorder {
    tag: String,
    suffix: String,
    seen: Arc<Mutex<Vec<String>>>,
}

struct Recording {
    tag: String,
    suffix: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Interceptor for Recording {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move {
            self.seen
                .lock()
                .unwrap()
                .push(format!("{}:{}", self.tag, call.method));
            match next.proceed(call).await? {
                Value::Str(s) => Ok(Value::Str(s + &self.suffix)),
                other => Ok(other),
            }
        })
    }
}

impl Component for Recorder {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "tag" => self.tag = value.to_string_value()?,
            "suffix" => self.suffix = value.to_string_value()?,
            other => return Err(format!("has no property '{other}'").into()),
        }
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(Recording {
            tag: self.tag.clone(),
            suffix: self.suffix.clone(),
            seen: self.seen.clone(),
        }))
    }
}

fn seen(ctx: &ApplicationContext, id: &str) -> Vec<String> {
    ctx.get_as::<Recorder>(id)
        .unwrap()
        .seen
        .lock()
        .unwrap()
        .clone()
}

fn registry_with_recorder() -> tether_context::ClassRegistry {
    let (mut r, _) = registry();
    r.register::<Recorder>("test.Recorder");
    r
}

#[tokio::test]
async fn spring_pythons_aop_names_wrap_a_local_object() {
    let xml = r#"<objects>
  <object id="svc" class="test.RemoteService1"/>
  <object id="rec" class="test.Recorder">
    <property name="tag" value="aop"/><property name="suffix" value=" (advised)"/>
  </object>
  <object id="advisor" class="springpython.aop.RegexpMethodPointcutAdvisor">
    <property name="advice"><ref object="rec"/></property>
    <property name="patterns"><list><value>.*Data</value></list></property>
  </object>
  <object id="onlyMore" class="springpython.aop.RegexpMethodPointcutAdvisor">
    <property name="advice"><list><ref object="rec"/></list></property>
    <property name="patterns"><value>RemoteService1\.getMore.*</value></property>
  </object>
  <object id="proxied" class="springpython.aop.ProxyFactoryObject">
    <property name="target" ref="svc"/>
    <property name="interceptors"><ref object="advisor"/></property>
  </object>
  <object id="partly" class="springpython.aop.ProxyFactoryObject">
    <property name="target"><ref object="svc"/></property>
    <property name="interceptors"><list><ref object="onlyMore"/></list></property>
  </object>
</objects>"#;
    let ctx = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(xml, Some("aop.xml"))
        .start()
        .await
        .unwrap();
    let proxied = ctx.get::<dyn RemoteService1>("proxied").unwrap();
    assert_eq!(
        proxied.get_data("a".into()).await.unwrap(),
        "You got remote data => a (advised)"
    );
    let partly = ctx.get::<dyn RemoteService1>("partly").unwrap();
    assert_eq!(
        partly.get_data("b".into()).await.unwrap(),
        "You got remote data => b"
    );
    assert!(partly
        .get_more_data("c".into())
        .await
        .unwrap()
        .ends_with(" (advised)"));
    assert_eq!(seen(&ctx, "rec"), ["aop:getData", "aop:getMoreData"]);
    // the local object itself is untouched
    let plain = ctx.get::<dyn RemoteService1>("svc").unwrap();
    assert_eq!(
        plain.get_data("d".into()).await.unwrap(),
        "You got remote data => d"
    );
    // an object that is not an interceptor is a configuration error naming it
    let bad = r#"<objects>
  <object id="svc" class="test.RemoteService1"/>
  <object id="p" class="springpython.aop.ProxyFactoryObject">
    <property name="target" ref="svc"/>
    <property name="interceptors"><ref object="svc"/></property>
  </object>
</objects>"#;
    let e = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(bad, Some("bad.xml"))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bad.xml:5:") && e.contains("'svc'") && e.contains("not an interceptor"),
        "{e}"
    );
}

/// Spring Python's own AOP contexts sometimes give `target` as a class name; the container makes
/// an object of that class. A name that is no registered class is an error naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_given_as_a_class_name_is_made() {
    let xml = r#"<objects>
  <object id="rec" class="test.Recorder"><property name="tag"><value>c</value></property></object>
  <object id="p" class="springpython.aop.ProxyFactoryObject">
    <property name="target"><value>test.RemoteService1</value></property>
    <property name="interceptors"><ref object="rec"/></property>
  </object>
</objects>"#;
    let ctx = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(xml, Some("class.xml"))
        .start()
        .await
        .unwrap();
    let p = ctx.get::<dyn RemoteService1>("p").unwrap();
    assert_eq!(
        p.get_data("x".into()).await.unwrap(),
        "You got remote data => x"
    );
    assert_eq!(seen(&ctx, "rec"), ["c:getData"]);
    let bad = xml.replace("test.RemoteService1", "no.such.Class");
    let e = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(bad, Some("class.xml"))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("class.xml:4:") && e.contains("target"), "{e}");
}

/// The shapes of Spring Python's AOP chapter: a `springpython.aop.ProxyFactory` (the program
/// asks it for its proxy; in tether `get::<dyn T>` gives the proxy at once), whose single
/// interceptor is an inner `<object>`, and a `ProxyFactoryObject` whose target is an inner
/// object too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aop_chapters_proxy_factory_and_inner_objects() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/springpython/schema/objects/1.1
               http://springpython.webfactional.com/schema/context/spring-python-context-1.1.xsd">
    <object id="targetService" class="test.RemoteService1"/>
    <object id="serviceFactory" class="springpython.aop.ProxyFactory">
        <property name="target" ref="targetService"/>
        <property name="interceptors">
            <object class="test.Recorder"><property name="suffix" value=" [wrapped]"/></object>
        </property>
    </object>
    <object id="service" class="springpython.aop.ProxyFactoryObject">
        <property name="target"><object class="test.RemoteService1"/></property>
        <property name="interceptors">
            <list><object class="test.Recorder"><property name="suffix" value=" [object]"/></object></list>
        </property>
    </object>
</objects>"#;
    let ctx = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(xml, Some("aop-chapter.xml"))
        .start()
        .await
        .unwrap();
    let factory = ctx.get::<dyn RemoteService1>("serviceFactory").unwrap();
    assert_eq!(
        factory.get_data("a".into()).await.unwrap(),
        "You got remote data => a [wrapped]"
    );
    let service = ctx.get::<dyn RemoteService1>("service").unwrap();
    assert_eq!(
        service.get_data("b".into()).await.unwrap(),
        "You got remote data => b [object]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interceptors_run_on_both_sides_of_a_wire() {
    let server = r#"<objects>
  <object id="svc" class="test.RemoteService1"/>
  <object id="serverSide" class="test.Recorder">
    <property name="tag" value="server"/><property name="suffix" value=" [server]"/>
  </object>
  <object id="exporter" class="tether.pyro.ServiceExporter">
    <property name="service" ref="svc"/><property name="service_name" value="svc"/>
    <property name="service_host" value="127.0.0.1"/><property name="service_port" value="0"/>
    <property name="interceptors"><list><ref object="serverSide"/></list></property>
  </object>
</objects>"#;
    let srv = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(server, Some("server.xml"))
        .start()
        .await
        .unwrap();
    let uri = srv
        .get_as::<ServiceExporter>("exporter")
        .unwrap()
        .uri()
        .unwrap();
    // Python's Pyro5 client meets the server-side interceptor
    let out = tokio::process::Command::new(python())
        .args([
            "-c",
            "import sys, Pyro5.api as p; print(p.Proxy(sys.argv[1]).getData('py'))",
            &uri,
        ])
        .kill_on_drop(true)
        .output();
    let out = timeout(LIMIT, out).await.unwrap().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "You got remote data => py [server]",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // tether's proxy factory with a client-side interceptor
    let client = format!(
        r#"<objects>
  <object id="clientSide" class="test.Recorder">
    <property name="tag" value="client"/><property name="suffix" value=" [client]"/>
  </object>
  <object id="remote" class="tether.pyro.ProxyFactory">
    <property name="service_url" value="{uri}"/>
    <property name="interceptors"><ref object="clientSide"/></property>
  </object>
</objects>"#
    );
    let cli = ApplicationContext::builder()
        .registry(registry_with_recorder())
        .xml_str(client, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let remote = cli.get::<dyn RemoteService1>("remote").unwrap();
    assert_eq!(
        timeout(LIMIT, remote.get_data("rs".into()))
            .await
            .unwrap()
            .unwrap(),
        "You got remote data => rs [server] [client]"
    );
    assert_eq!(seen(&cli, "clientSide"), ["client:getData"]);
    assert_eq!(
        seen(&srv, "serverSide"),
        ["server:getData", "server:getData"]
    );
    cli.close().await;
    timeout(LIMIT, srv.close()).await.unwrap();
}
