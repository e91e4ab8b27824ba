import ECMPCore

/// An operator's drains as the controller follows them: the record last
/// read from drain.json (written by `ecmpd drain`/`undrain`, so no
/// connection to the daemon is needed) and where a whole-director drain
/// is. The record is read again only when its stamp moved.
struct OperatorDrains {
    /// Where a whole-director drain is.
    enum DirectorPhase: Equatable {
        case none
        /// lo's cost raised; the VIPs leave lo at `until`.
        case raisingCost(until: ContinuousClock.Instant)
        /// The VIPs are off lo.
        case drained
    }

    /// What the director's drain needs from the controller this cycle.
    enum DirectorChange: Equatable {
        /// Raise lo's cost now; the VIPs leave at `until`.
        case raiseCost(until: ContinuousClock.Instant)
        /// Put lo's cost back; the VIPs return when healthy.
        case restoreCost
    }

    private(set) var record = DrainRecord()
    private(set) var phase = DirectorPhase.none
    private var stamp: FileStamp?

    /// Reads the record when its stamp moved since the last read (or
    /// always, with `force`); returns the record it replaced when it
    /// differs. A record that cannot be read throws and the previous one is
    /// kept; it is read again once its stamp moves.
    mutating func reread(_ file: any RecordFile<DrainRecord>, force: Bool) throws -> DrainRecord? {
        let current = file.stamp()
        guard force || current != stamp else { return nil }
        stamp = current
        let read = try file.read() ?? DrainRecord()
        guard read != record else { return nil }
        defer { record = read }
        return record
    }

    /// At start-up: a director drain found with VIPs still on lo (a crash
    /// during the wait) waits again before removing them.
    mutating func resume(anyAnnounced: Bool, now: ContinuousClock.Instant, wait: Duration) {
        guard record.director else { return }
        phase = anyAnnounced ? .raisingCost(until: now + wait) : .drained
    }

    /// Moves the director's drain on: cost first, the VIPs `wait` later.
    mutating func advance(now: ContinuousClock.Instant, wait: Duration) -> DirectorChange? {
        switch (record.director, phase) {
        case (true, .none):
            phase = .raisingCost(until: now + wait)
            return .raiseCost(until: now + wait)
        case (true, .raisingCost(let until)) where now >= until:
            phase = .drained
            return nil
        case (false, .raisingCost), (false, .drained):
            phase = .none
            return .restoreCost
        default:
            return nil
        }
    }

    /// Whether `vip` should be off lo for a drain now.
    func drains(_ vip: IPAddress) -> Bool {
        phase == .drained || record.drainedVIPs.contains(vip)
    }
}
