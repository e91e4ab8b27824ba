import ECMPCore
import ECMPNetlink
import ECMPRouting
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the installed zebra.conf/ospfd.conf equal to what the config, the
/// drain state and the detected networks call for. Requests coalesce: a
/// burst of rtnetlink events, a SIGHUP and a drain arriving together cost
/// one render. Network events wait for `controller.network_debounce` of
/// quiet; the others run at once.
///
/// A render equal to the last one installed is dropped before FRR is even
/// asked to validate it: no reload, no backup, no event. Except when a
/// daemon must be reloaded anyway: one that came back after it stopped (it
/// may have started with other config), or one whose reload failed after
/// its file was installed (the file on disk is then current, the daemon not).
///
/// A failure is retried on its own after a back-off (`RetryBackoff`: 2 s
/// doubling to 60 s), and sooner if anything else asks for a render. The
/// routing-daemon watch (`RoutingDaemonWatchService`) reports which daemons
/// run; a daemon that is not running is not reloaded (that can only fail)
/// and is reloaded when it returns. None of this touches the VIPs on lo.
public actor RoutingCoordinator: Service {
    public struct Inputs: Sendable, Equatable {
        public var loaded: LoadedConfig
        public var loopbackCost: Int?

        public init(loaded: LoadedConfig, loopbackCost: Int? = nil) {
            self.loaded = loaded
            self.loopbackCost = loopbackCost
        }

        public static func == (lhs: Inputs, rhs: Inputs) -> Bool {
            lhs.loaded.config == rhs.loaded.config && lhs.loaded.file == rhs.loaded.file
                && lhs.loopbackCost == rhs.loopbackCost
        }
    }

    private var inputs: Inputs
    private var deadline: ContinuousClock.Instant?
    private var reasons: [String] = []
    private var lastInstalled: RoutingRenderer.Output?
    /// Daemons to reload at the next render even if their file is unchanged.
    private var forcedReload: Set<String> = []
    private var liveness = RoutingDaemonLiveness()
    private var daemonRows: [String: RoutingDaemonStatus] = [:]
    private var consecutiveFailures = 0
    private let backoff = RetryBackoff()
    private let metrics: ControllerMetrics?
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private let events: EventSink
    private let status: ControllerStatus
    private let logger: Logger
    private let queue = BlockingQueue(label: "ecmpd.routing")
    private let clock = ContinuousClock()
    /// Renders done (changed or not) and installs that changed something,
    /// for tests and the status endpoint.
    public private(set) var renders = 0
    public private(set) var installs = 0

    public init(
        inputs: Inputs, events: EventSink, status: ControllerStatus, metrics: ControllerMetrics? = nil, logger: Logger
    ) {
        self.inputs = inputs
        self.events = events
        self.status = status
        self.metrics = metrics
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a render with `newInputs` (or the current ones) after
    /// `delay` of quiet; a later request with a delay pushes the deadline.
    public func request(_ newInputs: Inputs? = nil, reason: String, after delay: Duration = .zero) {
        if let newInputs { inputs = newInputs }
        let now = clock.now
        if delay == .zero {
            deadline = now
        } else if deadline.map({ $0 > now }) ?? true {
            // Trailing debounce; an immediate request already due stays due.
            deadline = max(deadline ?? now, now + delay)
        }
        if !reasons.contains(reason) { reasons.append(reason) }
        wake.yield()
    }

    /// The routing settings in force (they follow SIGHUP), for the watch.
    public var routingSettings: RoutingDaemonSettings { inputs.loaded.config.routing }

    /// Whether `ospf.bfd` is on (it follows SIGHUP): the watch then also
    /// looks at bfdd and reads its sessions.
    public var bfdEnabled: Bool { inputs.loaded.config.ospf.bfd.enabled }

    /// Whether ospf6d.conf is rendered (IPv6 VIPs with `ospf6`, following
    /// SIGHUP): the watch then also looks at ospf6d.
    public var ospf6Enabled: Bool { inputs.loaded.config.ospf6 != nil && !inputs.loaded.config.ipv6VIPs.isEmpty }

    /// bfdd's sessions as the watch last read them (nil: BFD off).
    public func observeBFD(_ bfd: BFDStatus?) async {
        await status.setBFD(bfd)
    }

    /// The routing-daemon watch's latest look, or nil when nothing is
    /// watched. Publishes the rows and gauges, records a daemon stopping or
    /// returning, and asks for a forced reload of one that returned.
    public func observeDaemons(_ look: [RoutingDaemonProbe.Observation]?) async {
        let known = liveness.running
        // A daemon down at its first look is no change (see
        // RoutingDaemonLiveness), but the operator hears of it once: bfdd
        // in particular, which FRR's daemons file leaves off by default.
        for observation in look ?? [] where !observation.running && known[observation.daemon] == nil {
            logger.warning(
                "routing daemon not running",
                metadata: ["daemon": "\(observation.daemon)", "detail": "\(observation.detail)"])
        }
        let changes = liveness.observe(
            Dictionary((look ?? []).map { ($0.daemon, $0.running) }, uniquingKeysWith: { $1 }))
        guard let look else {
            daemonRows = [:]
            await status.setRoutingDaemons(nil)
            return
        }
        var rows: [String: RoutingDaemonStatus] = [:]
        for observation in look {
            let since =
                daemonRows[observation.daemon].flatMap { $0.running == observation.running ? $0.since : nil } ?? Date()
            rows[observation.daemon] = RoutingDaemonStatus(
                daemon: observation.daemon, running: observation.running, pid: observation.pid,
                detail: observation.detail, since: since)
        }
        daemonRows = rows
        await status.setRoutingDaemons(look.compactMap { rows[$0.daemon] })
        for change in changes {
            switch change {
            case .wentDown(let daemon):
                let detail = rows[daemon]?.detail ?? "not running"
                logger.error(
                    "routing daemon stopped; VIPs stay as decided, its config is reloaded when it returns",
                    metadata: ["daemon": "\(daemon)", "detail": "\(detail)"])
                events.record(
                    ControllerEvent(
                        kind: .routingDaemon, reason: "\(daemon) stopped", outcome: .failed(message: detail)))
            case .cameBack(let daemon):
                let detail = rows[daemon]?.detail ?? "running"
                logger.notice(
                    "routing daemon running again; reloading its config",
                    metadata: ["daemon": "\(daemon)", "detail": "\(detail)"])
                events.record(
                    ControllerEvent(
                        kind: .routingDaemon, reason: "\(daemon) running again (\(detail)); reloading its config",
                        outcome: .ok))
                forcedReload.insert(daemon)
                request(reason: "\(daemon) restarted")
            }
        }
    }

    public nonisolated func run() async throws {
        for await _ in wakes.cancelOnGracefulShutdown() {
            while let due = await deadline, clock.now < due {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                // In slices: a retry's back-off can be a minute, and an
                // immediate request (a SIGHUP) made meanwhile moves the
                // deadline earlier.
                try? await Task.sleep(until: min(due, clock.now + .milliseconds(200)), clock: clock)
            }
            guard let job = await take() else { continue }
            let previous = await lastInstalled
            let logger = logger
            let outcome = await queue.run { Self.sync(job, previous: previous, logger: logger) }
            await finish(outcome, job: job)
        }
    }

    struct Job: Sendable {
        var inputs: Inputs
        var reasons: [String]
        var forceReload: Set<String>
        var notRunning: Set<String>
    }

    private func take() -> Job? {
        guard deadline != nil else { return nil }
        deadline = nil
        defer {
            reasons = []
            forcedReload = []
        }
        return Job(
            inputs: inputs, reasons: reasons, forceReload: forcedReload,
            notRunning: Set(liveness.running.filter { !$0.value }.keys))
    }

    enum Outcome: Sendable {
        case unchanged
        case applied(RoutingRenderer.Output, RoutingSync.Result)
        /// `forceReload`: daemons the retry must reload even if their file
        /// is unchanged by then (a reload failed after the install).
        case failed(String, forceReload: Set<String>)
    }

    /// `logger` gets what went wrong after the files were installed (a
    /// staging folder another user moved away, a backup not pruned).
    private static func sync(_ job: Job, previous: RoutingRenderer.Output?, logger: Logger) -> Outcome {
        let sync = RoutingSync(loaded: job.inputs.loaded, loopbackCost: job.inputs.loopbackCost)
        do {
            let network = try NetworkDetector.snapshot()
            var notes: [String] = []
            let (output, secrets) = try sync.render(
                network: network, hostname: HostName.system(), withKey: true, note: { notes.append($0) })
            if output == previous && job.forceReload.isEmpty { return .unchanged }
            // Said once per change: a skipped address is in ospf6d.conf's
            // comments, so an unchanged render is one already reported.
            for note in notes where output.ospf6d != previous?.ospf6d {
                logger.notice("IPv6 address not listed for ospf6d", metadata: ["detail": "\(note)"])
            }
            let result = try sync.install(
                output, secrets: secrets, reload: true, forceReload: job.forceReload, notRunning: job.notRunning
            ) { logger.warning("routing install", metadata: ["detail": "\($0)"]) }
            return .applied(output, result)
        } catch RoutingFileError.reloadFailed(let daemon, let command, let status, let output) {
            // Daemons are reloaded in order and the first failure stops the
            // rest: the failed one and those after it may lag their files.
            let notReloaded = RoutingDaemonProbe.daemons(bfd: true, ospf6: true).drop(while: { $0 != daemon })
            let error = RoutingFileError.reloadFailed(daemon: daemon, command: command, status: status, output: output)
            return .failed("\(error)", forceReload: job.forceReload.union(notReloaded))
        } catch {
            return .failed("\(error)", forceReload: job.forceReload)
        }
    }

    private func finish(_ outcome: Outcome, job: Job) async {
        renders += 1
        let why = job.reasons.joined(separator: ", ")
        switch outcome {
        case .unchanged:
            consecutiveFailures = 0
            logger.debug("routing configs unchanged", metadata: ["reason": "\(why)"])
        case .applied(let output, let result):
            consecutiveFailures = 0
            lastInstalled = output
            guard result.changed || !result.reloaded.isEmpty else {
                await status.setRoutingDaemon(ComponentHealth(healthy: true, detail: "configs current"))
                return
            }
            if result.changed { installs += 1 }
            let changedFiles = result.installed.filter { $0.value != .unchanged }.keys.sorted()
            let files = changedFiles.isEmpty ? "files unchanged" : "installed \(changedFiles.joined(separator: ", "))"
            var reloaded =
                result.reloaded.isEmpty ? "no reload configured" : "reloaded \(result.reloaded.joined(separator: ", "))"
            if !result.deferred.isEmpty {
                reloaded += "; \(result.deferred.joined(separator: ", ")) not running, reloaded when it returns"
            }
            let text = "\(why): \(files); \(reloaded)"
            logger.notice(
                "routing configs installed",
                metadata: ["reason": "\(why)", "files": "\(files)", "reload": "\(reloaded)"])
            events.record(ControllerEvent(kind: .routingReload, reason: text, outcome: .ok))
            await status.setRoutingDaemon(ComponentHealth(healthy: true, detail: text))
        case .failed(let message, let forceReload):
            consecutiveFailures += 1
            metrics?.recordRoutingFailure()
            forcedReload.formUnion(forceReload)
            let delay = backoff.delay(afterFailures: consecutiveFailures)
            let retry = "retrying in \(DurationParser.format(delay))"
            scheduleRetry(after: delay)
            logger.error(
                "routing configs not applied; the installed ones stay",
                metadata: ["reason": "\(why)", "error": "\(message)", "retry": "\(retry)"])
            events.record(
                ControllerEvent(kind: .routingReload, reason: "\(why); \(retry)", outcome: .failed(message: message)))
            await status.setRoutingDaemon(
                ComponentHealth(
                    healthy: false,
                    detail: "last render or reload failed (\(consecutiveFailures) in a row, \(retry)): \(message)"))
        }
    }

    /// A retry after `delay`, unless a render is already due sooner.
    private func scheduleRetry(after delay: Duration) {
        let due = clock.now + delay
        deadline = min(deadline ?? due, due)
        if !reasons.contains("retry") { reasons.append("retry") }
        wake.yield()
    }
}
