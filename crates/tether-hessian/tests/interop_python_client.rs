//! python-hessian 1.2.0 (a Hessian 1 client; version 2 asks for Hessian 2 replies) against
//! tether's server: the same scenario gets the same answers from tether's server as from
//! Caucho's Java skeleton.

mod common;
use common::*;
use std::time::Duration;

const SCENARIO: &str = r#"
import sys, datetime
from pyhessian.client import HessianProxy
from pyhessian import protocol
url, version = sys.argv[1], int(sys.argv[2])
def check(label, fn):
    try:
        out = repr(fn())
    except protocol.Fault as f:
        out = "Fault(%s, %s, %s)" % (f.code, f.message, type(f.detail).__name__ if f.detail is not None else None)
    except Exception as e:
        out = "raised %s" % type(e).__name__
    print(label, "->", out)
def p():
    return HessianProxy(url, version=version)   # a fresh proxy per call (python-hessian's v2 bug)
check("getData", lambda: p().getData("Hello"))
check("getData non-BMP", lambda: p().getData(u"h\u00e9llo \U0001F600"))
check("add", lambda: p().add(2, 3))
check("addLong", lambda: p().addLong(protocol.long(5000000000), protocol.long(7)))
check("multiply", lambda: p().multiply(1.5, 2.0))
check("negate", lambda: p().negate(True))
check("echo int", lambda: p().echo(-262145))
check("echo none", lambda: p().echo(None))
check("echo list", lambda: p().echo([1, "x", 2.5, None]))
check("echo dict", lambda: p().echo({"a": 1}))
check("echo binary", lambda: p().echo(protocol.Binary(b"\x00\x01\xff" * 30000)) == protocol.Binary(b"\x00\x01\xff" * 30000))
check("addDay", lambda: p().addDay(datetime.datetime(2020, 1, 1, 0, 0, 0)))
check("nothing", lambda: p().nothing())
check("ping", lambda: p().ping())
check("squares", lambda: p().squares(4))
check("reverse", lambda: p().reverse([1, 2, 3]))
check("makePerson", lambda: sorted(vars(p().makePerson("Ann", 30)).items()))
check("fail", lambda: p().fail("boom"))
check("failChecked", lambda: p().failChecked("bad"))
check("noSuch", lambda: p().noSuchMethod())
print("done")
"#;

fn scenario(url: &str, version: u8) -> String {
    run(
        std::process::Command::new(python()).args(["-c", SCENARIO, url, &version.to_string()]),
        Duration::from_secs(120),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_hessian_gets_the_same_answers_from_tether_as_from_caucho() {
    let (_java, java_url) = java_server();
    let (server, tether_url) = tether_server().await;
    for version in [1u8, 2] {
        let (a, b) = (java_url.clone(), tether_url.clone());
        let j = tokio::task::spawn_blocking(move || scenario(&a, version))
            .await
            .unwrap();
        let t = tokio::task::spawn_blocking(move || scenario(&b, version))
            .await
            .unwrap();
        assert!(j.ends_with("done\n"), "{j}");
        let diff: Vec<String> = j
            .lines()
            .zip(t.lines())
            .filter(|(x, y)| x != y)
            .map(|(x, y)| format!("java:   {x}\ntether: {y}"))
            .collect();
        assert!(
            diff.is_empty(),
            "version {version}: answers differ:\n{}\n--- tether:\n{t}",
            diff.join("\n")
        );
    }
    server.shutdown().await;
}
