import Foundation

/// The controller's clocks. Every interval, hold-down and drain wait is
/// measured on the monotonic one, so a wall-clock step (NTP, an operator's
/// `date`) changes no decision; wall time only dates records an operator
/// reads (a VIP's last change). Tests pass a manual clock.
public protocol ControllerClock: Sendable {
    /// Monotonic.
    var now: ContinuousClock.Instant { get }
    /// Wall time, for records only.
    var wallTime: Date { get }
}

/// The system's clocks.
public struct SystemClock: ControllerClock {
    public init() {}
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public var wallTime: Date { Date() }
}
