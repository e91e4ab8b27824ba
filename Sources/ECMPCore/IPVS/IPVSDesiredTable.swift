/// The IPVS table a config asks for, and which kernel services a plan
/// towards it may delete.
///
/// Every configured real server is desired, with its configured weight.
/// In managed mode health decides membership later (a failed server is
/// dropped or, with `inhibit_on_failure`, set to weight 0; the sorry server
/// joins when none is healthy); this is the table with every server healthy,
/// which is what `ecmpd ipvs apply` programs.
public struct IPVSDesiredTable: Hashable, Sendable {
    /// Services by identity, destinations by key: the canonical order a plan
    /// adds them in, so `mh` builds the same lookup table on every director.
    public var table: IPVSTable
    public var ownership: IPVSOwnership

    /// - Parameter ownsWholeTable: delete every kernel service the config
    ///   does not name. Otherwise ecmpd owns only the services the config
    ///   names, so it never deletes a service (one taken out of the config
    ///   stays in the kernel): a table shared with keepalived or an
    ///   operator's `ipvsadm` is safe by default.
    public init(_ config: Config, ownsWholeTable: Bool = false) {
        var entries: [IPVSServiceIdentity: IPVSTable.Entry] = [:]
        for vip in config.vips {
            for virtualService in vip.services {
                let service = Self.service(virtualService, on: vip.address)
                // The parser refuses duplicate services on one VIP; a config
                // built in code may still repeat one: the first counts, as in
                // `IPVSReconcilePlan`.
                guard entries[service.identity] == nil else { continue }
                entries[service.identity] = IPVSTable.Entry(
                    service, destinations: Self.destinations(of: virtualService))
            }
        }
        table = IPVSTable(entries.values.sorted { $0.service.identity < $1.service.identity })
        ownership = ownsWholeTable ? .wholeTable : .services(Set(entries.keys))
    }

    public init(table: IPVSTable, ownership: IPVSOwnership) {
        self.table = table
        self.ownership = ownership
    }

    /// The kernel's key for a configured virtual service on `vip`.
    public static func identity(of service: VirtualService, on vip: IPAddress) -> IPVSServiceIdentity {
        switch service.listener {
        case .port(.tcp, let port): return .tcp(vip, port: UInt16(port))
        case .port(.udp, let port): return .udp(vip, port: UInt16(port))
        case .port(.sctp, let port): return .sctp(vip, port: UInt16(port))
        // The mark itself names no VIP: the service takes the VIP's family.
        case .fwmark(let mark): return .fwmark(mark, family: vip.ipv4 == nil ? .ipv6 : .ipv4)
        }
    }

    static func service(_ service: VirtualService, on vip: IPAddress) -> IPVSService {
        var result = IPVSService(
            identity(of: service, on: vip), scheduler: service.scheduler, flags: flags(named: service.schedulerFlags))
        if let persistence = service.persistence {
            result.flags.insert(.persistent)
            result.persistenceTimeout = UInt32(persistence.timeout)
            if let netmask = persistence.netmask { result.netmask = .ipv4(netmask) }
        }
        return result
    }

    /// Real servers in canonical order. A server without a port takes the
    /// service's (0 for a mark service, by IPVS convention). Two entries that
    /// resolve to one address and port (one with the service's port spelled
    /// out, one without) are one destination: the first counts.
    static func destinations(of service: VirtualService) -> [IPVSDestination] {
        destinationsAndChecks(of: service).map(\.destination)
    }

    /// `destinations(of:)`, each with whether the real server it came from
    /// (the first of its key) has a check.
    static func destinationsAndChecks(of service: VirtualService) -> [(destination: IPVSDestination, checked: Bool)] {
        let servicePort = service.listener.defaultRealServerPort
        let method = forwarding(service.forwarding)
        let keys = service.realServers.map { IPVSDestinationKey($0.address, port: UInt16($0.port ?? servicePort)) }
        // A stable sort of positions by key: of two entries with one key the
        // first in the config comes first and is the one kept. No dictionary:
        // the full plan runs this for every service every few seconds.
        let order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        var destinations: [(destination: IPVSDestination, checked: Bool)] = []
        destinations.reserveCapacity(order.count)
        for position in order where destinations.last?.destination.key != keys[position] {
            let server = service.realServers[position]
            destinations.append(
                (
                    IPVSDestination(
                        keys[position].address, port: keys[position].port, forwarding: method,
                        weight: Int32(server.weight)), server.check != nil
                ))
        }
        return destinations
    }

    /// The config's scheduler flag names (`ConfigParser.knownSchedulerFlags`)
    /// as IPVS flags. `mh` and `sh` read the same two bits, so each pair of
    /// names maps to one bit. Unknown names add nothing: the parser has
    /// already refused them, with their line.
    public static func flags(named names: [String]) -> IPVSServiceFlags {
        var flags: IPVSServiceFlags = []
        for name in names {
            switch name {
            case "mh-fallback": flags.insert(.mhFallback)
            case "mh-port": flags.insert(.mhPort)
            case "sh-fallback": flags.insert(.shFallback)
            case "sh-port": flags.insert(.shPort)
            case "one-packet": flags.insert(.onePacket)
            default: continue
            }
        }
        return flags
    }

    static func forwarding(_ method: ForwardingMethod) -> IPVSForwardingMethod {
        switch method {
        case .directRoute: return .directRoute
        case .nat: return .masquerade
        case .tunnel: return .tunnel
        }
    }
}
