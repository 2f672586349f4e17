import Foundation
import Synchronization

/// Wall-clock time in seconds since 1970, as counter stores see it. Window indexes are
/// `floor(now / window)` of this clock, so every Warden instance sharing one Redis must keep its
/// clock in step (NTP): two machines a few seconds apart put the same event in windows that
/// overlap a few seconds differently, which shifts counts near window edges by that much.
public protocol CounterClock: Sendable {
    func now() -> Double
}

/// The machine's wall clock (`Date().timeIntervalSince1970`).
public struct SystemCounterClock: CounterClock {
    public init() {}

    public func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that moves only when told, for tests.
public final class ManualCounterClock: CounterClock {
    private let seconds: Mutex<Double>

    public init(_ seconds: Double = 1_700_000_000) {
        self.seconds = Mutex(seconds)
    }

    public func now() -> Double { seconds.withLock { $0 } }

    public func set(_ value: Double) { seconds.withLock { $0 = value } }

    public func advance(by delta: Double) { seconds.withLock { $0 += delta } }

    public func advance(by delta: Duration) { advance(by: CounterWindow.seconds(of: delta)) }
}
