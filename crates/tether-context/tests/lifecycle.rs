//! Lifecycle: document order, hooks, post-processors, destroy, lazy objects, proxy factories.
mod common;
use common::*;
use tether_context::ApplicationContext;

#[tokio::test]
async fn start_order_hooks_and_destroy() {
    let (r, log) = registry();
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture("lifecycle.xml"))
        .start()
        .await
        .unwrap();
    // eager singletons in document order; lazyOne created as a dependency of second; no prototype, no lazyLater
    assert_eq!(
        c.singleton_ids(),
        vec!["first", "processor", "lazyOne", "second", "proxy"]
    );
    // after_properties_set then set_app_context, per object, in creation order (proxy skipped)
    assert_eq!(
        log.lock().unwrap().clone(),
        vec![
            "init:first",
            "aware:first",
            "init:lazyOne",
            "aware:lazyOne",
            "init:second",
            "aware:second"
        ]
    );
    // post-processors mark other objects before and after
    assert_eq!(
        c.get_as::<Bag>("first").unwrap().marks(),
        vec!["before", "after"]
    );
    assert_eq!(
        c.get_as::<Bag>("second").unwrap().marks(),
        vec!["before", "after"]
    );
    log.lock().unwrap().clear();
    // fix: a lazy singleton gets its hooks on first creation; so does each prototype
    let lazy = c.get_as::<Bag>("lazyLater").unwrap();
    assert_eq!(lazy.marks(), vec!["before", "after"]);
    let p1 = c.get_as::<Bag>("proto").unwrap();
    let _p2 = c.get_as::<Bag>("proto").unwrap();
    assert_eq!(p1.marks(), vec!["before", "after"]);
    assert_eq!(
        log.lock().unwrap().clone(),
        vec![
            "init:lazyLater",
            "aware:lazyLater",
            "init:proto",
            "aware:proto",
            "init:proto",
            "aware:proto"
        ]
    );
    log.lock().unwrap().clear();
    c.close().await;
    let l = log.lock().unwrap().clone();
    // newest first, in reverse initialisation order (prototypes included: a prototype exporter must stop too)
    assert_eq!(
        l,
        vec![
            "destroy:proto",
            "destroy:proto",
            "destroy:lazyLater",
            "destroy:second",
            "destroy:lazyOne",
            "destroy:first"
        ]
    );
    c.close().await; // idempotent
}

#[tokio::test]
async fn proxy_factory_gets_no_hooks_and_no_traffic() {
    // testPyroFactoryDoesntGetApply: the proxy in lifecycle.xml points at port 9 where nothing
    // listens; start succeeds because the container never touches it.
    let (r, _) = registry();
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture("lifecycle.xml"))
        .start()
        .await
        .unwrap();
    let p = c.get_object("proxy").unwrap();
    assert!(p.is_proxy());
    let svc = c.get::<dyn RemoteService1>("proxy").unwrap();
    let again = c.get::<dyn RemoteService1>("proxy").unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&svc, &again),
        "proxy cached per trait"
    );
    let err = tokio::time::timeout(std::time::Duration::from_secs(10), svc.get_data("x".into()))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), tether::ErrorKind::Connection, "{err}");
    c.close().await;
}

#[tokio::test]
async fn destroy_errors_are_swallowed() {
    let (r, log) = registry();
    let xml = r#"<objects><object id="fails" class="test.Bag"/><object id="ok" class="test.Bag"/></objects>"#;
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("inline.xml"))
        .start()
        .await
        .unwrap();
    c.close().await;
    let l = log.lock().unwrap().clone();
    assert!(
        l.contains(&"destroy:fails".to_string()) && l.contains(&"destroy:ok".to_string()),
        "{l:?}"
    );
}

#[tokio::test]
async fn local_object_through_its_trait() {
    let (r, _) = registry();
    let xml = r#"<objects><object id="service" class="test.RemoteService1"/></objects>"#;
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, None)
        .start()
        .await
        .unwrap();
    let a = c.get::<dyn RemoteService1>("service").unwrap();
    let b = c.get::<dyn RemoteService1>("service").unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b), "the singleton itself");
    assert_eq!(
        a.get_data("Hello".into()).await.unwrap(),
        "You got remote data => Hello"
    );
    let e = c.get::<dyn RemoteService2>("service").err().unwrap();
    assert!(
        e.to_string().contains("does not provide RemoteService2"),
        "{e}"
    );
}

#[tokio::test]
async fn querying_objects_by_type() {
    let (r, _) = registry();
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture("lifecycle.xml"))
        .start()
        .await
        .unwrap();
    let bags: Vec<String> = c
        .objects_of_type::<Bag>()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(bags, vec!["first", "lazyOne", "second"]);
    assert_eq!(c.objects_of_type::<Marker>().len(), 1);
    c.close().await;
}
