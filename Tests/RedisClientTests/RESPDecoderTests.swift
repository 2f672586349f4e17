import NIOCore
import Testing

@testable import RedisClient

@Suite struct RESPDecoderTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Fixtures: wire bytes and the values they hold, in order.
    static let fixtures: [(String, [RESPValue])] = [
        ("+OK\r\n", [.simple("OK")]),
        ("+\r\n", [.simple("")]),
        ("-ERR unknown command 'FOO'\r\n", [.error("ERR unknown command 'FOO'")]),
        ("-NOSCRIPT No matching script.\r\n", [.error("NOSCRIPT No matching script.")]),
        (":0\r\n", [.integer(0)]),
        (":-42\r\n", [.integer(-42)]),
        (":9223372036854775807\r\n", [.integer(Int.max)]),
        ("$5\r\nhello\r\n", [.bulk(bytes("hello"))]),
        ("$0\r\n\r\n", [.bulk([])]),
        ("$-1\r\n", [.bulk(nil)]),
        ("$4\r\na\r\nb\r\n", [.bulk(bytes("a\r\nb"))]),
        ("*0\r\n", [.array([])]),
        ("*-1\r\n", [.array(nil)]),
        ("*2\r\n:3\r\n:10\r\n", [.array([.integer(3), .integer(10)])]),
        ("*3\r\n$3\r\nabc\r\n$-1\r\n+x\r\n", [.array([.bulk(bytes("abc")), .bulk(nil), .simple("x")])]),
        ("*2\r\n*1\r\n+a\r\n*0\r\n", [.array([.array([.simple("a")]), .array([])])]),
        ("*2\r\n*2\r\n:1\r\n:2\r\n:3\r\n", [.array([.array([.integer(1), .integer(2)]), .integer(3)])]),
        ("+a\r\n:1\r\n$1\r\nb\r\n*1\r\n-e\r\n", [.simple("a"), .integer(1), .bulk(bytes("b")), .array([.error("e")])]),
    ]

    static func decodeAll(_ chunks: [[UInt8]], limits: RESPDecoder.Limits = .init()) throws -> [RESPValue] {
        var decoder = RESPDecoder(limits: limits)
        var values: [RESPValue] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let value = try decoder.next() { values.append(value) }
        }
        #expect(decoder.bufferedByteCount == 0, "every byte was used")
        return values
    }

    @Test(arguments: fixtures)
    func wholeInput(wire: String, expected: [RESPValue]) throws {
        #expect(try Self.decodeAll([Self.bytes(wire)]) == expected)
    }

    @Test(arguments: fixtures)
    func oneByteAtATime(wire: String, expected: [RESPValue]) throws {
        #expect(try Self.decodeAll(Self.bytes(wire).map { [$0] }) == expected)
    }

    @Test(arguments: fixtures)
    func everySplitInTwo(wire: String, expected: [RESPValue]) throws {
        let all = Self.bytes(wire)
        for split in 0...all.count {
            #expect(try Self.decodeAll([Array(all[..<split]), Array(all[split...])]) == expected, "split at \(split)")
        }
    }

    @Test func incompleteInputWaits() throws {
        var decoder = RESPDecoder()
        for partial in ["+OK\r", "$5\r\nhel", "*2\r\n:1\r\n", "$3\r\nabc\r"] {
            decoder = RESPDecoder()
            decoder.append(Self.bytes(partial))
            #expect(try decoder.next() == nil, "\(partial.debugDescription) is not complete")
        }
    }

    /// Hostile or broken input, and the error it must produce (never a hang or a huge allocation).
    static let refused: [(String, RESPDecodeError.Code)] = [
        ("$67108865\r\n", .bulkTooLong),
        ("$99999999999999\r\n", .bulkTooLong),
        ("$99999999999999999999999\r\n", .malformed),
        ("*1048577\r\n", .arrayTooLong),
        (String(repeating: "*1\r\n", count: 33) + ":1\r\n", .nestedTooDeep),
        ("!x\r\n", .unknownType),
        ("%1\r\n", .unknownType),
        (":12a\r\n", .malformed),
        (":\r\n", .malformed),
        (":--1\r\n", .malformed),
        (":99999999999999999999\r\n", .malformed),
        ("$-2\r\n", .malformed),
        ("$ 3\r\nabc\r\n", .malformed),
        ("$3\r\nabcd\r\n", .malformed),
        ("*-5\r\n", .malformed),
        ("\r\n", .malformed),
    ]

    @Test(arguments: refused)
    func hostileInputIsRefused(wire: String, code: RESPDecodeError.Code) {
        var decoder = RESPDecoder()
        decoder.append(Self.bytes(wire))
        #expect(throws: RESPDecodeError.self) { try decoder.next() }
        do {
            _ = try decoder.next()
            Issue.record("a poisoned decoder must keep failing")
        } catch {
            #expect(error.code == code)
        }
        decoder.append(Self.bytes("+OK\r\n"))
        #expect(throws: RESPDecodeError.self, "valid bytes after the error do not revive it") { try decoder.next() }
    }

    @Test func aBulkAtTheLimitIsAwaitedAndOnePastItIsRefusedBeforeItsData() throws {
        var decoder = RESPDecoder()
        decoder.append(Self.bytes("$67108864\r\n"))
        #expect(try decoder.next() == nil)

        var small = RESPDecoder(limits: .init(maximumBulkLength: 10))
        small.append(Self.bytes("$10\r\n0123456789\r\n"))
        #expect(try small.next() == .bulk(Self.bytes("0123456789")))
        small.append(Self.bytes("$11\r\n"))
        #expect(throws: RESPDecodeError.self) { try small.next() }
    }

    @Test func thirtyTwoNestedArraysAreAccepted() throws {
        var decoder = RESPDecoder()
        decoder.append(Self.bytes(String(repeating: "*1\r\n", count: 32) + ":7\r\n"))
        var value = try #require(try decoder.next())
        for _ in 0..<32 {
            guard case .array(let elements?) = value, elements.count == 1 else {
                Issue.record("expected one-element array, got \(value)")
                return
            }
            value = elements[0]
        }
        #expect(value == .integer(7))
    }

    @Test func aLineWithoutEndIsRefusedAtTheLimitEvenOneByteAtATime() {
        var decoder = RESPDecoder(limits: .init(maximumLineLength: 1000))
        decoder.append(Self.bytes("+"))
        var refusedAt: Int?
        for index in 1...2000 {
            decoder.append([UInt8(ascii: "a")])
            do {
                _ = try decoder.next()
            } catch {
                #expect(error.code == .lineTooLong)
                refusedAt = index
                break
            }
        }
        #expect(refusedAt == 1001)
    }

    @Test func aLongLineOneByteAtATimeIsScannedOnce() throws {
        // 60,000 bytes one at a time: linear time; rescanning from the start would take minutes.
        var decoder = RESPDecoder()
        let start = ContinuousClock.now
        decoder.append(Self.bytes("+"))
        for _ in 0..<60_000 {
            decoder.append([UInt8(ascii: "x")])
            #expect(try decoder.next() == nil)
        }
        decoder.append(Self.bytes("\r\n"))
        #expect(try decoder.next() == .simple(String(repeating: "x", count: 60_000)))
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aLargeBulkOneChunkAtATime() throws {
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        var wire = Self.bytes("*2\r\n$\(payload.count)\r\n")
        wire += payload
        wire += Self.bytes("\r\n:1\r\n")
        let chunks = stride(from: 0, to: wire.count, by: 7).map { Array(wire[$0..<min($0 + 7, wire.count)]) }
        #expect(try Self.decodeAll(chunks) == [.array([.bulk(payload), .integer(1)])])
    }

    @Test func aHugeArrayCountDoesNotPreallocate() throws {
        var decoder = RESPDecoder()
        decoder.append(Self.bytes("*1048576\r\n:1\r\n"))
        #expect(try decoder.next() == nil, "waits for the other elements without reserving them")
    }

    @Test func commandsAreEncodedAsArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RedisCommandHandler.encode(["SET", "k", "", "é"], into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$2\r\né\r\n")
    }

    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        (String(repeating: "a", count: 1000), "291e9a6c66994949b57ba5e650361e98fc36b1ba"),
    ])
    func scriptNamesAreSHA1(source: String, sha1: String) {
        #expect(RedisScript(source).sha1 == sha1)
    }
}
