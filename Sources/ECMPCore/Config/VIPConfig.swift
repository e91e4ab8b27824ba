/// One service VIP: the host address (/32, or /128 for IPv6) kept on lo
/// while its backends are healthy, the
/// IPVS virtual services that share it, and the policy deciding when it is
/// announced.
public struct VIPConfig: Sendable, Equatable {
    /// IPv4 is announced by ospfd (`ospf`), IPv6 by ospf6d (`ospf6`).
    public var address: IPAddress
    public var name: String?
    public var health: HealthPolicy
    public var services: [VirtualService]
    /// Every director sends a flow to the same real server, so a flow the
    /// router moves to another director (one leaves or joins the ECMP set)
    /// survives: services default to `mh` with `mh-port`, and a failed real
    /// server keeps its place with weight 0 (docs/fleet-consistency.md).
    public var fleetConsistent: Bool

    public init(
        address: IPAddress, name: String? = nil, health: HealthPolicy = HealthPolicy(),
        services: [VirtualService] = [],
        fleetConsistent: Bool = false
    ) {
        self.address = address
        self.name = name
        self.health = health
        self.services = services
        self.fleetConsistent = fleetConsistent
    }

    /// An IPv4 VIP, as most configs and tests have.
    public init(
        address: IPv4Address, name: String? = nil, health: HealthPolicy = HealthPolicy(),
        services: [VirtualService] = [], fleetConsistent: Bool = false
    ) {
        self.init(
            address: .v4(address), name: name, health: health, services: services, fleetConsistent: fleetConsistent)
    }
}

/// When a VIP is announced: at least `minimumHealthy` usable backends,
/// `fall` bad observations in a row to withdraw, `rise` good ones to
/// re-announce, and never sooner than `holdDown` after a withdrawal.
public struct HealthPolicy: Sendable, Equatable {
    public var minimumHealthy: BackendThreshold
    public var rise: Int
    public var fall: Int
    public var holdDown: Duration

    public init(
        minimumHealthy: BackendThreshold = .count(1), rise: Int = 3, fall: Int = 2, holdDown: Duration = .seconds(10)
    ) {
        self.minimumHealthy = minimumHealthy
        self.rise = rise
        self.fall = fall
        self.holdDown = holdDown
    }
}

/// A minimum of usable backends: an absolute count, or a percentage of the
/// configured ones (rounded up). Whether a VIP meets it, never below one
/// backend, is decided in one place: `HealthPolicy.meetsMinimum`.
public enum BackendThreshold: Sendable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    public func required(ofTotal total: Int) -> Int {
        switch self {
        case .count(let n): return n
        case .percent(let p): return (total * p + 99) / 100
        }
    }

    public var description: String {
        switch self {
        case .count(let n): return "\(n)"
        case .percent(let p): return "\(p)%"
        }
    }
}
