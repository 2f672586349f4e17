/// What was wrong with a message, as listed in `MIMEMessage.problems` (one entry per
/// occurrence). The raw values are fixed so they can label metrics.
public enum MIMEProblem: String, Sendable, CaseIterable {
    /// The message was longer than `maxBytes`; only the start was read.
    case truncated = "truncated"
    /// A `multipart/*` entity without a `boundary` parameter; its body was read as text.
    case missingBoundary = "missing boundary"
    /// A multipart whose boundary never appears as a delimiter line; its body was read as one part.
    case boundaryNotFound = "boundary not found"
    /// A multipart that ends without its close delimiter (`--boundary--`).
    case missingClosingBoundary = "missing closing boundary"
    /// Base64 with characters outside the alphabet, padding inside the text or a bad length.
    case badBase64 = "bad base64"
    /// Quoted-printable with an `=` that starts neither an escape nor a soft line break.
    case badQuotedPrintable = "bad quoted-printable"
    /// A charset iconv does not know; the text was read as UTF-8 or windows-1252.
    case unknownCharset = "unknown charset"
    /// Text that is not valid in its declared charset; it was read as windows-1252.
    case badCharset = "bad charset"
    /// A line in a header section that is not a header field.
    case badHeaderLine = "bad header line"
    /// A header section with no empty line before the body.
    case missingHeaderSeparator = "missing header separator"
    /// A header field longer than `maximumHeaderValueLength` (or its name than
    /// `maximumHeaderNameLength`) was cut.
    case headerTruncated = "header truncated"
    /// Multiparts or enclosed messages nested deeper than `maximumDepth`.
    case tooDeep = "too deep"
    /// More body parts than `maximumParts`; the rest were not read.
    case tooManyParts = "too many parts"
}
