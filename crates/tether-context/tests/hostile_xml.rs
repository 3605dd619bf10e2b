//! Context files written by an attacker: deep nesting, too many attributes, endless input, and
//! a very large file. Each is refused with the file and line (or loads), never a crash.
mod common;
use common::*;
use tether_context::{ApplicationContext, ContextErrorKind};

async fn load(xml: String, name: &str) -> Result<ApplicationContext, tether_context::ContextError> {
    let (r, _) = registry();
    ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some(name))
        .start()
        .await
}

#[tokio::test]
async fn deep_nesting_is_refused_with_its_line_not_a_stack_overflow() {
    let n = 50_000;
    let xml = format!(
        "<objects>\n<object id=\"x\" class=\"test.Bag\">\n<property name=\"p\">{}{}</property></object></objects>",
        "<list>\n".repeat(n),
        "</list>".repeat(n)
    );
    let e = load(xml, "deep.xml").await.unwrap_err();
    assert_eq!(e.kind(), ContextErrorKind::Malformed);
    // Levels 1-3 are objects, object, property; list k (level k + 3) opens on line k + 2, so
    // level 257 is on line 256.
    assert!(
        e.to_string()
            .starts_with("deep.xml:256: elements nested more than the 256 levels"),
        "{e}"
    );
    // 7,000 nested inner objects.
    let mut xml = String::from("<objects><object id=\"x\" class=\"test.Bag\">");
    for _ in 0..7000 {
        xml.push_str("<property name=\"p\"><object class=\"test.Bag\">");
    }
    for _ in 0..7000 {
        xml.push_str("</object></property>");
    }
    xml.push_str("</object></objects>");
    let e = load(xml, "inner.xml").await.unwrap_err();
    assert!(e.to_string().contains("nested more than"), "{e}");
    // Nesting the container's own limit allows is refused by the container, still located.
    let xml = format!(
        "<objects><object id=\"x\" class=\"test.Bag\"><property name=\"p\">{}{}</property></object></objects>",
        "<list>".repeat(100),
        "</list>".repeat(100)
    );
    let e = load(xml, "lists.xml").await.unwrap_err();
    assert!(e.to_string().contains("nesting deeper than 64"), "{e}");
}

#[tokio::test]
async fn too_many_attributes_are_refused() {
    let attrs: String = (0..10_000).map(|i| format!(" a{i}=\"1\"")).collect();
    let xml = format!("<objects>\n\n<object id=\"x\" class=\"test.Bag\"{attrs}/></objects>");
    let e = load(xml, "attrs.xml").await.unwrap_err();
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(
        e.to_string().contains("more than the 256 attributes"),
        "{e}"
    );
}

#[tokio::test]
async fn endless_input_is_capped_by_bytes_read() {
    let (r, _) = registry();
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_file("/dev/zero")
        .start()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("larger than the 16777216 bytes allowed"),
        "{e}"
    );
}

#[tokio::test]
async fn a_large_file_loads() {
    // 50,000 lazy objects (about 3.5 MB): every object's line is found without rescanning the
    // file, so this loads in linear time.
    let mut xml = String::from("<objects>\n");
    for i in 0..50_000 {
        xml.push_str(&format!(
            "<object id=\"o{i}\" class=\"test.Bag\" lazy-init=\"true\"><property name=\"n\" value=\"{i}\"/></object>\n"
        ));
    }
    xml.push_str("<object id=\"bad\" class=\"nope.Nope\"/>\n</objects>");
    let e = load(xml, "big.xml").await.unwrap_err();
    // The error still names the right line at the end of the file.
    assert!(e.to_string().starts_with("big.xml:50002:"), "{e}");
}
