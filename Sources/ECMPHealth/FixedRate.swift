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
    /// The next start, and whether it kept the plain due-plus-interval
    /// cadence (`inStep`: the checker fell less than an interval behind).
    static func next(due: UInt64, started: UInt64, interval: UInt64) -> (start: UInt64, inStep: Bool) {
        let late = started > due ? started - due : 0
        guard interval > 0 else { return (started, true) }
        if late < interval { return (due + interval, true) }
        return (started + interval - late % interval, false)
    }
}
