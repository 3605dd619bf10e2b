//! Bad configurations: each error names the file, the line, the object id and what was expected.
mod common;
use common::*;
use tether_context::{ApplicationContext, ContextError, ContextErrorKind as K};

async fn start(file: &str) -> Result<ApplicationContext, ContextError> {
    let (r, _) = registry();
    ApplicationContext::builder()
        .registry(r)
        .xml_file(fixture(file))
        .start()
        .await
}

fn check(e: &ContextError, kind: K, file: &str, line: u32, id: Option<&str>, needle: &str) {
    let text = e.to_string();
    assert_eq!(e.kind(), kind, "{text}");
    assert!(e.file().unwrap().ends_with(file), "{text}");
    assert_eq!(e.line(), Some(line), "{text}");
    assert_eq!(e.object_id(), id, "{text}");
    assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    assert!(
        text.starts_with(&e.file().unwrap().display().to_string()),
        "{text}"
    );
}

#[tokio::test]
async fn malformed() {
    let e = start("bad-malformed.xml").await.unwrap_err();
    check(
        &e,
        K::Malformed,
        "bad-malformed.xml",
        8,
        None,
        "malformed XML",
    );
}

#[tokio::test]
async fn unknown_element() {
    let e = start("bad-unknown-element.xml").await.unwrap_err();
    check(
        &e,
        K::UnknownElement,
        "bad-unknown-element.xml",
        7,
        None,
        "unknown element <bean>",
    );
}

#[tokio::test]
async fn unknown_class_lists_registered() {
    let e = start("bad-unknown-class.xml").await.unwrap_err();
    check(
        &e,
        K::UnknownClass,
        "bad-unknown-class.xml",
        7,
        Some("svc"),
        "unknown class 'server.Nope'",
    );
    let t = e.to_string();
    assert!(
        t.contains("test.Bag") && t.contains("springpython.remoting.pyro.PyroServiceExporter"),
        "{t}"
    );
}

#[tokio::test]
async fn missing_ref() {
    let e = start("bad-missing-ref.xml").await.unwrap_err();
    check(
        &e,
        K::MissingRef,
        "bad-missing-ref.xml",
        7,
        Some("a"),
        "reference to 'nowhere'",
    );
}

#[tokio::test]
async fn cycle_reports_chain() {
    let e = start("bad-cycle.xml").await.unwrap_err();
    check(
        &e,
        K::Cycle,
        "bad-cycle.xml",
        6,
        Some("a"),
        "dependency cycle: a -> b -> c -> a",
    );
}

#[tokio::test]
async fn duplicate_id_in_one_file() {
    let e = start("bad-duplicate.xml").await.unwrap_err();
    check(
        &e,
        K::Definition,
        "bad-duplicate.xml",
        7,
        Some("a"),
        "duplicate id",
    );
}

#[tokio::test]
async fn bad_port() {
    let e = start("bad-port.xml").await.unwrap_err();
    check(
        &e,
        K::BadProperty,
        "bad-port.xml",
        10,
        Some("exporter"),
        "port 70000 is out of range",
    );
}

#[tokio::test]
async fn hessian_bad_option() {
    let e = start("bad-hessian.xml").await.unwrap_err();
    check(
        &e,
        K::BadProperty,
        "bad-hessian.xml",
        8,
        Some("client"),
        "unknown Hessian request format \"hessian3\"",
    );
}

#[tokio::test]
async fn bad_scope_and_import() {
    let e = start("bad-scope.xml").await.unwrap_err();
    check(
        &e,
        K::Definition,
        "bad-scope.xml",
        6,
        Some("a"),
        "scope=\"session\"",
    );
    let e = start("bad-import.xml").await.unwrap_err();
    check(
        &e,
        K::UnknownElement,
        "bad-import.xml",
        6,
        None,
        "<import> is not supported",
    );
}

#[tokio::test]
async fn missing_file() {
    let e = start("does-not-exist.xml").await.unwrap_err();
    assert_eq!(e.kind(), K::Io);
    assert!(e.to_string().contains("does-not-exist.xml"));
    // The file alone, no line: "FILE: cannot read: ...".
    assert_eq!(e.line(), None);
    assert!(
        e.to_string().contains("does-not-exist.xml: cannot read: "),
        "{e}"
    );
}

#[tokio::test]
async fn garbage_and_deep_nesting() {
    let (r, _) = registry();
    for text in [
        "",
        "\u{0}\u{1}garbage",
        "<objects><object id='a' class='test.Bag'><property name='p'/></object></objects>",
    ] {
        let e = ApplicationContext::builder()
            .registry(r.clone())
            .xml_str(text, Some("g.xml"))
            .start()
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("g.xml:"), "{e}");
    }
    let deep = format!(
        "<objects><object id='a' class='test.Bag'><property name='p'>{}{}</property></object></objects>",
        "<list>".repeat(100),
        "</list>".repeat(100)
    );
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(deep, Some("d.xml"))
        .start()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nesting deeper"), "{e}");
}

#[tokio::test]
async fn entity_expansion_bomb_is_refused() {
    let (r, _) = registry();
    let mut dtd = String::from("<!DOCTYPE objects [<!ENTITY a0 \"xxxxxxxxxx\">");
    for i in 1..12 {
        dtd.push_str(&format!(
            "<!ENTITY a{i} \"{}\">",
            format!("&a{};", i - 1).repeat(10)
        ));
    }
    dtd.push_str("]>");
    let xml = format!("{dtd}<objects><object id='a' class='test.Bag'><property name='p' value='&a11;'/></object></objects>");
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        ApplicationContext::builder()
            .registry(r)
            .xml_str(xml, Some("bomb.xml"))
            .start(),
    )
    .await
    .unwrap();
    let e = res.unwrap_err();
    assert_eq!(e.kind(), K::Malformed, "{e}");
}
