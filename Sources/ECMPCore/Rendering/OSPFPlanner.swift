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
        let selected = try selectInterfaces(ospf.interfaces, in: network)

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
        let priority = role == .router ? max(ospf.priority, 1) : ospf.priority
        return OSPFPlan(
            role: role,
            hostname: config.node.hostname ?? systemHostname,
            routerID: routerID,
            area: ospf.area,
            interfaces: selected.map {
                OSPFPlan.Interface(
                    name: $0.name, helloInterval: ospf.helloInterval, deadInterval: ospf.deadInterval,
                    priority: priority, cost: ospf.cost)
            },
            networks: networks,
            vips: vips,
            loopbackCost: ospf.loopbackCost,
            authenticationKeyID: ospf.authentication?.keyID,
            fastConvergence: ospf.fastConvergence,
            maximumPaths: routerMaximumPaths,
            bfd: ospf.bfd.enabled ? ospf.bfd : nil
        )
    }

    static func selectInterfaces(_ selection: InterfaceSelection, in network: NetworkSnapshot) throws(OSPFPlanError)
        -> [NetworkInterface]
    {
        switch selection {
        case .defaultRoute:
            guard let route = network.defaultRoute else {
                throw OSPFPlanError(
                    field: "ospf.interfaces",
                    message:
                        "set to the default-route interface, but this host has no IPv4 default route; add one or name the interfaces"
                )
            }
            guard let interface = network.interface(index: route.interfaceIndex) else {
                throw OSPFPlanError(
                    field: "ospf.interfaces",
                    message:
                        "the default route points at interface index \(route.interfaceIndex), which the kernel did not list"
                )
            }
            guard !interface.addresses.isEmpty else {
                throw OSPFPlanError(
                    field: "ospf.interfaces",
                    message: "the default-route interface \(interface.name) has no IPv4 address")
            }
            return [interface]
        case .named(let names):
            var result: [NetworkInterface] = []
            for name in names {
                guard let interface = network.interface(named: name) else {
                    let known = network.interfaces.filter { !$0.isLoopback }.map(\.name).joined(separator: ", ")
                    throw OSPFPlanError(
                        field: "ospf.interfaces", message: "no interface named \(name) (this host has: \(known))")
                }
                guard !interface.addresses.isEmpty else {
                    throw OSPFPlanError(field: "ospf.interfaces", message: "interface \(name) has no IPv4 address")
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
