/// An IPv4 prefix such as 198.18.0.0/24. `init(address:prefixLength:)` keeps
/// the host bits as given (an interface address); `network` clears them,
/// which is what an OSPF `network` statement wants.
public struct IPv4Network: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int

    public init(address: IPv4Address, prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "prefix length \(prefixLength) outside 0...32")
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `A.B.C.D/N`; a bare address is taken as a /32.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPv4Address(String(parts[0])) else { return nil }
        var length = 32
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 2, parts[1].allSatisfy(\.isASCIIDigit),
                let parsed = Int(parts[1]), parsed <= 32
            else { return nil }
            length = parsed
        }
        self.init(address: address, prefixLength: length)
    }

    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << (32 - prefixLength) }
    public var netmask: IPv4Address { IPv4Address(mask) }
    public var network: IPv4Network {
        IPv4Network(address: IPv4Address(address.value & mask), prefixLength: prefixLength)
    }
    /// The last address of the prefix (all host bits set).
    public var broadcast: IPv4Address { IPv4Address(address.value | ~mask) }

    public func contains(_ other: IPv4Address) -> Bool { other.value & mask == address.value & mask }

    public var description: String { "\(address)/\(prefixLength)" }

    public static func < (lhs: IPv4Network, rhs: IPv4Network) -> Bool {
        (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
    }
}
