import ArgumentParser
import ECMPCore
import ECMPDaemon
import ECMPNetlink

/// `ecmpd loopback apply`: one reconcile step of the VIPs on lo — read lo
/// and the owned record, decide ownership (`AddressOwnership`), record it,
/// then add the announced VIPs that are missing and remove the owned ones
/// that are not announced (`LoopbackPlan`). Addresses ecmpd does not own
/// are never touched; an announced VIP already there is left as it is.
struct LoopbackApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make lo's VIP /32s match the announced set, touching only addresses ecmpd owns."
    )

    @Option(
        name: .customLong("configured"), help: "A configured VIP (repeat); ecmpd owns these.",
        transform: VIPArgument.parseEitherFamily)
    var configured: [IPAddress] = []

    @Option(
        name: .customLong("announce"), help: "A configured VIP that belongs on lo now (repeat).",
        transform: VIPArgument.parseEitherFamily)
    var announced: [IPAddress] = []

    @Option(help: "The record of the VIPs ecmpd owns on lo.")
    var ownedFile = "/var/lib/ecmpd/loopback.json"

    @Flag(help: "Print what was decided and done as JSON.")
    var json = false

    struct Report: Encodable {
        var adopted: [String]
        var added: [String]
        var removed: [String]
        var conflicts: [String]
        var foreign: [String]
        var owned: [String]
    }

    func validate() throws {
        let unconfigured = Set(announced).subtracting(configured)
        if !unconfigured.isEmpty {
            throw ValidationError(
                "--announce names VIPs that are not --configured: \(unconfigured.sorted().map(\.description).joined(separator: ", "))"
            )
        }
    }

    /// A VIP as lo holds it: `198.18.0.100/32`, `2001:db8::10/128`.
    private func host(_ vip: IPAddress) -> String { PrefixedAddress.host(vip).description }

    func run() throws {
        let report = try RealServerCommand.edge { () throws -> Report in
            let loopback = try LoopbackAddresses()
            let store = StateFile<LoopbackRecord>(path: ownedFile)
            let recorded = try store.read()?.addresses ?? []
            let onLoopback = try loopback.addresses()
            let ownership = AddressOwnership(configured: Set(configured), recorded: recorded, onLoopback: onLoopback)
            let plan = LoopbackPlan(ownership: ownership, announced: Set(announced), onLoopback: onLoopback)
            // Recorded before adding, so a crash never leaks an address.
            if ownership.owned != recorded {
                try store.write(LoopbackRecord(owned: ownership.owned.sorted().map(\.description)))
            }
            for vip in plan.additions { try loopback.add(vip) }
            for vip in plan.removals { try loopback.remove(vip) }
            return Report(
                adopted: ownership.adopted.sorted().map(host), added: plan.additions.map(host),
                removed: plan.removals.map(host), conflicts: ownership.conflicts.map(\.description),
                foreign: ownership.foreign.map(\.description),
                owned: ownership.owned.sorted().map(\.description))
        }
        if json {
            try Output.json(report)
        } else {
            for vip in report.adopted { print("adopted \(vip) (already on lo)") }
            for vip in report.added { print("added \(vip)") }
            for vip in report.removed { print("removed \(vip)") }
            for network in report.conflicts {
                print("conflict: \(network) on lo is not ecmpd's; left alone, its host address not managed")
            }
            for network in report.foreign { print("foreign \(network) left alone") }
        }
    }
}
