/// A change the caller must make on lo: add the VIP (announce) or remove it
/// (withdraw), with the reason to log and record.
public struct VIPTransition: Sendable, Equatable, CustomStringConvertible {
    public enum Action: String, Sendable, Equatable {
        case announce
        case withdraw
    }

    public var action: Action
    public var reason: String
    public var at: ContinuousClock.Instant

    public init(_ action: Action, reason: String, at: ContinuousClock.Instant) {
        self.action = action
        self.reason = reason
        self.at = at
    }

    public var description: String { "\(action.rawValue): \(reason)" }
}
