//! The one address rule: which addresses the service must not call on a client's behalf (a webhook's receiver; a
//! PBX host). Every spelling of an address counts as what it reaches: an IPv4 address written as IPv6 (mapped,
//! compatible, SIIT, NAT64, 6to4, Teredo, ISATAP) is judged by the IPv4 address it embeds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address `url` names as its host, when it names one rather than a domain.
#[must_use]
pub fn address_literal(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// The address `url` names as its host when it names one (not a domain name) that the service must not call: what
/// a client may not register as a target (a webhook's URL, a PBX host). Names are not resolved here.
#[must_use]
pub fn forbidden_literal(url: &url::Url) -> Option<IpAddr> {
    address_literal(url).filter(|address| forbidden(*address))
}

/// Whether the service must not call `address`: unspecified, loopback, private (RFC 1918), shared (RFC 6598),
/// link-local (the cloud metadata service's 169.254.169.254 among them), broadcast, documentation, benchmarking,
/// reserved, multicast; IPv6 unique-local, site-local, link-local, discard-only (`100::/64`), documentation,
/// benchmarking and ORCHID; and any IPv6 form that embeds an IPv4 address this rule forbids, or a NAT64 prefix.
#[must_use]
pub fn forbidden(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_unspecified()
        || v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_broadcast()
        || v4.is_documentation()
        || v4.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0 && c == 0)
}

fn forbidden_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    if embedded_v4(v6).into_iter().any(forbidden_v4) {
        return true;
    }
    v6.is_unspecified()
        || v6.is_loopback()
        || v6.is_multicast()
        // Mapped (::ffff:0:0/96) and SIIT (::ffff:0:0:0/96) are judged by their IPv4 address above; the rest of
        // ::/80 (the deprecated compatible form among them) is reserved.
        || s[..5] == [0; 5] && s[5] != 0xffff
        || (s[0] & 0xfe00) == 0xfc00 // unique-local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local
        || s[..4] == [0x0100, 0, 0, 0] // discard-only
        || s[0] == 0x2001 && s[1] == 0x0db8 // documentation
        || s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0 // benchmarking
        || s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010 // ORCHID
        || s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0020 // ORCHIDv2
        // NAT64, well-known and local-use: whatever they embed, they reach it through a translator.
        || s[0] == 0x0064 && s[1] == 0xff9b
}

/// The IPv4 addresses an IPv6 address carries, by the forms that reach them.
fn embedded_v4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = v6.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    let mut embedded = Vec::new();
    // Mapped ::ffff:a.b.c.d and compatible ::a.b.c.d.
    if let Some(v4) = v6.to_ipv4() {
        embedded.push(v4);
    }
    // SIIT ::ffff:0:a.b.c.d.
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        embedded.push(v4(s[6], s[7]));
    }
    // 6to4 2002:aabb:ccdd::/48.
    if s[0] == 0x2002 {
        embedded.push(v4(s[1], s[2]));
    }
    // Teredo 2001:0:<server>::<client, inverted>.
    if s[0] == 0x2001 && s[1] == 0 {
        embedded.push(v4(s[2], s[3]));
        embedded.push(v4(!s[6], !s[7]));
    }
    // ISATAP: an interface identifier of ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d, under any prefix.
    if (s[4] == 0 || s[4] == 0x0200) && s[5] == 0x5efe {
        embedded.push(v4(s[6], s[7]));
    }
    embedded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_of_this_host_its_networks_and_the_metadata_service_are_forbidden() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(forbidden(address.parse().unwrap()), "{address}");
        }
    }

    /// Each spelling the attack of issue 32 used, and the other forms that embed an IPv4 address.
    #[test]
    fn every_ipv6_spelling_of_a_forbidden_ipv4_address_is_forbidden() {
        for (address, what) in [
            ("::ffff:127.0.0.1", "mapped"),
            ("::ffff:169.254.169.254", "mapped"),
            ("::ffff:10.0.0.1", "mapped"),
            ("::127.0.0.1", "compatible"),
            ("::ffff:0:7f00:1", "SIIT, 127.0.0.1"),
            ("::ffff:0:a9fe:a9fe", "SIIT, 169.254.169.254"),
            ("2002:7f00:1::", "6to4, 127.0.0.1"),
            ("2002:a9fe:a9fe::1", "6to4, 169.254.169.254"),
            ("2002:c0a8:101::", "6to4, 192.168.1.1"),
            ("2001:0:7f00:1::", "Teredo, server 127.0.0.1"),
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo, client 127.0.0.1"),
            ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo, client 10.0.0.1"),
            ("2606:4700::5efe:7f00:1", "ISATAP, 127.0.0.1"),
            ("2606:4700::200:5efe:a00:1", "ISATAP, 10.0.0.1"),
            ("64:ff9b::7f00:1", "NAT64, 127.0.0.1"),
            ("64:ff9b::808:808", "NAT64, any"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
            ("100::ffff:ffff:ffff:ffff", "discard-only"),
            ("::2:3:4", "reserved"),
            ("2001:2::1", "benchmarking"),
            ("2001:10::1", "ORCHID"),
            ("2001:20::1", "ORCHIDv2"),
        ] {
            assert!(forbidden(address.parse().unwrap()), "{address} ({what})");
        }
    }

    #[test]
    fn a_url_naming_a_forbidden_address_is_told_and_a_name_is_not_resolved() {
        for (url, address) in [
            ("https://127.0.0.1:19443", "127.0.0.1"),
            ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
            ("https://[::1]", "::1"),
            ("wss://10.0.0.1/ws", "10.0.0.1"),
            ("https://[2002:7f00:1::]/", "2002:7f00:1::"),
            ("https://[::ffff:0:7f00:1]/", "::ffff:0:7f00:1"),
        ] {
            assert_eq!(forbidden_literal(&url::Url::parse(url).unwrap()), Some(address.parse().unwrap()), "{url}");
        }
        for url in ["https://rest.example.com", "https://localhost:8443", "https://93.184.216.34/"] {
            assert_eq!(forbidden_literal(&url::Url::parse(url).unwrap()), None, "{url}");
        }
    }

    #[test]
    fn public_addresses_in_any_spelling_are_allowed() {
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "2606:2800:220:1:248:1893:25c8:1946",
            "::ffff:8.8.8.8",
            "2002:5db8:d822::1",
            "2001:0:4136:e378:8000:63bf:a2b7:27dd",
            "2a00:1450:4001:80b::200e",
            "::ffff:0:808:808",
            "100:0:0:1::1",
        ] {
            assert!(!forbidden(address.parse().unwrap()), "{address}");
        }
    }
}
