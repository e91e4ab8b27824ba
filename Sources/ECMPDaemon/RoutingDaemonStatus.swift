import Foundation

/// One routing daemon as `/status` shows it: whether it runs, since when
/// (wall clock, for people), and what the watch found.
public struct RoutingDaemonStatus: Sendable, Equatable, Codable {
    public var daemon: String
    public var running: Bool
    public var pid: Int32?
    public var detail: String
    /// When the watch first saw it in its current state.
    public var since: Date

    public init(daemon: String, running: Bool, pid: Int32?, detail: String, since: Date) {
        self.daemon = daemon
        self.running = running
        self.pid = pid
        self.detail = detail
        self.since = since
    }
}
