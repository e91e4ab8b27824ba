import ECMPCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// Runs managed mode's checks: every real server on its own interval, on
/// non-blocking sockets, never a thread per check. TCP checks run on
/// `TCPCheckReactor` (epoll, one thread); HTTP(S) on one SwiftNIO event
/// loop; exec checks on a small fixed pool; UDP, DNS and ICMP checks on a
/// pool of their own (`DatagramProbe`). Each target's checks start at a
/// fixed phase inside its interval, so thousands of targets spread out.
///
/// Checks are fixed-rate without overlap: the next starts one interval
/// after the previous one was due (`FixedRate`), or at once if that one ran
/// longer. A
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
        var scheduled: Scheduled<Void>?
    }

    /// The targets in a slot array, found by key only when the config
    /// changes. A generation carries its slot in its low 32 bits (a
    /// sequence number above), so a result is folded in with one array
    /// access and no hashing: at 10,000 checks a second the dictionary
    /// lookup by key and its hashing were the largest user-space cost left.
    private struct Table {
        var entries: [Running?] = []
        /// Each slot's current generation, 0 when free: new when the target
        /// is replaced or removed, so a check in flight for an older one is
        /// discarded. Apart from the entries, so a result is checked without
        /// reading (copying) the whole entry.
        var generations: [Int] = []
        var indexOfKey: [RealServerKey: Int] = [:]
        var free: [Int] = []
        var sequence = 0

        /// Puts `target` in a slot (its old one when replacing) under a new generation.
        mutating func insert(_ target: CheckTarget, tracker: CheckTracker) -> Int {
            let index =
                indexOfKey[target.key] ?? free.popLast()
                ?? {
                    entries.append(nil)
                    generations.append(0)
                    return entries.count - 1
                }()
            sequence += 1
            let generation = sequence << 32 | index
            entries[index] = Running(target: target, tracker: tracker)
            generations[index] = generation
            indexOfKey[target.key] = index
            return generation
        }

        mutating func remove(_ key: RealServerKey) {
            guard let index = indexOfKey.removeValue(forKey: key) else { return }
            entries[index] = nil
            generations[index] = 0
            free.append(index)
        }

        /// The slot a generation names, if that generation is still current.
        func slot(of generation: Int) -> Int? {
            let index = generation & 0xffff_ffff
            guard index < generations.count, generations[index] == generation else { return nil }
            return index
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let pool: NIOThreadPool
    private let datagramPool: NIOThreadPool
    private let tls = TLSContexts()
    private let state = NIOLockedValueBox(Table())
    private let onTransition: TransitionHandler
    private let logger: Logger
    private let version = Atomic<Int>(0)
    /// Set once in init; a box only because the reactor's handler must
    /// capture `self` before init ends.
    private let reactorBox = NIOLockedValueBox<TCPCheckReactor?>(nil)
    private var reactor: TCPCheckReactor { reactorBox.withLockedValue { $0! } }

    /// Throws when the TCP reactor's epoll or eventfd cannot be made (out of
    /// descriptors).
    public init(
        execThreads: Int = 4, datagramThreads: Int = 8, logger: Logger,
        onTransition: @escaping TransitionHandler = { _, _ in }
    ) throws(CheckFailure) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        pool = NIOThreadPool(numberOfThreads: execThreads)
        pool.start()
        datagramPool = NIOThreadPool(numberOfThreads: datagramThreads)
        datagramPool.start()
        self.logger = logger
        self.onTransition = onTransition
        let reactor = try TCPCheckReactor { [weak self] _, generation, outcome in
            self?.record(outcome, generation: generation) ?? false
        }
        reactorBox.withLockedValue { $0 = reactor }
    }

    /// Starts checks for new targets, restarts changed ones (their verdict
    /// is kept when only timing changed), and stops removed ones.
    public func update(_ targets: [CheckTarget]) {
        let wanted = Dictionary(targets.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var toStart: [(CheckTarget, Int)] = []
        var removed: [RealServerKey] = []
        state.withLockedValue { table in
            // One allocation of the right size, not a doubling past it.
            table.entries.reserveCapacity(wanted.count)
            table.generations.reserveCapacity(wanted.count)
            for (key, index) in table.indexOfKey {
                guard let entry = table.entries[index], wanted[key] != entry.target else { continue }
                entry.scheduled?.cancel()
                removed.append(key)
                guard let replacement = wanted[key] else {
                    table.remove(key)
                    continue
                }
                var tracker = CheckTracker(replacement.check)
                if entry.target.check.kind == replacement.check.kind && entry.target.address == replacement.address
                    && entry.target.port == replacement.port
                {
                    tracker = entry.tracker.retuned(rise: replacement.check.rise, fall: replacement.check.fall)
                }
                toStart.append((replacement, table.insert(replacement, tracker: tracker)))
            }
            for (key, target) in wanted where table.indexOfKey[key] == nil {
                toStart.append((target, table.insert(target, tracker: CheckTracker(target.check))))
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
        state.withLockedValue { table in
            table.indexOfKey.mapValues { index in
                let entry = table.entries[index]!
                return RealServerHealth(target: entry.target, tracker: entry.tracker)
            }
        }
    }

    /// Moves whenever a verdict may have changed (a transition, or targets
    /// added, replaced or removed). Read it before `verdicts`: equal
    /// versions then mean equal verdicts.
    public var verdictVersion: Int { version.load(ordering: .acquiring) }

    public var verdicts: [RealServerKey: CheckTracker.Verdict] {
        state.withLockedValue { table in table.indexOfKey.mapValues { table.entries[$0]!.tracker.verdict } }
    }

    /// Stops every check and the threads.
    public func shutdown() async {
        state.withLockedValue { table in
            for case let entry? in table.entries { entry.scheduled?.cancel() }
            table = Table()
        }
        await reactor.shutdown()
        try? await pool.shutdownGracefully()
        try? await datagramPool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }

    // MARK: Scheduling

    private func schedule(_ target: CheckTarget, generation: Int, at deadline: NIODeadline) {
        let task = loop.scheduleTask(deadline: deadline) { [self] in
            // One interval after this start was due, not after the loop got to it.
            let next = NIODeadline.uptimeNanoseconds(
                FixedRate.next(
                    due: deadline.uptimeNanoseconds, started: NIODeadline.now().uptimeNanoseconds,
                    interval: UInt64(max(0, target.check.interval.nanoseconds))
                ).start)
            attempt(target, number: 1).whenSuccess { [self] outcome in
                guard record(outcome, generation: generation) else { return }
                schedule(target, generation: generation, at: max(next, NIODeadline.now()))
            }
        }
        state.withLockedValue { table in
            if let index = table.slot(of: generation) { table.entries[index]!.scheduled = task } else { task.cancel() }
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
        case .udp, .dns, .icmp: return DatagramProbe.run(target, pool: datagramPool, on: loop)
        }
    }

    /// Folds an outcome in; false when the target was replaced or removed
    /// meanwhile (the result is stale and the schedule ends).
    private func record(_ outcome: CheckOutcome, generation: Int) -> Bool {
        // Thousands of times a second: the slot from the generation, the
        // entry changed in place, and a copy of it only for a transition.
        // nil: stale; .some(nil): folded in, verdict unchanged.
        let result: (RealServerHealth, CheckTracker.Transition)?? = state.withLockedValue { table in
            guard let index = table.slot(of: generation) else { return nil }
            guard let transition = table.entries[index]!.tracker.record(outcome) else { return .some(nil) }
            version.add(1, ordering: .releasing)
            let entry = table.entries[index]!
            return (RealServerHealth(target: entry.target, tracker: entry.tracker), transition)
        }
        guard let result else { return false }
        if let (health, transition) = result {
            var metadata: Logger.Metadata = [
                "server": "\(health.target.key)", "from": "\(transition.from.rawValue)",
                "to": "\(transition.to.rawValue)",
            ]
            if let failure = transition.failure { metadata["reason"] = "\(failure)" }
            logger.notice("real server \(transition.to.rawValue)", metadata: metadata)
            onTransition(health, transition)
        }
        return true
    }
}
