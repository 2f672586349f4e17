import CCAres

/// Why a query produced no usable answer.
///
/// `kind` is what callers decide on (a DNSBL miss is `.notFound`; `.timeout`,
/// `.serverFailure`, `.refused` and `.other` are list errors for `dns_zone … on_error=`);
/// `detail` is for logs only: it names the c-ares status and the query.
public struct DNSError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// NXDOMAIN, or the name exists without records of the asked type (NODATA).
        case notFound
        /// No answer within the configured tries, or the cap of `timeout × tries × servers`.
        case timeout
        /// SERVFAIL; or, with several servers, none of them answered usably (each refused,
        /// failed or was unreachable: c-ares 1.18 reports all of that as one status).
        case serverFailure
        /// REFUSED from the one configured server (rbldnsd answers so for names outside its zones).
        case refused
        /// An answer that does not parse, a name that cannot be asked, a bad server address.
        case malformed
        /// Anything else: shut down (`detail` "shut down"), cancelled ("cancelled"), NOTIMP,
        /// no server configured, out of memory.
        case other
    }

    public var kind: Kind
    public var detail: String

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String {
        "DNSError.\(kind): \(detail)"
    }

    static let shutDown = DNSError(kind: .other, detail: "shut down")
    static let cancelled = DNSError(kind: .other, detail: "cancelled")

    /// The error for a c-ares status other than `ARES_SUCCESS`.
    init(aresStatus status: Int32, query: String) {
        let kind: Kind
        switch status {
        case ARES_ENOTFOUND, ARES_ENODATA:
            kind = .notFound
        case ARES_ETIMEOUT:
            kind = .timeout
        case ARES_ESERVFAIL, ARES_ECONNREFUSED:
            kind = .serverFailure
        case ARES_EREFUSED:
            kind = .refused
        case ARES_EFORMERR, ARES_EBADRESP, ARES_EBADNAME, ARES_EBADQUERY, ARES_EBADSTR, ARES_EBADFAMILY:
            kind = .malformed
        case ARES_EDESTRUCTION, ARES_ECANCELLED:
            self = .shutDown
            return
        default:
            kind = .other
        }
        let text = ares_strerror(status).map { String(cString: $0) } ?? "status \(status)"
        self.init(kind: kind, detail: "\(text) (\(query))")
    }
}
