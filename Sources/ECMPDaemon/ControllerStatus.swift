import ECMPCore

/// The current per-VIP status the controller publishes and `/status` serves.
///
/// One actor per concern: the reconciler writes, the status server reads,
/// and the metric gauges are kept in step on every write so `/status` and
/// `/metrics` never disagree about a VIP.
public actor ControllerStatus {
    private var vips: [String: VIPStatus] = [:]
    private var routingDaemon: ComponentHealth?
    private var store: ComponentHealth?
    private var realServers: [ManagedServerStatus]?
    private let metrics: ControllerMetrics?

    public init(metrics: ControllerMetrics? = nil) {
        self.metrics = metrics
    }

    /// Replaces the whole VIP set: VIPs missing from `statuses` (removed
    /// from the configuration) disappear from `/status` and `/metrics`.
    public func publish(_ statuses: [VIPStatus]) {
        let incoming = Set(statuses.map(\.vip))
        for gone in vips.keys where !incoming.contains(gone) {
            metrics?.forgetVIP(gone)
        }
        vips = [:]
        for status in statuses { update(status) }
    }

    /// Records one VIP's status, adding it if it is new.
    public func update(_ status: VIPStatus) {
        vips[status.vip] = status
        metrics?.record(status)
    }

    public func setRoutingDaemon(_ health: ComponentHealth?) { routingDaemon = health }

    public func setStore(_ health: ComponentHealth?) { store = health }

    /// Managed mode's real servers, already in display order; their gauges
    /// follow (servers no longer listed are dropped from `/metrics`).
    public func publishRealServers(_ servers: [ManagedServerStatus]) {
        let incoming = Set(servers.map { RealServerLabels(service: $0.service, server: $0.server) })
        for old in realServers ?? [] where !incoming.contains(RealServerLabels(service: old.service, server: old.server)) {
            metrics?.forgetRealServer(service: old.service, server: old.server)
        }
        realServers = servers
        for server in servers { metrics?.record(server) }
    }

    /// VIPs in address order (10.0.0.2 before 10.0.0.10), text order for
    /// anything that does not parse.
    public func snapshot() -> StatusSnapshot {
        let ordered = vips.values.sorted { lhs, rhs in
            switch (IPAddress(lhs.vip), IPAddress(rhs.vip)) {
            case let (left?, right?) where left != right: return left < right
            default: return lhs.vip < rhs.vip
            }
        }
        return StatusSnapshot(vips: ordered, routingDaemon: routingDaemon, store: store, realServers: realServers)
    }
}

private struct RealServerLabels: Hashable {
    var service: String
    var server: String
}
