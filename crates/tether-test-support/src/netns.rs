//! Test hosts in network namespaces the tests make themselves: a veth pair per host with
//! private addresses of its own (10.X.Y.0/24, X from the test process, Y per host), so a
//! server can be made to vanish the ways machines do: a black hole (iptables DROP: packets and
//! SYNs get no answer), a partition (the link down), and back. Needs root, `ip` (iproute2) and
//! `iptables`; where they are missing, [`Hosts::create`] says why and the test skips loudly.

use crate::Proc;
use std::process::{Command, Stdio};

/// One host: a namespace and the host side of its link.
pub struct Host {
    ns: String,
    link: String,
    addr: String,
    outside: String,
    net: String,
}

/// Several hosts, removed (namespaces and links) when dropped.
pub struct Hosts(pub Vec<Host>);

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Hosts {
    /// `n` hosts for test number `tag` (0..=9) of this process, or why they cannot be made.
    pub fn create(tag: u32, n: u32) -> Result<Hosts, String> {
        let pid = std::process::id();
        let x = 20 + (pid % 200);
        let mut hosts = Hosts(Vec::new());
        for i in 0..n {
            let id = format!("{}{}{}", pid % 100_000, tag, i);
            let ns = format!("tt{id}");
            let link = format!("th{id}");
            let peer = format!("tn{id}");
            let y = tag * 10 + i;
            let host_ip = format!("10.{x}.{y}.1");
            let addr = format!("10.{x}.{y}.2");
            run(&["ip", "netns", "add", &ns])?;
            hosts.0.push(Host {
                ns: ns.clone(),
                link: link.clone(),
                addr: addr.clone(),
                outside: host_ip.clone(),
                net: format!("10.{x}.{y}.0/24"),
            });
            run(&[
                "ip", "link", "add", &link, "type", "veth", "peer", "name", &peer,
            ])?;
            run(&["ip", "link", "set", &peer, "netns", &ns])?;
            run(&["ip", "addr", "add", &format!("{host_ip}/24"), "dev", &link])?;
            run(&["ip", "link", "set", &link, "up"])?;
            // While the link is down (a partition), packets for the host's network are dropped
            // here instead of following the default route off the machine: no address but
            // the test's own is ever a target.
            run(&[
                "ip",
                "route",
                "add",
                "blackhole",
                &format!("10.{x}.{y}.0/24"),
                "metric",
                "4000",
            ])?;
            run(&[
                "ip",
                "netns",
                "exec",
                &ns,
                "ip",
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                &peer,
            ])?;
            run(&["ip", "netns", "exec", &ns, "ip", "link", "set", &peer, "up"])?;
            run(&["ip", "netns", "exec", &ns, "ip", "link", "set", "lo", "up"])?;
            run(&["ip", "netns", "exec", &ns, "iptables", "-L", "-n"])?;
        }
        Ok(hosts)
    }
}

impl Host {
    /// The host's address (only this test's hosts ever have it).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The machine's side of the host's link: the address the host reaches the machine at
    /// (and loses while partitioned).
    pub fn outside_addr(&self) -> &str {
        &self.outside
    }

    /// Starts `program args` inside the host.
    pub fn spawn(&self, program: &std::path::Path, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns]).arg(program).args(args);
        c
    }

    /// Packets to the host vanish (SYNs included): a machine that is gone.
    pub fn black_hole(&self) {
        let _ = run(&[
            "ip", "netns", "exec", &self.ns, "iptables", "-I", "INPUT", "-j", "DROP",
        ]);
    }

    /// Packets reach the host again.
    pub fn unblock(&self) {
        let _ = run(&[
            "ip", "netns", "exec", &self.ns, "iptables", "-D", "INPUT", "-j", "DROP",
        ]);
    }

    /// The host's link goes down: a partition.
    pub fn partition(&self) {
        let _ = run(&["ip", "link", "set", &self.link, "down"]);
    }

    /// The link comes back.
    pub fn heal(&self) {
        let _ = run(&["ip", "link", "set", &self.link, "up"]);
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for h in &self.0 {
            let _ = run(&["ip", "link", "del", &h.link]);
            let _ = run(&["ip", "route", "del", "blackhole", &h.net, "metric", "4000"]);
            let _ = run(&["ip", "netns", "del", &h.ns]);
        }
    }
}

/// Keeps a process started in a host (stopped by pid when dropped, like [`Proc`]).
pub type HostProc = Proc;
