import PCRE2

extension Array where Element == UInt8 {
    init(_ text: String) {
        self = Array(text.utf8)
    }
}

extension RegexMatcher.Outcome {
    var range: Range<Int>? {
        if case .match(let range) = self { return range }
        return nil
    }
}
