import ECMPCore
import Logging
import ServiceLifecycle
import UnixSignals

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
            if !restartOnly.isEmpty {
                summary += "; needs a restart to take effect: \(restartOnly.joined(separator: ", "))"
            }
            logger.notice("config reloaded", metadata: ["summary": "\(summary)"])
            events.record(ControllerEvent(kind: .configReload, reason: summary, outcome: .ok))
        } catch let errors as ConfigErrors {
            for problem in errors.problems { logger.error("\(problem)") }
            let first = errors.problems.first(where: { $0.severity == .error }).map(\.description) ?? "invalid"
            logger.error("config not reloaded; the running config stays", metadata: ["file": "\(file)"])
            events.record(
                ControllerEvent(
                    kind: .configReload, reason: "\(file) rejected; running config kept",
                    outcome: .failed(message: first)))
        } catch {
            logger.error(
                "config not reloaded; the running config stays",
                metadata: ["file": "\(file)", "error": "\(error)"])
            events.record(
                ControllerEvent(
                    kind: .configReload, reason: "\(file) rejected; running config kept",
                    outcome: .failed(message: "\(error)")))
        }
    }

    /// Settings read once at start-up.
    static func restartOnlyChanges(from old: Config, to new: Config) -> [String] {
        var fields: [String] = []
        if old.status.listen != new.status.listen { fields.append("status.listen") }
        if old.node.stateDirectory != new.node.stateDirectory { fields.append("node.state_dir") }
        if old.controller.pollInterval != new.controller.pollInterval { fields.append("controller.poll_interval") }
        if old.controller.guardLastAnnouncer != new.controller.guardLastAnnouncer {
            fields.append("controller.guard_last_announcer")
        }
        if old.mode != new.mode { fields.append("mode") }
        return fields
    }
}
