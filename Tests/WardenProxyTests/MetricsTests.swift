import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import WardenProxy

@Suite struct MetricsTests {
    /// The sample lines of an exposition, without comments: `name{labels}` to value.
    private func samples(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    @Test func countersRenderExactValues() {
        let metrics = WardenMetrics()
        metrics.sessionOpened(listener: "mx")
        metrics.sessionOpened(listener: "mx")
        metrics.sessionOpened(listener: "submission")
        metrics.sessionClosed(listener: "mx")
        for verb in ["EHLO", "MAIL", "RCPT", "RCPT"] { metrics.command(verb) }
        for code in [220, 250, 250, 354, 451, 550, 554, 999] { metrics.reply(code: code) }
        metrics.messageRelayed(bytes: 1200)
        metrics.messageRelayed(bytes: 34)
        metrics.refusal(reason: "dnsbl_spamhaus")
        metrics.upstreamConnect(seconds: 0.02, success: true)
        metrics.upstreamConnect(seconds: 3, success: false)
        metrics.upstreamReply(seconds: 0.007)
        metrics.reloads(success: true)
        metrics.reloads(success: false)
        metrics.reloads(success: false)

        let s = self.samples(metrics.render())
        #expect(s["warden_sessions_open"] == "2.0")
        #expect(s[#"warden_sessions_total{listener="mx"}"#] == "2")
        #expect(s[#"warden_sessions_total{listener="submission"}"#] == "1")
        #expect(s[#"warden_commands_total{verb="RCPT"}"#] == "2")
        #expect(s[#"warden_commands_total{verb="EHLO"}"#] == "1")
        #expect(s[#"warden_replies_total{class="2xx"}"#] == "3")
        #expect(s[#"warden_replies_total{class="3xx"}"#] == "1")
        #expect(s[#"warden_replies_total{class="4xx"}"#] == "1")
        #expect(s[#"warden_replies_total{class="5xx"}"#] == "2")
        #expect(s[#"warden_replies_total{class="other"}"#] == "1")
        #expect(s["warden_messages_relayed_total"] == "2")
        #expect(s["warden_message_bytes_total"] == "1234")
        #expect(s[#"warden_refusals_total{reason="dnsbl_spamhaus"}"#] == "1")
        #expect(s["warden_upstream_connect_failures_total"] == "1")
        #expect(s["warden_upstream_connect_seconds_count"] == "2")
        #expect(s[#"warden_upstream_connect_seconds_bucket{le="0.025"}"#] == "1")
        #expect(s[#"warden_upstream_connect_seconds_bucket{le="5.0"}"#] == "2")
        #expect(s["warden_upstream_reply_seconds_count"] == "1")
        #expect(s[#"warden_config_reloads_total{result="success"}"#] == "1")
        #expect(s[#"warden_config_reloads_total{result="failure"}"#] == "2")
    }

    @Test func labelValuesAreBounded() {
        let metrics = WardenMetrics(maximumLabelValues: 2)
        for verb in ["EHLO", "MAIL", "XYZZY", "FOO", "MAIL"] { metrics.command(verb) }
        let s = self.samples(metrics.render())
        #expect(s[#"warden_commands_total{verb="EHLO"}"#] == "1")
        #expect(s[#"warden_commands_total{verb="MAIL"}"#] == "2")
        #expect(s[#"warden_commands_total{verb="other"}"#] == "2")
        #expect(s[#"warden_commands_total{verb="XYZZY"}"#] == nil)
    }

    @Test func concurrentUpdatesAreAllCounted() async {
        let metrics = WardenMetrics()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<1000 { metrics.command(task % 2 == 0 ? "RCPT" : "DATA") }
                }
            }
        }
        let s = self.samples(metrics.render())
        #expect(s[#"warden_commands_total{verb="RCPT"}"#] == "4000")
        #expect(s[#"warden_commands_total{verb="DATA"}"#] == "4000")
    }

    @Test func serverAnswersOverRealSockets() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let metrics = WardenMetrics()
        let box = HealthBox()
        let server = MetricsServer(host: "127.0.0.1", port: 0, metrics: metrics) { box.healthy.load(ordering: .relaxed) }
        let address = try await server.start(group: group).get()
        metrics.command("MAIL")
        metrics.command("MAIL")
        metrics.reply(code: 250)

        let scrape = try await httpExchange(address, group, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(scrape.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(scrape.lowercased().contains("content-type: text/plain; version=0.0.4"))
        let body = String(scrape[scrape.firstRange(of: "\r\n\r\n")!.upperBound...])
        let s = self.samples(body)
        #expect(s[#"warden_commands_total{verb="MAIL"}"#] == "2")
        #expect(s[#"warden_replies_total{class="2xx"}"#] == "1")
        #expect(scrape.lowercased().contains("content-length: \(body.utf8.count)\r\n"))

        let health = try await httpExchange(address, group, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(health.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(health.hasSuffix("\r\n\r\nok\n"))
        box.healthy.store(false, ordering: .relaxed)
        let sick = try await httpExchange(address, group, "GET /healthz HTTP/1.0\r\n\r\n")
        #expect(sick.hasPrefix("HTTP/1.0 503 Service Unavailable\r\n"))

        let head = try await httpExchange(address, group, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.hasSuffix("\r\n\r\n"))
        let missing = try await httpExchange(address, group, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        let post = try await httpExchange(address, group, "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 404 Not Found\r\n"))

        try await server.close().get()
        try await server.close().get()
        await #expect(throws: (any Error).self) {
            _ = try await httpExchange(address, group, "GET /metrics HTTP/1.1\r\n\r\n")
        }
        try await group.shutdownGracefully()
    }

    @Test func silentClientIsDisconnected() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = MetricsServer(host: "127.0.0.1", port: 0, metrics: WardenMetrics(), requestTimeout: .milliseconds(50))
        let address = try await server.start(group: group).get()
        let reply = try await httpExchange(address, group, "GET /metr")
        #expect(reply == "")
        try await server.close().get()
        try await group.shutdownGracefully()
    }
}

private final class HealthBox: Sendable {
    let healthy = Atomic<Bool>(true)
}

/// Sends `request` on a fresh TCP connection and returns everything read until the server closes.
private func httpExchange(_ address: SocketAddress, _ group: EventLoopGroup, _ request: String) async throws -> String {
    let promise = group.next().makePromise(of: String.self)
    do {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectUntilClose(promise))
                }
            }
            .connect(to: address).get()
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
    } catch {
        promise.fail(error)
    }
    return try await promise.futureResult.get()
}

private final class CollectUntilClose: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var received = ByteBuffer()
    private let promise: EventLoopPromise<String>

    init(_ promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        self.received.writeBuffer(&bytes)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.succeed(String(buffer: self.received))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.promise.fail(error)
        context.close(promise: nil)
    }
}
