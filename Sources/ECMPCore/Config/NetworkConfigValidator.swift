/// Checks that need the director's live network: things a file can only
/// get wrong relative to the machine it runs on.
public enum NetworkConfigValidator {
    public static func problems(_ loaded: LoadedConfig, network: NetworkSnapshot) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let config = loaded.config
        let interfaceAddresses = network.nonLoopbackAddresses
        for (index, vip) in config.vips.enumerated() {
            if let owner = network.interfaces.first(where: { !$0.isLoopback && $0.addresses.contains { $0.address == vip.address } }) {
                problems.append(loaded.problem(
                    field: "vips[\(index)].address", value: "\(vip.address)",
                    message: "is an address of interface \(owner.name); a VIP must live only on lo, or this director answers ARP for it and takes traffic the router did not send"))
            }
        }
        if let routerID = config.ospf.routerID, !interfaceAddresses.contains(where: { $0.address == routerID }) {
            problems.append(loaded.problem(
                .warning, field: "ospf.router_id", value: "\(routerID)",
                message: "is not an address of this host; fine if deliberate, but router-ids must be unique in the area"))
        }
        return problems
    }
}
