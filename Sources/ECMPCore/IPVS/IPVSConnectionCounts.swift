/// Connections the kernel currently tracks for one destination. They live
/// with the destination object: deleting and re-adding a destination would
/// reset them, which is why a plan edits destinations in place.
public struct IPVSConnectionCounts: Hashable, Sendable {
    public var active: UInt32
    public var inactive: UInt32
    /// Persistence templates pointing at this destination.
    public var persistent: UInt32

    public init(active: UInt32 = 0, inactive: UInt32 = 0, persistent: UInt32 = 0) {
        self.active = active
        self.inactive = inactive
        self.persistent = persistent
    }
}
