/// The health of one of the daemon's collaborators (the routing daemon, the
/// store), as a yes/no plus a sentence an operator can act on.
public struct ComponentHealth: Sendable, Equatable, Codable {
    public var healthy: Bool
    public var detail: String

    public init(healthy: Bool, detail: String) {
        self.healthy = healthy
        self.detail = detail
    }
}
