import ArgumentParser
import ECMPCore
import ECMPNetlink
import Foundation

/// `ecmpd realserver up --vip A [--vip B]`: sysctls first, then the VIPs,
/// recording beforehand what it is about to change.
struct RealServerUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract:
            "Set arp_ignore=1/arp_announce=2 on lo and all, then add each VIP as a /32 or /128 on lo. Idempotent."
    )

    @OptionGroup var options: RealServerOptions

    struct Report: Encodable {
        var changed: Bool
        var sysctls: [Sysctl]
        var addresses: [Address]
        var stateFile: String

        struct Sysctl: Encodable {
            var key: String
            var previous: Int
            var value: Int
            /// "set" or "unchanged".
            var action: String
        }

        struct Address: Encodable {
            /// The VIP as it is on lo: `198.18.0.100/32`, `2001:db8::100/128`.
            var address: String
            /// "added", "present (added by ecmpd)" or "present (not added by ecmpd; down leaves it)".
            var action: String
        }
    }

    func validate() throws {
        if options.vips.isEmpty { throw ValidationError("name at least one --vip") }
    }

    func run() throws {
        let report = try RealServerCommand.edge { () throws -> Report in
            let loopback = try LoopbackAddresses()
            let store = options.store
            let plan = RealServerUpPlan(
                vips: options.vips, onLoopback: try loopback.addresses(),
                sysctls: try Self.readSysctls(), record: try store.read())
            // Recorded before anything changes: a crash midway leaves a
            // record `down` can undo from.
            try store.write(plan.record)
            for change in plan.sysctlWrites { try ProcSysctl.write(change.sysctl, change.to) }
            for vip in plan.additions { try loopback.add(vip) }
            return Report(plan: plan, stateFile: store.path)
        }
        if options.json {
            try Output.json(report)
        } else {
            for sysctl in report.sysctls {
                print(
                    sysctl.action == "set"
                        ? "\(sysctl.key): \(sysctl.previous) -> \(sysctl.value)"
                        : "\(sysctl.key): already \(sysctl.value)")
            }
            for address in report.addresses { print("\(address.address) on lo: \(address.action)") }
            print(
                report.changed
                    ? "real server up (recorded in \(report.stateFile))" : "real server up, nothing to change")
        }
    }

    /// All four must be readable before `up` changes any: the record needs
    /// each previous value.
    static func readSysctls() throws -> [RealServerSysctl: Int] {
        var values: [RealServerSysctl: Int] = [:]
        for sysctl in RealServerSysctl.all { values[sysctl] = try ProcSysctl.read(sysctl) }
        return values
    }
}

extension RealServerUpCommand.Report {
    init(plan: RealServerUpPlan, stateFile: String) {
        changed = !plan.isEmpty
        self.stateFile = stateFile
        let previous = plan.record.previous
        sysctls = RealServerSysctl.all.map { sysctl in
            if let write = plan.sysctlWrites.first(where: { $0.sysctl == sysctl }) {
                return Sysctl(key: sysctl.key, previous: write.from, value: write.to, action: "set")
            }
            return Sysctl(
                key: sysctl.key, previous: previous[sysctl] ?? sysctl.wanted, value: sysctl.wanted, action: "unchanged")
        }
        addresses =
            plan.additions.map { Address(address: PrefixedAddress.host($0).description, action: "added") }
            + plan.addressesInPlace.map {
                Address(
                    address: PrefixedAddress.host($0.vip).description,
                    action: $0.addedByEcmpd
                        ? "present (added by ecmpd)" : "present (not added by ecmpd; down leaves it)")
            }
        addresses.sort { Self.vip(of: $0) < Self.vip(of: $1) }
    }

    private static func vip(of address: Address) -> IPAddress {
        IPAddress(String(address.address.prefix { $0 != "/" }))!
    }
}
