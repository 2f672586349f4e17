import Synchronization

/// Counters of one Warden instance, in a lock-protected dictionary: the default store, and the
/// fallback while Redis is unreachable. Bounded whatever clients do:
/// - at most `capacity` keys: when full, expired keys go first, then the least recently updated
///   (a tenth of the capacity at a time, so a flood of new keys costs amortised constant time);
/// - at most `maximumDistinctMembers` per distinct window: past that the set stops growing and its
///   count stays at the cap;
/// - at most `maximumTotalMembers` members across all sets, evicting keys as for `capacity`.
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
    private let table = Mutex(Table())

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
    }

    /// Keys held now (counters and distinct sets together), expired ones included until evicted.
    public var keyCount: Int { table.withLock { $0.keyCount } }

    /// Distinct members held now across all sets.
    public var memberCount: Int { table.withLock { $0.members } }

    /// A negative `amount` gives back a reservation; the count never goes below zero.
    public func add(_ key: String, amount: Int, window: Duration, now: Double?) -> Double {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        return table.withLock { table in
            table.update("c:" + key, at, limits: self) { entry, _ in
                let (sum, overflow) = entry.current.addingReportingOverflow(amount)
                entry.current = overflow ? (amount > 0 ? .max : 0) : max(0, sum)
                return at.slidingCount(previous: entry.previous, current: entry.current)
            }
        }
    }

    public func addDistinct(_ key: String, member: String, window: Duration, now: Double?) -> Int {
        addDistinct(key, members: CollectionOfOne(member), window: window, now: now)
    }

    /// Adds every member to the set under one lock; the count after the last.
    public func addDistinct(_ key: String, members: some Sequence<String>, window: Duration, now: Double?) -> Int {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        let cap = maximumDistinctMembers
        return table.withLock { table in
            table.update("d:" + key, at, limits: self) { entry, held in
                for member in members {
                    let hash = member.hashValue
                    guard entry.currentMembers.count < cap, entry.currentMembers.insert(hash).inserted else { continue }
                    held += 1
                    if entry.previousMembers.contains(hash) { entry.previousOnly -= 1 }
                }
                return min(entry.currentMembers.count + entry.previousOnly, cap)
            }
        }
    }

    public func count(_ key: String, window: Duration, now: Double?) -> Double {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        guard let entry = table.withLock({ $0.peek("c:" + key, at) }) else { return 0 }
        return at.slidingCount(previous: entry.previous, current: entry.current)
    }

    public func distinctCount(_ key: String, window: Duration, now: Double?) -> Int {
        let at = CounterWindow(window: window, now: now ?? clock.now())
        guard let entry = table.withLock({ $0.peek("d:" + key, at) }) else { return 0 }
        return min(entry.currentMembers.count + entry.previousOnly, maximumDistinctMembers)
    }
}

extension MemoryCounterStore: ImmediateCounterStore {
    public func addNow(_ key: String, amount: Int, window: Duration, now: Double?) -> Double {
        add(key, amount: amount, window: window, now: now)
    }

    public func addDistinctNow(_ key: String, members: [String], window: Duration, now: Double?) -> Int {
        addDistinct(key, members: members, window: window, now: now)
    }

    public func countNow(_ key: String, window: Duration, now: Double?) -> Double {
        count(key, window: window, now: now)
    }
}

extension MemoryCounterStore {
    /// One key's current and previous window.
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

        init(_ at: CounterWindow) {
            seconds = at.seconds
            index = at.index
            expiry = at.expiry
        }

        /// What a freed slot holds, so that it keeps no members alive.
        static let vacant = Entry(CounterWindow(window: .seconds(1), now: 0))

        var memberCount: Int { currentMembers.count + previousMembers.count }

        /// Moves the entry to `at`'s window: the current window becomes the previous one if they
        /// are adjacent, else both are empty. A clock that steps back counts into the newest window.
        mutating func roll(to at: CounterWindow, members: inout Int) {
            if at.seconds != seconds {
                // Another window length for the same key: start over rather than mix them.
                members -= memberCount
                self = Entry(at)
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

    /// The entries, in a dictionary of slots that are also linked from least to most recently
    /// updated, so that finding and moving to the end are constant time.
    struct Table {
        struct Node {
            var key: String
            var entry: Entry
            var older: Int
            var newer: Int
        }

        private var slots: [String: Int] = [:]
        private var nodes: [Node] = []
        private var free: [Int] = []
        private var oldest = -1
        private var newest = -1
        private(set) var members = 0

        var keyCount: Int { slots.count }

        /// The entry as of `at`, without updating it or its place.
        func peek(_ key: String, _ at: CounterWindow) -> Entry? {
            guard let slot = slots[key] else { return nil }
            var entry = nodes[slot].entry
            var unused = 0
            entry.roll(to: at, members: &unused)
            return entry
        }

        mutating func update<Result>(
            _ key: String,
            _ at: CounterWindow,
            limits: MemoryCounterStore,
            _ body: (inout Entry, inout Int) -> Result
        ) -> Result {
            if members >= limits.maximumTotalMembers { makeRoom(now: at.now, limits: limits) }
            let slot: Int
            if let existing = slots[key] {
                slot = existing
                unlink(slot)
            } else {
                if slots.count >= limits.capacity { makeRoom(now: at.now, limits: limits) }
                slot = allocate(Node(key: key, entry: Entry(at), older: -1, newer: -1))
                slots[key] = slot
            }
            linkAsNewest(slot)
            var members = self.members
            defer { self.members = members }
            nodes[slot].entry.roll(to: at, members: &members)
            return body(&nodes[slot].entry, &members)
        }

        /// Expired entries first, then the least recently updated until a tenth of each bound
        /// is free.
        private mutating func makeRoom(now: Double, limits: MemoryCounterStore) {
            var slot = oldest
            while slot != -1 {
                let next = nodes[slot].newer
                if nodes[slot].entry.expiry <= now { remove(slot) }
                slot = next
            }
            let keepEntries = limits.capacity - max(1, limits.capacity / 10)
            let keepMembers = limits.maximumTotalMembers - max(1, limits.maximumTotalMembers / 10)
            while oldest != -1 && (slots.count > keepEntries || members > keepMembers) {
                remove(oldest)
            }
        }

        private mutating func allocate(_ node: Node) -> Int {
            if let slot = free.popLast() {
                nodes[slot] = node
                return slot
            }
            nodes.append(node)
            return nodes.count - 1
        }

        private mutating func remove(_ slot: Int) {
            unlink(slot)
            members -= nodes[slot].entry.memberCount
            slots[nodes[slot].key] = nil
            nodes[slot].key = ""
            nodes[slot].entry = .vacant
            free.append(slot)
        }

        private mutating func unlink(_ slot: Int) {
            let (older, newer) = (nodes[slot].older, nodes[slot].newer)
            if older == -1 { oldest = newer } else { nodes[older].newer = newer }
            if newer == -1 { newest = older } else { nodes[newer].older = older }
            nodes[slot].older = -1
            nodes[slot].newer = -1
        }

        private mutating func linkAsNewest(_ slot: Int) {
            nodes[slot].older = newest
            if newest == -1 { oldest = slot } else { nodes[newest].newer = slot }
            newest = slot
        }
    }
}
