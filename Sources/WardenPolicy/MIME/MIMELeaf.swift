/// A body part that is not a multipart (nor an enclosed message that was read): what
/// `MIMEMessage` renders into its rule inputs.
struct MIMELeaf: Sendable {
    /// The media type after SpamAssassin's fixes (`text/plain` when missing, and so on).
    var type: String
    var charset: String?
    /// The file name from `Content-Disposition` or `Content-Type`, if any.
    var name: String?
    /// `Content-Transfer-Encoding`, lowercased.
    var transferEncoding: String
    /// The body as sent, before transfer decoding.
    var body: [UInt8]

    /// `text/html` for a part named `*.html`, `*.htm` or `*.shtml` whatever its type, as
    /// SpamAssassin renders such attachments.
    var effectiveType: String {
        guard let name = name?.lowercased() else { return type }
        return name.hasSuffix(".html") || name.hasSuffix(".htm") || name.hasSuffix(".shtml") || name.hasSuffix(".shtm")
            ? "text/html" : type
    }

    /// The body without its transfer encoding, as `Node::decode` returns it: CRLF becomes LF in
    /// quoted-printable parts and in base64 `text/*` and `message/*` parts.
    static func decode(_ body: [UInt8], transferEncoding: String, type: String) -> (
        bytes: [UInt8], problem: MIMEProblem?
    ) {
        switch transferEncoding {
        case "quoted-printable":
            let (bytes, malformed) = MIMETransferEncoding.decodeQuotedPrintable(body)
            return (MIMETransferEncoding.unixLineEndings(bytes), malformed ? .badQuotedPrintable : nil)
        case "base64":
            let (bytes, malformed) = MIMETransferEncoding.decodeBase64(body)
            let isText = type.hasPrefix("text/") || type.hasPrefix("message/")
            return (isText ? MIMETransferEncoding.unixLineEndings(bytes) : bytes, malformed ? .badBase64 : nil)
        default:
            return (body, nil)
        }
    }
}
