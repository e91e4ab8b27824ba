/// How `via_vip` checks reach exactly one real server through the VIP, pure:
/// one firewall mark per (VIP, real server) pair, and for each mark an IPVS
/// fwmark service whose only destination is that real server, forwarded by
/// direct routing.
///
/// Why IPVS and not policy routing alone: IPVS hooks LOCAL_OUT too
/// (`ip_vs_local_request4`), so a connect from the director to VIP:port is
/// scheduled by the VIP's own service to whichever real server its
/// scheduler picks, whatever route the socket chose. IPVS looks a packet's
/// mark up before its address and port (`ip_vs_service_find`), so a probe
/// socket carrying the pair's mark (SO_MARK) is taken by the pair's fwmark
/// service instead, and leaves through the same direct-routing transmit a
/// client's packet takes: to the real server's MAC, addressed to the VIP.
/// A real server without the VIP on lo drops it (or answers with a reset
/// when nothing listens on VIP:port), and the check fails.
///
/// Marks come from `marks` (by default 0x6ecd0000–0x6ecdffff, clear of the
/// marks kube-proxy, Calico, Cilium and WireGuard use): the pairs in sorted
/// order take consecutive marks, so a config gives the same marks on every
/// director and after every restart. Every fwmark service in the range is
/// ecmpd's: one left by an earlier config or a crashed run is deleted by the
/// next reconcile.
public struct VIPPathPlan: Sendable, Equatable {
    public struct Pair: Sendable, Hashable, Comparable {
        public var vip: IPv4Address
        public var realServer: IPv4Address

        public init(vip: IPv4Address, realServer: IPv4Address) {
            self.vip = vip
            self.realServer = realServer
        }

        public static func < (lhs: Pair, rhs: Pair) -> Bool {
            lhs.vip != rhs.vip ? lhs.vip < rhs.vip : lhs.realServer < rhs.realServer
        }
    }

    public static let defaultMarks: ClosedRange<UInt32> = 0x6ecd_0000...0x6ecd_ffff

    public var marks: ClosedRange<UInt32>
    /// Each pair's mark.
    public var markOfPair: [Pair: UInt32]
    /// Pairs past the end of the range, which get no path (their checks
    /// fail with a reason saying so).
    public var unallocated: [Pair]

    /// The pairs of every `via_vip` check of a direct-routing service.
    public init(_ config: Config, marks: ClosedRange<UInt32> = defaultMarks) {
        var pairs: Set<Pair> = []
        for vip in config.vips {
            for service in vip.services where service.forwarding == .directRoute {
                for server in service.realServers where server.check?.viaVIP == true {
                    // The parser allows via_vip only for IPv4 (ip_vs_local_request4).
                    guard case .v4(let address) = server.address, case .v4(let vipAddress) = vip.address else {
                        continue
                    }
                    pairs.insert(Pair(vip: vipAddress, realServer: address))
                }
            }
        }
        self.init(pairs: pairs.sorted(), marks: marks)
    }

    public init(pairs sorted: [Pair], marks: ClosedRange<UInt32> = defaultMarks) {
        self.marks = marks
        let capacity = Int(marks.upperBound - marks.lowerBound) + 1
        markOfPair = Dictionary(
            uniqueKeysWithValues: sorted.prefix(capacity).enumerated().map { ($1, marks.lowerBound + UInt32($0)) })
        unallocated = Array(sorted.dropFirst(capacity))
    }

    public func mark(vip: IPAddress, realServer: IPAddress) -> UInt32? {
        guard case .v4(let address) = realServer, case .v4(let vip) = vip else { return nil }
        return markOfPair[Pair(vip: vip, realServer: address)]
    }

    /// The probe services to program: per mark, a fwmark service (rr) with
    /// the pair's real server as its only destination, direct routing,
    /// weight 1, port 0 (direct routing never rewrites the port).
    public var services: [IPVSTable.Entry] {
        markOfPair.sorted { $0.value < $1.value }.map { pair, mark in
            IPVSTable.Entry(
                IPVSService(.fwmark(mark, family: .ipv4), scheduler: "rr"),
                destinations: [IPVSDestination(.v4(pair.realServer), port: 0, forwarding: .directRoute, weight: 1)])
        }
    }

    /// Managed direct-routing services with a tcp, http or https check that
    /// is not `via_vip`, by their config path (`vips[0].services[1]`): what
    /// `ecmpd check` suggests `via_vip` for. Such a check connects to the
    /// real server's own address, which answers even when the server lost
    /// the VIP from lo and drops every client packet.
    public static func servicesLackingVIPPath(_ config: Config) -> [String] {
        guard config.mode == .managed else { return [] }
        var paths: [String] = []
        for (v, vip) in config.vips.enumerated() {
            for (s, service) in vip.services.enumerated() where service.forwarding == .directRoute {
                let lacking = service.realServers.contains { server in
                    guard let check = server.check, !check.viaVIP, case .v4 = server.address else { return false }
                    return supportsViaVIP(check.kind)
                }
                if lacking { paths.append("vips[\(v)].services[\(s)]") }
            }
        }
        return paths
    }

    /// The kinds a probe can take through the VIP path: those that open a
    /// TCP connection to the server (tcp, http, https).
    public static func supportsViaVIP(_ kind: HealthCheck.Kind) -> Bool {
        switch kind {
        case .tcp, .http: return true
        default: return false
        }
    }

    /// Whether `identity` is a probe service: a fwmark service in the range.
    public func owns(_ identity: IPVSServiceIdentity) -> Bool {
        guard case .fwmark(let mark, _) = identity else { return false }
        return marks.contains(mark)
    }
}
