/// OSPF parameters written into ospfd.conf. Defaults follow the reference
/// topology: hello 1 s, dead 4 s, priority 0 so a director never becomes the
/// designated router (the upstream router is).
public struct OSPFSettings: Sendable, Equatable {
    public var area: OSPFArea
    public var interfaces: InterfaceSelection
    public var helloInterval: Int
    public var deadInterval: Int
    public var priority: Int
    public var cost: Int
    /// Cost of `interface lo`, which carries the VIP stubs: the metric the
    /// router compares between directors. Raise it on a standby director.
    public var loopbackCost: Int
    /// Explicit router-id; nil means the primary address of the first OSPF
    /// interface. Always written: zebra's automatic choice is the highest
    /// loopback address, which on a director is a VIP shared by the fleet.
    public var routerID: IPv4Address?
    public var authentication: OSPFAuthentication?
    /// Write the LSA/SPF throttle timers that make withdrawal and
    /// re-announcement take milliseconds instead of seconds
    /// (docs/benchmarks.md); flap damping is then ecmpd's job.
    public var fastConvergence: Bool
    /// BFD on the OSPF interfaces (`ospf.bfd`); off unless configured.
    public var bfd: BFDSettings

    public init(
        area: OSPFArea = OSPFArea(0), interfaces: InterfaceSelection = .defaultRoute, helloInterval: Int = 1,
        deadInterval: Int = 4, priority: Int = 0, cost: Int = 10, loopbackCost: Int = 10,
        routerID: IPv4Address? = nil, authentication: OSPFAuthentication? = nil, fastConvergence: Bool = true,
        bfd: BFDSettings = BFDSettings()
    ) {
        self.area = area
        self.interfaces = interfaces
        self.helloInterval = helloInterval
        self.deadInterval = deadInterval
        self.priority = priority
        self.cost = cost
        self.loopbackCost = loopbackCost
        self.routerID = routerID
        self.authentication = authentication
        self.fastConvergence = fastConvergence
        self.bfd = bfd
    }
}

/// An OSPF area id. Accepted as a dotted quad or a decimal number, always
/// written dotted, as FRR shows it.
public struct OSPFArea: Hashable, Sendable, CustomStringConvertible {
    public var id: UInt32
    public init(_ id: UInt32) { self.id = id }

    public init?(_ text: String) {
        if let dotted = IPv4Address(text) {
            id = dotted.value
        } else if text.allSatisfy(\.isASCIIDigit), !text.isEmpty, text.count <= 10, let number = UInt32(text) {
            id = number
        } else {
            return nil
        }
    }

    public var description: String { IPv4Address(id).description }
}

/// Which interfaces run OSPF.
public enum InterfaceSelection: Sendable, Equatable {
    /// The interface of the IPv4 default route, found over rtnetlink.
    case defaultRoute
    case named([String])
}

/// OSPF message-digest (MD5) authentication. The key itself lives in
/// `keyFile` (mode 0600/0640, not world-readable) and is never printed:
/// it is only written into the installed ospfd.conf.
public struct OSPFAuthentication: Sendable, Equatable {
    public var keyID: Int
    public var keyFile: String

    public init(keyID: Int, keyFile: String) {
        self.keyID = keyID
        self.keyFile = keyFile
    }
}
