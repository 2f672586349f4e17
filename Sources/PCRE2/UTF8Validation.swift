extension Regex8 {
    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values past
    /// U+10FFFF), the precondition for matching a subject with a `.utf` regex. Validate a subject
    /// once, not before every match at a growing offset.
    public static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        @inline(__always) func continuation(_ offset: Int) -> Bool {
            base.load(fromByteOffset: offset, as: UInt8.self) & 0xC0 == 0x80
        }
        while index < count {
            if index + 8 <= count,
                base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                index += 8
                continue
            }
            let lead = base.load(fromByteOffset: index, as: UInt8.self)
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            // The second byte's range rules out overlong forms, surrogates and values past U+10FFFF.
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondRange = 0x80...0x9F
            case 0xF0: length = 4; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondRange = 0x80...0x8F
            default: return false
            }
            guard index + length <= count,
                secondRange.contains(base.load(fromByteOffset: index + 1, as: UInt8.self))
            else { return false }
            for offset in 2..<length where !continuation(index + offset) {
                return false
            }
            index += length
        }
        return true
    }

    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValidUTF8($0) }
    }
}
