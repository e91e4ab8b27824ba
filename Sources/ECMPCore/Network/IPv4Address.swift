/// An IPv4 address held in host order, so ordering and masking are plain
/// integer operations. Parsing accepts only the dotted-quad form
/// (no `inet_aton` shorthands such as `10.1`), because a config line like
/// `10.1` is far more likely a typo than a request for 10.0.0.1.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit),
                let octet = UInt32(part), octet <= 255,
                !(part.count > 1 && part.first == "0")
            else { return nil }
            result = result << 8 | octet
        }
        value = result
    }

    public var octets: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff))
    }

    public var description: String {
        let o = octets
        return "\(o.0).\(o.1).\(o.2).\(o.3)"
    }

    public var isLoopback: Bool { value >> 24 == 127 }
    public var isUnspecified: Bool { value == 0 }
    public var isMulticast: Bool { value >> 28 == 0xE }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
