/// How many of a VIP's backends are usable out of how many are configured.
public struct BackendCount: Sendable, Hashable, CustomStringConvertible {
    public var usable: Int
    public var total: Int

    public init(usable: Int, total: Int) {
        self.usable = usable
        self.total = total
    }

    public var description: String { "\(usable)/\(total)" }
}
