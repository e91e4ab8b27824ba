/// The whole of one director's configuration, as read from its YAML file.
/// Every field has a documented default (docs/configuration.md), so a
/// minimal file names only the VIPs.
public struct Config: Sendable, Equatable {
    public var node: NodeSettings
    public var mode: ControlMode
    public var ospf: OSPFSettings
    /// OSPFv3 (ospf6d), which announces the IPv6 VIPs; nil when the file
    /// has no `ospf6` section, which is an error as soon as a VIP is IPv6.
    /// Read by the same rules as `ospf`, with the keys OSPFv3 has.
    public var ospf6: OSPFSettings?
    public var routing: RoutingDaemonSettings
    public var status: StatusSettings
    public var controller: ControllerSettings
    public var vips: [VIPConfig]

    public init(
        node: NodeSettings = NodeSettings(), mode: ControlMode = .observe, ospf: OSPFSettings = OSPFSettings(),
        ospf6: OSPFSettings? = nil, routing: RoutingDaemonSettings = RoutingDaemonSettings(),
        status: StatusSettings = StatusSettings(),
        controller: ControllerSettings = ControllerSettings(), vips: [VIPConfig] = []
    ) {
        self.node = node
        self.mode = mode
        self.ospf = ospf
        self.ospf6 = ospf6
        self.routing = routing
        self.status = status
        self.controller = controller
        self.vips = vips
    }

    /// The IPv4 VIPs, announced by ospfd.
    public var ipv4VIPs: [IPv4Address] { vips.compactMap(\.address.ipv4) }
    /// The IPv6 VIPs, announced by ospf6d.
    public var ipv6VIPs: [IPv6Address] { vips.compactMap(\.address.ipv6) }
}

/// Who programs IPVS: another program (keepalived) that ecmpd only watches,
/// or ecmpd itself from its own health checks.
public enum ControlMode: String, Sendable, Equatable, CaseIterable {
    case observe
    case managed
}

public struct NodeSettings: Sendable, Equatable {
    /// Written as `hostname` in the routing configs; nil means the system's.
    public var hostname: String?
    /// Directory for ecmpd's own state (drain flags, SQLite history).
    public var stateDirectory: String

    public init(hostname: String? = nil, stateDirectory: String = "/var/lib/ecmpd") {
        self.hostname = hostname
        self.stateDirectory = stateDirectory
    }
}

public struct StatusSettings: Sendable, Equatable {
    /// host:port of the status and metrics endpoint; loopback by default so
    /// nothing is exposed beyond the director without a deliberate change.
    public var listen: String

    public init(listen: String = "127.0.0.1:9477") { self.listen = listen }
}
