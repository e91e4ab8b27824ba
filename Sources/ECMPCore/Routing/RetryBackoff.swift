/// How long to wait before trying again something that keeps failing:
/// `base` after the first failure, doubling after each further one, never
/// more than `cap`. A routing reload that fails is retried on its own, but
/// not every second: each attempt is a frr-reload.py process and a vty
/// session against a daemon that may be struggling already.
public struct RetryBackoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(60)) {
        precondition(base > .zero && cap >= base, "a back-off needs 0 < base <= cap")
        self.base = base
        self.cap = cap
    }

    /// The wait after `failures` failures in a row (1 for the first);
    /// zero when nothing has failed.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var delay = base
        for _ in 1..<failures {
            delay *= 2
            if delay >= cap { return cap }
        }
        return delay
    }
}
