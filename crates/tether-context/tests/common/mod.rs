//! Test classes: a recording `Bag`, a post-processor, a class with defaults, two services.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use tether_test_support::memory;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tether::RemoteError;
use tether_context::ContextError;
use tether_context::{
    ClassRegistry, Component, ContextValue, InitContext, ObjectPostProcessor, ObjectRef,
    WeakContext,
};

pub type Log = Arc<Mutex<Vec<String>>>;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Records its constructor arguments, properties and hooks.
pub struct Bag {
    pub args: Vec<ContextValue>,
    pub named: Vec<(String, ContextValue)>,
    pub props: Vec<(String, ContextValue)>,
    pub marks: Mutex<Vec<String>>,
    id: Mutex<String>,
    log: Log,
}

impl Bag {
    pub fn prop(&self, name: &str) -> &ContextValue {
        &self
            .props
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no property {name}"))
            .1
    }
    pub fn has_prop(&self, name: &str) -> bool {
        self.props.iter().any(|(n, _)| n == name)
    }
    pub fn named_arg(&self, name: &str) -> &ContextValue {
        &self
            .named
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no arg {name}"))
            .1
    }
    pub fn marks(&self) -> Vec<String> {
        self.marks.lock().unwrap().clone()
    }
}

impl Component for Bag {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        self.props.push((name.to_string(), value));
        Ok(())
    }
    fn after_properties_set(&self, init: &InitContext) -> Result<(), ContextError> {
        *self.id.lock().unwrap() = init.object_id().to_string();
        self.log
            .lock()
            .unwrap()
            .push(format!("init:{}", init.object_id()));
        Ok(())
    }
    fn set_app_context(&self, ctx: &WeakContext) {
        assert!(ctx.upgrade().is_some());
        let id = self.id.lock().unwrap().clone();
        self.log.lock().unwrap().push(format!("aware:{id}"));
    }
    fn destroy(&self) -> Result<(), ContextError> {
        let id = self.id.lock().unwrap().clone();
        self.log.lock().unwrap().push(format!("destroy:{id}"));
        if id == "fails" {
            return Err("boom".into());
        }
        Ok(())
    }
}

/// Marks every other object before and after initialisation.
pub struct Marker;

impl Component for Marker {
    fn post_processor(&self) -> Option<&dyn ObjectPostProcessor> {
        Some(self)
    }
}

impl ObjectPostProcessor for Marker {
    fn post_process_before_initialization(
        &self,
        object: ObjectRef,
        _id: &str,
    ) -> Result<ObjectRef, ContextError> {
        if let Some(b) = object.downcast::<Bag>() {
            b.marks.lock().unwrap().push("before".into());
        }
        Ok(object)
    }
    fn post_process_after_initialization(
        &self,
        object: ObjectRef,
        _id: &str,
    ) -> Result<ObjectRef, ContextError> {
        if let Some(b) = object.downcast::<Bag>() {
            b.marks.lock().unwrap().push("after".into());
        }
        Ok(object)
    }
}

/// Named constructor arguments with defaults (`mode`, `retries`).
pub struct Config {
    pub mode: String,
    pub retries: i64,
}

#[tether::service]
pub trait RemoteService1 {
    #[tether(name = "getData")]
    async fn get_data(&self, arg: String) -> Result<String, RemoteError>;
    #[tether(name = "getMoreData")]
    async fn get_more_data(&self, arg: String) -> Result<String, RemoteError>;
}

#[tether::service]
pub trait RemoteService2 {
    #[tether(name = "executeOperation")]
    async fn execute_operation(&self, r: String) -> Result<String, RemoteError>;
    #[tether(name = "executeOtherOperation")]
    async fn execute_other_operation(&self, r: String) -> Result<String, RemoteError>;
}

#[derive(Default)]
pub struct Service1;

#[tether::service]
impl RemoteService1 for Service1 {
    async fn get_data(&self, arg: String) -> Result<String, RemoteError> {
        Ok(format!("You got remote data => {arg}"))
    }
    async fn get_more_data(&self, arg: String) -> Result<String, RemoteError> {
        Ok(format!("You got more remote data => {arg}"))
    }
}

#[derive(Default)]
pub struct Service2;

#[tether::service]
impl RemoteService2 for Service2 {
    async fn execute_operation(&self, r: String) -> Result<String, RemoteError> {
        Ok(format!("Operation {r} has been carried out"))
    }
    async fn execute_other_operation(&self, r: String) -> Result<String, RemoteError> {
        Ok(format!("Other Operation {r} has been carried out"))
    }
}

/// The test registry: built-ins, the test classes, and a shared log.
pub fn registry() -> (ClassRegistry, Log) {
    let log: Log = Arc::default();
    let mut r = ClassRegistry::from_inventory();
    let l = log.clone();
    r.register_with("test.Bag", move |args| {
        let (args, named) = args.into_parts();
        Ok(Bag {
            args,
            named,
            props: Vec::new(),
            marks: Mutex::default(),
            id: Mutex::default(),
            log: l.clone(),
        })
    });
    r.register_with("test.Marker", |_| Ok(Marker));
    r.register_with("test.Config", |mut args| {
        let mode = args
            .take_named("mode")
            .map(|v| v.to_string_value())
            .transpose()?
            .unwrap_or("slow".into());
        let retries = args
            .take_named("retries")
            .map(|v| v.to_i64())
            .transpose()?
            .unwrap_or(3);
        if let Some((n, _)) = args.named().first() {
            return Err(format!("unexpected keyword argument '{n}'").into());
        }
        Ok(ConfigC(Config { mode, retries }))
    });
    r.register_plain::<Service1>("test.RemoteService1");
    r.register_plain::<Service2>("test.RemoteService2");
    (r, log)
}

pub struct ConfigC(pub Config);
impl Component for ConfigC {}

pub fn s(v: &ContextValue) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}
