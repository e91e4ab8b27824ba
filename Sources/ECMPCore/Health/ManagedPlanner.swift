/// Managed mode's decision, pure: from the config, each real server's check
/// verdict and the kernel's table, the IPVS table to program and each VIP's
/// usable backends for its policy.
///
/// Per service, as keepalived does it (check_vs: quorum, sorry server):
/// - A server that is up is in the table with its configured weight. One
///   that is down is removed, or kept with weight 0 when the service has
///   `inhibit_on_failure` or its VIP is `fleet_consistent` (weight 0 keeps
///   the destination's place in the list, which `mh` builds its table from).
/// - A server not yet checked (`unknown`, just after start or a reload) is
///   left as the kernel has it: a restart changes nothing before the checks
///   have spoken. Absent from the kernel, it is not added (with inhibit: it
///   is added with weight 0, so the order is canonical from the start).
/// - Quorum: the summed configured weight of the live servers. It is lost
///   when that sum is 0 or below `quorum - hysteresis`, and regained at
///   `quorum + hysteresis` or above. While it is lost and a sorry server is
///   configured, the sorry server is the only one with weight (the live
///   servers are removed, or set to 0 with inhibit), as keepalived does.
///   A service without quorum counts no usable backends, so its VIP is
///   withdrawn: a sorry page is better served by a director that has none.
/// - Servers without a check are always up.
public enum ManagedPlanner {
    public struct Plan: Sendable {
        public var desired: IPVSDesiredTable
        public var counts: [IPAddress: BackendCounter.Count]
        /// Quorum state per service: true = quorum held. Absent while a
        /// service's first verdicts are still pending.
        public var quorum: [IPVSServiceIdentity: Bool]
        /// Services whose quorum changed in this plan, with the live weight.
        public var quorumChanges: [QuorumChange]
    }

    public struct QuorumChange: Sendable, Equatable {
        public var service: IPVSServiceIdentity
        public var vip: IPAddress
        public var held: Bool
        public var liveWeight: Int
        public var threshold: Int
        public var sorryServer: RealServerAddress?
    }

    public static func plan(
        _ config: Config, verdicts: [RealServerKey: CheckTracker.Verdict], actual: IPVSTable,
        quorum previous: [IPVSServiceIdentity: Bool]
    ) -> Plan {
        let kernel = Dictionary(
            actual.entries.map { ($0.service.identity, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [IPVSTable.Entry] = []
        var seen: Set<IPVSServiceIdentity> = []
        var counts: [IPAddress: BackendCounter.Count] = [:]
        var quorum: [IPVSServiceIdentity: Bool] = [:]
        var changes: [QuorumChange] = []

        for vip in config.vips {
            var perService: [(identity: IPVSServiceIdentity, usable: Int, total: Int)] = []
            for virtualService in vip.services {
                let identity = IPVSDesiredTable.identity(of: virtualService, on: vip.address)
                guard seen.insert(identity).inserted else { continue }
                let inKernel = Dictionary(
                    (kernel[identity]?.destinations ?? []).map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first }
                )
                let inhibit = virtualService.inhibitOnFailure || vip.fleetConsistent
                let configuredDestinations = IPVSDesiredTable.destinationsAndChecks(of: virtualService)

                var destinations: [IPVSDestination] = []
                var live: [IPVSDestination] = []
                var anyUnknown = false
                for (configured, checked) in configuredDestinations {
                    let key = RealServerKey(service: identity, destination: configured.key)
                    let verdict = checked ? verdicts[key] ?? .unknown : .up
                    var weightZero = configured
                    weightZero.weight = 0
                    switch verdict {
                    case .up:
                        destinations.append(configured)
                        live.append(configured)
                    case .down:
                        if inhibit { destinations.append(weightZero) }
                    case .unknown:
                        anyUnknown = true
                        if let current = inKernel[configured.key] {
                            var kept = configured
                            kept.weight = current.weight
                            destinations.append(kept)
                            if current.weight > 0 { live.append(configured) }
                        } else if inhibit {
                            destinations.append(weightZero)
                        }
                    }
                }

                let liveWeight = live.reduce(0) { $0 + Int($1.weight) }
                let required = virtualService.quorum ?? 1
                var held = previous[identity]
                if held == nil && !anyUnknown { held = true }
                if let was = held {
                    if was && (liveWeight == 0 || liveWeight < required - virtualService.hysteresis) {
                        held = false
                    } else if !was && liveWeight >= required + virtualService.hysteresis {
                        held = true
                    }
                }
                if let held {
                    quorum[identity] = held
                    if previous[identity] != held && !(previous[identity] == nil && held) {
                        changes.append(
                            QuorumChange(
                                service: identity, vip: vip.address, held: held, liveWeight: liveWeight,
                                threshold: required + (held ? virtualService.hysteresis : -virtualService.hysteresis),
                                sorryServer: virtualService.sorryServer))
                    }
                }

                if held == false, let sorry = virtualService.sorryServer {
                    destinations = destinations.compactMap { destination in
                        guard inhibit else { return nil }
                        var zero = destination
                        zero.weight = 0
                        return zero
                    }
                    let sorryDestination = IPVSDestination(
                        sorry.address, port: UInt16(sorry.port ?? virtualService.listener.defaultRealServerPort),
                        forwarding: IPVSDesiredTable.forwarding(virtualService.forwarding), weight: 1)
                    destinations.removeAll { $0.key == sorryDestination.key }
                    destinations.append(sorryDestination)
                    // The rest are in key order already (destinationsAndChecks).
                    destinations.sort { $0.key < $1.key }
                }
                entries.append(
                    IPVSTable.Entry(
                        IPVSDesiredTable.service(virtualService, on: vip.address), destinations: destinations))
                perService.append((identity, held == false ? 0 : live.count, configuredDestinations.count))
            }
            counts[vip.address] = BackendCounter.aggregate(perService, health: vip.health)
        }
        // `via_vip` probes' services (VIPPathPlan), and every other one in
        // their mark range the kernel still has: an earlier config's or a
        // crashed run's, which the reconcile then deletes.
        let paths = VIPPathPlan(config)
        for entry in paths.services where seen.insert(entry.service.identity).inserted { entries.append(entry) }
        for identity in kernel.keys where paths.owns(identity) { seen.insert(identity) }
        entries.sort { $0.service.identity < $1.service.identity }
        let desired = IPVSDesiredTable(table: IPVSTable(entries), ownership: .services(seen))
        return Plan(desired: desired, counts: counts, quorum: quorum, quorumChanges: changes)
    }

    /// Every real server a config asks ecmpd to check, with its check.
    /// `vip` and `mark` are set for a `via_vip` check: the probe connects to
    /// the VIP with the mark (`VIPPathPlan`); a mark of nil there means the
    /// pair found no free mark.
    public static func checkTargets(_ config: Config) -> [(
        key: RealServerKey, address: IPAddress, port: Int, check: HealthCheck, vip: IPv4Address?, mark: UInt32?
    )] {
        var targets:
            [(key: RealServerKey, address: IPAddress, port: Int, check: HealthCheck, vip: IPv4Address?, mark: UInt32?)] =
                []
        var seen: Set<RealServerKey> = []
        let paths = VIPPathPlan(config)
        for vip in config.vips {
            for service in vip.services {
                let identity = IPVSDesiredTable.identity(of: service, on: vip.address)
                for server in service.realServers {
                    guard let check = server.check else { continue }
                    let port = server.port ?? service.listener.defaultRealServerPort
                    let key = RealServerKey(
                        service: identity, destination: IPVSDestinationKey(server.address, port: UInt16(port)))
                    guard seen.insert(key).inserted else { continue }
                    let viaVIP = check.viaVIP && service.forwarding == .directRoute
                    targets.append(
                        (
                            key, server.address, check.connectPort ?? port, check, viaVIP ? vip.address.ipv4 : nil,
                            viaVIP ? paths.mark(vip: vip.address, realServer: server.address) : nil
                        ))
                }
            }
        }
        return targets
    }
}
