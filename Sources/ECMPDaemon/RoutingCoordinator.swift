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
/// asked to validate it: no reload, no backup, no event.
public actor RoutingCoordinator: Service {
    public struct Inputs: Sendable, Equatable {
        public var loaded: LoadedConfig
        public var loopbackCost: Int?

        public init(loaded: LoadedConfig, loopbackCost: Int? = nil) {
            self.loaded = loaded
            self.loopbackCost = loopbackCost
        }

        public static func == (lhs: Inputs, rhs: Inputs) -> Bool {
            lhs.loaded.config == rhs.loaded.config && lhs.loaded.file == rhs.loaded.file && lhs.loopbackCost == rhs.loopbackCost
        }
    }

    private var inputs: Inputs
    private var deadline: ContinuousClock.Instant?
    private var reasons: [String] = []
    private var lastInstalled: RoutingRenderer.Output?
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

    public init(inputs: Inputs, events: EventSink, status: ControllerStatus, logger: Logger) {
        self.inputs = inputs
        self.events = events
        self.status = status
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

    public nonisolated func run() async throws {
        for await _ in wakes.cancelOnGracefulShutdown() {
            while let due = await deadline, clock.now < due {
                try? await Task.sleep(until: due, clock: clock)
            }
            guard let (inputs, reasons) = await take() else { continue }
            let previous = await lastInstalled
            let outcome = await queue.run { Self.sync(inputs, previous: previous) }
            await finish(outcome, reasons: reasons)
        }
    }

    private func take() -> (Inputs, [String])? {
        guard deadline != nil else { return nil }
        deadline = nil
        defer { reasons = [] }
        return (inputs, reasons)
    }

    enum Outcome: Sendable {
        case unchanged
        case applied(RoutingRenderer.Output, RoutingSync.Result)
        case failed(String)
    }

    private static func sync(_ inputs: Inputs, previous: RoutingRenderer.Output?) -> Outcome {
        let sync = RoutingSync(loaded: inputs.loaded, loopbackCost: inputs.loopbackCost)
        do {
            let network = try NetworkDetector.snapshot()
            let (output, secrets) = try sync.render(network: network, hostname: HostName.system(), withKey: true)
            if output == previous { return .unchanged }
            return .applied(output, try sync.install(output, secrets: secrets, reload: true))
        } catch {
            return .failed("\(error)")
        }
    }

    private func finish(_ outcome: Outcome, reasons: [String]) async {
        renders += 1
        let why = reasons.joined(separator: ", ")
        switch outcome {
        case .unchanged:
            logger.debug("routing configs unchanged", metadata: ["reason": "\(why)"])
        case .applied(let output, let result):
            lastInstalled = output
            guard result.changed else {
                await status.setRoutingDaemon(ComponentHealth(healthy: true, detail: "configs current"))
                return
            }
            installs += 1
            let files = result.installed.filter { $0.value != .unchanged }.keys.sorted().joined(separator: ", ")
            let reloaded = result.reloaded.isEmpty ? "no reload configured" : "reloaded \(result.reloaded.joined(separator: ", "))"
            let text = "\(why): installed \(files); \(reloaded)"
            logger.notice("routing configs installed", metadata: ["reason": "\(why)", "files": "\(files)", "reload": "\(reloaded)"])
            events.record(ControllerEvent(kind: .routingReload, reason: text, outcome: .ok))
            await status.setRoutingDaemon(ComponentHealth(healthy: true, detail: text))
        case .failed(let message):
            logger.error("routing configs not applied; the installed ones stay", metadata: ["reason": "\(why)", "error": "\(message)"])
            events.record(ControllerEvent(kind: .routingReload, reason: why, outcome: .failed(message: message)))
            await status.setRoutingDaemon(ComponentHealth(healthy: false, detail: "last render or reload failed: \(message)"))
        }
    }
}
