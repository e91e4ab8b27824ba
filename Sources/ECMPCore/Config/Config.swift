/// The whole of one director's configuration, as read from its YAML file.
/// Every field has a documented default (docs/configuration.md), so a
/// minimal file names only the VIPs.
public struct Config: Sendable, Equatable {
    public var node: NodeSettings
    public var mode: ControlMode
    public var ospf: OSPFSettings
    public var routing: RoutingDaemonSettings
    public var status: StatusSettings
    public var controller: ControllerSettings
    public var vips: [VIPConfig]

    public init(
        node: NodeSettings = NodeSettings(), mode: ControlMode = .observe, ospf: OSPFSettings = OSPFSettings(),
        routing: RoutingDaemonSettings = RoutingDaemonSettings(), status: StatusSettings = StatusSettings(),
        controller: ControllerSettings = ControllerSettings(), vips: [VIPConfig] = []
    ) {
        self.node = node
        self.mode = mode
        self.ospf = ospf
        self.routing = routing
        self.status = status
        self.controller = controller
        self.vips = vips
    }
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
