/// The text style stack of SpamAssassin's `HTML.pm` (`text_style`, `html_font_invisible`): enough
/// of the colours, sizes and CSS of the enclosing elements to tell whether text is hidden
/// (same colour as its background, tiny, `display:none`, `visibility:hidden`). Hidden text is
/// still rendered; it changes how the whitespace around it is trimmed, as in SpamAssassin.
struct MIMEHTMLTextStyle {
    struct Style {
        var tag: String
        var foreground: String
        var background: String
        var size: Int
        var display: String?
        var visibility: String?
        /// `isInvisible` for this style, worked out when it is pushed.
        var isHidden = false
    }

    private(set) var stack = [Style(tag: "default", foreground: "#000000", background: "#ffffff", size: 3)]
    private var baseFontSize = 3

    /// Elements whose attributes or CSS change the style.
    static let styledElements: Set<String> = [
        "body", "font", "table", "tr", "th", "td", "big", "small", "basefont", "marquee", "span", "p", "div", "a",
    ]

    private static let styleAttributes: [String: Set<String>] = [
        "basefont": ["color", "face", "size"], "body": ["text", "bgcolor", "link", "alink", "vlink", "background"],
        "font": ["color", "face", "size"], "marquee": ["bgcolor", "background"], "table": ["bgcolor", "style"],
        "td": ["bgcolor", "style"], "tr": ["bgcolor", "style"], "span": ["style"], "p": ["style"],
        "div": ["style"], "a": ["style"],
    ]

    mutating func update(tag: String, attributes: [(name: String, value: String)], isStart: Bool) {
        let tag = tag == "th" ? "td" : tag
        guard isStart else {
            if tag != "body" { close(tag) }
            return
        }
        if tag == "basefont", let size = attributes.first(where: { $0.name == "size" })?.value,
            let number = Self.leadingNumber(size, signed: false)
        {
            baseFontSize = number
            return
        }
        if tag == "td" || tag == "tr" { closeTableCell(tag) }
        var style = stack[stack.count - 1]
        style.tag = tag
        if tag == "big" || tag == "small" {
            style.size += tag == "big" ? 1 : -1
            style.isHidden = Self.isHidden(style)
            stack.append(style)
            return
        }
        let allowed = Self.styleAttributes[tag] ?? []
        for (name, value) in attributes where allowed.contains(name) {
            switch name {
            case "text", "color":
                style.foreground = Self.rgb(value)
            case "size":
                if let relative = Self.leadingNumber(value, signed: true) {
                    style.size = baseFontSize + relative
                } else if let absolute = Self.leadingNumber(value, signed: false) {
                    style.size = absolute
                }
            case "style":
                applyCSS(value, to: &style)
            default:
                break  // `bgcolor` is normalised but, as in SpamAssassin, not applied.
            }
        }
        style.isHidden = Self.isHidden(style)
        stack.append(style)
    }

    /// Whether text drawn now is hidden.
    var isInvisible: Bool { stack[stack.count - 1].isHidden }

    private static func isHidden(_ style: Style) -> Bool {
        let foreground = style.foreground
        let background = style.background
        if foreground.suffix(6) == background.suffix(6) { return true }
        if let fg = Self.components(foreground), let bg = Self.components(background) {
            let red = 0.2126 * Double(fg.0 - bg.0)
            let green = 0.7152 * Double(fg.1 - bg.1)
            let blue = 0.0722 * Double(fg.2 - bg.2)
            if (red * red + green * green + blue * blue).squareRoot() < 12 { return true }
        }
        if foreground == "invalid" || background == "invalid" { return true }
        if style.size <= 1 { return true }
        if style.display?.lowercased() == "none" { return true }
        if style.visibility?.lowercased() == "hidden" { return true }
        return false
    }

    // MARK: Stack

    private mutating func closeTableCell(_ tag: String) {
        guard stack.contains(where: { $0.tag == tag }) else { return }
        while let top = stack.last?.tag {
            let closes = tag == "td" ? (top == "font" || top == "td") : (top == "font" || top == "td" || top == "tr")
            guard closes else { break }
            stack.removeLast()
        }
    }

    private mutating func close(_ tag: String) {
        guard stack.contains(where: { $0.tag == tag }) else { return }
        while let popped = stack.popLast(), popped.tag != tag {}
    }

    // MARK: CSS

    private mutating func applyCSS(_ css: String, to style: inout Style) {
        var pieces = css.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        while pieces.last?.isEmpty == true { pieces.removeLast() }
        for piece in pieces {
            let trimmed = piece.drop { $0.isASCIIWhitespace }
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let property = String(trimmed[..<colon])
            let rawValue = trimmed[trimmed.index(after: colon)...]
            let value = String(rawValue).trimmingASCIIWhitespace()
            let lowered = property.lowercased()
            if lowered == "color" || lowered == "background-color", !rawValue.isEmpty {
                // Perl's `(.+?)` keeps one blank when there is nothing else.
                var color = value.isEmpty ? " " : value.lowercased()
                color = Self.droppingImportant(color)
                let rgb: String?
                if color.contains("rgb") {
                    let numbers = color.filter { $0.isASCIIDigit || $0 == "," }.split(separator: ",")
                    let parts = (0..<3).map { index in
                        index < numbers.count ? min(Int(numbers[index].prefix(4)) ?? 0, 255) : 0
                    }
                    rgb = "#" + parts.map { Self.twoDigitHex($0) }.joined()
                } else if color == "inherit" {
                    rgb = nil
                } else if color == "transparent" {
                    rgb = "transparent"
                } else {
                    rgb = Self.rgb(color)
                }
                if let rgb {
                    if lowered == "background-color" { style.background = rgb } else { style.foreground = rgb }
                }
            } else if property == "background", !value.isEmpty {
                let layers = Self.backgroundLayers(value.lowercased())
                for token in layers.last ?? [] {
                    let color = Self.rgb(token)
                    if color != "invalid" {
                        style.background = color
                        break
                    }
                }
            } else if !value.isEmpty {
                let name = property.trimmingASCIIWhitespace()
                guard !name.isEmpty, name.allSatisfy({ $0.isASCIILetter || $0 == "_" || $0 == "-" }) else { continue }
                if name == "display" { style.display = value }
                if name == "visibility" { style.visibility = value }
            }
        }
        if style.background == "transparent" { style.background = stack[stack.count - 1].background }
        if style.foreground == "transparent" { style.foreground = style.background }
    }

    /// `parse_css_background`: layers split at commas, tokens at spaces, keeping parentheses and
    /// quotes together.
    private static func backgroundLayers(_ value: String) -> [[String]] {
        var layers: [[String]] = []
        var tokens: [String] = []
        var token = ""
        var stack: [Character] = []
        for character in value {
            if let open = stack.last {
                token.append(character)
                if (open == "(" && character == ")") || (open != "(" && character == open) {
                    stack.removeLast()
                    if open == "(", stack.isEmpty {
                        tokens.append(token)
                        token = ""
                    }
                } else if open == "(", character == "\"" || character == "'" {
                    stack.append(character)
                }
                continue
            }
            switch character {
            case " ":
                if !token.isEmpty { tokens.append(token) }
                token = ""
            case "(", "\"", "'":
                token.append(character)
                stack.append(character)
            case ",":
                if !token.isEmpty { tokens.append(token) }
                token = ""
                layers.append(tokens)
                tokens = []
            default:
                token.append(character)
            }
        }
        if !token.isEmpty { tokens.append(token) }
        if !tokens.isEmpty { layers.append(tokens) }
        return layers
    }

    // MARK: Colours

    /// `name_to_rgb`: `#rrggbb`, or `invalid`.
    static func rgb(_ value: String) -> String {
        var color = value.lowercased().trimmingASCIIWhitespace()
        if let known = namedColors[color] {
            let hex = String(known, radix: 16)
            return "#" + String(repeating: "0", count: 6 - hex.count) + hex
        }
        let isHexLike = color.utf8.allSatisfy {
            $0 == UInt8(ascii: "#") || (0x30...0x39).contains($0)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
        let functions = Self.rgbFunctions(color)
        guard isHexLike || functions.contains(where: { $0.isWellFormed }) else { return "invalid" }
        // rgb(N%, N%, N%), then rgb(N, N, N): the first of each form.
        if let percent = functions.first(where: { $0.percentages != nil })?.percentages {
            color = "#" + percent.map { dec2hex(Int(Double($0) / 100 * 255)) }.joined()
        }
        if let numbers = Self.rgbFunctions(color).first(where: { $0.numbers != nil })?.numbers {
            color = "#" + numbers.map(dec2hex).joined()
        }
        guard color.hasPrefix("#") else { return "invalid" }
        var digits = color.filter { $0.isASCIIDigit || ("a"..."f").contains($0) }
        if digits.count > 6 { digits = String(digits.prefix(6)) }
        if digits.count > 3, digits.count < 6 { digits = String(digits.prefix(3)) }
        if digits.count % 3 != 0 { digits += String(repeating: "0", count: 3 - digits.count % 3) }
        if digits.count == 3 { digits = digits.map { "\($0)\($0)" }.joined() }
        return "#" + digits
    }

    /// `s/\s*!\s*important$//`.
    private static func droppingImportant(_ value: String) -> String {
        guard value.hasSuffix("important") else { return value }
        var rest = Substring(value).dropLast(9)
        while rest.last?.isASCIIWhitespace == true { rest = rest.dropLast() }
        guard rest.last == "!" else { return value }
        rest = rest.dropLast()
        while rest.last?.isASCIIWhitespace == true { rest = rest.dropLast() }
        return String(rest)
    }

    /// The `rgb(...)` calls in a colour: whether each is `rgb\([\d%, ]*\)`, and its three
    /// values when written `rgb(N%, N%, N%)` or `rgb(N, N, N)` (optional spaces after commas and
    /// before the parenthesis).
    private static func rgbFunctions(_ color: String) -> [(isWellFormed: Bool, percentages: [Int]?, numbers: [Int]?)] {
        let bytes = Array(color.utf8)
        var found: [(Bool, [Int]?, [Int]?)] = []
        var index = 0
        while index + 4 <= bytes.count {
            guard bytes[index..<(index + 4)].elementsEqual("rgb(".utf8) else {
                index += 1
                continue
            }
            let start = index + 4
            let inner = bytes[start...].prefix {
                (0x30...0x39).contains($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ",") || $0 == 0x20
            }
            let isWellFormed = start + inner.count < bytes.count && bytes[start + inner.count] == UInt8(ascii: ")")
            found.append(
                (isWellFormed, triple(bytes, from: start, percent: true), triple(bytes, from: start, percent: false)))
            index += 1
        }
        return found
    }

    /// `(\d+)%?,\s*(\d+)%?,\s*(\d+)%?\s*\)` at `start`.
    private static func triple(_ bytes: [UInt8], from start: Int, percent: Bool) -> [Int]? {
        var index = start
        var values: [Int] = []
        for position in 0..<3 {
            let digits = bytes[index...].prefix { (0x30...0x39).contains($0) }
            guard !digits.isEmpty else { return nil }
            values.append(Int(String(decoding: digits.prefix(9), as: UTF8.self)) ?? 0)
            index += digits.count
            if percent {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "%") else { return nil }
                index += 1
            }
            if position < 2 {
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
            while index < bytes.count, MIMEContentType.isSpace(bytes[index]) { index += 1 }
        }
        return index < bytes.count && bytes[index] == UInt8(ascii: ")") ? values : nil
    }

    private static func dec2hex(_ value: Int) -> String {
        (value < 16 ? "0" : "") + String(value, radix: 16)
    }

    private static func twoDigitHex(_ value: Int) -> String {
        let hex = String(value, radix: 16)
        return hex.count < 2 ? "0" + hex : hex
    }

    private static func components(_ color: String) -> (Int, Int, Int)? {
        let digits = color.hasPrefix("#") ? color.dropFirst() : Substring(color)
        guard digits.count == 6, digits.allSatisfy({ $0.isASCIIDigit || ("a"..."f").contains($0) }),
            let value = Int(digits, radix: 16)
        else { return nil }
        return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)
    }

    /// `^\s*([+-]\d+)` when `signed`, else `^\s*(\d+)`.
    private static func leadingNumber(_ text: String, signed: Bool) -> Int? {
        var rest = Substring(text).drop { $0.isASCIIWhitespace }
        var sign = 1
        if signed {
            guard let first = rest.first, first == "+" || first == "-" else { return nil }
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        let digits = rest.prefix { $0.isASCIIDigit }
        guard !digits.isEmpty else { return nil }
        return sign * (Int(digits.prefix(9)) ?? 0)
    }

    private static let namedColors: [String: Int] = [
        "aliceblue": 0xf0f8ff, "antiquewhite": 0xfaebd7, "aqua": 0x00ffff, "aquamarine": 0x7fffd4, "azure": 0xf0ffff,
        "beige": 0xf5f5dc, "bisque": 0xffe4c4, "black": 0x000000, "blanchedalmond": 0xffebcd, "blue": 0x0000ff,
        "blueviolet": 0x8a2be2, "brown": 0xa52a2a, "burlywood": 0xdeb887, "cadetblue": 0x5f9ea0,
        "chartreuse":
            0x7fff00, "chocolate": 0xd2691e, "coral": 0xff7f50, "cornflowerblue": 0x6495ed, "cornsilk": 0xfff8dc,
        "crimson": 0xdc143c, "cyan": 0x00ffff, "darkblue": 0x00008b, "darkcyan": 0x008b8b, "darkgoldenrod": 0xb8860b,
        "darkgray": 0xa9a9a9, "darkgreen": 0x006400, "darkgrey": 0xa9a9a9, "darkkhaki": 0xbdb76b,
        "darkmagenta":
            0x8b008b, "darkolivegreen": 0x556b2f, "darkorange": 0xff8c00, "darkorchid": 0x9932cc, "darkred": 0x8b0000,
        "darksalmon": 0xe9967a, "darkseagreen": 0x8fbc8f, "darkslateblue": 0x483d8b, "darkslategray": 0x2f4f4f,
        "darkslategrey": 0x2f4f4f, "darkturquoise": 0x00ced1, "darkviolet": 0x9400d3, "deeppink": 0xff1493,
        "deepskyblue": 0x00bfff, "dimgray": 0x696969, "dimgrey": 0x696969, "dodgerblue": 0x1e90ff,
        "firebrick":
            0xb22222, "floralwhite": 0xfffaf0, "forestgreen": 0x228b22, "fuchsia": 0xff00ff, "gainsboro": 0xdcdcdc,
        "ghostwhite": 0xf8f8ff, "gold": 0xffd700, "goldenrod": 0xdaa520, "gray": 0x808080, "green": 0x008000,
        "greenyellow": 0xadff2f, "grey": 0x808080, "honeydew": 0xf0fff0, "hotpink": 0xff69b4, "indianred": 0xcd5c5c,
        "indigo": 0x4b0082, "ivory": 0xfffff0, "khaki": 0xf0e68c, "lavender": 0xe6e6fa, "lavenderblush": 0xfff0f5,
        "lawngreen": 0x7cfc00, "lemonchiffon": 0xfffacd, "lightblue": 0xadd8e6, "lightcoral": 0xf08080,
        "lightcyan":
            0xe0ffff, "lightgoldenrodyellow": 0xfafad2, "lightgray": 0xd3d3d3, "lightgreen": 0x90ee90,
        "lightgrey":
            0xd3d3d3, "lightpink": 0xffb6c1, "lightsalmon": 0xffa07a, "lightseagreen": 0x20b2aa,
        "lightskyblue":
            0x87cefa, "lightslategray": 0x778899, "lightslategrey": 0x778899, "lightsteelblue": 0xb0c4de,
        "lightyellow":
            0xffffe0, "lime": 0x00ff00, "limegreen": 0x32cd32, "linen": 0xfaf0e6, "magenta": 0xff00ff,
        "maroon":
            0x800000, "mediumaquamarine": 0x66cdaa, "mediumblue": 0x0000cd, "mediumorchid": 0xba55d3,
        "mediumpurple":
            0x9370db, "mediumseagreen": 0x3cb371, "mediumslateblue": 0x7b68ee, "mediumspringgreen": 0x00fa9a,
        "mediumturquoise": 0x48d1cc, "mediumvioletred": 0xc71585, "midnightblue": 0x191970, "mintcream": 0xf5fffa,
        "mistyrose": 0xffe4e1, "moccasin": 0xffe4b5, "navajowhite": 0xffdead, "navy": 0x000080, "oldlace": 0xfdf5e6,
        "olive": 0x808000, "olivedrab": 0x6b8e23, "orange": 0xffa500, "orangered": 0xff4500, "orchid": 0xda70d6,
        "palegoldenrod": 0xeee8aa, "palegreen": 0x98fb98, "paleturquoise": 0xafeeee, "palevioletred": 0xdb7093,
        "papayawhip": 0xffefd5, "peachpuff": 0xffdab9, "peru": 0xcd853f, "pink": 0xffc0cb, "plum": 0xdda0dd,
        "powderblue": 0xb0e0e6, "purple": 0x800080, "red": 0xff0000, "rosybrown": 0xbc8f8f, "royalblue": 0x4169e1,
        "saddlebrown": 0x8b4513, "salmon": 0xfa8072, "sandybrown": 0xf4a460, "seagreen": 0x2e8b57,
        "seashell":
            0xfff5ee, "sienna": 0xa0522d, "silver": 0xc0c0c0, "skyblue": 0x87ceeb, "slateblue": 0x6a5acd,
        "slategray":
            0x708090, "slategrey": 0x708090, "snow": 0xfffafa, "springgreen": 0x00ff7f, "steelblue": 0x4682b4,
        "tan":
            0xd2b48c, "teal": 0x008080, "thistle": 0xd8bfd8, "tomato": 0xff6347, "turquoise": 0x40e0d0,
        "violet":
            0xee82ee, "wheat": 0xf5deb3, "white": 0xffffff, "whitesmoke": 0xf5f5f5, "yellow": 0xffff00,
        "yellowgreen":
            0x9acd32,
    ]
}

extension Character {
    // File-private: names this plain could clash elsewhere in the module.
    /// Perl's `\s` on bytes; "\r\n" is one `Character` and counts too.
    fileprivate var isASCIIWhitespace: Bool { unicodeScalars.allSatisfy { $0 == " " || ("\t"..."\r").contains($0) } }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        String(drop { $0.isASCIIWhitespace }.reversed().drop { $0.isASCIIWhitespace }.reversed())
    }
}
