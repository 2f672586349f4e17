// The bytes the header address parsers (`HeaderAddresses` and its port of Email::Address::XS) read
// by name, and reading past the end as C reads a Perl string.

extension Array where Element == UInt8 {
    /// The byte at `index`, NUL past the end (as C reads a Perl string).
    func at(_ index: Int) -> UInt8 { index < count ? self[index] : 0 }
}

extension UInt8 {
    static let tab: UInt8 = 0x09, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, space: UInt8 = 0x20, quote: UInt8 = 0x22
    static let apostrophe: UInt8 = 0x27, lparen: UInt8 = 0x28, rparen: UInt8 = 0x29, comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D, dot: UInt8 = 0x2E, colon: UInt8 = 0x3A, semicolon: UInt8 = 0x3B
    static let lt: UInt8 = 0x3C, gt: UInt8 = 0x3E, atSign: UInt8 = 0x40, lbracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C, rbracket: UInt8 = 0x5D, underscore: UInt8 = 0x5F
}
