import ECMPCore

/// Managed mode's last full plan, reused while nothing it was made from has
/// changed, since reading the whole IPVS table is a cycle's largest cost at
/// thousands of real servers. Kept only when every write of that cycle
/// succeeded; forgotten on a config reload.
struct ManagedPlanCache {
    /// A managed cycle reads the whole IPVS table at least this often, so
    /// a destination another program changed is put back within it.
    static let auditInterval = Duration.seconds(10)

    private struct Plan {
        var verdictVersion: Int
        var ownership: IPVSOwnership
        var services: [IPVSServiceIdentity: IPVSService]
        var counts: [IPAddress: BackendCounter.Count]
        var at: ContinuousClock.Instant
    }

    private var last: Plan?

    mutating func remember(
        verdictVersion: Int, desired: IPVSDesiredTable, counts: [IPAddress: BackendCounter.Count],
        at now: ContinuousClock.Instant
    ) {
        let services = Dictionary(
            desired.table.entries.map { ($0.service.identity, $0.service) },
            uniquingKeysWith: { first, _ in first })
        last = Plan(
            verdictVersion: verdictVersion, ownership: desired.ownership, services: services, counts: counts,
            at: now)
    }

    mutating func forget() { last = nil }

    /// The last plan's counts when the verdicts and config are the same,
    /// the audit interval is not over, and the kernel's services (one small
    /// dump, `services`) are exactly the planned ones. nil means read the
    /// whole table and plan again.
    func counts(
        verdictVersion: Int, now: ContinuousClock.Instant, services: () throws -> [IPVSService]
    ) -> [IPAddress: BackendCounter.Count]? {
        guard let last, last.verdictVersion == verdictVersion, now - last.at < Self.auditInterval else { return nil }
        guard let services = try? services() else { return nil }  // the full read reports it
        var matched = 0
        for service in services {
            guard let wanted = last.services[service.identity] else {
                if last.ownership.owns(service.identity) { return nil }
                continue
            }
            guard wanted.settings(differingFrom: service).isEmpty else { return nil }
            matched += 1
        }
        return matched == last.services.count ? last.counts : nil
    }
}
