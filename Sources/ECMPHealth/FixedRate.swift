/// When a fixed-rate check starts next, in nanoseconds of one monotonic
/// clock. The next start is one interval after the start that was due, not
/// after the moment the checker got to it: taken from the moment, every
/// late wake-up pushed all later checks back, so a busy checker ran fewer
/// checks than scheduled (987-995 instead of 1,000 a second in the TCG VM,
/// docs/benchmarks.md) and the phases that spread the checks over the
/// interval wandered.
///
/// A checker that fell a whole interval or more behind (a stalled process,
/// a suspended VM) does not run the missed checks in a burst: the next
/// start is the first one after `started` at the check's own phase, so the
/// spread survives the stall.
enum FixedRate {
    static func next(due: UInt64, started: UInt64, interval: UInt64) -> UInt64 {
        guard interval > 0 else { return started }
        let late = started > due ? started - due : 0
        if late < interval { return due + interval }
        return started + interval - late % interval
    }

    /// Whether `next(due:started:interval:)` kept the plain due-plus-interval
    /// cadence (the checker fell less than an interval behind).
    static func onCadence(due: UInt64, started: UInt64, interval: UInt64) -> Bool {
        started < due || started - due < interval
    }
}
