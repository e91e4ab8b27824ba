/// A real server of an IPVS service. The address family may differ from the
/// service's only for tunnelled destinations (a kernel rule, not checked
/// here). Read back from the kernel it also carries connection counts and
/// statistics, which never count when comparing desired with actual.
public struct IPVSDestination: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// For direct routing and tunnels the kernel never rewrites the port;
    /// `ipvsadm` forces it to the service port, the kernel keeps what it gets.
    /// Fwmark services have port 0 by convention.
    public var port: UInt16
    public var forwarding: IPVSForwardingMethod
    /// 0 takes the destination out of scheduling while its connections drain.
    /// The kernel stores an `int` and refuses negative weights (ERANGE).
    public var weight: Int32
    /// Stop scheduling new connections at this many active ones; 0 = no limit.
    public var upperThreshold: UInt32
    /// Resume scheduling below this many after the upper threshold was hit.
    public var lowerThreshold: UInt32
    /// Present on destinations read from the kernel.
    public var connections: IPVSConnectionCounts?
    public var stats: IPVSStats?

    public init(
        _ address: IPAddress, port: UInt16, forwarding: IPVSForwardingMethod = .directRoute, weight: Int32 = 1,
        upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0,
        connections: IPVSConnectionCounts? = nil, stats: IPVSStats? = nil
    ) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        self.connections = connections
        self.stats = stats
    }

    public var key: IPVSDestinationKey { IPVSDestinationKey(address, port: port) }

    /// The settings a plan may edit on an existing destination.
    public struct Settings: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let forwarding = Settings(rawValue: 1 << 0)
        public static let weight = Settings(rawValue: 1 << 1)
        public static let upperThreshold = Settings(rawValue: 1 << 2)
        public static let lowerThreshold = Settings(rawValue: 1 << 3)
    }

    /// The settings in which `self` differs from `other`, ignoring counters.
    public func settings(differingFrom other: IPVSDestination) -> Settings {
        var changed: Settings = []
        if forwarding != other.forwarding { changed.insert(.forwarding) }
        if weight != other.weight { changed.insert(.weight) }
        if upperThreshold != other.upperThreshold { changed.insert(.upperThreshold) }
        if lowerThreshold != other.lowerThreshold { changed.insert(.lowerThreshold) }
        return changed
    }

    /// The destination as it would be configured: no counters, no stats.
    public var configuration: IPVSDestination {
        var copy = self
        copy.connections = nil
        copy.stats = nil
        return copy
    }

    /// `198.18.0.2:80 Route weight 3 thresholds 100/10`.
    public var description: String {
        var text = "\(key) \(forwarding) weight \(weight)"
        if upperThreshold != 0 || lowerThreshold != 0 { text += " thresholds \(upperThreshold)/\(lowerThreshold)" }
        return text
    }
}
