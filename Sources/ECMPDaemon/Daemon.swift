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

    public init(loaded: LoadedConfig, logger: Logger, onStatusListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.loaded = loaded
        self.logger = logger
        self.onStatusListening = onStatusListening
    }

    /// Refusals before anything is touched: no CAP_NET_ADMIN, a mode this
    /// build cannot run, or a keepalived that would never bring a withdrawn
    /// VIP back.
    public static func preflight(_ loaded: LoadedConfig, capabilities: ProcessCapabilities? = .current()) throws(StartupError) {
        if let capabilities, !capabilities.hasNetAdmin {
            throw StartupError(Self.missingNetAdmin(capabilities, uid: geteuid()))
        }
        let config = loaded.config
        // Managed mode checks on its own; a keepalived.conf left on the box is
        // not ecmpd's concern then (two programs must not program one table).
        guard config.mode == .observe else { return }
        let keepalived = config.controller.keepalivedConfig ?? ControllerSettings.defaultKeepalivedConfig
        guard let data = FileManager.default.contents(atPath: keepalived), let text = String(data: data, encoding: .utf8) else {
            if config.controller.keepalivedConfig != nil {
                throw StartupError("\(loaded.file): controller.keepalived_config: cannot read '\(keepalived)'")
            }
            return
        }
        let found = KeepalivedImporter.haSuspendLocations(text: text, file: keepalived, configID: HostName.system(),
                                                           includeLoader: KeepalivedFiles.include)
        if !found.isEmpty {
            throw StartupError(found.map {
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
        try Self.preflight(loaded)
        try Self.refuseNetworkConflicts(loaded)
        ProcessMemory.limitArenas()
        let config = loaded.config
        let metrics = ControllerMetrics()
        let status = ControllerStatus(metrics: metrics)
        let store = EventStore(path: "\(config.node.stateDirectory)/history.sqlite")
        let events = EventSink(store: store, status: status, metrics: metrics, logger: logger)
        let routing = RoutingCoordinator(inputs: .init(loaded: loaded), events: events, status: status, metrics: metrics, logger: logger)
        let announcers: (any AnnouncerSource)? = config.controller.guardLastAnnouncer ? LSDBAnnouncers(settings: config.routing, logger: logger) : nil
        var checker: HealthChecker?
        if config.mode == .managed {
            let started = try HealthChecker(logger: logger) { health, transition in
                let up = transition.to == .up
                let reason = up ? "check passes (\(health.target.kindLabel))" : "check fails: \(transition.failure?.description ?? "unknown")"
                events.record(ControllerEvent(kind: up ? .realServerUp : .realServerDown, vip: health.target.key.service.endpoint.map { "\($0.address)" },
                                              reason: "\(health.target.key): \(reason)"))
                metrics.recordRealServerTransition(state: transition.to.rawValue, reason: transition.failure?.label ?? "ok")
            }
            started.update(CheckTarget.all(in: config))
            checker = started
            logger.notice("managed mode: checking \(CheckTarget.all(in: config).count) real servers")
        }
        let edges = try ControllerEdges.system(stateDirectory: config.node.stateDirectory, routing: routing,
                                               events: events, announcers: announcers, checker: checker)
        let controller = Controller(loaded: loaded, edges: edges, status: status, metrics: metrics, logger: logger)
        try await controller.start()
        await routing.request(await controller.routingInputs, reason: "start")
        events.record(ControllerEvent(kind: .configReload, reason: "ecmpd \(ECMPDVersion.current) started with \(loaded.file) (\(config.vips.count) VIPs)", outcome: .ok))

        guard let (host, port) = StatusListenAddress.split(config.status.listen) else {
            throw StartupError("\(loaded.file): status.listen: '\(config.status.listen)' is not ADDRESS:PORT")
        }
        let server = StatusServer(host: host, port: port, status: status, metrics: metrics, logger: logger, onServerRunning: onStatusListening)
        let reconcile = ReconcileService(controller: controller, interval: config.controller.pollInterval, logger: logger)
        let network = NetworkWatchService(routing: routing, controller: controller, events: events, metrics: metrics, logger: logger)
        let daemons = RoutingDaemonWatchService(routing: routing, interval: RoutingDaemonWatchService.defaultInterval, logger: logger)
        let reload = ReloadService(controller: controller, routing: routing, events: events, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: events),
                .init(service: RetryingService(name: "status endpoint on \(config.status.listen)", wrapped: server, retry: .seconds(5), logger: logger)),
                .init(service: routing),
                .init(service: daemons),
                .init(service: network),
                .init(service: reload),
                .init(service: reconcile, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        await checker?.shutdown()
        await store.close()
    }
}

/// The poll loop: one controller cycle per interval until SIGTERM, then
/// `on_stop`.
struct ReconcileService: Service {
    let controller: Controller
    let interval: Duration
    let logger: Logger

    /// How often freed memory goes back to the kernel (`ProcessMemory`).
    static let trimInterval = Duration.seconds(60)

    func run() async throws {
        let clock = ContinuousClock()
        var next = clock.now
        var nextTrim = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await controller.cycle()
            if clock.now >= nextTrim {
                ProcessMemory.returnFreedPages()
                nextTrim = clock.now + Self.trimInterval
            }
            next += interval
            let now = clock.now
            // A cycle that overran starts the next one at once, not a burst.
            if next < now { next = now }
            try? await gracefulSleep(until: next, clock: clock)
        }
        await controller.stop()
    }
}

/// Sleeps until `deadline`, or returns early when graceful shutdown starts.
func gracefulSleep(until deadline: ContinuousClock.Instant, clock: ContinuousClock) async throws {
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(until: deadline, clock: clock)
    }
}

/// SIGHUP: re-read and validate the config; apply it only if valid.
struct ReloadService: Service {
    let controller: Controller
    let routing: RoutingCoordinator
    let events: EventSink
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    func reload() async {
        let current = await controller.currentConfig
        let file = current.file
        do {
            let parsed = try ConfigLoader.read(file)
            try Daemon.preflight(parsed)
            try Daemon.refuseNetworkConflicts(parsed)
            let loaded = parsed.keepingLocationsAboveRealServers()
            for warning in loaded.warnings { logger.warning("\(warning)") }
            let restartOnly = Self.restartOnlyChanges(from: current.config, to: loaded.config)
            try await controller.apply(loaded)
            ProcessMemory.returnFreedPages()
            await routing.request(await controller.routingInputs, reason: "config reload")
            let before = Set(current.config.vips.map(\.address)), after = Set(loaded.config.vips.map(\.address))
            var summary = "\(file) reloaded: \(after.count) VIPs"
            let added = after.subtracting(before).sorted(), removed = before.subtracting(after).sorted()
            if !added.isEmpty { summary += "; added \(added.map(\.description).joined(separator: ", "))" }
            if !removed.isEmpty { summary += "; removed \(removed.map(\.description).joined(separator: ", "))" }
            if !restartOnly.isEmpty { summary += "; needs a restart to take effect: \(restartOnly.joined(separator: ", "))" }
            logger.notice("config reloaded", metadata: ["summary": "\(summary)"])
            events.record(ControllerEvent(kind: .configReload, reason: summary, outcome: .ok))
        } catch let errors as ConfigErrors {
            for problem in errors.problems { logger.error("\(problem)") }
            let first = errors.problems.first(where: { $0.severity == .error }).map(\.description) ?? "invalid"
            logger.error("config not reloaded; the running config stays", metadata: ["file": "\(file)"])
            events.record(ControllerEvent(kind: .configReload, reason: "\(file) rejected; running config kept", outcome: .failed(message: first)))
        } catch {
            logger.error("config not reloaded; the running config stays", metadata: ["file": "\(file)", "error": "\(error)"])
            events.record(ControllerEvent(kind: .configReload, reason: "\(file) rejected; running config kept", outcome: .failed(message: "\(error)")))
        }
    }

    /// Settings read once at start-up.
    static func restartOnlyChanges(from old: Config, to new: Config) -> [String] {
        var fields: [String] = []
        if old.status.listen != new.status.listen { fields.append("status.listen") }
        if old.node.stateDirectory != new.node.stateDirectory { fields.append("node.state_dir") }
        if old.controller.pollInterval != new.controller.pollInterval { fields.append("controller.poll_interval") }
        if old.controller.guardLastAnnouncer != new.controller.guardLastAnnouncer { fields.append("controller.guard_last_announcer") }
        if old.mode != new.mode { fields.append("mode") }
        return fields
    }
}

/// rtnetlink link, address and route events, debounced into re-renders.
/// The watcher blocks, so it gets a thread of its own. A watcher that
/// fails is replaced after a second, and a full re-render follows: events
/// missed meanwhile are repaired by reading everything again.
///
/// When the kernel drops events (the socket's receive buffer overflowed,
/// ENOBUFS: a burst while ecmpd was descheduled or stopped), what changed
/// is unknown: the overflow is counted, logged at warning and recorded,
/// and a full resync follows at once, without the debounce: the network
/// re-read and the routing configs re-rendered, and lo re-read and made to
/// match the current decisions.
struct NetworkWatchService: Service {
    let routing: RoutingCoordinator
    let controller: Controller
    let events: EventSink
    let metrics: ControllerMetrics
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await watch()
            } catch {
                logger.error("rtnetlink watch failed; resubscribing and re-reading the network", metadata: ["error": "\(error)"])
                try? await gracefulSleep(until: .now + .seconds(1), clock: ContinuousClock())
                let inputs = await controller.routingInputs
                await routing.request(inputs, reason: "network watch restarted")
            }
        }
    }

    private func watch() async throws {
        let watcher = try RouteWatcher(includingAddresses: true)
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let failure = FailureBox()
        // Set by the thread, taken by the loop: a later plain change must
        // not hide an overflow in the one-element stream.
        let overflowed = FlagBox()
        let metrics = metrics
        let thread = Thread {
            while true {
                do {
                    switch try watcher.wait(timeout: .seconds(3600)) {
                    case .changed: continuation.yield()
                    case .overflowed:
                        metrics.recordNetlinkEventOverflow()
                        overflowed.set()
                        continuation.yield()
                    case .timedOut: continue
                    case .interrupted:
                        continuation.finish()
                        return
                    }
                } catch {
                    failure.set(error)
                    continuation.finish()
                    return
                }
            }
        }
        thread.name = "ecmpd rtnetlink watch"
        thread.start()
        await withGracefulShutdownHandler {
            for await _ in changes {
                let inputs = await controller.routingInputs
                if overflowed.take() {
                    await resync(inputs)
                } else {
                    await routing.request(inputs, reason: "network change", after: inputs.loaded.config.controller.networkDebounce)
                }
            }
        } onGracefulShutdown: {
            watcher.interrupt()
        }
        if let error = failure.error { throw error }
    }
}

extension NetworkWatchService {
    /// Events were lost: re-read everything now rather than trust that the
    /// events that did arrive said all that changed.
    private func resync(_ inputs: RoutingCoordinator.Inputs) async {
        let reason = "the kernel dropped rtnetlink events (receive buffer full, ENOBUFS); full resync: network re-read, routing configs re-rendered, lo reconciled"
        logger.warning("rtnetlink events lost; re-reading the network and lo", metadata: ["reason": "\(reason)"])
        events.record(ControllerEvent(kind: .networkResync, reason: reason))
        await routing.request(inputs, reason: "rtnetlink overflow resync")
        await controller.repairLoopback()
    }
}

private final class FlagBox: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func set() { lock.withLock { raised = true } }
    /// Whether it was set since the last take; clears it.
    func take() -> Bool {
        lock.withLock {
            defer { raised = false }
            return raised
        }
    }
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ error: Error) { lock.withLock { stored = error } }
    var error: Error? { lock.withLock { stored } }
}

/// Keeps a service that is not on the traffic path (the status endpoint)
/// from taking the daemon down: if it fails (say, its port is taken), the
/// failure is logged and it is started again every `retry`, while the
/// reconcile loop goes on.
struct RetryingService<Wrapped: Service>: Service {
    let name: String
    let wrapped: Wrapped
    let retry: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await wrapped.run()
                return
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                logger.error("\(name) failed; retrying in \(DurationParser.format(retry))", metadata: ["error": "\(error)"])
                try? await gracefulSleep(until: .now + retry, clock: ContinuousClock())
            }
        }
    }
}
