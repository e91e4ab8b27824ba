import struct Foundation.Date

/// One decision or observation the controller records for `ecmpd history`:
/// a backend count change, a VIP announce or withdraw, a drain, a config or
/// routing-daemon reload.
///
/// The timestamp is wall-clock time because it is read by people comparing
/// it with other logs; decisions themselves are made on monotonic clocks
/// elsewhere and never read it back.
public struct ControllerEvent: Sendable, Hashable {
    public var timestamp: Date
    public var kind: ControllerEventKind
    /// The VIP the event concerns, or nil for fleet-wide events (reloads).
    public var vip: String?
    /// Why it happened, in words an operator can act on.
    public var reason: String
    /// Usable and total backends, for `backendCount` and the VIP decisions
    /// taken from a count.
    public var backends: BackendCount?
    /// Whether a reload (or other action) succeeded, with the failure message.
    public var outcome: EventOutcome?

    public init(
        timestamp: Date = Date(),
        kind: ControllerEventKind,
        vip: String? = nil,
        reason: String,
        backends: BackendCount? = nil,
        outcome: EventOutcome? = nil
    ) {
        self.timestamp = timestamp
        self.kind = kind
        self.vip = vip
        self.reason = reason
        self.backends = backends
        self.outcome = outcome
    }
}
