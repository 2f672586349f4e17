import Foundation
import Logging
import Synchronization
import Testing

@testable import WardenProxy

/// 2026-11-21T23:59:01.123Z
private let fixedTime = Date(timeIntervalSince1970: 1_795_305_541.123)

private let sessionEnd: Logger.Metadata = [
    "zeta": "z",
    "client": "127.0.0.1",
    "bytes": .stringConvertible(1234),
    "session": "ab12cd34",
    "verdict": "accept",
    "alpha": "a",
]

/// Values a client controls (names, addresses, reply text) in their worst forms.
private let awkward: Logger.Metadata = [
    "ref": "R-1",
    "empty": "",
    "equals": "a=b",
    "path": "C:\\dir",
    "tab": "x\ty",
    "crlf": "a\r\nb",
    "quote": "it's \"q\"",
    "unicode": "naïve 日本 😀",
    "word": "naïve",
    "bidi": "\u{202E}evil",
    "escape": "\u{1B}[31m",
    "nbsp": "a\u{A0}b",
    "list": ["a b", "c"],
    "msg": "mine",
]

private final class Lines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}

@Suite struct LogFormatTests {
    @Test func logfmtOrdersSessionKeysFirst() {
        let line = LogLineFormatter(format: .logfmt).line(
            time: fixedTime,
            level: .info,
            message: "session end",
            metadata: sessionEnd
        )
        #expect(
            line
                == "ts=2026-11-21T23:59:01.123Z level=info msg=\"session end\" session=ab12cd34 client=127.0.0.1 verdict=accept alpha=a bytes=1234 zeta=z"
        )
    }

    @Test func jsonOrdersSessionKeysFirstAndKeepsNumbers() {
        let line = LogLineFormatter(format: .json).line(
            time: fixedTime,
            level: .info,
            message: "session end",
            metadata: sessionEnd
        )
        #expect(
            line
                == #"{"ts":"2026-11-21T23:59:01.123Z","level":"info","msg":"session end","session":"ab12cd34","client":"127.0.0.1","verdict":"accept","alpha":"a","bytes":1234,"zeta":"z"}"#
        )
    }

    @Test func logfmtQuotesAndEscapesAwkwardValues() {
        let line = LogLineFormatter(format: .logfmt).line(
            time: fixedTime,
            level: .warning,
            message: "say \"hi\"\nbye",
            metadata: awkward
        )
        let expected =
            #"ts=2026-11-21T23:59:01.123Z level=warning msg="say \"hi\"\nbye" ref=R-1 "#
            + #"_msg=mine bidi="\u202eevil" crlf="a\r\nb" empty="" equals="a=b" escape="\u001b[31m" "#
            + #"list="[a b, c]" nbsp="a\u00a0b" path=C:\dir quote="it's \"q\"" tab="x\ty" "#
            + #"unicode="naïve 日本 😀" word=naïve"#
        #expect(line == expected)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}") && !line.contains("\u{202E}"))
    }

    @Test func jsonEscapesAwkwardValues() throws {
        let line = LogLineFormatter(format: .json).line(
            time: fixedTime,
            level: .warning,
            message: "say \"hi\"\nbye",
            metadata: awkward
        )
        let expected =
            #"{"ts":"2026-11-21T23:59:01.123Z","level":"warning","msg":"say \"hi\"\nbye","ref":"R-1","#
            + #""_msg":"mine","bidi":"\u202eevil","crlf":"a\r\nb","empty":"","equals":"a=b","escape":"\u001b[31m","#
            + #""list":["a b","c"],"nbsp":"a\u00a0b","path":"C:\\dir","quote":"it's \"q\"","tab":"x\ty","#
            + #""unicode":"naïve 日本 😀","word":"naïve"}"#
        #expect(line == expected)

        // A JSON parser reads back exactly what was logged.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "say \"hi\"\nbye")
        #expect(object["crlf"] as? String == "a\r\nb")
        #expect(object["bidi"] as? String == "\u{202E}evil")
        #expect(object["unicode"] as? String == "naïve 日本 😀")
        #expect(object["path"] as? String == "C:\\dir")
    }

    @Test func controlCharactersOutsideTheBasicPlaneAreEscaped() {
        let tag: Logger.Metadata = ["tag": "a\u{E0001}b", "nul": "\u{0}", "del": "\u{7F}"]
        #expect(
            LogLineFormatter(format: .logfmt).line(time: fixedTime, level: .debug, message: "m", metadata: tag)
                == #"ts=2026-11-21T23:59:01.123Z level=debug msg=m del="\u007f" nul="\u0000" tag="a\U000e0001b""#
        )
        #expect(
            LogLineFormatter(format: .json).line(time: fixedTime, level: .debug, message: "m", metadata: tag)
                == #"{"ts":"2026-11-21T23:59:01.123Z","level":"debug","msg":"m","del":"\u007f","nul":"\u0000","tag":"a\udb40\udc01b"}"#
        )
    }

    @Test func logfmtKeysCannotBreakTheLine() {
        let line = LogLineFormatter(format: .logfmt).line(
            time: fixedTime,
            level: .info,
            message: "m",
            metadata: ["a b=\"c\n": "v", "": "w"]
        )
        #expect(line == #"ts=2026-11-21T23:59:01.123Z level=info msg=m _=w a_b__c_=v"#)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_795_305_541.9996, "2026-11-21T23:59:02.000Z"),
        (-0.5, "1969-12-31T23:59:59.500Z"),
        (951_782_400.007, "2000-02-29T00:00:00.007Z"),
    ])
    func timestamps(seconds: Double, expected: String) {
        #expect(LogLineFormatter.timestamp(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func handlerMergesMetadataAndFollowsTheSharedLevel() {
        let lines = Lines()
        let shared = LogLevelBox(.info)
        let provider = Logger.MetadataProvider { ["ref": "p-1"] }
        var logger = Logger(label: "warden.test") { _ in
            WardenLogHandler(
                format: .logfmt,
                level: shared,
                metadataProvider: provider,
                now: { fixedTime },
                sink: lines.append
            )
        }
        logger[metadataKey: "session"] = "s1"
        logger[metadataKey: "client"] = "192.0.2.1"

        logger.debug("hidden")
        logger.info("greeting", metadata: ["client": "192.0.2.9"])
        shared.set(.debug)
        logger.debug("now shown")
        struct Refused: Error, CustomStringConvertible { var description: String { "upstream said 554" } }
        logger.error("relay failed", error: Refused())

        var quiet = logger
        quiet.logLevel = .error
        shared.set(.trace)
        quiet.info("still hidden")
        logger.trace("trace")

        #expect(
            lines.all == [
                "ts=2026-11-21T23:59:01.123Z level=info msg=greeting session=s1 client=192.0.2.9 ref=p-1",
                "ts=2026-11-21T23:59:01.123Z level=debug msg=\"now shown\" session=s1 client=192.0.2.1 ref=p-1",
                "ts=2026-11-21T23:59:01.123Z level=error msg=\"relay failed\" session=s1 client=192.0.2.1 ref=p-1 error=\"upstream said 554\"",
                "ts=2026-11-21T23:59:01.123Z level=trace msg=trace session=s1 client=192.0.2.1 ref=p-1",
            ]
        )
    }

    @Test func setLevelReachesBootstrappedHandlers() {
        let before = WardenLogging.level.level
        defer { WardenLogging.setLevel(before) }
        WardenLogging.setLevel(.critical)
        let handler = WardenLogHandler(format: .json, level: WardenLogging.level, sink: { _ in })
        #expect(handler.logLevel == .critical)
        WardenLogging.setLevel(.notice)
        #expect(handler.logLevel == .notice)
    }
}
