/// Character references in HTML text and attribute values
/// ([HTML 4.01 §5.3](https://www.w3.org/TR/html401/charset.html#h-5.3)), decoded as Perl's
/// HTML::Parser (3.81) decodes them for SpamAssassin:
///
///     &#65; &#x41; &#65     -> "A"       (the ";" is optional)
///     &copy; &copy &copyx   -> "©", "©", "©x" (a known prefix is expanded in text only)
///     &alpha;               -> "α"       (names beyond Latin-1 need their ";")
///     &AMP; &#0; &#xFFFF;   -> unchanged
///
/// Unknown names, `&#0;`, code points past U+10FFFF and U+FFFE/U+FFFF stay as written;
/// surrogates and other non-characters become U+FFFD, and a surrogate pair written as two
/// references is joined.
enum MIMEHTMLEntities {
    /// Decodes the references in `bytes` (UTF-8). `expandingPrefixes` is HTML::Parser's choice
    /// for text: `&copyright` reads as `©right`.
    static func decode(_ bytes: ArraySlice<UInt8>, expandingPrefixes: Bool) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "&")) else { return Array(bytes) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var highSurrogate: UInt32 = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            output.append(byte)
            guard byte == UInt8(ascii: "&") else { continue }
            let referenceStart = index
            var replacement: UInt32?
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "#") {
                index += 1
                var value: UInt32 = 0
                var digits = 0
                var tooLarge = false
                let isHex = index < bytes.endIndex && (bytes[index] | 0x20) == UInt8(ascii: "x")
                if isHex { index += 1 }
                while index < bytes.endIndex {
                    let digit: UInt8?
                    if isHex {
                        digit = MIMETransferEncoding.hexValue(bytes[index])
                    } else {
                        let candidate = bytes[index] &- UInt8(ascii: "0")
                        digit = candidate < 10 ? candidate : nil
                    }
                    guard let digit else { break }
                    if !tooLarge {
                        value = value * (isHex ? 16 : 10) + UInt32(digit)
                        if value > 0x10FFFF { tooLarge = true }
                    }
                    digits += 1
                    index += 1
                }
                if digits > 0, !tooLarge, value != 0, value != 0xFFFE, value != 0xFFFF {
                    if value & 0xFFFF_FC00 == 0xDC00 {
                        if highSurrogate != 0 {
                            // Join with the high surrogate, whose U+FFFD was already written.
                            output.removeLast(4)
                            output.append(UInt8(ascii: "&"))
                            value = ((highSurrogate - 0xD800) << 10) + (value - 0xDC00) + 0x10000
                            highSurrogate = 0
                        } else {
                            value = 0xFFFD
                        }
                    } else if value & 0xFFFF_FC00 == 0xD800 {
                        highSurrogate = value
                        value = 0xFFFD
                    } else {
                        highSurrogate = 0
                        if (value >= 0xFDD0 && value <= 0xFDEF) || value & 0xFFFE == 0xFFFE { value = 0xFFFD }
                    }
                    replacement = value
                }
            } else {
                let nameStart = index
                while index < bytes.endIndex, MIMEContentType.isWordByte(bytes[index]) { index += 1 }
                if index > nameStart {
                    let name =
                        index - nameStart <= longestName
                        ? String(decoding: bytes[nameStart..<index], as: UTF8.self) : ""
                    if let value = table[name] {
                        replacement = value
                    } else if index < bytes.endIndex, bytes[index] == UInt8(ascii: ";"), let value = table[name + ";"] {
                        replacement = value
                    } else if expandingPrefixes {
                        var length = min(index - nameStart - 1, longestName)
                        while length > 0 {
                            if let value = table[
                                String(decoding: bytes[nameStart..<(nameStart + length)], as: UTF8.self)]
                            {
                                replacement = value
                                index = nameStart + length
                                break
                            }
                            length -= 1
                        }
                    }
                }
                highSurrogate = 0
            }
            guard let replacement, let scalar = Unicode.Scalar(replacement) else {
                output.append(contentsOf: bytes[referenceStart..<index])
                continue
            }
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: ";") { index += 1 }
            if index >= bytes.endIndex || bytes[index] != UInt8(ascii: "&") { highSurrogate = 0 }
            output.removeLast()
            output.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        return output
    }

    /// The longest name in `table`, so long runs of letters cost no lookups.
    private static let longestName = table.keys.map(\.utf8.count).max() ?? 0

    /// HTML::Entities' `%entity2char`: a name ending in ";" needs its semicolon.
    static let table: [String: UInt32] = [
        "AElig": 0xC6, "Aacute": 0xC1, "Acirc": 0xC2, "Agrave": 0xC0, "Alpha;": 0x391, "Aring": 0xC5, "Atilde": 0xC3,
        "Auml": 0xC4, "Beta;": 0x392, "Ccedil": 0xC7, "Chi;": 0x3A7, "Dagger;": 0x2021, "Delta;": 0x394, "ETH": 0xD0,
        "Eacute": 0xC9, "Ecirc": 0xCA, "Egrave": 0xC8, "Epsilon;": 0x395, "Eta;": 0x397, "Euml": 0xCB,
        "Gamma;": 0x393, "Iacute": 0xCD, "Icirc": 0xCE, "Igrave": 0xCC, "Iota;": 0x399, "Iuml": 0xCF,
        "Kappa;": 0x39A, "Lambda;": 0x39B, "Mu;": 0x39C, "Ntilde": 0xD1, "Nu;": 0x39D, "OElig;": 0x152,
        "Oacute": 0xD3, "Ocirc": 0xD4, "Ograve": 0xD2, "Omega;": 0x3A9, "Omicron;": 0x39F, "Oslash": 0xD8,
        "Otilde": 0xD5, "Ouml": 0xD6, "Phi;": 0x3A6, "Pi;": 0x3A0, "Prime;": 0x2033, "Psi;": 0x3A8, "Rho;": 0x3A1,
        "Scaron;": 0x160, "Sigma;": 0x3A3, "THORN": 0xDE, "Tau;": 0x3A4, "Theta;": 0x398, "Uacute": 0xDA,
        "Ucirc": 0xDB, "Ugrave": 0xD9, "Upsilon;": 0x3A5, "Uuml": 0xDC, "Xi;": 0x39E, "Yacute": 0xDD, "Yuml;": 0x178,
        "Zeta;": 0x396, "aacute": 0xE1, "acirc": 0xE2, "acute": 0xB4, "aelig": 0xE6, "agrave": 0xE0,
        "alefsym;": 0x2135, "alpha;": 0x3B1, "amp": 0x26, "and;": 0x2227, "ang;": 0x2220, "apos": 0x27,
        "aring": 0xE5, "asymp;": 0x2248, "atilde": 0xE3, "auml": 0xE4, "bdquo;": 0x201E, "beta;": 0x3B2,
        "brvbar": 0xA6, "bull;": 0x2022, "cap;": 0x2229, "ccedil": 0xE7, "cedil": 0xB8, "cent": 0xA2, "chi;": 0x3C7,
        "circ;": 0x2C6, "clubs;": 0x2663, "cong;": 0x2245, "copy": 0xA9, "crarr;": 0x21B5, "cup;": 0x222A,
        "curren": 0xA4, "dArr;": 0x21D3, "dagger;": 0x2020, "darr;": 0x2193, "deg": 0xB0, "delta;": 0x3B4,
        "diams;": 0x2666, "divide": 0xF7, "eacute": 0xE9, "ecirc": 0xEA, "egrave": 0xE8, "empty;": 0x2205,
        "emsp;": 0x2003, "ensp;": 0x2002, "epsilon;": 0x3B5, "equiv;": 0x2261, "eta;": 0x3B7, "eth": 0xF0,
        "euml": 0xEB, "euro;": 0x20AC, "exist;": 0x2203, "fnof;": 0x192, "forall;": 0x2200, "frac12": 0xBD,
        "frac14": 0xBC, "frac34": 0xBE, "frasl;": 0x2044, "gamma;": 0x3B3, "ge;": 0x2265, "gt": 0x3E,
        "hArr;": 0x21D4, "harr;": 0x2194, "hearts;": 0x2665, "hellip;": 0x2026, "iacute": 0xED, "icirc": 0xEE,
        "iexcl": 0xA1, "igrave": 0xEC, "image;": 0x2111, "infin;": 0x221E, "int;": 0x222B, "iota;": 0x3B9,
        "iquest": 0xBF, "isin;": 0x2208, "iuml": 0xEF, "kappa;": 0x3BA, "lArr;": 0x21D0, "lambda;": 0x3BB,
        "lang;": 0x2329, "laquo": 0xAB, "larr;": 0x2190, "lceil;": 0x2308, "ldquo;": 0x201C, "le;": 0x2264,
        "lfloor;": 0x230A, "lowast;": 0x2217, "loz;": 0x25CA, "lrm;": 0x200E, "lsaquo;": 0x2039, "lsquo;": 0x2018,
        "lt": 0x3C, "macr": 0xAF, "mdash;": 0x2014, "micro": 0xB5, "middot": 0xB7, "minus;": 0x2212, "mu;": 0x3BC,
        "nabla;": 0x2207, "nbsp": 0xA0, "ndash;": 0x2013, "ne;": 0x2260, "ni;": 0x220B, "not": 0xAC,
        "notin;": 0x2209, "nsub;": 0x2284, "ntilde": 0xF1, "nu;": 0x3BD, "oacute": 0xF3, "ocirc": 0xF4,
        "oelig;": 0x153, "ograve": 0xF2, "oline;": 0x203E, "omega;": 0x3C9, "omicron;": 0x3BF, "oplus;": 0x2295,
        "or;": 0x2228, "ordf": 0xAA, "ordm": 0xBA, "oslash": 0xF8, "otilde": 0xF5, "otimes;": 0x2297, "ouml": 0xF6,
        "para": 0xB6, "part;": 0x2202, "permil;": 0x2030, "perp;": 0x22A5, "phi;": 0x3C6, "pi;": 0x3C0,
        "piv;": 0x3D6, "plusmn": 0xB1, "pound": 0xA3, "prime;": 0x2032, "prod;": 0x220F, "prop;": 0x221D,
        "psi;": 0x3C8, "quot": 0x22, "rArr;": 0x21D2, "radic;": 0x221A, "rang;": 0x232A, "raquo": 0xBB,
        "rarr;": 0x2192, "rceil;": 0x2309, "rdquo;": 0x201D, "real;": 0x211C, "reg": 0xAE, "rfloor;": 0x230B,
        "rho;": 0x3C1, "rlm;": 0x200F, "rsaquo;": 0x203A, "rsquo;": 0x2019, "sbquo;": 0x201A, "scaron;": 0x161,
        "sdot;": 0x22C5, "sect": 0xA7, "shy": 0xAD, "sigma;": 0x3C3, "sigmaf;": 0x3C2, "sim;": 0x223C,
        "spades;": 0x2660, "sub;": 0x2282, "sube;": 0x2286, "sum;": 0x2211, "sup1": 0xB9, "sup2": 0xB2, "sup3": 0xB3,
        "sup;": 0x2283, "supe;": 0x2287, "szlig": 0xDF, "tau;": 0x3C4, "there4;": 0x2234, "theta;": 0x3B8,
        "thetasym;": 0x3D1, "thinsp;": 0x2009, "thorn": 0xFE, "tilde;": 0x2DC, "times": 0xD7, "trade;": 0x2122,
        "uArr;": 0x21D1, "uacute": 0xFA, "uarr;": 0x2191, "ucirc": 0xFB, "ugrave": 0xF9, "uml": 0xA8,
        "upsih;": 0x3D2, "upsilon;": 0x3C5, "uuml": 0xFC, "weierp;": 0x2118, "xi;": 0x3BE, "yacute": 0xFD,
        "yen": 0xA5, "yuml": 0xFF, "zeta;": 0x3B6, "zwj;": 0x200D, "zwnj;": 0x200C,
    ]
}
