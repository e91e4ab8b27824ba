/// Checks that need the director's live network: things a file can only
/// get wrong relative to the machine it runs on.
public enum NetworkConfigValidator {
    public static func problems(_ loaded: LoadedConfig, network: NetworkSnapshot) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let config = loaded.config
        let interfaceAddresses = network.nonLoopbackAddresses
        for (index, vip) in config.vips.enumerated() {
            if let problem = vipProblem(vip.address, network: network) {
                let field = "vips[\(index)].address"
                problems.append(
                    loaded.problem(problem.severity, field: field, value: "\(vip.address)", message: problem.message))
            }
        }
        for (section, settings) in [("ospf", config.ospf), ("ospf6", config.ospf6)] {
            guard let routerID = settings?.routerID, !interfaceAddresses.contains(where: { $0.address == routerID })
            else { continue }
            problems.append(
                loaded.problem(
                    .warning, field: "\(section).router_id", value: "\(routerID)",
                    message:
                        "is not an address of this host; fine if deliberate, but router-ids must be unique in the area")
            )
        }
        return problems
    }

    /// What is wrong with `vip` on this host's networks, the first finding
    /// only: an interface's own address, the default gateway, the network
    /// or broadcast address of a connected subnet (errors), or an address
    /// inside a connected prefix (a warning).
    static func vipProblem(
        _ vip: IPAddress, network: NetworkSnapshot
    ) -> (severity: ConfigProblem.Severity, message: String)? {
        switch vip {
        case .v4(let vip): return vipProblem(vip, network: network)
        case .v6(let vip): return vipProblem(vip, network: network)
        }
    }

    /// An IPv6 VIP held by an interface: the director would answer
    /// neighbour solicitations for it, as an IPv4 one would answer ARP.
    static func vipProblem(
        _ vip: IPv6Address, network: NetworkSnapshot
    ) -> (severity: ConfigProblem.Severity, message: String)? {
        let nonLoopback = network.interfaces.filter { !$0.isLoopback }
        if let owner = nonLoopback.first(where: { $0.ipv6Addresses.contains { $0.address == vip } }) {
            return (.error, interfaceAddressRefusal(owner.name, answering: "neighbour solicitations"))
        }
        return nil
    }

    /// One wording for a VIP an interface holds, in either family.
    static func interfaceAddressRefusal(_ interface: String, answering what: String) -> String {
        "is an address of interface \(interface); a VIP must live only on lo, "
            + "or this director answers \(what) for it and takes traffic the router did not send"
    }

    static func vipProblem(
        _ vip: IPv4Address, network: NetworkSnapshot
    ) -> (severity: ConfigProblem.Severity, message: String)? {
        let nonLoopback = network.interfaces.filter { !$0.isLoopback }
        if let owner = nonLoopback.first(where: { $0.addresses.contains { $0.address == vip } }) {
            return (.error, interfaceAddressRefusal(owner.name, answering: "ARP"))
        }
        if let route = network.defaultRoute, route.gateway == vip {
            let via = network.interface(index: route.interfaceIndex).map { " (via \($0.name))" } ?? ""
            return (
                .error,
                "is the default gateway\(via): the upstream router owns it and answers for it, "
                    + "so traffic to the VIP would end there"
            )
        }
        // lo holds the VIPs themselves as /32s; a /32 elsewhere has no
        // neighbours to reach by ARP.
        let connected = nonLoopback.flatMap { interface in
            interface.addresses.filter { $0.network.prefixLength < 32 }.map {
                (prefix: $0.network.network, interface: interface.name)
            }
        }
        // RFC 3021: a /31 has no network or broadcast address; both are hosts.
        for (prefix, interface) in connected where prefix.prefixLength <= 30 {
            if vip == prefix.address {
                return (
                    .error,
                    "is the network address of \(prefix) (\(interface)); hosts on that link do not take it "
                        + "as a host's, so it cannot be a VIP"
                )
            }
            if vip == prefix.broadcast {
                return (
                    .error,
                    "is the broadcast address of \(prefix) (\(interface)); every host on that link takes "
                        + "packets to it as broadcast, so it cannot be a VIP"
                )
            }
        }
        if let (prefix, interface) = connected.first(where: { $0.prefix.contains(vip) }) {
            return (
                .warning,
                "is inside \(prefix), a connected prefix of \(interface): a router on that link "
                    + "can reach it by ARP with OSPF down, so the service seems to work while bypassing ECMP; "
                    + "take VIPs from a range no interface holds"
            )
        }
        return nil
    }
}
