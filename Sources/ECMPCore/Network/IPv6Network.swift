/// An IPv6 prefix such as 2001:db8:1::/64. `init(address:prefixLength:)`
/// keeps the host bits as given (an interface address); `network` clears
/// them, which is what an ospf6d `network`-style announcement wants.
public struct IPv6Network: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPv6Address
    public var prefixLength: Int

    public init(address: IPv6Address, prefixLength: Int) {
        precondition((0...128).contains(prefixLength), "prefix length \(prefixLength) outside 0...128")
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `address/N`; a bare address is taken as a /128.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPv6Address(String(parts[0])) else { return nil }
        var length = 128
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isASCIIDigit),
                let parsed = Int(parts[1]), parsed <= 128
            else { return nil }
            length = parsed
        }
        self.init(address: address, prefixLength: length)
    }

    /// The prefix with its host bits cleared.
    public var network: IPv6Network {
        IPv6Network(address: address.masked(toPrefixLength: prefixLength), prefixLength: prefixLength)
    }

    public func contains(_ other: IPv6Address) -> Bool {
        other.masked(toPrefixLength: prefixLength) == address.masked(toPrefixLength: prefixLength)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    public static func < (lhs: IPv6Network, rhs: IPv6Network) -> Bool {
        (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
    }
}

extension IPv6Address {
    /// The address with every bit after the first `length` cleared.
    public func masked(toPrefixLength length: Int) -> IPv6Address {
        let kept = bytes.enumerated().map { index, byte -> UInt8 in
            let bits = min(max(length - index * 8, 0), 8)
            return bits == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xff << (8 - bits))
        }
        return IPv6Address(bytes: kept)
    }

    /// fe80::/10 (RFC 4291 section 2.5.6): valid only on one link.
    public var isLinkLocal: Bool { IPv6Network(address: IPv6Address("fe80::")!, prefixLength: 10).contains(self) }
}
