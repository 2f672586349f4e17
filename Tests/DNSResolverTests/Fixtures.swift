import DNSResolver
import Foundation

/// rbldnsd serving the DNSBL zones the tests ask:
/// - `bl.test` (ip4set, two datasets): 127.0.0.2 → 127.0.0.2; 192.0.2.0/24 → 127.0.0.4;
///   198.51.100.7 is on both datasets → 127.0.0.2 and 127.0.0.10.
/// - `bl6.test` (ip6trie): 2001:db8::/32 → 127.0.0.3.
/// Answers carry TTL 300 (`-t 300`).
enum Rbldnsd {
    static let ttl = 300

    static let files = [
        "bl.txt": """
        :127.0.0.2:Listed $, see http://bl.test/lookup?ip=$
        127.0.0.2
        192.0.2.0/24 :127.0.0.4:Range listed
        198.51.100.7

        """,
        "bl2.txt": """
        198.51.100.7 :127.0.0.10:Also on the second list

        """,
        "bl6.txt": """
        :127.0.0.3:IPv6 listed
        2001:db8::/32

        """,
    ]

    static func start() async throws -> ServerProcess {
        try await ServerProcess.start("/usr/sbin/rbldnsd", files: files, probe: "2.0.0.127.bl.test") {
            port, directory in
            // -n: stay in the foreground, so the pid we hold is the server's. -w, not -r: no
            // chroot, works unprivileged too. As root rbldnsd refuses to stay root and switches
            // to its package's user `rbldns` (hence a world-readable directory).
            [
                "-n", "-w", directory.path, "-t", "\(ttl)", "-b", "127.0.0.1/\(port)",
                "bl.test:ip4set:bl.txt", "bl.test:ip4set:bl2.txt", "bl6.test:ip6trie:bl6.txt",
            ]
        }
    }
}

/// dnsmasq serving forward and reverse names under `example.test`, TTL 120:
/// - mail.example.test: A 192.0.2.10, AAAA 2001:db8::10, and the PTRs of both back to it.
/// - 192.0.2.20 has two PTR names, a.example.test and b.example.test.
/// - other names under example.test and 192.0.2.0/24 are NXDOMAIN (`--local`).
/// - anything else is REFUSED (no upstream servers).
enum Dnsmasq {
    static let ttl = 120

    /// `alsoIPv6`: listen on [::1] too, same port.
    static func start(alsoIPv6: Bool = false) async throws -> ServerProcess {
        try await ServerProcess.start("/usr/sbin/dnsmasq", probe: "mail.example.test") { port, _ in
            [
                "--no-daemon", "--port=\(port)", "--listen-address=127.0.0.1\(alsoIPv6 ? ",::1" : "")",
                "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file=",
                "--local-ttl=\(ttl)", "--local=/example.test/", "--local=/2.0.192.in-addr.arpa/",
                "--host-record=mail.example.test,192.0.2.10,2001:db8::10",
                "--ptr-record=20.2.0.192.in-addr.arpa,a.example.test",
                "--ptr-record=20.2.0.192.in-addr.arpa,b.example.test",
            ]
        }
    }
}

/// 2001:db8::10 and friends as bytes.
func ipv6(_ text: String) -> [UInt8] {
    var storage = in6_addr()
    precondition(inet_pton(AF_INET6, text, &storage) == 1, "not an IPv6 address: \(text)")
    return withUnsafeBytes(of: storage) { Array($0) }
}

/// Whether this machine has an IPv6 loopback (containers often run without one).
let ipv6LoopbackAvailable: Bool = {
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    address.sin6_addr = in6addr_loopback
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
        }
    }
}()
