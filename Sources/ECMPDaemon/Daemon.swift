import ECMPCore
import ECMPHealth
import ECMPNetlink
import ECMPStore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `ecmpd run`, assembled: the services and their order. ServiceGroup
/// stops services in reverse order on SIGTERM, so the reconcile loop stops
/// (and applies `on_stop`) before the event sink drains into SQLite and
/// the status endpoint closes.
public struct Daemon {
    public struct StartupError: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public var loaded: LoadedConfig
    public var logger: Logger
    /// Called with the status endpoint's bound port (tests bind port 0).
    public var onStatusListening: @Sendable (Int) async -> Void

    public init(
        loaded: LoadedConfig, logger: Logger, onStatusListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.loaded = loaded
        self.logger = logger
        self.onStatusListening = onStatusListening
    }

    /// Refusals before anything is touched: no CAP_NET_ADMIN, a mode this
    /// build cannot run, or a keepalived that would never bring a withdrawn
    /// VIP back.
    public static func preflight(_ loaded: LoadedConfig, capabilities: ProcessCapabilities? = .current())
        throws(StartupError)
    {
        if let capabilities, !capabilities.hasNetAdmin {
            throw StartupError(Self.missingNetAdmin(capabilities, uid: geteuid()))
        }
        let config = loaded.config
        // Managed mode checks on its own; a keepalived.conf left on the box is
        // not ecmpd's concern then (two programs must not program one table).
        guard config.mode == .observe else { return }
        let keepalived = config.controller.keepalivedConfig ?? ControllerSettings.defaultKeepalivedConfig
        guard let data = FileManager.default.contents(atPath: keepalived),
            let text = String(data: data, encoding: .utf8)
        else {
            if config.controller.keepalivedConfig != nil {
                throw StartupError("\(loaded.file): controller.keepalived_config: cannot read '\(keepalived)'")
            }
            return
        }
        let found = KeepalivedImporter.haSuspendLocations(
            text: text, file: keepalived, configID: HostName.system(),
            includeLoader: KeepalivedFiles.include)
        if !found.isEmpty {
            throw StartupError(
                found.map {
                    "\($0): ha_suspend: keepalived stops checking a virtual server while its VIP is not on this host, so a VIP ecmpd withdraws would never come back; remove ha_suspend"
                }.joined(separator: "\n"))
        }
    }

    /// What `ecmpd check` finds against the live network that would make
    /// this director wrong once applied (a VIP that is also an interface
    /// address: the director would answer ARP for it): refused at start and
    /// on SIGHUP, before lo or a routing file is touched. Errors only; a
    /// network that cannot be read is no refusal, since the routing sync
    /// reports that failure on its own.
    public static func refuseNetworkConflicts(_ loaded: LoadedConfig) throws(ConfigErrors) {
        guard let network = try? NetworkDetector.snapshot() else { return }
        let errors = NetworkConfigValidator.problems(loaded, network: network).filter { $0.severity == .error }
        if !errors.isEmpty { throw ConfigErrors(errors) }
    }

    /// Every VIP change (rtnetlink on lo) and every IPVS request (dump or
    /// program) needs CAP_NET_ADMIN; nothing else `ecmpd run` does needs
    /// a capability (docs/operator-guide.md, "Least privilege").
    static func missingNetAdmin(_ capabilities: ProcessCapabilities, uid: uid_t) -> String {
        "needs CAP_NET_ADMIN (adding and removing VIPs on lo, reading and programming IPVS) and runs without it "
            + "(uid \(uid), effective capabilities 0x\(String(capabilities.effective, radix: 16))): "
            + "run it from deploy/systemd/ecmpd.service (AmbientCapabilities=CAP_NET_ADMIN) or as root"
    }

    public func run() async throws {
        // First, so a second instance stops before it touches lo, IPVS or a routing file.
        try StateDirectory(loaded.config.node.stateDirectory).prepare()
        let instance = try InstanceLock(stateDirectory: loaded.config.node.stateDirectory, logger: logger)
        defer { instance.release(logger: logger) }
        try Self.preflight(loaded)
        try Self.refuseNetworkConflicts(loaded)
        ProcessMemory.limitArenas()
        let config = loaded.config
        let metrics = ControllerMetrics()
        let status = ControllerStatus(metrics: metrics)
        let store = EventStore(path: "\(config.node.stateDirectory)/history.sqlite")
        let events = EventSink(store: store, status: status, metrics: metrics, logger: logger)
        let routing = RoutingCoordinator(
            inputs: .init(loaded: loaded), events: events, status: status, metrics: metrics, logger: logger)
        let announcers: (any AnnouncerSource)? =
            config.controller.guardLastAnnouncer ? LSDBAnnouncers(settings: config.routing, logger: logger) : nil
        var checker: HealthChecker?
        if config.mode == .managed {
            let started = try HealthChecker(logger: logger) { health, transition in
                let up = transition.to == .up
                let reason =
                    up
                    ? "check passes (\(health.target.kindLabel))"
                    : "check fails: \(transition.failure?.description ?? "unknown")"
                events.record(
                    ControllerEvent(
                        kind: up ? .realServerUp : .realServerDown,
                        vip: health.target.key.service.endpoint.map { "\($0.address)" },
                        reason: "\(health.target.key): \(reason)"))
                metrics.recordRealServerTransition(
                    state: transition.to.rawValue, reason: transition.failure?.label ?? "ok")
            }
            started.update(CheckTarget.all(in: config))
            checker = started
            logger.notice("managed mode: checking \(CheckTarget.all(in: config).count) real servers")
        }
        let edges = try ControllerEdges.system(
            stateDirectory: config.node.stateDirectory, routing: routing,
            events: events, announcers: announcers, checker: checker)
        let controller = Controller(loaded: loaded, edges: edges, status: status, metrics: metrics, logger: logger)
        try await controller.start()
        await routing.request(await controller.routingInputs, reason: "start")
        events.record(
            ControllerEvent(
                kind: .configReload,
                reason: "ecmpd \(ECMPDVersion.current) started with \(loaded.file) (\(config.vips.count) VIPs)",
                outcome: .ok))

        guard let (host, port) = StatusListenAddress.split(config.status.listen) else {
            throw StartupError("\(loaded.file): status.listen: '\(config.status.listen)' is not ADDRESS:PORT")
        }
        let server = StatusServer(
            host: host, port: port, status: status, metrics: metrics, logger: logger, onServerRunning: onStatusListening
        )
        let reconcile = ReconcileService(
            controller: controller, interval: config.controller.pollInterval, logger: logger)
        let network = NetworkWatchService(
            routing: routing, controller: controller, events: events, metrics: metrics, logger: logger)
        let daemons = RoutingDaemonWatchService(
            routing: routing, interval: RoutingDaemonWatchService.defaultInterval, logger: logger)
        let reload = ReloadService(controller: controller, routing: routing, events: events, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: events),
                    .init(
                        service: RetryingService(
                            name: "status endpoint on \(config.status.listen)", wrapped: server, retry: .seconds(5),
                            logger: logger)),
                    .init(service: routing),
                    .init(service: daemons),
                    .init(service: network),
                    .init(service: reload),
                    .init(
                        service: reconcile, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        try await group.run()
        await checker?.shutdown()
        await store.close()
    }
}
