import Foundation

/// What the controller last decided about one VIP, as `/status` shows it.
public struct VIPStatus: Sendable, Equatable, Codable {
    /// The VIP's place on lo, in the operator's words.
    public enum State: String, Sendable, Equatable, Codable, CaseIterable {
        /// On lo and advertised.
        case announced
        /// Off lo.
        case withdrawn
        /// An operator drained it; off lo until undrained.
        case draining
        /// Policy would withdraw, but the last-announcer guard keeps it on lo.
        case held

        /// Whether the VIP is on lo in this state.
        public var isAnnounced: Bool { self == .announced || self == .held }
    }

    public var vip: String
    /// The virtual service's configured name, empty when it has none.
    public var name: String
    public var state: State
    /// Why the VIP is not plainly announced; nil when it is.
    public var reason: String?
    public var usable: Int
    public var total: Int
    /// Wall-clock time of the last state change: shown to operators and
    /// compared with other hosts' logs, so not a monotonic instant.
    public var lastChange: Date

    public init(
        vip: String, name: String = "", state: State, reason: String? = nil, usable: Int, total: Int, lastChange: Date
    ) {
        self.vip = vip
        self.name = name
        self.state = state
        self.reason = reason
        self.usable = usable
        self.total = total
        self.lastChange = lastChange
    }
}
