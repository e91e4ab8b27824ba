import ArgumentParser
import ECMPCore
import ECMPNetlink
import Foundation

/// `ecmpd realserver down [--vip A]`: removes the VIPs `up` added, then
/// restores the sysctls `up` changed, from the state file.
struct RealServerDownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove the VIPs `up` added and restore the sysctl values `up` recorded.",
        discussion: """
            Without --vip, undoes every VIP `up` recorded. A VIP that was on lo before `up` is never removed. \
            The sysctls are restored once no VIP `up` added remains, and only those still at the value `up` wrote.
            """
    )

    @OptionGroup var options: RealServerOptions

    struct Report: Encodable {
        var changed: Bool
        var removed: [String]
        var leftInPlace: [String]
        var remaining: [String]
        var sysctls: [Sysctl]
        var stateFile: String
        var recordKept: Bool

        struct Sysctl: Encodable {
            var key: String
            var value: Int
            var previous: Int
            /// "restored", "unchanged" or "changed since up; left".
            var action: String
        }
    }

    func run() throws {
        let report = try RealServerCommand.edge { () throws -> Report in
            let loopback = try LoopbackAddresses()
            let store = options.store
            let record = try store.read()
            let plan = RealServerDownPlan(
                vips: options.vips.isEmpty ? nil : options.vips, onLoopback: try loopback.addresses(),
                sysctls: ProcSysctl.readAll(), record: record)
            for vip in plan.removals { try loopback.remove(vip) }
            for change in plan.sysctlRestores { try ProcSysctl.write(change.sysctl, change.to) }
            if let kept = plan.record { try store.write(kept) } else if record != nil { try store.remove() }
            return Report(plan: plan, stateFile: store.path)
        }
        if options.json {
            try Output.json(report)
        } else {
            for vip in report.removed { print("\(vip) on lo: removed") }
            for vip in report.leftInPlace { print("\(vip) on lo: left (not added by ecmpd)") }
            for vip in report.remaining { print("\(vip) on lo: kept (not named; sysctls stay until it goes)") }
            for sysctl in report.sysctls {
                switch sysctl.action {
                case "restored": print("\(sysctl.key): \(sysctl.value) -> \(sysctl.previous)")
                case "unchanged": print("\(sysctl.key): already \(sysctl.previous)")
                default:
                    print("\(sysctl.key): left at \(sysctl.value), changed since up (was \(sysctl.previous) before)")
                }
            }
            print(report.changed ? "real server down" : "real server down, nothing to undo")
        }
    }
}

extension RealServerDownCommand.Report {
    init(plan: RealServerDownPlan, stateFile: String) {
        changed = !plan.isEmpty
        removed = plan.removals.map { PrefixedAddress.host($0).description }
        leftInPlace = plan.notAddedByEcmpd.map { PrefixedAddress.host($0).description }
        remaining = plan.remainingVIPs.map { PrefixedAddress.host($0).description }
        sysctls =
            plan.sysctlRestores.map { Sysctl(key: $0.sysctl.key, value: $0.from, previous: $0.to, action: "restored") }
            + plan.sysctlsInPlace.map {
                Sysctl(key: $0.sysctl.key, value: $0.from, previous: $0.to, action: "unchanged")
            }
            + plan.sysctlsChangedSinceUp.map {
                Sysctl(key: $0.sysctl.key, value: $0.from, previous: $0.to, action: "changed since up; left")
            }
        self.stateFile = stateFile
        recordKept = plan.record != nil
    }
}
