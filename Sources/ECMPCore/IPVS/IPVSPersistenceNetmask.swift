/// The netmask that groups persistent clients: clients in one network stick
/// to one real server. The kernel keeps an IPv4 mask as a mask but an IPv6
/// one as a prefix length (and refuses IPv6 lengths outside 1...128 even on
/// services that are not persistent), so both forms are kept as given.
public enum IPVSPersistenceNetmask: Hashable, Sendable, CustomStringConvertible {
    case ipv4(IPv4Address)
    case ipv6(prefixLength: UInt8)

    /// One client per group: 255.255.255.255 or /128, what `ipvsadm`
    /// sends when `-M` is not given.
    public static func host(for family: IPVSAddressFamily) -> IPVSPersistenceNetmask {
        family == .ipv4 ? .ipv4(IPv4Address(UInt32.max)) : .ipv6(prefixLength: 128)
    }

    public var family: IPVSAddressFamily {
        if case .ipv4 = self { return .ipv4 } else { return .ipv6 }
    }

    /// As `ipvsadm -Ln` prints it after `mask`.
    public var description: String {
        switch self {
        case .ipv4(let mask): return mask.description
        case .ipv6(let length): return "\(length)"
        }
    }
}
