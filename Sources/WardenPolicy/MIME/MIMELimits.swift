/// The bounds of `MIMEMessage`: how much of a message is read and how far its structure is
/// followed. The defaults are SpamAssassin 4.0's (`Mail::SpamAssassin::Constants`, `Message.pm`,
/// `Conf.pm`), so content rules see what SpamAssassin's rules would see, except where noted.
///
/// Work is linear in the bytes read times the nesting depth: every bound below caps a count or a
/// length, and nothing is revisited per part.
public struct MIMELimits: Sendable, Hashable {
    /// Bytes of a message read by default; the rest is ignored (and `MIMEProblem.truncated` noted).
    /// SpamAssassin's `spamc` sends at most 500 KiB by default (`spamc -s`).
    public static let defaultMaximumBytes = 512 * 1024

    /// How deep multiparts and `message/rfc822` parts are followed (SpamAssassin's `subparse`,
    /// 20): a multipart nested deeper is kept as an unread leaf
    /// ([RFC 2046 §5.1](https://www.rfc-editor.org/rfc/rfc2046#section-5.1) sets no limit).
    public var maximumDepth = 20
    /// Body parts read in the whole message. SpamAssassin stops after 1,000 parts of one
    /// multipart; this counts every part of the message, so the bound holds however they nest.
    public var maximumParts = 1000
    /// A body line longer than this is cut into lines of this length inside multiparts
    /// (SpamAssassin's `MAX_BODY_LINE_LENGTH`; RFC 5322 §2.1.1 allows 998 octets).
    public var maximumBodyLineLength = 2048
    /// A header field name is cut to this length (`MAX_HEADER_KEY_LENGTH`).
    public var maximumHeaderNameLength = 256
    /// A raw header field value is cut to this length (`MAX_HEADER_VALUE_LENGTH`;
    /// [RFC 5322 §2.1.1](https://www.rfc-editor.org/rfc/rfc5322#section-2.1.1) sets no limit
    /// on folded fields).
    public var maximumHeaderValueLength = 8192
    /// Lines in the header section that are not fields and are skipped; one more starts the body.
    public var maximumInvalidHeaderLines = 3
    /// Longer runs of blank lines in the body are cut to this many.
    public var maximumBlankLines = 20
    /// Characters of each part's rendered text kept for `body` (`body_part_scan_size`), cut at the
    /// next line break or space within 1,024 characters.
    public var bodyPartScanSize = 50_000
    /// Bytes of each part's decoded text kept for `rawBody` (`rawbody_part_scan_size`).
    public var rawBodyPartScanSize = 500_000
    /// A URI is cut to this length (`MAX_URI_LENGTH`).
    public var maximumURILength = 8192
    /// Entries kept in `problems`; later ones are dropped.
    public var maximumProblems = 100

    public init() {}
}
