/// An IPv6 address: 16 bytes in network order, held as two big-endian
/// words so the address (and every key and destination that holds an
/// `IPAddress`) is plain data: copied without reference counting, compared
/// and hashed as two integers. Parsing follows RFC 4291 section 2.2 (hex
/// groups, one `::`, an optional trailing dotted quad); printing follows
/// RFC 5952 (lower case, longest zero run compressed).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0-7 and 8-15, the first byte most significant: comparing
    /// (high, low) orders addresses as their bytes do.
    private var high: UInt64
    private var low: UInt64

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        (0..<16).map { index in UInt8(truncatingIfNeeded: (index < 8 ? high : low) >> (8 * (7 - index % 8))) }
    }

    public init?(_ text: String) {
        guard text.contains(":") else { return nil }
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var halves = [text]
        if let gap = text.firstRange(of: "::") {
            halves = [String(text[..<gap.lowerBound]), String(text[gap.upperBound...])]
            guard !halves[1].contains("::") else { return nil }
        }
        func parseGroups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, item) in items.enumerated() {
                if allowV4, index == items.count - 1, item.contains("."), let v4 = IPv4Address(String(item)) {
                    out.append(UInt16(v4.value >> 16)); out.append(UInt16(v4.value & 0xffff))
                    continue
                }
                guard (1...4).contains(item.count), let g = UInt16(item, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        if halves.count == 2 {
            sawDoubleColon = true
            guard let head = parseGroups(halves[0], allowV4: false),
                let rest = parseGroups(halves[1], allowV4: true)
            else { return nil }
            groups = head; tail = rest
            guard groups.count + tail.count <= 7 else { return nil }
        } else {
            guard let all = parseGroups(halves[0], allowV4: true), all.count == 8 else { return nil }
            groups = all
        }
        let full = sawDoubleColon ? groups + Array(repeating: 0, count: 8 - groups.count - tail.count) + tail : groups
        self.init(bytes: full.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] })
    }

    public var description: String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: ($0 < 4 ? high : low) >> (16 * (3 - $0 % 4))) }
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8, groups[end] == 0 { end += 1 }
                if end - index > bestLength, end - index > 1 { bestStart = index; bestLength = end - index }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ range: Range<Int>) -> String { range.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }
}
