//! Spring Python's regexp advisor chooses the methods its advice runs for the same way in
//! tether as in Spring Python 1.3 itself: one AOP context, loaded by Spring Python on Python 2.7
//! and by tether, each `ProxyFactoryObject` behind a `RegexpMethodPointcutAdvisor` with one
//! pattern; both report which calls the advice saw. Spring Python matches a pattern (Python's
//! `re.match`, anchored at the start) against `Class.method`, the target's class without its
//! module: `RemoteService1.getData`.
mod common;
use common::*;
use std::sync::{Arc, Mutex};
use tether_context::remoting::{Interceptor, Next};
use tether_context::{ApplicationContext, Component, ContextError, ContextValue};
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_test_support::{python2, root};

/// The patterns, one advisor each: some match with the class in front only, some would match
/// the method name alone but not `Class.method`.
const PATTERNS: &[&str] = &[
    ".*Data",
    "getMore.*",
    r"RemoteService1\.getMore.*",
    "Remote.*",
    r".*\.getData$",
    ".*More",
    "RemoteService1",
    r"[A-Z]\w+\.get",
    "remoteservice1.*",
];

type Seen = Arc<Mutex<Vec<String>>>;

/// `aop_classes.Recorder`: notes its `tag` for every call it sees.
struct Recorder {
    tag: String,
    seen: Seen,
}

struct Recording {
    tag: String,
    seen: Seen,
}

impl Interceptor for Recording {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        self.seen.lock().unwrap().push(self.tag.clone());
        next.proceed(call)
    }
}

impl Component for Recorder {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "tag" => self.tag = value.to_string_value()?,
            other => return Err(format!("has no property '{other}'").into()),
        }
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(Recording {
            tag: self.tag.clone(),
            seen: self.seen.clone(),
        }))
    }
}

/// The context: the target, and per pattern a recorder, an advisor and a proxy object `svcN`.
fn context_xml() -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/springpython/schema/objects/1.1
               http://springpython.webfactional.com/schema/context/spring-python-context-1.1.xsd">
    <object id="target" class="aop_classes.RemoteService1"/>
"#,
    );
    for (i, p) in PATTERNS.iter().enumerate() {
        xml.push_str(&format!(
            r#"    <object id="rec{i}" class="aop_classes.Recorder">
        <property name="tag"><value>p{i}</value></property>
    </object>
    <object id="adv{i}" class="springpython.aop.RegexpMethodPointcutAdvisor">
        <property name="advice"><ref object="rec{i}"/></property>
        <property name="patterns"><list><value>{p}</value></list></property>
    </object>
    <object id="svc{i}" class="springpython.aop.ProxyFactoryObject">
        <property name="target"><ref object="target"/></property>
        <property name="interceptors"><list><ref object="adv{i}"/></list></property>
    </object>
"#
        ));
    }
    xml.push_str("</objects>\n");
    xml
}

fn ids() -> Vec<String> {
    (0..PATTERNS.len()).map(|i| format!("svc{i}")).collect()
}

#[test]
fn the_advisor_matches_class_dot_method_as_spring_python_does() {
    let dir = std::env::temp_dir().join(format!("tether-aop-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("aop.xml");
    std::fs::write(&file, context_xml()).unwrap();

    // Spring Python 1.3 on Python 2.7.
    let script = root().join("crates/tether-context/tests/python2/aop_peer.py");
    let out = python2()
        .arg(&script)
        .arg(&file)
        .arg(ids().join(","))
        .output()
        .expect("run python2");
    assert!(
        out.status.success(),
        "Spring Python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spring: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();

    // tether, the same file.
    let seen: Seen = Arc::default();
    let (mut registry, _) = registry();
    registry.register_plain::<Service1>("aop_classes.RemoteService1");
    let s = seen.clone();
    registry.register_with("aop_classes.Recorder", move |_| {
        Ok(Recorder {
            tag: String::new(),
            seen: s.clone(),
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ours: Vec<String> = rt.block_on(async {
        let ctx = ApplicationContext::builder()
            .registry(registry)
            .xml_file(&file)
            .start()
            .await
            .unwrap();
        let mut lines = Vec::new();
        for id in ids() {
            let svc = ctx.get::<dyn RemoteService1>(&id).unwrap();
            for method in ["getData", "getMoreData"] {
                seen.lock().unwrap().clear();
                let r = match method {
                    "getData" => svc.get_data("x".into()).await,
                    _ => svc.get_more_data("x".into()).await,
                };
                r.unwrap();
                let tags = seen.lock().unwrap().join(",");
                lines.push(format!(
                    "{id} {method} {}",
                    if tags.is_empty() { "-" } else { &tags }
                ));
            }
        }
        ctx.close().await;
        lines
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ours.len(), PATTERNS.len() * 2);
    for (i, (a, b)) in spring.iter().zip(&ours).enumerate() {
        assert_eq!(
            a,
            b,
            "pattern {:?}: Spring Python (left) and tether (right) differ",
            PATTERNS[i / 2]
        );
    }
    assert_eq!(spring, ours);
    // The patterns do tell the two readings apart: some advise a method, some do not.
    assert!(ours.iter().any(|l| l.ends_with(" -")) && ours.iter().any(|l| !l.ends_with(" -")));
}
