import ECMPCore

/// The current per-VIP status the controller publishes and `/status` serves.
///
/// One actor per concern: the reconciler writes, the status server reads,
/// and the metric gauges are kept in step on every write so `/status` and
/// `/metrics` never disagree about a VIP.
public actor ControllerStatus {
    private var vips: [String: VIPStatus] = [:]
    private var routingDaemon: ComponentHealth?
    private var routingDaemons: [RoutingDaemonStatus]?
    private var store: ComponentHealth?
    private var realServers: RealServerView?
    private var bfd: BFDStatus?
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

    /// Replaces the per-daemon rows and their `routing_daemon_up` gauges;
    /// nil (nothing watched) removes both.
    public func setRoutingDaemons(_ daemons: [RoutingDaemonStatus]?) {
        let kept = Set((daemons ?? []).map(\.daemon))
        for gone in (routingDaemons ?? []).map(\.daemon) where !kept.contains(gone) {
            metrics?.forgetRoutingDaemon(gone)
        }
        routingDaemons = daemons
        for daemon in daemons ?? [] { metrics?.setRoutingDaemon(daemon.daemon, running: daemon.running) }
    }

    public func setStore(_ health: ComponentHealth?) { store = health }

    /// Replaces the BFD sessions and their gauges; nil (BFD off) removes both.
    public func setBFD(_ status: BFDStatus?) {
        let kept = Set((status?.sessions ?? []).map(\.peer))
        for gone in (bfd?.sessions ?? []).map(\.peer) where !kept.contains(gone) { metrics?.forgetBFDSession(gone) }
        bfd = status
        for session in status?.sessions ?? [] { metrics?.record(session) }
    }

    /// Managed mode's real servers as of the last cycle. Rows and gauges
    /// are made from it when `/status` or `/metrics` asks.
    public func publishRealServers(_ view: RealServerView) { realServers = view }

    /// The real-server gauge families (Prometheus text), empty outside
    /// managed mode.
    public func realServerMetrics() -> String { realServers?.metricsText() ?? "" }

    /// VIPs in address order (10.0.0.2 before 10.0.0.10), text order for
    /// anything that does not parse.
    public func snapshot() -> StatusSnapshot {
        let ordered = vips.values.sorted { lhs, rhs in
            switch (IPAddress(lhs.vip), IPAddress(rhs.vip)) {
            case let (left?, right?) where left != right: return left < right
            default: return lhs.vip < rhs.vip
            }
        }
        return StatusSnapshot(
            vips: ordered, routingDaemon: routingDaemon, routingDaemons: routingDaemons, store: store,
            realServers: realServers?.rows(), bfd: bfd)
    }
}
