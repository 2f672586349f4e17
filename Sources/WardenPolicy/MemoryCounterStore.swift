import Synchronization

/// Counters of one Warden instance, in a lock-protected dictionary: the default store, and the
/// fallback while Redis is unreachable. Bounded whatever clients do: at most `capacity` keys (when
/// full, expired keys go first, then the least recently updated, a tenth at a time so a flood of
/// new keys costs amortised constant time), at most `maximumDistinctMembers` per distinct window
/// (past that the set stops growing and its count stays at the cap) and at most
/// `maximumTotalMembers` members across all sets (evicting keys like `capacity` does).
///
/// Distinct members are kept as 64-bit hashes, so counts are exact but for a hash collision
/// (odds about 1 in 10^11 for a full set).
public final class MemoryCounterStore: CounterStore {
    public static let defaultCapacity = 100_000
    public static let defaultMaximumDistinctMembers = 10_000
    public static let defaultMaximumTotalMembers = 1_000_000

    public let capacity: Int
    public let maximumDistinctMembers: Int
    public let maximumTotalMembers: Int
    private let clock: any CounterClock
    private let storage: Mutex<Storage>

    public init(
        capacity: Int = defaultCapacity,
        maximumDistinctMembers: Int = defaultMaximumDistinctMembers,
        maximumTotalMembers: Int = defaultMaximumTotalMembers,
        clock: any CounterClock = SystemCounterClock()
    ) {
        precondition(capacity > 0 && maximumDistinctMembers > 0 && maximumTotalMembers > 0, "counter store limits must be positive")
        self.capacity = capacity
        self.maximumDistinctMembers = maximumDistinctMembers
        self.maximumTotalMembers = maximumTotalMembers
        self.clock = clock
        self.storage = Mutex(Storage())
    }

    /// Keys held now (counters and distinct sets together), expired ones included until evicted.
    public var keyCount: Int { storage.withLock { $0.entries.count } }

    /// Distinct members held now across all sets.
    public var memberCount: Int { storage.withLock { $0.members } }

    public func add(_ key: String, amount: Int, window: Duration, now: Double?) -> Double {
        precondition(amount >= 0, "a counter only grows, not by \(amount)")
        let at = CounterWindow(window: window, now: now ?? clock.now())
        return storage.withLock { storage in
            storage.update("c:" + key, at, limits: self) { entry, _ in
                entry.current = entry.current.addingReportingOverflow(amount).overflow ? .max : entry.current + amount
                return at.slidingCount(previous: entry.previous, current: entry.current)
            }
        }
    }

    public func addDistinct(_ key: String, member: String, window: Duration, now: Double?) -> Int {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let hash = member.hashValue
        let cap = maximumDistinctMembers
        return storage.withLock { storage in
            storage.update("d:" + key, at, limits: self) { entry, members in
                if entry.currentMembers.count < cap, entry.currentMembers.insert(hash).inserted {
                    members += 1
                    if entry.previousMembers.contains(hash) { entry.previousOnly -= 1 }
                }
                return min(entry.currentMembers.count + entry.previousOnly, cap)
            }
        }
    }

    public func count(_ key: String, window: Duration, now: Double?) -> Double {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        return storage.withLock { storage in
            guard var entry = storage.entries["c:" + key] else { return 0 }
            var unused = 0
            entry.roll(to: at, members: &unused)
            return at.slidingCount(previous: entry.previous, current: entry.current)
        }
    }

    public func distinctCount(_ key: String, window: Duration, now: Double?) -> Int {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let cap = maximumDistinctMembers
        return storage.withLock { storage in
            guard var entry = storage.entries["d:" + key] else { return 0 }
            var unused = 0
            entry.roll(to: at, members: &unused)
            return min(entry.currentMembers.count + entry.previousOnly, cap)
        }
    }
}

extension MemoryCounterStore {
    struct Entry {
        var seconds: Double
        var index: Int
        var current = 0
        var previous = 0
        var currentMembers: Set<Int> = []
        var previousMembers: Set<Int> = []
        /// Members of the previous window not (yet) seen in the current one.
        var previousOnly = 0
        var expiry: Double
        var lastUpdate: UInt64

        init(_ at: CounterWindow, tick: UInt64) {
            seconds = at.seconds
            index = at.index
            expiry = at.expiry
            lastUpdate = tick
        }

        var memberCount: Int { currentMembers.count + previousMembers.count }

        mutating func update<Result>(
            to at: CounterWindow,
            tick: UInt64,
            members: inout Int,
            _ body: (inout Entry, inout Int) -> Result
        ) -> Result {
            roll(to: at, members: &members)
            lastUpdate = tick
            return body(&self, &members)
        }

        /// Moves the entry to `at`'s window: the current window becomes the previous one if they
        /// are adjacent, else both are empty. A clock that steps back counts into the newest window.
        mutating func roll(to at: CounterWindow, members: inout Int) {
            if at.seconds != seconds {
                // Another window length for the same key: start over rather than mix them.
                members -= memberCount
                self = Entry(at, tick: lastUpdate)
                return
            }
            guard at.index > index else { return }
            members -= previousMembers.count
            if at.index == index + 1 {
                previous = current
                previousMembers = currentMembers
                previousOnly = currentMembers.count
            } else {
                members -= currentMembers.count
                previous = 0
                previousMembers = []
                previousOnly = 0
            }
            current = 0
            currentMembers = []
            index = at.index
            expiry = at.expiry
        }
    }

    struct Storage {
        var entries: [String: Entry] = [:]
        var tick: UInt64 = 0
        var members = 0

        mutating func update<Result>(
            _ key: String,
            _ at: CounterWindow,
            limits: MemoryCounterStore,
            _ body: (inout Entry, inout Int) -> Result
        ) -> Result {
            tick &+= 1
            let tick = self.tick
            if entries[key] == nil || members >= limits.maximumTotalMembers {
                makeRoom(now: at.now, limits: limits)
            }
            var members = self.members
            defer { self.members = members }
            return entries[key, default: Entry(at, tick: tick)].update(to: at, tick: tick, members: &members, body)
        }

        /// Called before a new key goes in, or when the members budget is spent.
        mutating func makeRoom(now: Double, limits: MemoryCounterStore) {
            guard entries.count >= limits.capacity || members >= limits.maximumTotalMembers else { return }
            for (key, entry) in entries where entry.expiry <= now {
                members -= entry.memberCount
                entries[key] = nil
            }
            let keepEntries = limits.capacity - max(1, limits.capacity / 10)
            let keepMembers = limits.maximumTotalMembers - max(1, limits.maximumTotalMembers / 10)
            guard entries.count > keepEntries || members > keepMembers else { return }
            let oldestFirst = entries.map { ($0.value.lastUpdate, $0.key) }.sorted { $0.0 < $1.0 }
            for (_, key) in oldestFirst where entries.count > keepEntries || members > keepMembers {
                members -= entries[key]!.memberCount
                entries[key] = nil
            }
        }
    }
}
