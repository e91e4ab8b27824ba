/// IPv4 blocks no VIP can come from, whatever the host's networks (the
/// IANA special-purpose registry, RFC 6890): a packet to such an address
/// is never routed to a director, or means something else to every host on
/// the link. `ecmpd check --no-network` refuses them already.
public struct ReservedIPv4Block: Sendable, Equatable {
    public var network: IPv4Network
    /// What the block is, as a phrase: "link-local (RFC 3927)".
    public var kind: String
    /// Why that rules out a VIP.
    public var consequence: String

    /// Most specific first: 255.255.255.255 lies inside 240.0.0.0/4, and is
    /// named for what it is.
    public static let all: [ReservedIPv4Block] = [
        ReservedIPv4Block(
            "255.255.255.255/32", "the limited broadcast address (RFC 919)",
            "every host on the link takes it as its own, and no router forwards it"),
        ReservedIPv4Block("0.0.0.0/8", "\"this network\" (RFC 1122)", "no packet is ever sent to it"),
        ReservedIPv4Block("127.0.0.0/8", "loopback (RFC 1122)", "it never leaves a host"),
        ReservedIPv4Block("169.254.0.0/16", "link-local (RFC 3927)", "routers do not forward it"),
        ReservedIPv4Block("224.0.0.0/4", "multicast (RFC 5771)", "IPVS services and OSPF stub routes are for unicast"),
        ReservedIPv4Block("240.0.0.0/4", "reserved (RFC 1112)", "the kernel and routers drop packets to it"),
    ]

    private init(_ network: String, _ kind: String, _ consequence: String) {
        self.network = IPv4Network(network)!
        self.kind = kind
        self.consequence = consequence
    }

    /// The block `address` falls in, or nil for an address a VIP may have.
    public static func containing(_ address: IPv4Address) -> ReservedIPv4Block? {
        all.first { $0.network.contains(address) }
    }

    /// The refusal, as the message of a problem whose value is the address.
    public var refusal: String { Self.refusal(network: "\(network)", kind: kind, consequence: consequence) }

    /// One wording for a reserved block of either family.
    static func refusal(network: String, kind: String, consequence: String) -> String {
        "in \(network), \(kind): \(consequence); a VIP must be a unicast address that routers forward"
    }
}
