/// Decides the OSPF side of a director (or router) from its config and the
/// networks the kernel reports. Pure: the same inputs always give the same
/// plan, which is what lets ecmpd skip a reload when nothing changed.
public enum OSPFPlanner {
    /// Debian's FRR accepts up to 256; 64 covers any realistic fleet while
    /// staying within what older builds accept.
    public static let routerMaximumPaths = 64

    public static func plan(
        role: RoutingRole, config: Config, network: NetworkSnapshot, systemHostname: String
    ) throws(OSPFPlanError) -> OSPFPlan {
        let ospf = config.ospf
        let selected = try selectInterfaces(ospf.interfaces, in: network, field: "ospf.interfaces")

        var networks: [IPv4Network] = []
        for interface in selected {
            for address in interface.addresses where !networks.contains(address.network.network) {
                networks.append(address.network.network)
            }
        }
        let vips = role == .director ? config.ipv4VIPs : []
        // A VIP on lo is a /32 stub, announced by its own network statement;
        // a VIP inside an interface's subnet must not be mistaken for it.
        let routerID = try routerID(configured: ospf.routerID, interfaces: selected, vips: vips)
        let ospf6 = try config.ospf6.flatMap { settings throws(OSPFPlanError) -> OSPF6Plan? in
            guard !config.ipv6VIPs.isEmpty else { return nil }
            return try plan6(role: role, settings: settings, config: config, network: network, ospfRouterID: routerID)
        }
        return OSPFPlan(
            role: role,
            hostname: config.node.hostname ?? systemHostname,
            routerID: routerID,
            area: ospf.area,
            interfaces: planInterfaces(selected, ospf, role: role),
            networks: networks,
            vips: vips,
            loopbackCost: ospf.loopbackCost,
            authenticationKeyID: ospf.authentication?.keyID,
            fastConvergence: ospf.fastConvergence,
            maximumPaths: routerMaximumPaths,
            bfd: ospf.bfd.enabled ? ospf.bfd : nil,
            ospf6: ospf6
        )
    }

    /// ospf6d's plan. The router-id defaults to ospfd's: OSPFv2 and OSPFv3
    /// are separate domains, so one host may use one id in both, and it is
    /// already known not to be a VIP.
    static func plan6(
        role: RoutingRole, settings: OSPFSettings, config: Config, network: NetworkSnapshot,
        ospfRouterID: IPv4Address
    ) throws(OSPFPlanError) -> OSPF6Plan {
        let selected = try selectInterfaces(
            settings.interfaces, in: network, field: "ospf6.interfaces", needsIPv4: false)
        var networks: [IPv6Network] = []
        var skipped: [OSPF6Plan.SkippedAddress] = []
        for interface in selected {
            for address in interface.ipv6Addresses where !address.address.isLinkLocal {
                if let reason = address.unusableReason {
                    skipped.append(.init(interface: interface.name, address: address.network, reason: reason))
                } else if !networks.contains(address.network.network) {
                    networks.append(address.network.network)
                }
            }
        }
        return OSPF6Plan(
            routerID: settings.routerID ?? ospfRouterID,
            area: settings.area,
            interfaces: planInterfaces(selected, settings, role: role),
            networks: networks,
            skipped: skipped,
            vips: role == .director ? config.ipv6VIPs : [],
            loopbackCost: settings.loopbackCost,
            fastConvergence: settings.fastConvergence,
            maximumPaths: routerMaximumPaths)
    }

    /// Each OSPF interface's timers, cost and priority, for ospfd and ospf6d
    /// alike. The router's priority is at least 1: it is the designated router.
    static func planInterfaces(_ selected: [NetworkInterface], _ settings: OSPFSettings, role: RoutingRole)
        -> [OSPFPlan.Interface]
    {
        let priority = role == .router ? max(settings.priority, 1) : settings.priority
        return selected.map {
            OSPFPlan.Interface(
                name: $0.name, helloInterval: settings.helloInterval, deadInterval: settings.deadInterval,
                priority: priority, cost: settings.cost)
        }
    }

    /// The interfaces `selection` names. OSPFv2 needs an IPv4 address on
    /// each; OSPFv3 (`needsIPv4: false`) runs on link-local addresses alone.
    static func selectInterfaces(
        _ selection: InterfaceSelection, in network: NetworkSnapshot, field: String, needsIPv4: Bool = true
    ) throws(OSPFPlanError) -> [NetworkInterface] {
        switch selection {
        case .defaultRoute:
            guard let route = network.defaultRoute else {
                throw OSPFPlanError(
                    field: field,
                    message:
                        "set to the default-route interface, but this host has no IPv4 default route; add one or name the interfaces"
                )
            }
            guard let interface = network.interface(index: route.interfaceIndex) else {
                throw OSPFPlanError(
                    field: field,
                    message:
                        "the default route points at interface index \(route.interfaceIndex), which the kernel did not list"
                )
            }
            guard !interface.addresses.isEmpty || !needsIPv4 else {
                throw OSPFPlanError(
                    field: field,
                    message: "the default-route interface \(interface.name) has no IPv4 address")
            }
            return [interface]
        case .named(let names):
            var result: [NetworkInterface] = []
            for name in names {
                guard let interface = network.interface(named: name) else {
                    let known = network.interfaces.filter { !$0.isLoopback }.map(\.name).joined(separator: ", ")
                    throw OSPFPlanError(
                        field: field, message: "no interface named \(name) (this host has: \(known))")
                }
                guard !interface.addresses.isEmpty || !needsIPv4 else {
                    throw OSPFPlanError(field: field, message: "interface \(name) has no IPv4 address")
                }
                result.append(interface)
            }
            return result
        }
    }

    static func routerID(configured: IPv4Address?, interfaces: [NetworkInterface], vips: [IPv4Address])
        throws(OSPFPlanError) -> IPv4Address
    {
        if let configured {
            guard !vips.contains(configured) else {
                throw OSPFPlanError(
                    field: "ospf.router_id", message: "\(configured) is a VIP; every director would share it")
            }
            return configured
        }
        // Primary addresses first: the kernel's stable choice for the link.
        let candidates =
            interfaces.flatMap { $0.addresses.filter { !$0.isSecondary } }
            + interfaces.flatMap { $0.addresses.filter(\.isSecondary) }
        if let usable = candidates.first(where: { !vips.contains($0.address) }) { return usable.address }
        throw OSPFPlanError(
            field: "ospf.router_id", message: "no interface address usable as router-id; set ospf.router_id")
    }
}
