/// Everything the routing templates need, decided from the config and the
/// detected network. Built by `OSPFPlanner`; rendered by `RoutingRenderer`.
public struct OSPFPlan: Sendable, Equatable {
    public struct Interface: Sendable, Equatable {
        public var name: String
        public var helloInterval: Int
        public var deadInterval: Int
        public var priority: Int
        public var cost: Int
    }

    public var role: RoutingRole
    public var hostname: String
    public var routerID: IPv4Address
    public var area: OSPFArea
    public var interfaces: [Interface]
    /// Networks of the OSPF interfaces, host bits cleared, each once.
    public var networks: [IPv4Network]
    /// VIPs announced as /32 stubs from lo (directors only).
    public var vips: [IPv4Address]
    public var loopbackCost: Int
    public var authenticationKeyID: Int?
    public var fastConvergence: Bool
    /// `maximum-paths` on the router: how many directors ECMP may use.
    public var maximumPaths: Int
    /// BFD's timers when `ospf.bfd` is on: bfdd.conf is rendered and every
    /// OSPF interface gets `ip ospf bfd`. Nil: no bfdd.conf at all.
    public var bfd: BFDSettings?
    /// ospf6d's part: nil unless the config has IPv6 VIPs.
    public var ospf6: OSPF6Plan?
}

/// Why a plan could not be made from the detected network.
public struct OSPFPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}
