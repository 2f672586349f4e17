import NIOCore
import NIOEmbedded
import Testing

@testable import WardenProxy

/// The session's deadline on the loop's own clock: moved, cleared and cancelled as sessions do.
@Suite struct LazyDeadlineTests {
    let loop = EmbeddedEventLoop()

    @Test func firesOnceAtTheDeadline() {
        let deadline = LazyDeadline(eventLoop: loop)
        var fired = 0
        deadline.set(in: .seconds(10)) { fired += 1 }
        loop.advanceTime(by: .seconds(9))
        #expect(fired == 0)
        loop.advanceTime(by: .seconds(1))
        #expect(fired == 1)
        #expect(!deadline.isSet)
        loop.advanceTime(by: .seconds(60))
        #expect(fired == 1)
    }

    @Test func aLaterDeadlineMovesItWithoutANewTimerEachTime() {
        let deadline = LazyDeadline(eventLoop: loop)
        var fired: [String] = []
        deadline.set(in: .seconds(10)) { fired.append("first") }
        for second in 1...5 {
            loop.advanceTime(by: .seconds(1))
            deadline.set(in: .seconds(10)) { fired.append("moved \(second)") }
        }
        // First timer at 10 s finds the deadline at 15 s and waits again.
        loop.advanceTime(by: .seconds(9))
        #expect(fired.isEmpty)
        loop.advanceTime(by: .seconds(1))
        #expect(fired == ["moved 5"])
    }

    @Test func anEarlierDeadlineFiresEarly() {
        let deadline = LazyDeadline(eventLoop: loop)
        var fired: [String] = []
        deadline.set(in: .seconds(300)) { fired.append("command") }
        deadline.set(in: .seconds(5)) { fired.append("grace") }
        loop.advanceTime(by: .seconds(5))
        #expect(fired == ["grace"])
        loop.advanceTime(by: .seconds(300))
        #expect(fired == ["grace"])
    }

    @Test func clearedAndCancelledDeadlinesDoNotFire() {
        let deadline = LazyDeadline(eventLoop: loop)
        var fired = 0
        deadline.set(in: .seconds(10)) { fired += 1 }
        deadline.clear()
        loop.advanceTime(by: .seconds(20))
        #expect(fired == 0)
        deadline.set(in: .seconds(10)) { fired += 1 }
        loop.advanceTime(by: .seconds(10))
        #expect(fired == 1)
        deadline.set(in: .seconds(10)) { fired += 1 }
        deadline.cancel()
        loop.advanceTime(by: .seconds(20))
        #expect(fired == 1)
    }
}
