/// What `realserver up` changed, kept in a state file so `down` undoes
/// exactly that: each sysctl's value from before the first `up`, and the
/// VIPs it added to lo (a VIP found there is not recorded, so `down` never
/// removes it).
public struct RealServerRecord: Sendable, Equatable, Codable {
    public var version: Int
    /// Sysctl key → value before ecmpd first changed it.
    public var previousSysctls: [String: Int]
    /// Addresses of either family, sorted (IPv4 first).
    public var addedVIPs: [String]

    public static let currentVersion = 1

    public init(previousSysctls: [String: Int] = [:], addedVIPs: [IPAddress] = []) {
        version = Self.currentVersion
        self.previousSysctls = previousSysctls
        self.addedVIPs = addedVIPs.sorted().map(\.description)
    }

    public var previous: [RealServerSysctl: Int] {
        var result: [RealServerSysctl: Int] = [:]
        for (key, value) in previousSysctls {
            if let sysctl = RealServerSysctl(key: key) { result[sysctl] = value }
        }
        return result
    }

    public var added: Set<IPAddress> { Set(addedVIPs.compactMap(IPAddress.init)) }

    public var isEmpty: Bool { previousSysctls.isEmpty && addedVIPs.isEmpty }
}
