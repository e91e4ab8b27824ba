/// How `ecmpd run` watches, decides and stops (docs/configuration.md,
/// `controller:`).
public struct ControllerSettings: Sendable, Equatable {
    /// How often the IPVS table is dumped in observe mode. With `fall` bad
    /// observations needed, a VIP is withdrawn `poll_interval × fall` after
    /// its backends fail (plus one poll of phase).
    public var pollInterval: Duration
    /// What SIGTERM does to the VIPs on lo.
    public var onStop: StopAction
    /// Hold a health withdrawal while ospfd's database shows no other
    /// director announcing the VIP (docs/last-announcer-guard.md).
    public var guardLastAnnouncer: Bool
    /// Quiet time after the last rtnetlink event before the routing configs
    /// are re-rendered, so a burst of link and address events costs one
    /// render.
    public var networkDebounce: Duration
    /// `cost` written on `interface lo` while the whole director is drained:
    /// the router prefers every other director before the VIPs leave lo.
    public var drainCost: Int
    /// How long a whole-director drain keeps the VIPs on lo at `drainCost`
    /// before removing them.
    public var drainWait: Duration
    /// keepalived's configuration, read in observe mode to refuse
    /// `ha_suspend`; nil means /etc/keepalived/keepalived.conf if present.
    public var keepalivedConfig: String?

    public init(
        pollInterval: Duration = .milliseconds(250), onStop: StopAction = .withdraw, guardLastAnnouncer: Bool = false,
        networkDebounce: Duration = .milliseconds(500), drainCost: Int = 65535, drainWait: Duration = .seconds(10),
        keepalivedConfig: String? = nil
    ) {
        self.pollInterval = pollInterval
        self.onStop = onStop
        self.guardLastAnnouncer = guardLastAnnouncer
        self.networkDebounce = networkDebounce
        self.drainCost = drainCost
        self.drainWait = drainWait
        self.keepalivedConfig = keepalivedConfig
    }

    /// Where keepalived's configuration is looked for when none is named.
    public static let defaultKeepalivedConfig = "/etc/keepalived/keepalived.conf"
}

/// What `ecmpd run` does with its VIPs when told to stop.
public enum StopAction: String, Sendable, Equatable, CaseIterable {
    /// Remove every VIP ecmpd owns from lo: a director nobody watches stops
    /// attracting traffic. A restart announces them again after `rise`.
    case withdraw
    /// Leave lo as it is: a planned restart does not move flows; the next
    /// run adopts the VIPs. Health is unwatched until then.
    case leave
}
