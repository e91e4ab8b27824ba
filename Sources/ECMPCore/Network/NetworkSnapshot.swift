/// What the director's kernel says about its networking at one moment:
/// links with their IPv4 and IPv6 addresses and the IPv4 default route. Filled by the netlink
/// edge; everything that decides from it (which interfaces run OSPF, which
/// networks to announce) is pure.
public struct NetworkSnapshot: Sendable, Equatable {
    public var interfaces: [NetworkInterface]
    public var defaultRoute: DefaultRoute?

    public init(interfaces: [NetworkInterface], defaultRoute: DefaultRoute? = nil) {
        self.interfaces = interfaces
        self.defaultRoute = defaultRoute
    }

    public func interface(named name: String) -> NetworkInterface? { interfaces.first { $0.name == name } }
    public func interface(index: Int) -> NetworkInterface? { interfaces.first { $0.index == index } }

    public var loopback: NetworkInterface? { interfaces.first { $0.isLoopback } }

    /// Every IPv4 address on every interface except loopback.
    public var nonLoopbackAddresses: [InterfaceAddress] {
        interfaces.filter { !$0.isLoopback }.flatMap(\.addresses)
    }
}

public struct NetworkInterface: Sendable, Equatable {
    public var index: Int
    public var name: String
    public var isUp: Bool
    public var isLoopback: Bool
    public var addresses: [InterfaceAddress]
    /// Every IPv6 address the kernel lists, link-local, tentative and
    /// deprecated ones included: which of them OSPFv3 may use is decided
    /// by `IPv6InterfaceAddress.unusableReason`.
    public var ipv6Addresses: [IPv6InterfaceAddress]

    public init(
        index: Int, name: String, isUp: Bool, isLoopback: Bool = false, addresses: [InterfaceAddress],
        ipv6Addresses: [IPv6InterfaceAddress] = []
    ) {
        self.index = index
        self.name = name
        self.isUp = isUp
        self.isLoopback = isLoopback
        self.addresses = addresses
        self.ipv6Addresses = ipv6Addresses
    }

    /// The global IPv6 addresses usable now: what ospf6d announces.
    public var usableIPv6Addresses: [IPv6InterfaceAddress] { ipv6Addresses.filter { $0.unusableReason == nil } }

    /// The primary address: the kernel's first non-secondary one, the
    /// address a router-id should come from.
    public var primaryAddress: InterfaceAddress? {
        addresses.first { !$0.isSecondary } ?? addresses.first
    }
}

/// One IPv4 address as the kernel holds it: prefix length as configured
/// (never assumed /24), label (`eth0:1`), and whether the kernel marks it
/// secondary (a second address in an already-covered subnet).
public struct InterfaceAddress: Sendable, Equatable, Hashable {
    public var network: IPv4Network
    public var label: String?
    public var isSecondary: Bool

    public init(network: IPv4Network, label: String? = nil, isSecondary: Bool = false) {
        self.network = network
        self.label = label
        self.isSecondary = isSecondary
    }

    public var address: IPv4Address { network.address }
}

public struct DefaultRoute: Sendable, Equatable {
    public var interfaceIndex: Int
    public var gateway: IPv4Address?

    public init(interfaceIndex: Int, gateway: IPv4Address?) {
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
    }
}

/// One IPv6 address as the kernel holds it: the prefix length as
/// configured or learnt from a router advertisement (never assumed /64),
/// and the flags that say whether it may be used yet.
public struct IPv6InterfaceAddress: Sendable, Equatable, Hashable {
    public var network: IPv6Network
    /// IFA_F_TENTATIVE: duplicate address detection has not finished; the
    /// kernel does not use the address as a source yet.
    public var isTentative: Bool
    /// IFA_F_DEPRECATED: its preferred lifetime is over; it stays only for
    /// flows already using it.
    public var isDeprecated: Bool
    /// IFA_F_DADFAILED: another host on the link holds it.
    public var isDuplicate: Bool

    public init(network: IPv6Network, isTentative: Bool = false, isDeprecated: Bool = false, isDuplicate: Bool = false)
    {
        self.network = network
        self.isTentative = isTentative
        self.isDeprecated = isDeprecated
        self.isDuplicate = isDuplicate
    }

    public var address: IPv6Address { network.address }

    /// Why this address is not one ospf6d should announce as the link's
    /// network, or nil when it is. Link-local addresses carry OSPFv3 itself
    /// (RFC 5340 section 2.5) but are never a route.
    public var unusableReason: String? {
        if address.isLinkLocal { return "link-local: it carries OSPFv3's packets but is never routed" }
        if isDuplicate { return "duplicate address detection failed: another host on the link holds it" }
        if isTentative { return "tentative: duplicate address detection has not finished" }
        if isDeprecated { return "deprecated: its preferred lifetime is over" }
        return nil
    }
}
