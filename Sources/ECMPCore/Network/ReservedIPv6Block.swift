/// IPv6 blocks no VIP can come from (the IANA special-purpose registry,
/// RFC 6890, and RFC 4291's scopes): a packet to such an address is never
/// routed to a director, or means something else to every host on the
/// link. The IPv6 counterpart of `ReservedIPv4Block`; the refusal is worded
/// by the same function, so both families read alike.
public struct ReservedIPv6Block: Sendable, Equatable {
    public var network: IPv6Network
    /// What the block is, as a phrase: "link-local (RFC 4291)".
    public var kind: String
    /// Why that rules out a VIP.
    public var consequence: String

    /// Most specific first: ::1 and :: are named for what they are.
    public static let all: [ReservedIPv6Block] = [
        ReservedIPv6Block("::/128", "the unspecified address (RFC 4291)", "no packet is ever sent to it"),
        ReservedIPv6Block("::1/128", "loopback (RFC 4291)", "it never leaves a host"),
        ReservedIPv6Block(
            "::ffff:0:0/96", "IPv4-mapped (RFC 4291)",
            "it stands for an IPv4 address inside a host's sockets and never appears on the wire; "
                + "configure the IPv4 address itself"),
        ReservedIPv6Block("fe80::/10", "link-local (RFC 4291)", "routers do not forward it"),
        ReservedIPv6Block(
            "ff00::/8", "multicast (RFC 4291)", "IPVS services and OSPF stub routes are for unicast"),
    ]

    private init(_ network: String, _ kind: String, _ consequence: String) {
        self.network = IPv6Network(network)!
        self.kind = kind
        self.consequence = consequence
    }

    /// The block `address` falls in, or nil for an address a VIP may have.
    public static func containing(_ address: IPv6Address) -> ReservedIPv6Block? {
        all.first { $0.network.contains(address) }
    }

    /// The refusal, as the message of a problem whose value is the address.
    public var refusal: String {
        ReservedIPv4Block.refusal(network: "\(network)", kind: kind, consequence: consequence)
    }
}

extension IPAddress {
    /// Why `self` can never be a VIP, whatever the host's networks, or nil.
    public var reservedBlockRefusal: String? {
        switch self {
        case .v4(let a): return ReservedIPv4Block.containing(a)?.refusal
        case .v6(let a): return ReservedIPv6Block.containing(a)?.refusal
        }
    }
}
