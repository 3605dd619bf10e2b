//! The directory seam: a directory registered from outside the container (an in-memory board
//! here) lists an exporter named by its `discovery` URL and feeds a pool that follows it, with
//! no change to any container file; a graceful close withdraws the entry and the pool drops it;
//! a URL no directory answers, or one its directory refuses, is a configuration error naming the
//! file, line and object.
mod common;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_context::remoting::{
    Directory, Listed, Listing, Members, Role, ServiceExporter, TransportError,
};
use tether_context::{ApplicationContext, ContextErrorKind};
use tether_core::{BoxFuture, RemoteError};

/// What the board holds: (directory URL, listing), and the withdrawn names; `urls` is what a
/// follower sees (the listed URLs).
#[derive(Clone)]
struct Board {
    listed: Arc<Mutex<Vec<(String, Listing)>>>,
    withdrawn: Arc<Mutex<Vec<String>>>,
    urls: Arc<tokio::sync::watch::Sender<Vec<String>>>,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            listed: Arc::default(),
            withdrawn: Arc::default(),
            urls: Arc::new(tokio::sync::watch::channel(Vec::new()).0),
        }
    }
}

impl Board {
    fn publish(&self) {
        let urls = self
            .listed
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| l.url.clone())
            .collect();
        self.urls.send_replace(urls);
    }
}

impl Directory for Board {
    fn scheme(&self) -> &'static str {
        "board"
    }

    fn check(&self, url: &str, _role: Role) -> Result<(), TransportError> {
        if url.ends_with('/') {
            Ok(())
        } else {
            Err(TransportError::bad_url(format!(
                "{url:?}: a board URL ends in '/'"
            )))
        }
    }

    fn list(
        &self,
        url: &str,
        listing: Listing,
    ) -> BoxFuture<'static, Result<Box<dyn Listed>, RemoteError>> {
        let board = self.clone();
        let url = url.to_string();
        Box::pin(async move {
            if url.contains("full") {
                return Err(RemoteError::connection("the board is full"));
            }
            if url.contains("far") {
                // A directory across a network: its reply takes a while (a timer here).
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let name = listing.name.clone();
            let far = url.contains("far");
            board.listed.lock().unwrap().push((url, listing));
            board.publish();
            Ok(Box::new(Pin(board, name, far)) as Box<dyn Listed>)
        })
    }

    fn follow(
        &self,
        _url: &str,
        _interval: Duration,
    ) -> BoxFuture<'static, Result<Members, RemoteError>> {
        let members = Members::new(self.urls.subscribe(), ());
        Box::pin(async move { Ok(members) })
    }
}

/// A listing: its board, its name, whether its withdrawal crosses a network (waits).
struct Pin(Board, String, bool);

impl Listed for Pin {
    fn withdraw(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if self.2 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            self.0
                .listed
                .lock()
                .unwrap()
                .retain(|(_, l)| l.name != self.1);
            self.0.publish();
            self.0.withdrawn.lock().unwrap().push(self.1);
        })
    }
}

fn registry_with_board() -> (tether_context::ClassRegistry, Board) {
    let (mut r, _) = registry();
    let board = Board::default();
    r.register_directory(Arc::new(board.clone()));
    (r, board)
}

fn exporter_xml(discovery: &str) -> String {
    format!(
        "<objects>\n<object id=\"s\" class=\"test.RemoteService1\"/>\n<object id=\"e\" class=\"tether.pyro.ServiceExporter\">\n<property name=\"service\" ref=\"s\"/><property name=\"service_name\" value=\"Listed\"/>\n<property name=\"service_host\" value=\"127.0.0.1\"/><property name=\"service_port\" value=\"0\"/>\n<property name=\"discovery\" value=\"{discovery}\"/><property name=\"discovery_ttl\" value=\"7\"/>\n</object>\n</objects>"
    )
}

#[tokio::test]
async fn an_exporter_lists_itself_in_a_directory_registered_from_outside() {
    let (r, board) = registry_with_board();
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(exporter_xml("board://lobby/"), Some("listed.xml"))
        .start()
        .await
        .unwrap();
    let exporter = c.get_as::<ServiceExporter>("e").unwrap();
    let (uri, addr) = (exporter.uri().unwrap(), exporter.local_addr().unwrap());
    {
        let listed = board.listed.lock().unwrap();
        assert_eq!(listed.len(), 1);
        let (url, l) = &listed[0];
        assert_eq!(url, "board://lobby/");
        assert_eq!(l.name, "Listed");
        assert_eq!(l.url, uri, "the directory gets the URL clients dial");
        assert_eq!(l.addr, addr);
        assert_eq!(l.ttl, Duration::from_secs(7));
    }
    // The listed URL reaches the service.
    let proxy = tether_context::remoting::ProxyFactory::by_url(
        tether_context::remoting::ClassFamily::plain("", "x", "x"),
        c.registry().protocols().clone(),
    );
    let mut proxy = proxy;
    proxy.set_service_url(&uri).unwrap();
    assert_eq!(
        proxy
            .service::<dyn RemoteService1>()
            .get_data("d".into())
            .await
            .unwrap(),
        "You got remote data => d"
    );
    assert!(board.withdrawn.lock().unwrap().is_empty());
    c.close().await;
    assert_eq!(*board.withdrawn.lock().unwrap(), vec!["Listed".to_string()]);
}

#[tokio::test]
async fn a_pool_follows_what_exporters_list() {
    let (r, board) = registry_with_board();
    let server = ApplicationContext::builder()
        .registry(r.clone())
        .xml_str(exporter_xml("board://lobby/"), Some("server.xml"))
        .start()
        .await
        .unwrap();
    let client_xml = r#"<objects>
      <object id="pool" class="tether.cluster.PoolProxyFactory">
        <property name="discovery" value="board://lobby/"/>
      </object>
    </objects>"#;
    let client = ApplicationContext::builder()
        .registry(r)
        .xml_str(client_xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let service = client.get::<dyn RemoteService1>("pool").unwrap();
    assert_eq!(
        service.get_data("p".into()).await.unwrap(),
        "You got remote data => p"
    );
    // The exporter leaves the board: the pool has no member left, and says so.
    server.close().await;
    assert!(board.urls.borrow().is_empty());
    let mut last = None;
    for _ in 0..100 {
        match service.get_data("q".into()).await {
            Err(e) if e.message().contains("no endpoints") => {
                last = None;
                break;
            }
            other => last = Some(format!("{other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(last.is_none(), "the pool kept a withdrawn member: {last:?}");
    client.close().await;
}

#[tokio::test]
async fn directory_errors_name_the_file_line_and_object() {
    // No directory answers the scheme: the error lists those that do.
    let (r, _) = registry_with_board();
    let e = ApplicationContext::builder()
        .registry(r.clone())
        .xml_str(exporter_xml("zookeeper://h:2181/x/"), Some("zk.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ContextErrorKind::BadProperty);
    assert_eq!(e.object_id(), Some("e"));
    assert_eq!(e.line(), Some(6), "the discovery property's line");
    let t = e.to_string();
    assert!(t.contains("zk.xml") && t.contains("board://"), "{t}");

    // The directory refuses the URL when the property is set.
    let e = ApplicationContext::builder()
        .registry(r.clone())
        .xml_str(exporter_xml("board://lobby"), Some("bad.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.line(), Some(6), "the discovery property's line");
    assert!(e.to_string().contains("ends in '/'"), "{e}");

    // Listing fails at start: the exporter's server is released (the port is free again).
    let e = ApplicationContext::builder()
        .registry(r)
        .xml_str(exporter_xml("board://full/"), Some("full.xml"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(e.object_id(), Some("e"));
    assert!(
        e.to_string()
            .contains("cannot register Listed in board://full/: the board is full"),
        "{e}"
    );
}

/// A directory across a network: its listing and its withdrawal wait (a timer stands for the
/// network) while the exporter's synchronous hooks wait for them. The context's start and close
/// run the hooks off the thread that drives the runtime, so both complete on either flavour.
async fn listing_and_withdrawal_that_wait(board: Board, r: tether_context::ClassRegistry) {
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(exporter_xml("board://far/"), Some("far.xml"))
        .start()
        .await
        .unwrap();
    assert!(c.is_serving());
    assert_eq!(board.listed.lock().unwrap().len(), 1);
    c.close().await;
    assert!(board.listed.lock().unwrap().is_empty());
    assert_eq!(*board.withdrawn.lock().unwrap(), vec!["Listed".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_waits_completes_on_a_multi_thread_runtime() {
    let (r, board) = registry_with_board();
    listing_and_withdrawal_that_wait(board, r).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_listing_that_waits_completes_on_a_current_thread_runtime() {
    let (r, board) = registry_with_board();
    listing_and_withdrawal_that_wait(board, r).await;
}

/// A lazy exporter made by a `get` straight from a current-thread runtime's one thread has
/// nobody to drive its listing while the `get` waits: a clear error naming the object, the file
/// and the runtime it needs, within seconds, instead of a hang.
#[tokio::test(flavor = "current_thread")]
async fn a_lazy_listing_that_waits_on_a_current_thread_runtime_is_a_clear_error() {
    let (r, board) = registry_with_board();
    let xml = exporter_xml("board://far/").replace(
        "class=\"tether.pyro.ServiceExporter\"",
        "class=\"tether.pyro.ServiceExporter\" lazy-init=\"true\"",
    );
    let c = ApplicationContext::builder()
        .registry(r)
        .xml_str(xml, Some("far.xml"))
        .start()
        .await
        .unwrap();
    assert!(
        board.listed.lock().unwrap().is_empty(),
        "lazy: not made yet"
    );
    let started = std::time::Instant::now();
    let e = c.get_object("e").unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(e.object_id(), Some("e"));
    let t = e.to_string();
    assert!(
        t.contains("far.xml") && t.contains("multi-thread runtime"),
        "{t}"
    );
    assert!(board.listed.lock().unwrap().is_empty());
    c.close().await;
}
