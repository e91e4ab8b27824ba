/// What a `ControllerEvent` records. The raw values are stored in the event
/// database and printed by `ecmpd history`: never rename one.
public enum ControllerEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    case backendCount = "backend-count"
    case announce
    case withdraw
    case drain
    case undrain
    case configReload = "config-reload"
    case routingReload = "routing-reload"
    /// A routing daemon ecmpd reloads stopped running, or runs again.
    case routingDaemon = "routing-daemon"
    /// The kernel dropped rtnetlink events (ENOBUFS); everything re-read.
    case networkResync = "network-resync"
    /// Managed mode: a real server's check verdict changed.
    case realServerUp = "realserver-up"
    case realServerDown = "realserver-down"
    /// Managed mode: a service gained or lost keepalived-style quorum.
    case quorum
    /// Managed mode: changes written to IPVS in one cycle.
    case ipvs
    /// A file in the state directory was refused: a symbolic link, not a
    /// regular file, or written by another user. Never obeyed.
    case stateFile = "state-file"
}
