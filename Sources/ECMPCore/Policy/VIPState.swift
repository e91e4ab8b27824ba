/// Everything the policy remembers about one VIP between observations.
/// `isAnnounced` is the decision (VIP wanted on lo); the reconciler makes lo
/// match it every cycle, so a missed change is repaired, not remembered.
public struct VIPState: Sendable, Equatable, CustomStringConvertible {
    public enum Status: Sendable, Equatable {
        /// On lo.
        case announced
        /// The policy would withdraw for `reason`, but no other director
        /// announces the VIP, so the last-announcer guard keeps it on lo.
        case heldByLastAnnouncerGuard(WithdrawalReason)
        /// Off lo.
        case withdrawn(WithdrawalReason)
    }

    public var status: Status
    public var isDrained: Bool
    /// Good (at least the minimum usable) and bad observations in a row;
    /// one of the two is always 0.
    public var consecutiveGood: Int
    public var consecutiveBad: Int
    public var lastObservation: VIPObservation?
    /// When health last withdrew the VIP; re-announcing waits `holdDown`
    /// from here. Drains do not set it: an operator's undrain is deliberate,
    /// not a flap to damp.
    public var lastWithdrawal: ContinuousClock.Instant?

    public init(
        status: Status, isDrained: Bool = false, consecutiveGood: Int = 0, consecutiveBad: Int = 0,
        lastObservation: VIPObservation? = nil, lastWithdrawal: ContinuousClock.Instant? = nil
    ) {
        self.status = status
        self.isDrained = isDrained
        self.consecutiveGood = consecutiveGood
        self.consecutiveBad = consecutiveBad
        self.lastObservation = lastObservation
        self.lastWithdrawal = lastWithdrawal
    }

    /// Whether the VIP belongs on lo.
    public var isAnnounced: Bool {
        switch status {
        case .announced, .heldByLastAnnouncerGuard: return true
        case .withdrawn: return false
        }
    }

    public var withdrawalReason: WithdrawalReason? {
        switch status {
        case .announced: return nil
        case .heldByLastAnnouncerGuard(let reason), .withdrawn(let reason): return reason
        }
    }

    public var description: String {
        switch status {
        case .announced: return "announced"
        case .heldByLastAnnouncerGuard(let reason):
            return "announced, withdrawal held because no other director announces it (\(reason))"
        case .withdrawn(let reason): return "withdrawn: \(reason)"
        }
    }
}
