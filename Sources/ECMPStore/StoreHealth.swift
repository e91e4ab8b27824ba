/// What the daemon reports about the event store (status endpoint, metrics).
/// A store that is not writable never stops the controller; this is how the
/// operator finds out.
public struct StoreHealth: Sendable, Hashable {
    /// Whether the last attempt to open or write the database succeeded.
    public var writable: Bool
    /// Events held in memory because they could not be written yet.
    public var queued: Int
    /// Events lost because the in-memory queue was full.
    public var dropped: Int
    /// Attempts to open or write the database that failed.
    public var failedAttempts: Int
    /// Corrupt database files moved aside (the new file was rebuilt empty).
    public var movedAside: [String]
    /// The most recent failure, as a sentence.
    public var lastError: String?

    public init(
        writable: Bool = true, queued: Int = 0, dropped: Int = 0, failedAttempts: Int = 0,
        movedAside: [String] = [], lastError: String? = nil
    ) {
        self.writable = writable
        self.queued = queued
        self.dropped = dropped
        self.failedAttempts = failedAttempts
        self.movedAside = movedAside
        self.lastError = lastError
    }
}
