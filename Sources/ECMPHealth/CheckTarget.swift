import ECMPCore

/// One real server to check: where to connect and how. The address and port
/// are the check's (a `connect_port` replaces the server's port).
public struct CheckTarget: Sendable, Equatable {
    public var key: RealServerKey
    public var address: IPAddress
    public var port: Int
    public var check: HealthCheck
    /// Set for a `via_vip` check: the probe goes to the VIP and `port`
    /// instead of `address`, marked so that IPVS's probe service for this
    /// pair delivers it to `address` alone (`VIPPathPlan`).
    public var viaVIP: VIPPath?

    /// Where a `via_vip` probe goes, and the mark that takes it there; a nil
    /// mark means the pair got none (the mark range is full), and every
    /// check fails saying so.
    public struct VIPPath: Sendable, Equatable {
        public var vip: IPv4Address
        public var mark: UInt32?

        public init(vip: IPv4Address, mark: UInt32?) {
            self.vip = vip
            self.mark = mark
        }
    }

    public init(key: RealServerKey, address: IPAddress, port: Int, check: HealthCheck, viaVIP: VIPPath? = nil) {
        self.key = key
        self.address = address
        self.port = port
        self.check = check
        self.viaVIP = viaVIP
    }

    /// Every check a config asks for.
    public static func all(in config: Config) -> [CheckTarget] {
        ManagedPlanner.checkTargets(config).map { target in
            CheckTarget(
                key: target.key, address: target.address, port: target.port, check: target.check,
                viaVIP: target.vip.map { VIPPath(vip: $0, mark: target.mark) })
        }
    }

    /// Where in each interval this target's checks start: a fixed point
    /// derived from its key (FNV-1a), so 10,000 checks with one interval
    /// spread evenly instead of firing together, and a restart keeps the
    /// same spread.
    var phase: Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.description.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let intervalNanoseconds = max(1, check.interval.nanoseconds)
        return .nanoseconds(Int64(hash % UInt64(intervalNanoseconds)))
    }

    /// The label for status and metrics: tcp, http, https, exec, udp, dns or icmp.
    /// (A `via_vip` check keeps its kind's label; its failures name the VIP path.)
    public var kindLabel: String {
        switch check.kind {
        case .tcp: return "tcp"
        case .http(let http): return http.tls ? "https" : "http"
        case .exec: return "exec"
        case .udp: return "udp"
        case .dns: return "dns"
        case .icmp: return "icmp"
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
