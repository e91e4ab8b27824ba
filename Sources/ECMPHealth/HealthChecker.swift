import ECMPCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// Runs managed mode's checks: every real server on its own interval, on
/// non-blocking sockets, never a thread per check. TCP checks run on
/// `TCPCheckReactor` (epoll, one thread); HTTP(S) on one SwiftNIO event
/// loop; exec checks on a small fixed pool. Each target's checks start at a
/// fixed phase inside its interval, so thousands of targets spread out.
///
/// Checks are fixed-rate without overlap: the next starts one interval
/// after the previous one started, or at once if that one ran longer. A
/// failed attempt is retried `retries - 1` times, `retry_delay` apart,
/// before it counts as one failure (keepalived's `retry`).
///
/// Results are folded into a `CheckTracker` per target, read by the
/// controller with `verdicts` when `verdictVersion` moved (`snapshot()` for
/// `/status`); changes of verdict are also pushed to `onTransition` at once
/// (history, logs).
public final class HealthChecker: Sendable {
    public typealias TransitionHandler = @Sendable (RealServerHealth, CheckTracker.Transition) -> Void

    private struct Running {
        var target: CheckTarget
        var tracker: CheckTracker
        /// Bumped when the target is replaced or removed: a check already in
        /// flight for an older generation is discarded.
        var generation: Int
        var scheduled: Scheduled<Void>?
    }

    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let pool: NIOThreadPool
    private let tls = TLSContexts()
    private let state = NIOLockedValueBox<[RealServerKey: Running]>([:])
    /// Only touched under `state`'s lock.
    private let generations = NIOLockedValueBox(0)
    private let onTransition: TransitionHandler
    private let logger: Logger
    private let version = Atomic<Int>(0)
    /// Set once in init; a box only because the reactor's handler must
    /// capture `self` before init ends.
    private let reactorBox = NIOLockedValueBox<TCPCheckReactor?>(nil)
    private var reactor: TCPCheckReactor { reactorBox.withLockedValue { $0! } }

    /// Throws when the TCP reactor's epoll or eventfd cannot be made (out of
    /// descriptors).
    public init(execThreads: Int = 4, logger: Logger, onTransition: @escaping TransitionHandler = { _, _ in }) throws(CheckFailure) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        pool = NIOThreadPool(numberOfThreads: execThreads)
        pool.start()
        self.logger = logger
        self.onTransition = onTransition
        let reactor = try TCPCheckReactor { [weak self] key, generation, outcome in
            self?.record(outcome, for: key, generation: generation) ?? false
        }
        reactorBox.withLockedValue { $0 = reactor }
    }

    /// Starts checks for new targets, restarts changed ones (their verdict
    /// is kept when only timing changed), and stops removed ones.
    public func update(_ targets: [CheckTarget]) {
        let wanted = Dictionary(targets.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var toStart: [(CheckTarget, Int)] = []
        var removed: [RealServerKey] = []
        state.withLockedValue { running in
            for (key, entry) in running where wanted[key] != entry.target {
                entry.scheduled?.cancel()
                running[key] = nil
                removed.append(key)
                if let replacement = wanted[key] {
                    let generation = generations.withLockedValue { value in value += 1; return value }
                    var tracker = CheckTracker(replacement.check)
                    if entry.target.check.kind == replacement.check.kind && entry.target.address == replacement.address
                        && entry.target.port == replacement.port {
                        tracker = entry.tracker.retuned(rise: replacement.check.rise, fall: replacement.check.fall)
                    }
                    running[key] = Running(target: replacement, tracker: tracker, generation: generation)
                    toStart.append((replacement, generation))
                }
            }
            for (key, target) in wanted where running[key] == nil {
                let generation = generations.withLockedValue { value in value += 1; return value }
                running[key] = Running(target: target, tracker: CheckTracker(target.check), generation: generation)
                toStart.append((target, generation))
            }
        }
        version.add(1, ordering: .releasing)
        // A replaced TCP target is re-added, which restarts it in the reactor.
        let restarted = Set(toStart.map(\.0.key))
        for key in removed where !restarted.contains(key) { reactor.remove(key) }
        let now = NIODeadline.now()
        for (target, generation) in toStart {
            if case .tcp = target.check.kind {
                reactor.add(target, generation: generation, firstCheckIn: target.phase)
            } else {
                if restarted.contains(target.key) { reactor.remove(target.key) }
                schedule(target, generation: generation, at: now + .nanoseconds(target.phase.nanoseconds))
            }
        }
    }

    /// Every target's health now.
    public func snapshot() -> [RealServerKey: RealServerHealth] {
        state.withLockedValue { running in
            running.mapValues { RealServerHealth(target: $0.target, tracker: $0.tracker) }
        }
    }

    /// Moves whenever a verdict may have changed (a transition, or targets
    /// added, replaced or removed). Read it before `verdicts`: equal
    /// versions then mean equal verdicts.
    public var verdictVersion: Int { version.load(ordering: .acquiring) }

    public var verdicts: [RealServerKey: CheckTracker.Verdict] {
        state.withLockedValue { running in running.mapValues(\.tracker.verdict) }
    }

    /// Stops every check and the threads.
    public func shutdown() async {
        state.withLockedValue { running in
            for entry in running.values { entry.scheduled?.cancel() }
            running.removeAll()
        }
        await reactor.shutdown()
        try? await pool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }

    // MARK: Scheduling

    private func schedule(_ target: CheckTarget, generation: Int, at deadline: NIODeadline) {
        let task = loop.scheduleTask(deadline: deadline) { [self] in
            let started = NIODeadline.now()
            attempt(target, number: 1).whenSuccess { [self] outcome in
                guard record(outcome, for: target.key, generation: generation) else { return }
                let next = max(started + .nanoseconds(target.check.interval.nanoseconds), NIODeadline.now())
                schedule(target, generation: generation, at: next)
            }
        }
        state.withLockedValue { running in
            if running[target.key]?.generation == generation { running[target.key]?.scheduled = task }
            else { task.cancel() }
        }
    }

    /// One attempt, then the retries. Never fails: failures are outcomes.
    private func attempt(_ target: CheckTarget, number: Int) -> EventLoopFuture<CheckOutcome> {
        probe(target).flatMap { [self] outcome in
            guard !outcome.succeeded, number < target.check.retries else { return loop.makeSucceededFuture(outcome) }
            return loop.scheduleTask(in: .nanoseconds(target.check.retryDelay.nanoseconds)) {}.futureResult
                .flatMap { [self] in attempt(target, number: number + 1) }
        }
    }

    private func probe(_ target: CheckTarget) -> EventLoopFuture<CheckOutcome> {
        switch target.check.kind {
        case .tcp: preconditionFailure("TCP checks run on the TCP reactor")
        case .http(let http): return HTTPProbe.run(target, http: http, tls: tls, on: loop)
        case .exec(let argv): return ExecProbe.run(target, argv: argv, pool: pool, on: loop)
        }
    }

    /// Folds an outcome in; false when the target was replaced or removed
    /// meanwhile (the result is stale and the schedule ends).
    private func record(_ outcome: CheckOutcome, for key: RealServerKey, generation: Int) -> Bool {
        // Thousands of times a second: one lookup, the entry changed in
        // place, and a copy of it only for a transition. nil: stale;
        // .some(nil): folded in, verdict unchanged.
        let result: (RealServerHealth, CheckTracker.Transition)?? = state.withLockedValue { running in
            guard let index = running.index(forKey: key), running.values[index].generation == generation else { return nil }
            guard let transition = running.values[index].tracker.record(outcome) else { return .some(nil) }
            version.add(1, ordering: .releasing)
            let entry = running.values[index]
            return (RealServerHealth(target: entry.target, tracker: entry.tracker), transition)
        }
        guard let result else { return false }
        if let (health, transition) = result {
            var metadata: Logger.Metadata = ["server": "\(key)", "from": "\(transition.from.rawValue)", "to": "\(transition.to.rawValue)"]
            if let failure = transition.failure { metadata["reason"] = "\(failure)" }
            logger.notice("real server \(transition.to.rawValue)", metadata: metadata)
            onTransition(health, transition)
        }
        return true
    }
}
