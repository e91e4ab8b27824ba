/// One look at a VIP's backends, taken by the caller at `at` (a monotonic
/// instant, injected so the policy never reads a clock).
public struct VIPObservation: Sendable, Equatable {
    /// Backends that can take traffic now (IPVS weight above 0, check passing).
    public var usable: Int
    /// Backends configured (or, watching keepalived, present in IPVS).
    public var total: Int
    public var at: ContinuousClock.Instant
    /// Whether another director announces this VIP at the moment: `false`
    /// lets the last-announcer guard hold a withdrawal, `nil` (not known)
    /// never does.
    public var othersAnnounce: Bool?

    public init(usable: Int, total: Int, at: ContinuousClock.Instant, othersAnnounce: Bool? = nil) {
        precondition(usable >= 0 && usable <= total, "usable \(usable) outside 0...\(total)")
        self.usable = usable
        self.total = total
        self.at = at
        self.othersAnnounce = othersAnnounce
    }
}
