/// One real server's check verdict over time: `rise` successes in a row
/// mark it up, `fall` failures in a row mark it down.
///
/// The first result decides at once (a server is not held "unknown" for
/// `rise` intervals after ecmpd starts): until then the verdict is
/// `unknown`, and `ManagedPlanner` leaves such a server as the kernel has
/// it, so a restart changes nothing in IPVS before the checks have spoken.
public struct CheckTracker: Sendable, Equatable {
    public enum Verdict: String, Sendable, Equatable {
        case unknown, up, down
    }

    /// A change of verdict, with the outcome that caused it.
    public struct Transition: Sendable, Equatable {
        public var from: Verdict
        public var to: Verdict
        /// The failure that took the server down; nil when it came up.
        public var failure: CheckFailure?
    }

    public let rise: Int
    public let fall: Int
    public private(set) var verdict: Verdict = .unknown
    public private(set) var consecutiveSuccesses = 0
    public private(set) var consecutiveFailures = 0
    /// Changes between up and down (the first verdict is not a flap).
    public private(set) var flaps = 0
    public private(set) var checks = 0
    public private(set) var lastFailure: CheckFailure?
    public private(set) var lastLatency: Duration?

    public init(rise: Int, fall: Int) {
        precondition(rise >= 1 && fall >= 1, "rise and fall count at least one check")
        self.rise = rise
        self.fall = fall
    }

    public init(_ check: HealthCheck) { self.init(rise: check.rise, fall: check.fall) }

    /// Folds one outcome in; returns the transition if the verdict changed.
    public mutating func record(_ outcome: CheckOutcome) -> Transition? {
        checks += 1
        lastLatency = outcome.latency
        let before = verdict
        if let failure = outcome.failure {
            lastFailure = failure
            consecutiveSuccesses = 0
            consecutiveFailures += 1
            if verdict == .unknown || (verdict == .up && consecutiveFailures >= fall) { verdict = .down }
        } else {
            consecutiveFailures = 0
            consecutiveSuccesses += 1
            if verdict == .unknown || (verdict == .down && consecutiveSuccesses >= rise) { verdict = .up }
        }
        guard verdict != before else { return nil }
        if before != .unknown { flaps += 1 }
        return Transition(from: before, to: verdict, failure: verdict == .down ? outcome.failure : nil)
    }
}

extension CheckTracker {
    /// The same history under new rise/fall (a reload that only changed
    /// timing): the verdict and counters carry over.
    public func retuned(rise: Int, fall: Int) -> CheckTracker {
        var copy = CheckTracker(rise: rise, fall: fall)
        copy.verdict = verdict
        copy.consecutiveSuccesses = consecutiveSuccesses
        copy.consecutiveFailures = consecutiveFailures
        copy.flaps = flaps
        copy.checks = checks
        copy.lastFailure = lastFailure
        copy.lastLatency = lastLatency
        return copy
    }
}
