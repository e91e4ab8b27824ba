/// Counts a VIP's usable backends in an IPVS table, as observe mode sees
/// them: a destination is usable when it is present with weight above 0
/// (keepalived's `inhibit_on_failure` sets a failed one to 0; without it,
/// keepalived removes it). A configured service missing from the table
/// counts as none usable and none present.
///
/// A VIP with several services is only as good as its worst one: the
/// minimum applies to each service, so a VIP whose HTTPS service is dead is
/// withdrawn even while its HTTP service is fine (announcing it would
/// black-hole every HTTPS flow the router sends here). The count reported is
/// the sum over services while all meet the minimum, else the first
/// service that does not.
///
/// A VIP configured with no services watches every IPVS service on its
/// address (protocol and port services; a mark service names no address,
/// so it must be configured).
public enum BackendCounter {
    public struct Count: Sendable, Equatable {
        public var usable: Int
        public var total: Int
        /// Per service, in configuration (or, discovered, canonical) order.
        public var services: [(identity: IPVSServiceIdentity, usable: Int, total: Int)]

        public static func == (lhs: Count, rhs: Count) -> Bool {
            lhs.usable == rhs.usable && lhs.total == rhs.total
                && lhs.services.map(\.identity) == rhs.services.map(\.identity)
                && lhs.services.map(\.usable) == rhs.services.map(\.usable)
                && lhs.services.map(\.total) == rhs.services.map(\.total)
        }
    }

    public static func count(_ vip: VIPConfig, in table: IPVSTable) -> Count {
        count(vip, in: table, byIdentity: index(table))
    }

    /// Every VIP's count from one pass over the table: a cycle with 500
    /// VIPs indexes the table once, not once per VIP.
    public static func counts(_ vips: [VIPConfig], in table: IPVSTable) -> [IPAddress: Count] {
        let byIdentity = index(table)
        var counts: [IPAddress: Count] = [:]
        for vip in vips { counts[vip.address] = count(vip, in: table, byIdentity: byIdentity) }
        return counts
    }

    private static func index(_ table: IPVSTable) -> [IPVSServiceIdentity: IPVSTable.Entry] {
        Dictionary(table.entries.map { ($0.service.identity, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func count(_ vip: VIPConfig, in table: IPVSTable, byIdentity: [IPVSServiceIdentity: IPVSTable.Entry])
        -> Count
    {
        let identities: [IPVSServiceIdentity]
        if vip.services.isEmpty {
            identities = table.entries.map(\.service.identity)
                .filter { $0.endpoint?.address == vip.address }
                .sorted()
        } else {
            identities = vip.services.map { IPVSDesiredTable.identity(of: $0, on: vip.address) }
        }
        let services = identities.map { identity -> (identity: IPVSServiceIdentity, usable: Int, total: Int) in
            let destinations = byIdentity[identity]?.destinations ?? []
            return (identity, destinations.filter { $0.weight > 0 }.count, destinations.count)
        }
        return aggregate(services, health: vip.health)
    }

    /// A VIP's count from its services' counts: the first service below the
    /// minimum decides, else the sum. Shared with managed mode, which counts
    /// from check verdicts rather than from the kernel's table.
    public static func aggregate(
        _ services: [(identity: IPVSServiceIdentity, usable: Int, total: Int)], health: HealthPolicy
    ) -> Count {
        if services.isEmpty { return Count(usable: 0, total: 0, services: []) }
        if let failing = services.first(where: { !health.meetsMinimum(usable: $0.usable, total: $0.total) }) {
            return Count(usable: failing.usable, total: failing.total, services: services)
        }
        return Count(
            usable: services.reduce(0) { $0 + $1.usable }, total: services.reduce(0) { $0 + $1.total },
            services: services)
    }
}
