/// An IPv4 or IPv6 address, as IPVS services and real servers may be either.
/// IPv6 is kept as its 16 bytes; text parsing and printing of IPv6 live with
/// the edges that talk to the kernel (`inet_pton`), so the core stays free of C.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }

    public var ipv4: IPv4Address? { if case .v4(let a) = self { return a } else { return nil } }
    public var ipv6: IPv6Address? { if case .v6(let a) = self { return a } else { return nil } }

    /// The prefix length of a host route of this family: 32 or 128, how a
    /// VIP is held on lo.
    public var hostPrefixLength: Int { ipv4 == nil ? 128 : 32 }

    public init?(_ text: String) {
        if let a = IPv4Address(text) {
            self = .v4(a)
        } else if let a = IPv6Address(text) {
            self = .v6(a)
        } else {
            return nil
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v6(let a), .v6(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }
}
