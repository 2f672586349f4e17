/// Where an instant falls among fixed windows of one length: window `index` is
/// `floor(now / seconds)` and `elapsed` is how much of it has passed (0 at its start, towards 1 at
/// its end). The sliding count weights the previous window by the part of it that still lies
/// within the last `seconds`: `previous * (1 - elapsed) + current`.
///
/// With a 60 s window, 10 events in [0, 60) and 2 in [60, 90), the count at 90 is
/// `10 * 0.5 + 2 = 7`; at 120 the 10 have left and the 2 weigh fully.
public struct CounterWindow: Sendable, Hashable {
    public let now: Double
    public let seconds: Double
    public let index: Int
    public let elapsed: Double

    public init(window: Duration, now: Double) {
        let seconds = Self.seconds(of: window)
        precondition(seconds > 0, "a counter window must be longer than zero, not \(window)")
        precondition(now.isFinite, "a counter clock must be finite")
        self.now = now
        self.seconds = seconds
        let index = (now / seconds).rounded(.down)
        precondition(index.magnitude < 1e18, "window \(window) is too short to number at \(now)")
        self.index = Int(index)
        self.elapsed = min(max((now - index * seconds) / seconds, 0), 1)
    }

    public func slidingCount(previous: Int, current: Int) -> Double {
        Double(previous) * (1 - elapsed) + Double(current)
    }

    /// When a window's counts stop mattering: the end of the window after it.
    public var expiry: Double { Double(index + 2) * seconds }

    /// How long a store keeps a window's key after updating it: through the next window (where it
    /// is the previous one), plus one second for clocks of different machines.
    public var keyLifetimeMilliseconds: Int { Int((2 * seconds * 1000).rounded(.up)) + 1000 }

    public static func seconds(of duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
