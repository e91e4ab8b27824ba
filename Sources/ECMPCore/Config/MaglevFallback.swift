/// When an `mh` service drops new connections: the kernel's Maglev scheduler
/// (net/netfilter/ipvs/ip_vs_mh.c) builds its lookup table from each
/// destination's *last non-zero* weight, so a destination set to weight 0
/// keeps its slots. A new connection that hashes to such a slot is dropped
/// (`ip_vs_mh_get` returns no destination) unless the service has
/// `mh-fallback` (IP_VS_SVC_F_SCHED_MH_FALLBACK): then `ip_vs_mh_get_fallback`
/// walks the table from that slot to the next available destination, a
/// function of the flow and the table alone, so every director that has the
/// same table picks the same server.
public enum MaglevFallback {
    /// What a `fleet_consistent` VIP's services get when they name no flags:
    /// port hashing spreads one client's connections, fallback keeps new
    /// connections flowing while a real server is at weight 0.
    public static let fleetConsistentFlags = ["mh-port", "mh-fallback"]

    /// Why real servers of `service` can sit at weight 0 while it runs `mh`
    /// without `mh-fallback`, or nil when they cannot or the flag is set.
    public static func weightZeroRisk(of service: VirtualService, mode: ControlMode, fleetConsistent: Bool) -> String? {
        guard service.scheduler == "mh", !service.schedulerFlags.contains("mh-fallback") else { return nil }
        if service.realServers.contains(where: { $0.weight == 0 }) {
            return "a real server is configured with weight 0"
        }
        switch mode {
        case .observe:
            return "in observe mode another program sets the weights (keepalived's inhibit_on_failure sets 0)"
        case .managed:
            if fleetConsistent { return "fleet_consistent sets a failed real server to weight 0" }
            if service.inhibitOnFailure { return "inhibit_on_failure sets a failed real server to weight 0" }
            return nil
        }
    }

    /// The warning for a service at risk, naming the failure mode.
    public static func warning(_ reason: String) -> String {
        "mh without mh-fallback drops every new connection that hashes to a weight-0 real server "
            + "(its slots stay in the Maglev table), and \(reason): add mh-fallback to scheduler_flags"
    }

    /// The same rule for the kernel's table, whatever program set it up: each
    /// `mh` service without fallback at one of the config's VIPs (or one of its
    /// fwmark services), with the destinations that drop connections right now.
    public static func kernelWarnings(_ table: IPVSTable, config: Config) -> [String] {
        let vips = Set(config.vips.map(\.address))
        let configured = Set(
            config.vips.flatMap { vip in
                vip.services.map { IPVSDesiredTable.identity(of: $0, on: vip.address) }
            })
        return table.entries.compactMap { entry in
            let service = entry.service
            guard service.scheduler == "mh", !service.flags.contains(.mhFallback) else { return nil }
            let identity = service.identity
            guard configured.contains(identity) || identity.endpoint.map({ vips.contains($0.address) }) == true else {
                return nil
            }
            let idle = entry.destinations.filter { $0.weight == 0 }.map { "\($0.key)" }
            let now =
                idle.isEmpty
                ? ""
                : "; at weight 0 now, so dropping its share of new connections: "
                    + idle.joined(separator: ", ")
            return "IPVS service \(identity) runs mh without mh-fallback: every new connection that hashes to a "
                + "weight-0 real server is dropped (its slots stay in the Maglev table)\(now); "
                + "add the flag (ipvsadm -E ... -b mh-fallback,mh-port, keepalived's mh-fallback)"
        }
    }
}
