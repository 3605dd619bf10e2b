//! Ports of Spring Python's XMLConfig tests (contextTestCases.py) plus the deliberate fixes.
mod common;
use common::*;
use tether::Value;
use tether_context::{ApplicationContext, ContextValue};

async fn ctx(files: &[&str]) -> (ApplicationContext, Log) {
    let (r, log) = registry();
    let mut b = ApplicationContext::builder().registry(r);
    for f in files {
        b = b.xml_file(fixture(f));
    }
    (b.start().await.unwrap(), log)
}

#[tokio::test]
async fn pulling_xml_config_prototypes_and_singletons() {
    let (c1, _) = ctx(&["movies.xml"]).await;
    let (c2, _) = ctx(&["movies.xml"]).await;
    let a = c1.get_as::<Bag>("MovieLister").unwrap();
    let b = c1.get_as::<Bag>("MovieLister").unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&a, &b),
        "prototype gives a new instance per get"
    );
    let fa = a.prop("finder").as_object().unwrap();
    let fb = b.prop("finder").as_object().unwrap();
    assert!(fa.ptr_eq(fb), "singleton finder shared within a context");
    assert!(a
        .prop("description")
        .as_object()
        .unwrap()
        .ptr_eq(b.prop("description").as_object().unwrap()));
    let other = c2.get_as::<Bag>("MovieLister").unwrap();
    assert!(
        !other.prop("finder").as_object().unwrap().ptr_eq(fa),
        "differs across contexts"
    );
    assert_eq!(
        s(c1.get_as::<Bag>("MovieFinder").unwrap().prop("filename")),
        "support/movies1.txt"
    );
}

#[tokio::test]
async fn inner_objects_and_path_ids() {
    let (c, _) = ctx(&["movies.xml"]).await;
    let l2 = c.get_as::<Bag>("MovieLister2").unwrap();
    let inner = l2.prop("finder").as_object().unwrap();
    assert_eq!(inner.id(), "MovieLister2.finder.<anonymous>");
    assert_eq!(
        s(inner.downcast::<Bag>().unwrap().prop("filename")),
        "support/movies2.txt"
    );
    let l3 = c.get_as::<Bag>("MovieLister3").unwrap();
    assert_eq!(
        l3.prop("finder").as_object().unwrap().id(),
        "MovieLister3.finder.named"
    );
    for id in [
        "MovieLister2.finder.<anonymous>",
        "MovieLister3.finder.named",
        "MovieLister3.finder.named.deep.<anonymous>",
        "ListerWithList.finders.list[0].<anonymous>",
        "ListerWithList.pair.tuple(1).<anonymous>",
        "ListerWithList.bag.set(0).<anonymous>",
        "ListerWithList.fbag.frozenset(0).<anonymous>",
        "ListerWithList.map.dict['k'].<anonymous>",
        "ListerWithList.ListerWithList.constr.<anonymous>",
    ] {
        assert!(c.contains(id), "missing {id}; ids: {:?}", c.ids());
        assert!(
            c.singleton_ids().contains(&id.to_string()),
            "{id} created eagerly"
        );
    }
    // prefetching: every definition, in document order, top-level first.
    assert_eq!(c.ids().iter().filter(|i| !i.contains('.')).count(), 9);
}

#[tokio::test]
async fn values_strings_bools_and_fixes() {
    let (c, _) = ctx(&["movies.xml"]).await;
    let v = c.get_as::<Bag>("ValueHolder").unwrap();
    assert_eq!(s(v.prop("emptyAttr")), "");
    assert_eq!(
        s(v.prop("emptyElement")),
        "",
        "fix: empty <value/> is \"\" (Python: \"None\")"
    );
    assert_eq!(s(v.prop("spaces")), "  x y  ");
    assert!(v.prop("nothing").is_none(), "fix: <null/> is None");
    assert_eq!(v.prop("yes").as_value(), Some(&Value::Bool(true)));
    assert_eq!(v.prop("no").as_value(), Some(&Value::Bool(false)));
    assert_eq!(
        s(v.prop("lowerTrue")),
        "true",
        "only exact True/False become bools"
    );
    assert_eq!(s(v.prop("port")), "7000", "no numeric coercion");
    assert_eq!(v.prop("port").to_port().unwrap(), 7000, "typed sink parses");
    assert!(
        v.prop("refAndValue").as_object().is_some(),
        "ref beats value"
    );
    // fix: lazy-init="false" is eager, abstract="false" is concrete
    assert!(c.singleton_ids().contains(&"LazyFalse".to_string()));
    assert!(c.get_object("AbstractFalse").is_ok());
    // lazy-init="True" is not created until needed... but MovieLister2 refs it eagerly.
    assert!(c.singleton_ids().contains(&"SingletonString".to_string()));
}

#[tokio::test]
async fn collections() {
    let (c, _) = ctx(&["collections.xml"]).await;
    let v = c.get_as::<Bag>("ValueHolder").unwrap();
    let holder = c.get_object("StringHolder").unwrap();
    let d = v.prop("some_dict").as_dict().unwrap();
    assert_eq!(d.len(), 4);
    assert_eq!(s(&d[0].1), "World");
    assert_eq!(s(&d[1].1), "Python");
    assert!(d[2].1.as_object().unwrap().ptr_eq(&holder));
    assert!(d[3].1.as_object().unwrap().ptr_eq(&holder));
    let l = v.prop("some_list");
    assert!(matches!(l, ContextValue::List(_)));
    assert_eq!(l.as_seq().unwrap().len(), 3);
    let p = v.prop("some_props").as_dict().unwrap();
    assert_eq!(p.len(), 4);
    assert_eq!(s(&p[0].1), "administrator@example.org");
    assert_eq!(p[3].1.as_value(), Some(&Value::Bool(true)));
    let set = v.prop("some_set");
    assert!(matches!(set, ContextValue::Set(_)));
    assert_eq!(
        set.as_seq().unwrap().len(),
        3,
        "duplicates (and two refs to one singleton) collapse"
    );
    assert!(matches!(v.prop("some_frozen_set"), ContextValue::FrozenSet(x) if x.len() == 3));
    assert!(matches!(v.prop("some_tuple"), ContextValue::Tuple(x) if x.len() == 3));

    let cx = c.get_as::<Bag>("ComplexHolder").unwrap();
    let n = cx.prop("nested").as_dict().unwrap();
    let ContextValue::Tuple(t) = &n[0].1 else {
        panic!("{:?}", n[0].1)
    };
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].as_seq().unwrap().len(), 2);
    assert_eq!(
        n[1].1.to_value().unwrap(),
        Value::List(vec![
            Value::Set(vec![Value::str("a")]),
            Value::Set(vec![Value::str("b")]),
            Value::Map(vec![])
        ])
    );

    // fix: each prototype instance gets fresh collections and fresh prototype refs
    let a = c.get_as::<Bag>("PrototypeLists").unwrap();
    let b = c.get_as::<Bag>("PrototypeLists").unwrap();
    let pa = a.prop("items").as_seq().unwrap()[1]
        .as_object()
        .unwrap()
        .clone();
    let pb = b.prop("items").as_seq().unwrap()[1]
        .as_object()
        .unwrap()
        .clone();
    assert!(!pa.ptr_eq(&pb));
    assert!(
        !a.prop("proto").as_object().unwrap().ptr_eq(&pa),
        "fix: property ref to a prototype works"
    );
}

#[tokio::test]
async fn constructors_positional_named_and_refs() {
    let (c, _) = ctx(&["constructors.xml"]).await;
    let a = c.get_as::<Bag>("AttributeCtor").unwrap();
    assert_eq!(a.args.len(), 3, "index= is ignored: document order wins");
    assert_eq!(s(&a.args[0]), "first");
    assert_eq!(s(&a.args[1]), "second");
    assert!(
        a.args[2]
            .as_object()
            .unwrap()
            .ptr_eq(&c.get_object("Target").unwrap()),
        "ctor ref is the singleton"
    );
    let n = c.get_as::<Bag>("Named").unwrap();
    assert_eq!(s(n.named_arg("a")), "ay");
    assert_eq!(s(n.named_arg("b")), "bee");
    let refs = n.named_arg("refs").as_dict().unwrap();
    let target = c.get_object("Target").unwrap();
    for (k, v) in refs {
        assert!(
            v.as_seq().unwrap()[0].as_object().unwrap().ptr_eq(&target),
            "{k}"
        );
    }
    let d = c.get_as::<ConfigC>("WithDefaults").unwrap();
    assert_eq!(
        (d.0.mode.as_str(), d.0.retries),
        ("fast", 3),
        "unspecified named args keep defaults"
    );
    assert!(c.contains("InnerCtor.InnerCtor.constr.<anonymous>"));
}

#[tokio::test]
async fn abstract_inheritance() {
    let (c, _) = ctx(&["abstract.xml"]).await;
    let e = c.get_object("base").unwrap_err();
    assert!(
        e.to_string().contains("Object [base] is an abstract one."),
        "{e}"
    );
    let c1 = c.get_as::<Bag>("child1").unwrap();
    assert_eq!(s(c1.prop("path")), "/one");
    assert_eq!(s(c1.prop("port")), "3392", "port stays the string");
    assert_eq!(s(&c1.args[0]), "base0");
    assert_eq!(
        c.get_object("child1").unwrap().class(),
        "test.Bag",
        "class from the topmost ancestor"
    );
    let c2 = c.get_as::<Bag>("child2").unwrap();
    assert_eq!(s(c2.prop("path")), "/middle");
    assert_eq!(s(c2.prop("middle_only")), "m");
    assert_eq!(s(c2.prop("extra")), "x");
    assert_eq!(s(&c2.args[0]), "middle0", "positional merge by index");
    assert_eq!(s(&c2.args[1]), "base1");
    assert_eq!(s(c2.named_arg("host")), "localhost");
    let mut created = c.singleton_ids();
    created.sort();
    assert_eq!(
        created,
        vec!["child1", "child2"],
        "abstract objects are not created (fix)"
    );
}

#[tokio::test]
async fn type_shorthands() {
    let (c, _) = ctx(&["types.xml"]).await;
    assert_eq!(c.get_value("a_str").unwrap(), Value::str("My string"));
    assert_eq!(
        c.get_value("a_unicode").unwrap(),
        Value::str("My unicode string")
    );
    assert_eq!(c.get_value("an_int").unwrap(), Value::Int(7000));
    assert!(matches!(c.get_value("a_long").unwrap(), Value::BigInt(_)));
    assert_eq!(c.get_value("a_float").unwrap(), Value::Float(3.5));
    assert_eq!(c.get_value("a_decimal").unwrap(), Value::str("12.34"));
    assert_eq!(c.get_value("a_bool").unwrap(), Value::Bool(false));
    assert!(matches!(c.get_value("a_complex").unwrap(), Value::Object(o) if o.class == "complex"));
    assert_eq!(c.singleton_ids().len(), 9);
    let u = c.get_as::<Bag>("user").unwrap();
    assert_eq!(
        u.prop("port").as_value(),
        Some(&Value::Int(7000)),
        "int injected by ref"
    );
    assert_eq!(u.prop("flag").as_value(), Some(&Value::Bool(false)));
}

#[tokio::test]
async fn mixed_xsd_versions_and_no_namespace() {
    let (c, _) = ctx(&["mixed-1.0.xml", "mixed-1.1.xml", "nonamespace.xml"]).await;
    let a = c.get_as::<Bag>("from10").unwrap();
    assert!(
        a.prop("peer")
            .as_object()
            .unwrap()
            .ptr_eq(&c.get_object("from11").unwrap()),
        "refs across files"
    );
    assert_eq!(s(c.get_as::<Bag>("plain").unwrap().prop("p")), "v");
}

#[tokio::test]
async fn later_file_wins() {
    let (c, _) = ctx(&["override-a.xml", "override-b.xml"]).await;
    assert_eq!(s(c.get_as::<Bag>("shared").unwrap().prop("from")), "b");
    assert!(c.contains("onlyA"));
}
