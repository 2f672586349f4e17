import NIOConcurrencyHelpers
import NIOCore
import WardenPolicy

/// Counts open sessions in total and per client address, and reaches every session at
/// shutdown. Shared by all event loops; a lock guards it (a few operations per session).
public final class SessionRegistry: Sendable {
    public enum Admission: Sendable, Equatable {
        case admitted
        case tooManySessions
        case tooManyFromClient
        case connectionRate
        case shuttingDown
    }

    struct Entry {
        let client: IPAddress?
        let onShutdown: @Sendable (_ force: Bool) -> Void
    }

    struct State {
        var sessions: [UInt64: Entry] = [:]
        var perClient: [IPAddress: Int] = [:]
        /// Connection times per client in the last minute, for `connection_rate_per_client`.
        var recent: [IPAddress: [NIODeadline]] = [:]
        var nextID: UInt64 = 0
        var shuttingDown = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Admits a session or says why not; an admitted session must call `remove(_:)` once.
    public func admit(
        client: IPAddress?, maxSessions: Int, maxPerClient: Int, ratePerMinute: Int = 0, now: NIODeadline = .now(),
        onShutdown: @escaping @Sendable (_ force: Bool) -> Void
    ) -> (Admission, UInt64?) {
        state.withLockedValue { state in
            if state.shuttingDown { return (.shuttingDown, nil) }
            if state.sessions.count >= maxSessions { return (.tooManySessions, nil) }
            if let client, state.perClient[client, default: 0] >= maxPerClient { return (.tooManyFromClient, nil) }
            if let client, ratePerMinute > 0, !Self.withinRate(&state, client, ratePerMinute, now) { return (.connectionRate, nil) }
            state.nextID += 1
            state.sessions[state.nextID] = Entry(client: client, onShutdown: onShutdown)
            if let client { state.perClient[client, default: 0] += 1 }
            return (.admitted, state.nextID)
        }
    }

    /// Counts this connection in the client's last minute; false when that is over the rate.
    /// Refused attempts count too, so a client hammering the port stays refused. The table is
    /// pruned when it grows, so an address-rotating flood cannot grow it without bound.
    private static func withinRate(_ state: inout State, _ client: IPAddress, _ rate: Int, _ now: NIODeadline) -> Bool {
        let windowStart = now - .seconds(60)
        if state.recent.count > 100_000 {
            state.recent = state.recent.filter { ($0.value.last ?? windowStart) > windowStart }
        }
        var times = state.recent[client, default: []].filter { $0 > windowStart }
        times.append(now)
        if times.count > rate + 1 { times.removeFirst(times.count - rate - 1) }
        state.recent[client] = times
        return times.count <= rate
    }

    public func remove(_ id: UInt64) {
        state.withLockedValue { state in
            guard let entry = state.sessions.removeValue(forKey: id) else { return }
            if let client = entry.client {
                let left = state.perClient[client, default: 1] - 1
                state.perClient[client] = left > 0 ? left : nil
            }
        }
    }

    public var count: Int { state.withLockedValue { $0.sessions.count } }

    public var isShuttingDown: Bool { state.withLockedValue { $0.shuttingDown } }

    /// Refuses new sessions from now on and asks every open one to finish (`force`: at once).
    public func shutdown(force: Bool) {
        let callbacks = state.withLockedValue { state in
            state.shuttingDown = true
            return state.sessions.values.map(\.onShutdown)
        }
        for callback in callbacks { callback(force) }
    }
}
