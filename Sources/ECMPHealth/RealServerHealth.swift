import ECMPCore

/// What the checker knows of one real server now: for the planner (the
/// verdict), `ecmpd status` and the metrics.
public struct RealServerHealth: Sendable, Equatable {
    public var target: CheckTarget
    public var tracker: CheckTracker

    public var verdict: CheckTracker.Verdict { tracker.verdict }
}
