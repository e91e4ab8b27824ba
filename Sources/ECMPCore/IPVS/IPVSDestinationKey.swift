/// What the kernel keys a destination by within its service: address and
/// port. Ordered by address then port; that order is the canonical order
/// destinations are added in.
public struct IPVSDestinationKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public var description: String { Self.format(address, port: port) }

    /// `198.18.0.2:80` or `[2001:db8::2]:80`, as `ipvsadm -Ln` prints them.
    static func format(_ address: IPAddress, port: UInt16) -> String {
        switch address {
        case .v4: return "\(address):\(port)"
        case .v6: return "[\(address)]:\(port)"
        }
    }

    public static func < (lhs: IPVSDestinationKey, rhs: IPVSDestinationKey) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}
