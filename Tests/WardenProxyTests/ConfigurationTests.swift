import Foundation
import Logging
import Testing

@testable import WardenProxy

/// The smallest valid file: one listener and an upstream, 8 lines, so that text appended to it
/// starts at line 9.
private let minimal = """
    [[listener]]
    name = "smtp"
    address = "127.0.0.1"
    port = 2525

    [upstream]
    url = "maildir:var/maildir"


    """

@Suite struct ConfigurationTests {
    @Test func shippedFileLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let configuration = try WardenConfiguration.load(path: root + "/warden.toml")

        #expect(configuration.sourcePath == root + "/warden.toml")
        #expect(configuration.server == ServerConfiguration(hostname: "warden.localhost"))
        #expect(
            configuration.listeners == [
                ListenerConfiguration(
                    name: "smtp",
                    address: "127.0.0.1",
                    port: 2525,
                    kind: .smtp,
                    starttls: true,
                    auth: false
                ),
                ListenerConfiguration(
                    name: "submission",
                    address: "127.0.0.1",
                    port: 2587,
                    kind: .submission,
                    starttls: true,
                    auth: true
                ),
            ]
        )
        #expect(
            configuration.tls
                == TLSFilesConfiguration(
                    certificate: root + "/var/tls/cert.pem",
                    key: root + "/var/tls/key.pem",
                    createSelfSigned: true
                )
        )
        #expect(
            configuration.upstream
                == UpstreamConfiguration(target: .maildir(path: root + "/var/maildir"), heloName: "warden.localhost")
        )
        #expect(configuration.limits == LimitsConfiguration())
        #expect(configuration.timeouts == TimeoutsConfiguration())
        #expect(configuration.relay == RelayConfiguration(acceptedDomains: ["example.test", "localhost"]))
        #expect(configuration.log == LogConfiguration(format: .logfmt, level: .info))
        #expect(configuration.metrics == MetricsConfiguration(address: "127.0.0.1:9525"))
        #expect(
            configuration.policy == PolicyPathsConfiguration(rules: root + "/Rules", blocklists: root + "/Blocklists")
        )
    }

    @Test func absentKeysTakeTheirDefaults() throws {
        let configuration = try WardenConfiguration.parse(toml: minimal, path: "/etc/warden/warden.toml")
        let hostname = ServerConfiguration.machineHostname()

        #expect(configuration.sourcePath == "/etc/warden/warden.toml")
        #expect(
            configuration.server
                == ServerConfiguration(
                    hostname: hostname,
                    maxSessions: 2000,
                    maxSessionsPerClient: 50,
                    shutdownGraceSeconds: 30
                )
        )
        let listener = try #require(configuration.listeners.first)
        #expect(listener == ListenerConfiguration(name: "smtp", address: "127.0.0.1", port: 2525))
        #expect(listener.kind == .smtp && !listener.starttls && !listener.auth && !listener.authBeforeTLS)
        #expect(
            !listener.proxyProtocol && listener.proxyTrusted.isEmpty && listener.certificate == nil
                && listener.key == nil
        )
        #expect(configuration.tls == TLSFilesConfiguration(certificate: nil, key: nil, createSelfSigned: false))

        let upstream = configuration.upstream
        #expect(upstream.target == .maildir(path: "/etc/warden/var/maildir"))
        #expect(upstream.heloName == hostname)
        #expect(
            upstream.tls == .off && upstream.tlsVerify && upstream.tlsCAFile == nil && upstream.tlsServerName == nil
        )
        #expect(upstream.xclient && upstream.proxyProtocol == .off)
        #expect(
            upstream.connectTimeoutSeconds == 10 && upstream.commandTimeoutSeconds == 300
                && upstream.dataTimeoutSeconds == 600
        )
        #expect(upstream.reuseIdleSeconds == 5)

        let limits = configuration.limits
        #expect(limits.lineLength == 512 && limits.recipients == 100 && limits.messageSize == 26_214_400)
        #expect(limits.errors == 10 && limits.commands == 10_000 && limits.memorySpool == 1_048_576)
        #expect(limits.spoolDirectory == LimitsConfiguration.systemTemporaryDirectory())
        #expect(limits.bareLineEndings == .reject)
        #expect(
            configuration.timeouts == TimeoutsConfiguration(greetingSeconds: 30, commandSeconds: 300, dataSeconds: 600)
        )
        #expect(configuration.relay == RelayConfiguration(acceptedDomains: [], trustedNetworks: []))
        #expect(configuration.log == LogConfiguration(format: .logfmt, level: .info))
        #expect(configuration.metrics.address == nil)
        #expect(
            configuration.policy
                == PolicyPathsConfiguration(rules: "/etc/warden/Rules", blocklists: "/etc/warden/Blocklists")
        )
    }

    @Test func kindsCertificatesAndPathsResolve() throws {
        let toml = """
            [server]
            hostname = "mx.example.test"

            [tls]
            certificate = "/etc/ssl/warden.pem"
            key = "../private/warden.key"

            [[listener]]
            name = "submissions"
            address = "::1"
            port = 465
            kind = "smtps"
            starttls = true

            [[listener]]
            name = "edge"
            address = "0.0.0.0"
            port = 0
            proxy_protocol = true
            proxy_trusted = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]
            certificate = "./edge.pem"
            key = "edge.key"

            [upstream]
            url = "smtp://[::1]:10025"
            helo_name = ""
            tls = "required"
            tls_ca_file = "ca.pem"

            [limits]
            spool_directory = "var//spool/"

            [relay]
            accepted_domains = ["Example.TEST.", "mail.example.test"]
            trusted_networks = [
                "127.0.0.0/8",   # loopback
                "::1",
            ]

            [log]
            format = "json"
            level = "debug"

            [metrics]
            address = "[::1]:9525"
            """
        let configuration = try WardenConfiguration.parse(toml: toml, path: "/srv/warden/conf/warden.toml")
        let smtps = configuration.listeners[0]
        #expect(smtps.kind == .smtps && !smtps.starttls && smtps.auth)
        let edge = configuration.listeners[1]
        #expect(edge.starttls && !edge.auth && edge.port == 0)
        #expect(edge.proxyTrusted == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])
        #expect(edge.certificate == "/srv/warden/conf/edge.pem" && edge.key == "/srv/warden/conf/edge.key")
        #expect(configuration.tls.certificate == "/etc/ssl/warden.pem")
        #expect(configuration.tls.key == "/srv/warden/private/warden.key")
        #expect(configuration.upstream.target == .smtp(host: "::1", port: 10025))
        #expect(configuration.upstream.heloName == "mx.example.test")
        #expect(configuration.upstream.tls == .required)
        #expect(configuration.upstream.tlsCAFile == "/srv/warden/conf/ca.pem")
        #expect(configuration.limits.spoolDirectory == "/srv/warden/conf/var/spool")
        #expect(configuration.relay.acceptedDomains == ["example.test", "mail.example.test"])
        #expect(configuration.relay.trustedNetworks == ["127.0.0.0/8", "::1"])
        #expect(configuration.log == LogConfiguration(format: .json, level: .debug))
        #expect(configuration.metrics.address == "[::1]:9525")
    }

    @Test func missingFileIsReported() {
        #expect(
            throws: ConfigurationError(
                file: "/nonexistent/warden.toml",
                line: nil,
                message: "the configuration file does not exist"
            )
        ) {
            try WardenConfiguration.load(path: "/nonexistent/warden.toml")
        }
    }

    /// Each bad file and the exact message an operator sees.
    @Test(arguments: [
        ("[server\nhostname = 1\n", "warden.toml:1: error while parsing table header: expected ']', saw '\\n'"),
        ("x = 1\nx = 2\n", "warden.toml:2: error while parsing key-value pair: cannot redefine existing integer 'x'"),
        ("colour = 1\n" + minimal, "warden.toml:1: unknown key colour"),
        (minimal + "[srever]\nhostname = \"a.test\"\n", "warden.toml:9: unknown table [srever]"),
        (
            "[server]\nhostname = \"a.test\"\nhostnme = \"b.test\"\n" + minimal,
            "warden.toml:3: unknown key server.hostnme"
        ),
        (
            "[server]\nmax_sessions = \"many\"\n" + minimal,
            "warden.toml:2: server.max_sessions must be an integer, not a string"
        ),
        ("[server]\nmax_sessions = 0\n" + minimal, "warden.toml:2: server.max_sessions must be greater than 0"),
        (
            "[server]\nhostname = \"warden local\"\n" + minimal,
            "warden.toml:2: server.hostname must be a domain name, not \"warden local\""
        ),
        ("server = 5\n" + minimal, "warden.toml:1: server must be a table, not an integer"),
        (
            minimal + "[[listener]]\nname = \"second\"\naddress = \"127.0.0.1\"\nport = 70000\n",
            "warden.toml:12: listener.port must be between 0 and 65535"
        ),
        (
            minimal + "[[listener]]\nname = \"second\"\naddress = \"127.0.0.1\"\nprot = 25\n",
            "warden.toml:12: unknown key listener.prot"
        ),
        (
            minimal + "[[listener]]\nname = \"second\"\naddress = \"127.0.0.1\"\n",
            "warden.toml:9: listener.port is required"
        ),
        (
            minimal + "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 2526\n",
            "warden.toml:10: duplicate listener name \"smtp\" (first at line 2)"
        ),
        ("[upstream]\nurl = \"maildir:x\"\n", "warden.toml: at least one [[listener]] is required"),
        ("listener = []\n[upstream]\nurl = \"maildir:x\"\n", "warden.toml:1: at least one [[listener]] is required"),
        (
            "[listener]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\n",
            "warden.toml:1: listener must be an array of tables, written [[listener]]"
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"localhost\"\nport = 25\n",
            "warden.toml:3: listener.address must be an IPv4 or IPv6 address, not \"localhost\""
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\nproxy_protocol = true\n",
            "warden.toml:5: listener.proxy_protocol needs listener.proxy_trusted"
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\nproxy_trusted = [10]\n",
            "warden.toml:5: listener.proxy_trusted must be an array of strings, not of integers"
        ),
        (
            "[[listener]]\nname = \"sub\"\naddress = \"127.0.0.1\"\nport = 587\nkind = \"submission\"\n",
            "warden.toml:5: listener.kind \"submission\" needs a certificate: set certificate and key in [tls] or in this listener"
        ),
        (
            "[[listener]]\nname = \"tls\"\naddress = \"127.0.0.1\"\nport = 465\nkind = \"smtps\"\n",
            "warden.toml:5: listener.kind \"smtps\" needs a certificate: set certificate and key in [tls] or in this listener"
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\nstarttls = true\n",
            "warden.toml:5: listener.starttls needs a certificate: set certificate and key in [tls] or in this listener"
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\nkind = \"lmtp\"\n",
            "warden.toml:5: listener.kind must be one of smtp, submission, smtps"
        ),
        ("[tls]\ncertificate = \"c.pem\"\n" + minimal, "warden.toml:2: tls.certificate is set but tls.key is not"),
        (
            "[tls]\ncreate_self_signed = true\n" + minimal,
            "warden.toml:2: tls.create_self_signed needs tls.certificate and tls.key"
        ),
        (
            minimal.replacingOccurrences(of: "maildir:var/maildir", with: "smtp://mx.example.test"),
            "warden.toml:7: upstream.url \"smtp://mx.example.test\" needs a port: smtp://HOST:PORT"
        ),
        (
            minimal.replacingOccurrences(of: "maildir:var/maildir", with: "smtp://mx_example.test:25"),
            "warden.toml:7: upstream.url \"smtp://mx_example.test:25\" has a bad host or port: smtp://HOST:PORT"
        ),
        (
            minimal.replacingOccurrences(of: "maildir:var/maildir", with: "smtp://mx.example.test:0"),
            "warden.toml:7: upstream.url port must be between 1 and 65535"
        ),
        (
            minimal.replacingOccurrences(of: "maildir:var/maildir", with: "lmtp://mx.example.test:24"),
            "warden.toml:7: upstream.url must be maildir:PATH or smtp://HOST:PORT, not \"lmtp://mx.example.test:24\""
        ),
        (
            minimal.replacingOccurrences(of: "maildir:var/maildir", with: "maildir:"),
            "warden.toml:7: upstream.url maildir: needs a path"
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\n",
            "warden.toml: upstream.url is required"
        ),
        (
            "[[listener]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\nport = 25\n[upstream]\ntls = \"on\"\n",
            "warden.toml:5: upstream.url is required"
        ),
        (minimal + "tls = \"maybe\"\n", "warden.toml:9: upstream.tls must be one of off, opportunistic, required"),
        (minimal + "proxy_protocol = \"v3\"\n", "warden.toml:9: upstream.proxy_protocol must be one of off, v1, v2"),
        (
            minimal + "command_timeout_seconds = 0\n",
            "warden.toml:9: upstream.command_timeout_seconds must be greater than 0"
        ),
        (minimal + "reuse_idle_seconds = -1\n", "warden.toml:9: upstream.reuse_idle_seconds must be at least 0"),
        (
            minimal + "[limits]\nline_length = 100\n",
            "warden.toml:10: limits.line_length must be at least 512 (RFC 5321 4.5.3.1.4)"
        ),
        (minimal + "[limits]\nrecipients = -1\n", "warden.toml:10: limits.recipients must be greater than 0"),
        (
            minimal + "[limits]\nmessage_size = 1.5\n",
            "warden.toml:10: limits.message_size must be an integer, not a float"
        ),
        (
            minimal + "[limits]\nbare_line_endings = \"keep\"\n",
            "warden.toml:10: limits.bare_line_endings must be one of reject, normalize"
        ),
        (minimal + "[timeouts]\ndata_seconds = 0\n", "warden.toml:10: timeouts.data_seconds must be greater than 0"),
        (
            minimal
                + "[relay]\ntrusted_networks = [\n  \"127.0.0.0/8\",\n  \"10.0.0.0/33\",\n]\n[log]\nlevel = \"loud\"\n",
            "warden.toml:12: relay.trusted_networks: \"10.0.0.0/33\" is not an IP address or a CIDR network with zero host bits"
        ),
        (
            minimal + "[relay]\ntrusted_networks = [\"10.0.0.1/8\"]\n",
            "warden.toml:10: relay.trusted_networks: \"10.0.0.1/8\" is not an IP address or a CIDR network with zero host bits"
        ),
        (
            minimal + "[relay]\naccepted_domains = [\"exa mple.test\"]\n",
            "warden.toml:10: relay.accepted_domains: \"exa mple.test\" is not a domain name"
        ),
        (
            minimal + "[relay]\ntrusted_networks = [\n  \"127.0.0.0/8\",\n]\n[log]\nlevel = \"loud\"\n",
            "warden.toml:14: log.level must be one of trace, debug, info, notice, warning, error, critical"
        ),
        (minimal + "[log]\nformat = \"text\"\n", "warden.toml:10: log.format must be one of logfmt, json"),
        (
            minimal + "[metrics]\naddress = \"9525\"\n",
            "warden.toml:10: metrics.address must be HOST:PORT, not \"9525\""
        ),
        (minimal + "[policy]\nrules = \"\"\n", "warden.toml:10: policy.rules must not be empty"),
        (
            minimal + "[policy]\nrules = \"Rules\"\n[policy.extra]\nx = 1\n",
            "warden.toml:11: unknown table [policy.extra]"
        ),
    ])
    func badFileIsRefusedAtItsLine(toml: String, expected: String) {
        #expect(throws: ConfigurationError.self) { try WardenConfiguration.parse(toml: toml, path: "warden.toml") }
        do {
            _ = try WardenConfiguration.parse(toml: toml, path: "warden.toml")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func keyLinesFollowTablesArraysAndStrings() {
        let lines = TOMLKeyLines(
            source: """
                title = "x = 1"            # 1
                notes = \"\"\"
                port = 9
                \"\"\"
                list = [                   # 5
                  "a",
                  { port = 8 },
                ]
                [a.b]                      # 9
                c.d = 1
                [[listener]]               # 11
                port = 1
                [[listener]]               # 13

                'port' = 2                 # 15
                [listener.tls]             # 16
                key = "k"
                """
        )
        #expect(lines.line(of: "title") == 1)
        #expect(lines.line(of: "notes") == 2)
        #expect(lines.line(of: "port") == nil)
        #expect(lines.line(of: "list") == 5)
        #expect(lines.line(of: "list", element: "a") == 6)
        #expect(lines.line(of: "list", element: "zz") == 5)
        #expect(lines.line(of: "a.b") == 9)
        #expect(lines.line(of: "a.b.c.d") == 10)
        #expect(lines.line(of: "a.b.c") == 10)
        #expect(lines.line(of: "listener[0].port") == 12)
        #expect(lines.line(of: "listener[1]") == 13)
        #expect(lines.line(of: "listener[1].port") == 15)
        #expect(lines.line(of: "listener[1].name") == 13)
        #expect(lines.line(of: "listener[1].tls.key") == 17)
        #expect(lines.line(of: "missing.key") == nil)
    }
}
