/// One IPVS virtual service as configured: what it listens on, how it
/// schedules, and its real servers.
public struct VirtualService: Sendable, Equatable {
    public var listener: ServiceListener
    public var scheduler: String
    /// IPVS scheduler flags by name: `mh-fallback`, `mh-port`, `sh-fallback`,
    /// `sh-port`, `one-packet`.
    public var schedulerFlags: [String]
    public var persistence: Persistence?
    public var forwarding: ForwardingMethod
    public var realServers: [RealServer]
    /// keepalived's `quorum`: the summed weight of healthy servers needed for
    /// the service to count as up; nil means 1.
    public var quorum: Int?
    /// keepalived's `hysteresis` around the quorum.
    public var hysteresis: Int
    /// Added to IPVS when no real server is healthy.
    public var sorryServer: RealServerAddress?
    /// On failure set the weight to 0 (existing connections drain) instead of
    /// removing the destination.
    public var inhibitOnFailure: Bool

    public init(
        listener: ServiceListener, scheduler: String = "wlc", schedulerFlags: [String] = [],
        persistence: Persistence? = nil,
        forwarding: ForwardingMethod = .directRoute, realServers: [RealServer] = [], quorum: Int? = nil,
        hysteresis: Int = 0, sorryServer: RealServerAddress? = nil, inhibitOnFailure: Bool = false
    ) {
        self.listener = listener
        self.scheduler = scheduler
        self.schedulerFlags = schedulerFlags
        self.persistence = persistence
        self.forwarding = forwarding
        self.realServers = realServers
        self.quorum = quorum
        self.hysteresis = hysteresis
        self.sorryServer = sorryServer
        self.inhibitOnFailure = inhibitOnFailure
    }
}

/// What a virtual service matches: protocol and port on the VIP, or a
/// firewall mark set by iptables/nftables.
public enum ServiceListener: Hashable, Sendable, CustomStringConvertible {
    case port(TransportProtocol, Int)
    case fwmark(UInt32)

    /// The port of a real server that names none: the service's, or 0 for a
    /// firewall-mark service (IPVS then keeps each packet's own port).
    public var defaultRealServerPort: Int {
        switch self {
        case .port(_, let port): return port
        case .fwmark: return 0
        }
    }

    public var description: String {
        switch self {
        case .port(let proto, let port): return "\(proto.rawValue)/\(port)"
        case .fwmark(let mark): return "fwmark \(mark)"
        }
    }
}

public enum TransportProtocol: String, Hashable, Sendable, CaseIterable {
    case tcp, udp, sctp
}

public enum ForwardingMethod: String, Hashable, Sendable, CaseIterable {
    /// Direct routing ("gatewaying"): the real server answers the client itself.
    case directRoute = "dr"
    case nat
    case tunnel
}

/// Persistence (`ipvsadm -p`): a client keeps its real server for `timeout`
/// seconds, grouped by `netmask`.
public struct Persistence: Sendable, Equatable {
    public var timeout: Int
    public var netmask: IPv4Address?

    public init(timeout: Int, netmask: IPv4Address? = nil) {
        self.timeout = timeout
        self.netmask = netmask
    }
}

public struct RealServerAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: Int?

    public init(address: IPAddress, port: Int? = nil) {
        self.address = address
        self.port = port
    }

    public var description: String { port.map { "\(address):\($0)" } ?? address.description }
}

public struct RealServer: Sendable, Equatable {
    public var address: IPAddress
    /// nil means the service's port (fwmark services: no port).
    public var port: Int?
    public var weight: Int
    public var check: HealthCheck?
    /// The keepalived checker this server had that ecmpd could not import
    /// (`keepalived_check: SMTP_CHECK`), written by `ecmpd import-keepalived`
    /// only for a server left without a check, so `ecmpd check` can say that
    /// keepalived took it down on failure and ecmpd never will.
    public var droppedKeepalivedCheck: String?

    public init(
        address: IPAddress, port: Int? = nil, weight: Int = 1, check: HealthCheck? = nil,
        droppedKeepalivedCheck: String? = nil
    ) {
        self.address = address
        self.port = port
        self.weight = weight
        self.check = check
        self.droppedKeepalivedCheck = droppedKeepalivedCheck
    }
}
