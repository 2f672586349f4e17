/// Resolves a link against a `<base href>` as SpamAssassin's `HTML::target_uri` does: RFC 3986
/// §5.2 ([reference resolution](https://www.rfc-editor.org/rfc/rfc3986#section-5.2)) in its
/// non-strict form, where a reference repeating the base's scheme counts as relative.
///
///     URI-reference = [ scheme ":" ] [ "//" authority ] path [ "?" query ] [ "#" fragment ]
///
///     resolve("../c?x", against: "http://a/b/d/")  -> "http://a/b/c?x"
///     resolve("//www.x.com/p", against: "")        -> "http://www.x.com/p"
///
/// Without a scheme, an authority starting `www` gets `http:` and one starting `ftp` gets `ftp:`.
enum MIMEURIResolver {
    private struct Parts {
        var scheme: Substring?
        var authority: Substring?
        var path: Substring
        var query: Substring?
        var fragment: Substring?

        /// `^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?`, cut at ASCII
        /// delimiters in the UTF-8 (Swift's characters would join "\r\n").
        init(_ text: String) {
            var rest = Substring(text)
            let utf8 = rest.utf8
            if let colon = utf8.firstIndex(where: { $0 == 0x3A || $0 == 0x2F || $0 == 0x3F || $0 == 0x23 }),
                utf8[colon] == 0x3A, colon > utf8.startIndex
            {
                scheme = rest[..<colon]
                rest = rest[utf8.index(after: colon)...]
            }
            if rest.utf8.starts(with: [0x2F, 0x2F]) {
                let start = rest.utf8.index(rest.utf8.startIndex, offsetBy: 2)
                let end =
                    rest.utf8[start...].firstIndex(where: { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 }) ?? rest.endIndex
                authority = rest[start..<end]
                rest = rest[end...]
            }
            let pathEnd = rest.utf8.firstIndex(where: { $0 == 0x3F || $0 == 0x23 }) ?? rest.endIndex
            path = rest[..<pathEnd]
            rest = rest[pathEnd...]
            if rest.utf8.first == 0x3F {
                let end = rest.utf8.firstIndex(of: 0x23) ?? rest.endIndex
                query = rest[rest.utf8.index(after: rest.startIndex)..<end]
                rest = rest[end...]
            }
            if rest.utf8.first == 0x23 {
                // Perl's `.` stops at a line feed.
                let body = rest[rest.utf8.index(after: rest.startIndex)...]
                fragment = body[..<(body.utf8.firstIndex(of: 0x0A) ?? body.endIndex)]
            }
        }
    }

    static func resolve(_ reference: String, against base: String) -> String {
        var relative = Parts(reference)
        let baseParts = Parts(base)
        if let scheme = relative.scheme, let baseScheme = baseParts.scheme, scheme == baseScheme {
            relative.scheme = nil
        }
        var scheme: Substring?
        var authority: Substring?
        var path: String
        var query: Substring?
        if let relativeScheme = relative.scheme {
            scheme = relativeScheme
            authority = relative.authority
            path = removeDotSegments(String(relative.path))
            query = relative.query
        } else {
            if let relativeAuthority = relative.authority {
                authority = relativeAuthority
                path = removeDotSegments(String(relative.path))
                query = relative.query
            } else {
                if relative.path.isEmpty {
                    path = String(baseParts.path)
                    query = relative.query ?? baseParts.query
                } else {
                    if relative.path.hasPrefix("/") {
                        path = removeDotSegments(String(relative.path))
                    } else {
                        path = removeDotSegments(
                            merge(baseParts.authority, String(baseParts.path), String(relative.path)))
                    }
                    query = relative.query
                }
                authority = baseParts.authority
            }
            scheme = baseParts.scheme
        }
        var result = ""
        if let scheme, !scheme.isEmpty, scheme != "0" {
            result += scheme + ":"
        } else if let authority {
            if startsWithNumberedLabel(authority, "www") {
                result += "http:"
            } else if startsWithNumberedLabel(authority, "ftp") {
                result += "ftp:"
            }
        }
        if let authority { result += "//" + authority }
        result += path
        if let query { result += "?" + query }
        if let fragment = relative.fragment { result += "#" + fragment }
        return result
    }

    /// `^name\d*\.` (any case).
    private static func startsWithNumberedLabel(_ authority: Substring, _ name: String) -> Bool {
        let bytes = Array(authority.utf8.prefix(64)).map(MIMEContentType.asciiLowercase)
        guard bytes.starts(with: name.utf8) else { return false }
        let digits = bytes.dropFirst(name.utf8.count).prefix { $0 >= 0x30 && $0 <= 0x39 }
        return bytes.dropFirst(name.utf8.count + digits.count).first == UInt8(ascii: ".")
    }

    private static func merge(_ baseAuthority: Substring?, _ basePath: String, _ path: String) -> String {
        if baseAuthority != nil, basePath.isEmpty || basePath == "0" { return "/" + path }
        guard let slash = basePath.lastIndex(of: "/") else { return path }
        return basePath[...slash] + path
    }

    /// RFC 3986 §5.2.4, as `_remove_dot_segments` writes it.
    private static func removeDotSegments(_ path: String) -> String {
        var input = Substring(path)
        if input.hasPrefix("./") {
            input = "/" + input.dropFirst(2)
        } else if input.hasPrefix("../") {
            input = "/" + input.dropFirst(3)
        }
        var output = ""
        while !input.isEmpty, input != "0" {
            if input == "/." || input.hasPrefix("/./") {
                input = "/" + input.dropFirst(input == "/." ? 2 : 3)
            } else if input == "/.." || input.hasPrefix("/../") {
                input = "/" + input.dropFirst(input == "/.." ? 3 : 4)
                // s@/?[^/]*$@@
                if let slash = output.lastIndex(of: "/") {
                    output = String(output[..<slash])
                } else {
                    output = ""
                }
            } else {
                var end = input.startIndex
                if input.first == "/" { end = input.index(after: end) }
                end = input[end...].firstIndex(of: "/") ?? input.endIndex
                output += input[..<end]
                input = input[end...]
            }
        }
        return output
    }
}
