/// A near-duplicate fingerprint of a message's readable text, for the duplicate-bulk rule: it
/// counts the distinct recipients that received "the same" body from one sender key within a
/// window, the mark of a hijacked account sending one spam body, personalised per recipient
/// (names, greetings, amounts, dates, tracking links, MIME boundaries), to hundreds of people.
///
/// How the fingerprint is made:
///
/// 1. Text: the `text/plain` and `text/html` parts of the MIME tree, decoded from base64 or
///    quoted-printable, HTML reduced to its visible text; headers, part headers and boundaries
///    are not text (`BodyTextExtractor`, `HTMLVisibleText`). At most `maxBytes` of decoded text.
/// 2. Words: lowercased runs of Unicode letters and digits; anything containing a digit is one
///    placeholder, a URL its registrable domain, an address its domain; the greeting is dropped
///    and its name is a placeholder wherever the text repeats it (`BodyTokenizer`). Fewer than
///    `minimumWords` words: no fingerprint.
/// 3. Shingles: every run of `shingleLength` consecutive words, hashed (64-bit FNV-1a words mixed
///    by the SplitMix64 finaliser; constants only, so every process on every machine agrees).
/// 4. Sketch: MinHash with `sketchSize` permutations of the (already mixed) shingle hashes,
///    `x -> a[i] * x + b[i]` modulo 2^64 with fixed odd multipliers `a` and offsets `b`: one
///    multiply and one add per permutation, where version 1 mixed each value again (a quarter of
///    the fingerprint's cost). Two bodies agree on each value with probability close to the
///    Jaccard similarity J of their shingle sets; `similarity(_:)` is the fraction that agree.
/// 5. Keys: LSH, `bandCount` bands of `rowsPerBand` sketch values each, one key per band
///    (`keys`). Two bodies share a band key with probability `J^r`, and at least one of their
///    keys with `1 - (1 - J^r)^b`: for r = 3, b = 10 that is 99.9 % at J = 0.8, 98.5 % at
///    J = 0.7, 74 % at J = 0.5, 24 % at J = 0.3 and 1 % at J = 0.1. One key alone is not enough:
///    in a campaign each sketch value is shared by nearly every copy or by almost none, so a
///    single key is a coin toss for the whole campaign; ten give it ten tosses.
///
/// How a rule counts: for each message, for each key in `keys`, add the recipients to the
/// distinct-recipient set of (sender key, band key) in the window, and take the largest of those
/// counts as the message's count. Every key carries the algorithm version and its band number
/// (`v2.3.…`), so keys of different bands or versions never meet. `key` is band 0's key alone,
/// for a rule that can afford one counter only; it catches a campaign only when band 0 happens
/// to fall on text every copy shares.
///
/// Measured on 200 personalised copies of one spam body (name in the greeting and twice in the
/// text, amount, date, account, reference, tracking and unsubscribe URLs, address, boundary; six
/// encodings: plain, quoted-printable, base64, alternative, HTML only, nested with a PDF): all
/// 200 share a band key with the first, and the largest band count is 199. On 200 different
/// messages of one sender: none shares a key with the campaign, the largest band count is 4.
///
/// Known false positive: a newsletter or any bulk mail sent with the same body to everyone
/// collides by design; exempt newsletter senders (or list traffic, `List-Id`) from the rule. A
/// sender whose short, different messages are dominated by one long signature or disclaimer can
/// share band keys too; the rule's threshold (distinct recipients per window) is what keeps them
/// apart from a campaign.
public struct BodyFingerprint: Sendable, Hashable {
    /// Most decoded text read from one message (256 KiB): the rest of a longer body is not seen.
    public static let maximumTextBytes = 256 * 1024
    /// Fewest words (after normalisation) a body needs for a fingerprint.
    public static let minimumWords = 8
    /// Words per shingle.
    public static let shingleLength = 4
    /// Rows (sketch values) per LSH band.
    public static let rowsPerBand = 3
    /// LSH bands, hence keys per message.
    public static let bandCount = 10
    /// Values in the MinHash sketch.
    public static let sketchSize = rowsPerBand * bandCount
    /// Changes whenever normalisation, hashing or banding changes, so that counters written by
    /// different versions across a fleet never mix.
    public static let version = 2

    /// The MinHash sketch: `sketchSize` minimum hashes of the word shingles, one per permutation,
    /// comparable across messages, processes and machines.
    public let sketch: [UInt64]
    /// One counting key per LSH band, e.g. `v2.0.5c0ef94175a7a6e4`. See the type's documentation
    /// for how a rule counts with them.
    public let keys: [String]

    /// Band 0's key, for a rule that counts with a single key (less robust than `keys`).
    public var key: String { keys[0] }

    /// The fingerprint of `message` (headers and body as received, CRLF or LF line ends), or nil
    /// when its text has fewer than `minimumWords` words. Reads at most `maxBytes` of decoded
    /// text; work is linear in the message.
    public static func make(
        message: some Collection<UInt8>,
        maxBytes: Int = BodyFingerprint.maximumTextBytes
    ) -> BodyFingerprint? {
        let words =
            message.withContiguousStorageIfAvailable { normalisedWords(of: $0, maxBytes: maxBytes) }
            ?? Array(message).withUnsafeBufferPointer { normalisedWords(of: $0, maxBytes: maxBytes) }
        return BodyFingerprint(words: words)
    }

    /// Estimated Jaccard similarity of the two bodies' shingle sets, 0...1.
    public func similarity(_ other: BodyFingerprint) -> Double {
        guard sketch.count == other.sketch.count, !sketch.isEmpty else { return 0 }
        let agreeing = zip(sketch, other.sketch).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(agreeing) / Double(sketch.count)
    }

    /// The normalised word hashes of a message's text.
    static func normalisedWords(of message: UnsafeBufferPointer<UInt8>, maxBytes: Int) -> [UInt64] {
        var tokenizer = BodyTokenizer()
        for part in BodyTextExtractor.textParts(of: message, limit: maxBytes) {
            tokenizer.addPart(part.isHTML ? HTMLVisibleText.text(of: part.bytes) : part.bytes)
        }
        return tokenizer.tokens
    }

    init?(words: [UInt64]) {
        guard words.count >= Self.minimumWords else { return nil }
        var sketch = [UInt64](repeating: .max, count: Self.sketchSize)
        Self.multipliers.withUnsafeBufferPointer { multipliers in
            Self.offsets.withUnsafeBufferPointer { offsets in
                sketch.withUnsafeMutableBufferPointer { minimums in
                    for start in 0...(words.count - Self.shingleLength) {
                        var shingle = Self.shingleSeed
                        for word in words[start..<(start + Self.shingleLength)] { shingle = Self.mix(shingle ^ word) }
                        for permutation in 0..<Self.sketchSize {
                            let value = multipliers[permutation] &* shingle &+ offsets[permutation]
                            minimums[permutation] = min(minimums[permutation], value)
                        }
                    }
                }
            }
        }
        self.sketch = sketch
        self.keys = (0..<Self.bandCount).map { band in
            var hash = Self.mix(Self.shingleSeed ^ UInt64(band))
            for row in sketch[(band * Self.rowsPerBand)..<((band + 1) * Self.rowsPerBand)] {
                hash = Self.mix(hash ^ row)
            }
            let hex = String(hash, radix: 16)
            return "v\(Self.version).\(band).\(String(repeating: "0", count: 16 - hex.count))\(hex)"
        }
    }

    // MARK: Hashing

    static let shingleSeed: UInt64 = 0x5741_5244_454E_4231  // "WARDENB1"

    /// The permutations' multipliers (odd, so each permutation is a bijection of `UInt64`) and
    /// offsets: a SplitMix64 sequence from a fixed start, so fixed forever.
    static let multipliers: [UInt64] = splitMix(from: 0x9E37_79B9_7F4A_7C15, count: sketchSize).map { $0 | 1 }
    static let offsets: [UInt64] = splitMix(from: 0x5741_5244_454E_4232, count: sketchSize)

    static func splitMix(from start: UInt64, count: Int) -> [UInt64] {
        var state = start
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            return mix(state)
        }
    }

    /// The SplitMix64 finaliser: a bijection of `UInt64` that spreads every input bit over all
    /// output bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
