/// An address of either family with the prefix length it is held under on
/// an interface: how ecmpd reads lo, where a VIP is a host route (/32 or
/// /128) beside 127.0.0.1/8, ::1/128 and whatever else an operator put there.
public struct PrefixedAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public init(_ ipv4: InterfaceAddress) {
        self.init(address: .v4(ipv4.address), prefixLength: ipv4.network.prefixLength)
    }

    /// `A/N` of either family (FRR's and `ip`'s notation), the length within
    /// the family's; nil otherwise. The address is kept as written, not masked.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let length = Int(parts[1]),
            (0...address.hostPrefixLength).contains(length)
        else { return nil }
        self.init(address: address, prefixLength: length)
    }

    public init(_ network: IPv4Network) {
        self.init(address: .v4(network.address), prefixLength: network.prefixLength)
    }

    /// The address as a host route of its family, as a VIP is held on lo.
    public static func host(_ address: IPAddress) -> PrefixedAddress {
        PrefixedAddress(address: address, prefixLength: address.hostPrefixLength)
    }

    /// A /32 or a /128: the only form in which a VIP on lo is ecmpd's.
    public var isHost: Bool { prefixLength == address.hostPrefixLength }

    public var description: String { "\(address)/\(prefixLength)" }

    public static func < (lhs: PrefixedAddress, rhs: PrefixedAddress) -> Bool {
        (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
    }
}
