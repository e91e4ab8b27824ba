/// Which routing daemons were running at the last look, and what changed
/// since: the decision half of the routing-daemon watch, pure so that
/// "came back, so reload it" is tested without killing FRR.
public struct RoutingDaemonLiveness: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        case wentDown(daemon: String)
        case cameBack(daemon: String)
    }

    /// Daemon name to whether it ran at the last look.
    public private(set) var running: [String: Bool] = [:]

    public init() {}

    /// Records one look (daemon name to running) and returns what changed,
    /// in daemon-name order. A daemon's first look is no change: when it is
    /// up then, the start-up render installs and reloads it anyway; when it
    /// is down, its coming up later is a `cameBack`. Daemons missing from
    /// `look` are forgotten (no longer watched, e.g. `routing.reload: none`
    /// after a SIGHUP).
    public mutating func observe(_ look: [String: Bool]) -> [Change] {
        var changes: [Change] = []
        for (daemon, isRunning) in look.sorted(by: { $0.key < $1.key }) {
            switch (running[daemon], isRunning) {
            case (true?, false): changes.append(.wentDown(daemon: daemon))
            case (false?, true): changes.append(.cameBack(daemon: daemon))
            default: break
            }
        }
        running = look
        return changes
    }
}
