/// An IPVS virtual service: its identity and the settings the kernel lets
/// user space edit in place. Read back from the kernel it also carries
/// statistics; those never count when comparing desired with actual.
public struct IPVSService: Hashable, Sendable, CustomStringConvertible {
    public var identity: IPVSServiceIdentity
    /// The scheduler module's name without the `ip_vs_` prefix: rr, wrr, mh...
    public var scheduler: String
    public var flags: IPVSServiceFlags
    /// Persistence timeout in seconds; only meaningful with `.persistent`,
    /// but the kernel stores and returns it either way.
    public var persistenceTimeout: UInt32
    public var netmask: IPVSPersistenceNetmask
    /// Present on services read from the kernel.
    public var stats: IPVSStats?

    public init(
        _ identity: IPVSServiceIdentity, scheduler: String = "wlc", flags: IPVSServiceFlags = [],
        persistenceTimeout: UInt32 = 0, netmask: IPVSPersistenceNetmask? = nil, stats: IPVSStats? = nil
    ) {
        self.identity = identity
        self.scheduler = scheduler
        self.flags = flags
        self.persistenceTimeout = persistenceTimeout
        self.netmask = netmask ?? .host(for: identity.family)
        self.stats = stats
    }

    /// The settings a plan may edit on an existing service.
    public struct Settings: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let scheduler = Settings(rawValue: 1 << 0)
        public static let flags = Settings(rawValue: 1 << 1)
        public static let persistenceTimeout = Settings(rawValue: 1 << 2)
        public static let netmask = Settings(rawValue: 1 << 3)
    }

    /// The settings in which `self` differs from `other`, ignoring the
    /// kernel's `hashed` flag and the statistics.
    public func settings(differingFrom other: IPVSService) -> Settings {
        var changed: Settings = []
        if scheduler != other.scheduler { changed.insert(.scheduler) }
        if flags.configured != other.flags.configured { changed.insert(.flags) }
        if persistenceTimeout != other.persistenceTimeout { changed.insert(.persistenceTimeout) }
        if netmask != other.netmask { changed.insert(.netmask) }
        return changed
    }

    /// The service as it would be configured: `hashed` cleared, no stats.
    public var configuration: IPVSService {
        var copy = self
        copy.flags = flags.configured
        copy.stats = nil
        return copy
    }

    /// `TCP 198.18.0.1:80 mh flags=sched1,sched2 persistent 300 mask 255.255.255.0`.
    public var description: String {
        var text = "\(identity) \(scheduler)"
        let shown = flags.configured.subtracting(.persistent)
        if !shown.isEmpty { text += " flags=\(shown)" }
        if flags.contains(.persistent) { text += " persistent \(persistenceTimeout)" }
        if netmask != .host(for: identity.family) { text += " mask \(netmask)" }
        return text
    }
}
