/// What the director's kernel says about its IPv4 networking at one moment:
/// links with their addresses and the default route. Filled by the netlink
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

    public init(index: Int, name: String, isUp: Bool, isLoopback: Bool = false, addresses: [InterfaceAddress]) {
        self.index = index
        self.name = name
        self.isUp = isUp
        self.isLoopback = isLoopback
        self.addresses = addresses
    }

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
