//! Which network addresses a document or a server may send the fetcher to.
//!
//! A feed item's link, an article fetched for its full text and a redirect to another host are
//! chosen by someone other than the user, so they must not reach the user's own machine or
//! network (server-side request forgery): [`restricted`] names the kind of address refused, and
//! [`Resolver`] resolves host names for the fetcher's guarded client, handing reqwest only the
//! addresses that passed, so the connection goes to the address that was checked.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The kind of a restricted address, or `None` for an address on the public internet:
/// loopback (127.0.0.0/8, ::1), private (RFC 1918, fc00::/7 ULA, fec0::/10 site-local),
/// shared (100.64.0.0/10, carrier-grade NAT), link-local (169.254.0.0/16, fe80::/10),
/// unspecified (0.0.0.0/8, ::), multicast and broadcast. An IPv6 address that carries an IPv4
/// one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`)
/// is judged by the IPv4 address.
pub(crate) fn restricted(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => restricted_v4(v4),
        IpAddr::V6(v6) => restricted_v6(v6),
    }
}

fn restricted_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else {
        None
    }
}

fn restricted_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = embedded_v4(ip) {
        return restricted_v4(v4);
    }
    if seg[0] & 0xfe00 == 0xfc00 || seg[0] & 0xffc0 == 0xfec0 {
        Some("private")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:0:0/96`),
/// IPv4-compatible (`::/96`, deprecated but still routed by some stacks) and the NAT64
/// well-known prefix (`64:ff9b::/96`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let tail = || {
        let o = ip.octets();
        Ipv4Addr::new(o[12], o[13], o[14], o[15])
    };
    match seg[..6] {
        [0, 0, 0, 0, 0, 0xffff] | [0, 0, 0, 0, 0, 0] | [0x64, 0xff9b, 0, 0, 0, 0] => Some(tail()),
        _ => None,
    }
}

/// A host name whose every address is restricted; the guarded resolver's error, found again in
/// the chain of reqwest's error by the fetcher.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    /// The first restricted address found.
    pub(crate) addr: IpAddr,
    /// Its kind, from [`restricted`].
    pub(crate) kind: &'static str,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is a {} address", self.addr, self.kind)
    }
}

impl std::error::Error for Refusal {}

/// How long the open resolver keeps a name's addresses: one fetch and its redirects to the same
/// host connect to the addresses its first request did, so a server cannot answer the first
/// lookup with a public address and the next with a private one (DNS rebinding).
const PIN_FOR: Duration = Duration::from_secs(60);

/// The fetcher's DNS resolver. Guarded, it drops restricted addresses from an answer and fails
/// with a [`Refusal`] when none is left. Open (for hosts the user named), it keeps every address
/// but answers a name with the same addresses for [`PIN_FOR`].
#[derive(Clone)]
pub(crate) struct Resolver {
    inner: std::sync::Arc<ResolverState>,
}

struct ResolverState {
    guarded: bool,
    /// Names that resolve freely even when guarded: the hosts of the proxies reqwest reads from
    /// the environment, which connect on the user's behalf.
    proxies: Vec<String>,
    pinned: Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>,
}

impl Resolver {
    /// A guarded resolver (`guarded`) or an open one.
    pub(crate) fn new(guarded: bool) -> Resolver {
        Resolver::with_proxies(guarded, proxy_hosts())
    }

    fn with_proxies(guarded: bool, proxies: Vec<String>) -> Resolver {
        let state = ResolverState { guarded, proxies, pinned: Mutex::new(HashMap::new()) };
        Resolver { inner: std::sync::Arc::new(state) }
    }
}

impl ResolverState {
    fn pinned(&self, name: &str) -> Option<Vec<SocketAddr>> {
        let pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        pinned.get(name).filter(|(at, _)| at.elapsed() < PIN_FOR).map(|(_, addrs)| addrs.clone())
    }

    fn pin(&self, name: &str, addrs: &[SocketAddr]) {
        let mut pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        pinned.retain(|_, (at, _)| at.elapsed() < PIN_FOR);
        pinned.insert(name.to_string(), (Instant::now(), addrs.to_vec()));
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.inner.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let addrs = match this.pinned(&host) {
                Some(addrs) => addrs,
                None => {
                    let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
                    if !this.guarded {
                        this.pin(&host, &found);
                    }
                    found
                }
            };
            if !this.guarded || this.proxies.contains(&host) {
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                addrs.into_iter().partition(|a| restricted(a.ip()).is_none());
            match (allowed.is_empty(), refused.first()) {
                (true, Some(first)) => {
                    let kind = restricted(first.ip()).unwrap_or("restricted");
                    Err(Box::new(Refusal { addr: first.ip(), kind })
                        as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// The host names of the proxies set in the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
/// `ALL_PROXY`, either case), which reqwest connects through.
fn proxy_hosts() -> Vec<String> {
    ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .filter_map(|v| {
            let v = if v.contains("://") { v } else { format!("http://{v}") };
            url::Url::parse(&v).ok()?.host_str().map(str::to_ascii_lowercase)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        restricted(s.parse().unwrap())
    }

    #[test]
    fn private_loopback_link_local_and_unspecified_are_restricted() {
        for (addr, expect) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("::1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("fc00::1", "private"),
            ("fd12:3456::1", "private"),
            ("fec0::1", "private"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("100.127.255.254", "shared (carrier-grade NAT)"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("::", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("255.255.255.255", "broadcast"),
            // IPv6 forms of IPv4 addresses are judged by the IPv4 address.
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:0.0.0.0", "unspecified"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::192.168.0.1", "private"),
        ] {
            assert_eq!(kind(addr), Some(expect), "{addr}");
        }
    }

    #[test]
    fn public_addresses_are_not() {
        for addr in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "100.63.255.255",
            "169.253.0.1",
            "1.0.0.0",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            assert_eq!(kind(addr), None, "{addr}");
        }
    }

    #[tokio::test]
    async fn the_guarded_resolver_refuses_a_name_with_only_restricted_addresses() {
        let guarded = Resolver::with_proxies(true, Vec::new());
        let err = match guarded.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let refusal = err.downcast_ref::<Refusal>().expect("a refusal");
        assert_eq!(refusal.kind, "loopback");
        let open = Resolver::with_proxies(false, Vec::new());
        let addrs: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty(), "{addrs:?}");
    }

    #[tokio::test]
    async fn the_open_resolver_answers_a_name_as_it_did_the_first_time() {
        let open = Resolver::with_proxies(false, Vec::new());
        let first: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert_eq!(open.inner.pinned("localhost"), Some(first));
        // What a name was pinned to is what it resolves to, whatever DNS would say now.
        let elsewhere: SocketAddr = "93.184.216.34:0".parse().unwrap();
        open.inner.pin("localhost", &[elsewhere]);
        let again: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert_eq!(again, [elsewhere]);
        // The guarded resolver judges the pinned addresses too.
        let guarded = Resolver::with_proxies(true, Vec::new());
        guarded.inner.pin("example.test", &["10.0.0.7:0".parse().unwrap()]);
        assert!(guarded.resolve("example.test".parse().unwrap()).await.is_err());
    }
}
