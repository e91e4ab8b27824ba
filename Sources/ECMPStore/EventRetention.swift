/// How much history the store keeps: at most `maxRows` events, none older
/// than `maxAge`. Whichever bound is tighter wins.
public struct EventRetention: Sendable, Hashable {
    public var maxRows: Int
    public var maxAge: Duration

    public init(maxRows: Int, maxAge: Duration) {
        precondition(maxRows > 0, "retention must keep at least one event")
        self.maxRows = maxRows
        self.maxAge = maxAge
    }

    /// A month or a hundred thousand events: a few tens of megabytes at most.
    public static let standard = EventRetention(maxRows: 100_000, maxAge: .seconds(30 * 86_400))
}
