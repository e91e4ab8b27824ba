import ECMPStore
import Prometheus

/// The daemon's Prometheus metric families, rendered by `/metrics`.
///
/// Label values are VIP addresses and netlink operation names only: nothing
/// from the configuration that could be a secret reaches the output.
public final class ControllerMetrics: Sendable {
    /// Which way a VIP moved on lo.
    public enum TransitionDirection: String, Sendable, CaseIterable {
        case announce
        case withdraw
    }

    /// Reconcile cycles are netlink round trips plus pure planning: a few
    /// milliseconds normally, seconds only when the kernel is struggling.
    public static let reconcileDurationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]

    static var vipAnnounced: MetricNameDescriptor {
        family("vip_announced", help: "1 when the VIP is on lo and advertised, 0 when it is off lo.")
    }
    static var backendsUsable: MetricNameDescriptor {
        family("backends_usable", help: "Backends of the VIP's services that pass health checks and carry weight.")
    }
    static var backendsTotal: MetricNameDescriptor {
        family("backends_total", help: "Backends configured for the VIP's services.")
    }
    static var vipTransitions: MetricNameDescriptor {
        family("vip_transitions_total", help: "Times the VIP was put on or taken off lo, by direction.")
    }
    static var reconcileDuration: MetricNameDescriptor {
        family(
            "reconcile_duration", unit: "seconds",
            help: "Time one reconcile cycle took, observation to applied changes.")
    }
    static var netlinkErrors: MetricNameDescriptor {
        family(
            "netlink_errors_total", help: "Netlink requests the kernel refused or that could not be sent, by operation."
        )
    }
    static var routingDaemonUp: MetricNameDescriptor {
        family(
            "routing_daemon_up",
            help:
                "1 while the routing daemon (zebra, ospfd) runs, 0 while it does not; absent with routing.reload: none."
        )
    }
    static var bfdSessionUp: MetricNameDescriptor {
        family(
            "bfd_session_up",
            help: "1 while bfdd's session with the peer is up, 0 while it is not; absent with BFD off.")
    }
    static var bfdSessionUptime: MetricNameDescriptor {
        family("bfd_session_uptime", unit: "seconds", help: "How long bfdd's session with the peer has been up.")
    }
    static var bfdSessionFlaps: MetricNameDescriptor {
        family("bfd_session_flaps", help: "Times ecmpd saw the session with the peer leave Up since it started.")
    }
    static var routingFailures: MetricNameDescriptor {
        family(
            "routing_failures_total",
            help: "Routing config renders, validations, installs or reloads that failed; each is retried with back-off."
        )
    }
    static var netlinkEventOverflows: MetricNameDescriptor {
        family(
            "netlink_event_overflows_total",
            help: "Times the kernel dropped rtnetlink events for ecmpd (ENOBUFS); each is followed by a full resync.")
    }

    static var realServerTransitions: MetricNameDescriptor {
        family("realserver_transitions_total", help: "Managed mode: check verdict changes, by new state and reason.")
    }
    static var ipvsWrites: MetricNameDescriptor {
        family(
            "ipvs_writes_total",
            help: "Managed mode: IPVS changes written over netlink, by operation; flat while nothing changes.")
    }

    static var storeWritable: MetricNameDescriptor {
        family(
            "store_writable",
            help: "1 when the last write to the event database succeeded, 0 while events are held in memory.")
    }
    static var storeQueued: MetricNameDescriptor {
        family(
            "store_events_queued", help: "Events held in memory because the event database could not be written yet.")
    }
    static var storeFailures: MetricNameDescriptor {
        family(
            "store_write_failures_total",
            help: "Attempts to open or write the event database that failed (locked, full, read-only, corrupt).")
    }
    static var storeDropped: MetricNameDescriptor {
        family(
            "store_events_dropped_total",
            help: "Events lost because the in-memory queue was full while the database failed.")
    }
    static var storeMovedAside: MetricNameDescriptor {
        family("store_files_moved_aside_total", help: "Corrupt event databases moved aside and rebuilt.")
    }

    private static func family(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "ecmpd", metricName: name, unitName: unit, helpText: help)
    }

    private let registry: PrometheusCollectorRegistry
    private let reconcileDurationHistogram: DurationHistogram

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        reconcileDurationHistogram = registry.makeDurationHistogram(
            descriptor: Self.reconcileDuration, buckets: Self.reconcileDurationBuckets)
        // Fault counters exist from the start, so a scrape reads 0, not
        // nothing, until the first fault.
        _ = registry.makeCounter(descriptor: Self.routingFailures)
        _ = registry.makeCounter(descriptor: Self.netlinkEventOverflows)
    }

    /// Sets the VIP's announced, usable and total gauges.
    public func record(_ status: VIPStatus) {
        registry.makeGauge(descriptor: Self.vipAnnounced, labels: [("vip", status.vip)])
            .set(to: status.state.isAnnounced ? 1 : 0)
        registry.makeGauge(descriptor: Self.backendsUsable, labels: [("vip", status.vip)]).set(
            to: Double(status.usable))
        registry.makeGauge(descriptor: Self.backendsTotal, labels: [("vip", status.vip)]).set(to: Double(status.total))
    }

    /// Drops a VIP's gauges once it is no longer configured, so a removed
    /// VIP does not linger as a stale 0 or 1. Its counters stay: counters
    /// only ever grow, and scrapes that saw them should still add up.
    public func forgetVIP(_ vip: String) {
        for family in [Self.vipAnnounced, Self.backendsUsable, Self.backendsTotal] {
            registry.unregisterGauge(registry.makeGauge(descriptor: family, labels: [("vip", vip)]))
        }
    }

    /// `state` is up or down; `reason` a `CheckFailure.label` (or "ok").
    public func recordRealServerTransition(state: String, reason: String) {
        registry.makeCounter(descriptor: Self.realServerTransitions, labels: [("state", state), ("reason", reason)])
            .increment()
    }

    /// `operation`: add-service, edit-service, delete-service, add-destination, ...
    public func recordIPVSWrite(operation: String) {
        registry.makeCounter(descriptor: Self.ipvsWrites, labels: [("operation", operation)]).increment()
    }

    public func recordTransition(vip: String, direction: TransitionDirection) {
        registry.makeCounter(
            descriptor: Self.vipTransitions, labels: [("vip", vip), ("direction", direction.rawValue)]
        )
        .increment()
    }

    public func recordReconcile(duration: Duration) {
        reconcileDurationHistogram.record(duration)
    }

    /// `operation` names the netlink request that failed, such as
    /// `add-address` or `new-destination`; keep the set small and fixed.
    public func recordNetlinkError(operation: String) {
        registry.makeCounter(descriptor: Self.netlinkErrors, labels: [("operation", operation)]).increment()
    }

    /// The event store's gauges, and its counters advanced by what changed
    /// since `previous` (the store counts for the life of the process).
    public func recordStore(_ health: StoreHealth, previous: StoreHealth?) {
        registry.makeGauge(descriptor: Self.storeWritable).set(to: health.writable ? 1 : 0)
        registry.makeGauge(descriptor: Self.storeQueued).set(to: Double(health.queued))
        let counters: [(MetricNameDescriptor, Int, Int)] = [
            (Self.storeFailures, health.failedAttempts, previous?.failedAttempts ?? 0),
            (Self.storeDropped, health.dropped, previous?.dropped ?? 0),
            (Self.storeMovedAside, health.movedAside.count, previous?.movedAside.count ?? 0),
        ]
        for (descriptor, now, before) in counters {
            let counter = registry.makeCounter(descriptor: descriptor)
            if now > before { counter.increment(by: Int64(now - before)) }
        }
    }

    public func setRoutingDaemon(_ daemon: String, running: Bool) {
        registry.makeGauge(descriptor: Self.routingDaemonUp, labels: [("daemon", daemon)]).set(to: running ? 1 : 0)
    }

    /// Drops a daemon's gauge once it is no longer watched.
    public func forgetRoutingDaemon(_ daemon: String) {
        registry.unregisterGauge(registry.makeGauge(descriptor: Self.routingDaemonUp, labels: [("daemon", daemon)]))
    }

    /// One BFD session's gauges, labelled by the peer's address.
    public func record(_ session: BFDSessionStatus) {
        let labels = [("peer", session.peer)]
        registry.makeGauge(descriptor: Self.bfdSessionUp, labels: labels).set(to: session.state == "up" ? 1 : 0)
        registry.makeGauge(descriptor: Self.bfdSessionUptime, labels: labels).set(
            to: Double(session.uptimeSeconds ?? 0))
        registry.makeGauge(descriptor: Self.bfdSessionFlaps, labels: labels).set(to: Double(session.flaps))
    }

    /// Drops a peer's BFD gauges once bfdd no longer lists it.
    public func forgetBFDSession(_ peer: String) {
        for family in [Self.bfdSessionUp, Self.bfdSessionUptime, Self.bfdSessionFlaps] {
            registry.unregisterGauge(registry.makeGauge(descriptor: family, labels: [("peer", peer)]))
        }
    }

    public func recordRoutingFailure() {
        registry.makeCounter(descriptor: Self.routingFailures).increment()
    }

    public func recordNetlinkEventOverflow() {
        registry.makeCounter(descriptor: Self.netlinkEventOverflows).increment()
    }

    /// The Prometheus text exposition format, version 0.0.4.
    public func render() -> String {
        registry.emitToString()
    }
}
