import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server for the monitoring system.
///
/// - `GET /metrics`: `200`, `text/plain; version=0.0.4`, the body of ``WardenMetrics/render()``.
/// - `GET /healthz`: `200` `ok` while `healthy()` returns true, else `503` `unavailable`.
/// - `HEAD` of either: the same status and headers, no body.
/// - anything else: `404`.
///
/// Every response carries `Connection: close` and the connection closes after it, and a
/// connection still open ``defaultRequestTimeout`` after it was accepted is closed (a deadline,
/// not an idle timer, so trickling bytes does not keep it): the server holds no idle
/// connections, so ``close()`` leaves nothing behind for long.
///
/// ```
/// C: GET /metrics HTTP/1.1
/// S: HTTP/1.1 200 OK
/// S: content-type: text/plain; version=0.0.4
/// ```
public final class MetricsServer: Sendable {
    /// How long a connection may stay open, request and response included.
    public static let defaultRequestTimeout = TimeAmount.seconds(10)

    public let host: String
    public let port: Int
    public let requestTimeout: TimeAmount
    private let metrics: WardenMetrics
    private let healthy: @Sendable () -> Bool
    private let state = Mutex<State>(.idle)

    private enum State {
        case idle
        case starting(EventLoop)
        case closeRequested(EventLoopPromise<Void>)
        case listening(Channel)
        case closed(EventLoopFuture<Void>)
    }

    /// - Parameters:
    ///   - host: the address to bind, e.g. `127.0.0.1` or `::`.
    ///   - port: the port to bind; `0` picks a free one, reported by ``start(group:)``.
    ///   - healthy: asked on every `/healthz` request, from an event loop; keep it cheap.
    public init(
        host: String,
        port: Int,
        metrics: WardenMetrics,
        requestTimeout: TimeAmount = MetricsServer.defaultRequestTimeout,
        healthy: @escaping @Sendable () -> Bool = { true }
    ) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.requestTimeout = requestTimeout
        self.healthy = healthy
    }

    /// Binds and starts serving; the future gives the bound address. Call once.
    public func start(group: EventLoopGroup) -> EventLoopFuture<SocketAddress> {
        let loop = group.next()
        self.state.withLock { state in
            guard case .idle = state else {
                preconditionFailure("MetricsServer.start called in state \(state)")
            }
            state = .starting(loop)
        }
        let metrics = self.metrics
        let healthy = self.healthy
        let timeout = self.requestTimeout
        let bind = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(MetricsHTTPHandler(metrics: metrics, healthy: healthy, deadline: timeout))
                }
            }
            .bind(host: self.host, port: self.port)
        return bind.hop(to: loop).flatMapThrowing { channel in
            let closing: EventLoopPromise<Void>? = self.state.withLock { state in
                switch state {
                case .closeRequested(let promise):
                    state = .closed(promise.futureResult)
                    return promise
                case .starting:
                    state = .listening(channel)
                    return nil
                case .idle, .listening, .closed:
                    preconditionFailure("MetricsServer bound in state \(state)")
                }
            }
            if let closing {
                // close() ran while we were binding: do not leave a listener behind.
                channel.close().recover { _ in }.cascade(to: closing)
                throw ChannelError.ioOnClosedChannel
            }
            guard let address = channel.localAddress else {
                throw ChannelError.unknownLocalAddress
            }
            return address
        }.flatMapErrorThrowing { error in
            self.state.withLock { state in
                switch state {
                case .starting:
                    state = .idle
                case .closeRequested(let promise):
                    state = .closed(promise.futureResult)
                    promise.succeed()
                case .idle, .listening, .closed:
                    break
                }
            }
            throw error
        }
    }

    /// Stops accepting connections; the future completes once the listening socket is closed.
    /// Calling it again gives the same future. Call it only after ``start(group:)``.
    public func close() -> EventLoopFuture<Void> {
        self.state.withLock { state in
            switch state {
            case .listening(let channel):
                let future = channel.close().recover { _ in }
                state = .closed(future)
                return future
            case .starting(let loop):
                let promise = loop.makePromise(of: Void.self)
                state = .closeRequested(promise)
                return promise.futureResult
            case .closeRequested(let promise):
                return promise.futureResult
            case .closed(let future):
                return future
            case .idle:
                preconditionFailure("MetricsServer.close called before start")
            }
        }
    }
}

/// Answers one request per connection, then closes it.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: WardenMetrics
    private let healthy: @Sendable () -> Bool
    private let deadline: TimeAmount
    private var request: HTTPRequestHead?
    private var deadlineTask: Scheduled<Void>?

    init(metrics: WardenMetrics, healthy: @escaping @Sendable () -> Bool, deadline: TimeAmount) {
        self.metrics = metrics
        self.healthy = healthy
        self.deadline = deadline
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.deadlineTask = context.eventLoop.scheduleTask(in: self.deadline) {
            loopBoundContext.value.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.deadlineTask?.cancel()
        self.deadlineTask = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break  // No endpoint takes a body; drop it rather than hold it.
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Malformed requests were answered 400 by NIO's error handler; anything else ends the connection.
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let status: HTTPResponseStatus
        let contentType: String
        let body: String
        switch (head.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", self.metrics.render())
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            let ok = self.healthy()
            (status, contentType, body) = (ok ? .ok : .serviceUnavailable, "text/plain", ok ? "ok\n" : "unavailable\n")
        default:
            (status, contentType, body) = (.notFound, "text/plain", "not found\n")
        }
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        headers.add(name: "connection", value: "close")
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(self.wrapOutboundOut(.head(response)), promise: nil)
        if head.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopBoundContext.value.close(promise: nil)
        }
    }
}
