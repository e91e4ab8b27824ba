/// The paths a router forwards one prefix over: for a VIP, one nexthop per
/// director that announces it. Read from the kernel and from FRR, compared
/// with each other and with what the operator expects.
///
/// A set, not a list: the kernel keeps nexthops in the order they were
/// added and FRR in its own, and neither order means anything for ECMP, so
/// the nexthops are kept sorted and without duplicates. Weights are left
/// out: OSPF gives every equal-cost path weight 1.
public struct RouteNexthops: Hashable, Sendable, CustomStringConvertible {
    /// One path: a gateway reached over an interface, or an interface alone
    /// for a directly connected route. Either family: an IPv6 VIP's paths
    /// (OSPFv3) are link-local gateways, which mean something only with
    /// their interface, so the interface is always part of a nexthop.
    public struct Nexthop: Hashable, Comparable, Sendable, CustomStringConvertible {
        public var gateway: IPAddress?
        /// The interface's name; empty when the kernel named none.
        public var interface: String

        public init(gateway: IPAddress?, interface: String) {
            self.gateway = gateway
            self.interface = interface
        }

        public init(gateway: IPv4Address?, interface: String) {
            self.init(gateway: gateway.map(IPAddress.v4), interface: interface)
        }

        /// `via 198.18.0.2 dev lan` or `via fe80::1 dev lan`, as `ip route`
        /// writes a nexthop.
        public var description: String {
            let device = interface.isEmpty ? [] : ["dev \(interface)"]
            return ((gateway.map { ["via \($0)"] } ?? []) + device).joined(separator: " ")
        }

        /// By gateway (directly connected ones first), then interface.
        public static func < (lhs: Nexthop, rhs: Nexthop) -> Bool {
            switch (lhs.gateway, rhs.gateway) {
            case (nil, .some): return true
            case (.some, nil): return false
            case (let left?, let right?) where left != right: return left < right
            default: return lhs.interface < rhs.interface
            }
        }
    }

    /// Sorted, each nexthop once.
    public let nexthops: [Nexthop]

    public init(_ nexthops: some Sequence<Nexthop>) {
        self.nexthops = Set(nexthops).sorted()
    }

    public static let empty = RouteNexthops([])

    public var count: Int { nexthops.count }
    public var isEmpty: Bool { nexthops.isEmpty }

    /// The gateways, sorted; directly connected nexthops have none.
    public var gateways: [IPAddress] { nexthops.compactMap(\.gateway) }

    /// `via 198.18.0.2 dev lan, via 198.18.0.3 dev lan`, or `no nexthops`.
    public var description: String {
        isEmpty ? "no nexthops" : nexthops.map(\.description).joined(separator: ", ")
    }

    /// What `other` has that this set lacks (`missing`) and what this set
    /// has that `other` lacks (`extra`); both empty when they agree.
    public func difference(from other: RouteNexthops) -> (missing: [Nexthop], extra: [Nexthop]) {
        let mine = Set(nexthops), theirs = Set(other.nexthops)
        return (theirs.subtracting(mine).sorted(), mine.subtracting(theirs).sorted())
    }
}
