import ArgumentParser
import ECMPCore
import ECMPNetlink

/// `ecmpd loopback list`: the IPv4 addresses on lo as rtnetlink reports them.
struct LoopbackListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print the IPv4 addresses on lo with prefix length, label and the secondary flag."
    )

    @Flag(help: "Print the addresses as JSON.")
    var json = false

    struct Address: Encodable {
        var address: String
        var prefixLength: Int
        var label: String?
        var secondary: Bool
    }

    func run() throws {
        let addresses = try RealServerCommand.edge { try LoopbackAddresses().ipv4Addresses() }
        if json {
            try Output.json(
                addresses.map {
                    Address(
                        address: $0.address.description, prefixLength: $0.network.prefixLength, label: $0.label,
                        secondary: $0.isSecondary)
                })
        } else {
            for address in addresses {
                print(
                    "\(address.network)\(address.label.map { " label \($0)" } ?? "")\(address.isSecondary ? " secondary" : "")"
                )
            }
        }
    }
}
