import ArgumentParser
import ECMPCore
import ECMPNetlink
import Foundation

/// `ecmpd ipvs apply --config FILE`: reads the kernel's table once, plans
/// the minimal steps to the configured one (`IPVSReconcilePlan`), prints
/// them and applies them, one request each.
struct IPVSApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Program the IPVS table the config describes: print the plan, then apply it.",
        discussion: """
            Every configured real server is programmed with its configured weight (health checks decide \
            membership only in the daemon). Plan lines: '+' add, '~' edit in place, '-' delete. Without \
            --own-whole-table nothing is deleted: services the config does not name (keepalived's, an \
            operator's) stay, and so does a service taken out of the config. Exit status: 0 applied \
            (or nothing to do), 1 config error or a kernel request failed, 2 usage.
            """
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Flag(help: "Print the plan without changing the kernel.")
    var dryRun = false

    @Flag(help: "Delete every IPVS service the config does not name, also those other programs created.")
    var ownWholeTable = false

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Flag(help: "Print how long each phase took (config, connect, read, plan, apply) to stderr.")
    var timing = false

    @Flag(help: "Print the configured table as ipvsadm-restore input and exit without touching the kernel.")
    var printRules = false

    func run() throws {
        var phases = PhaseTimer()
        let loaded = ConfigFile.loadOrExit(config)
        let desired = IPVSDesiredTable(loaded.config, ownsWholeTable: ownWholeTable)
        phases.end("config")
        if printRules {
            print(IPVSRestoreRules.render(desired.table), terminator: "")
            if timing { Output.error(phases.summary) }
            return
        }
        let client = try IPVSCommand.kernel { () throws(NetlinkError) in try IPVSClient() }
        phases.end("connect")
        let actual = try IPVSCommand.kernel { () throws(NetlinkError) in try client.table() }
        phases.end(
            "read",
            detail:
                "\(actual.entries.count) services, \(actual.entries.map(\.destinations.count).reduce(0, +)) destinations"
        )
        let plan = IPVSReconcilePlan(desired: desired.table, actual: actual, ownership: desired.ownership)
        let lines = PlanLines(plan: plan, actual: actual)
        phases.end("plan", detail: "\(plan.changes.count) changes")

        if !json {
            // Before applying, so the operator sees what is about to happen.
            for change in lines.changes { print(change.text) }
            if plan.isEmpty {
                print("no changes")
            } else if dryRun {
                print("dry run: \(plan.changes.count) changes not applied")
            }
            fflush(nil)  // nil: every stream; the C global `stdout` is not concurrency-safe in Swift 6
        }
        var applied = 0
        var failure: NetlinkError?
        if !dryRun {
            // Step by step, so a failure can say how far the plan got.
            for change in plan.changes {
                do {
                    try client.apply(IPVSReconcilePlan(changes: [change]))
                    applied += 1
                } catch {
                    failure = error
                    break
                }
            }
            phases.end("apply", detail: "\(applied) requests")
        }
        if json {
            try Output.json(
                Report(
                    config: config, dryRun: dryRun, changes: lines.changes, applied: applied,
                    error: failure?.description))
        }
        if timing { Output.error(phases.summary) }
        if let failure {
            Output.error("error: \(failure)")
            Output.error(
                "applied \(applied) of \(plan.changes.count) changes before the failure; the next apply plans from there"
            )
            throw ExitCode(1)
        }
    }

    struct Report: Encodable {
        var config: String
        var dryRun: Bool
        var changes: [PlanLines.Change]
        /// Changes applied; fewer than `changes.count` only with `error`.
        var applied: Int
        var error: String?
    }
}

extension IPVSApplyCommand {
    /// A plan as an operator reads it: one line per change, edits with their
    /// old and new values (`~ destination 198.18.1.1:80 in TCP 198.18.0.1:80: weight 1 -> 5`).
    struct PlanLines {
        struct Change: Encodable {
            /// add, edit or delete.
            var action: String
            /// service or destination.
            var kind: String
            var service: String
            var destination: String?
            var text: String
        }

        var changes: [Change]

        init(plan: IPVSReconcilePlan, actual: IPVSTable) {
            let current = Dictionary(
                actual.entries.map { ($0.service.identity, $0) }, uniquingKeysWith: { first, _ in first })
            changes = plan.changes.map { change in
                let service = change.service
                switch change {
                case .addService(let added):
                    return Change(action: "add", kind: "service", service: "\(service)", text: "+ service \(added)")
                case .editService(let edited, let changed):
                    let before = current[service]?.service ?? edited
                    return Change(
                        action: "edit", kind: "service", service: "\(service)",
                        text: "~ service \(service): " + Self.differences(changed, from: before, to: edited))
                case .deleteService:
                    return Change(
                        action: "delete", kind: "service", service: "\(service)", text: "- service \(service)")
                case .addDestination(let added, _):
                    return Change(
                        action: "add", kind: "destination", service: "\(service)", destination: "\(added.key)",
                        text: "+ destination \(added) in \(service)")
                case .editDestination(let edited, _, let changed):
                    let before = current[service]?.destinations.first { $0.key == edited.key } ?? edited
                    return Change(
                        action: "edit", kind: "destination", service: "\(service)", destination: "\(edited.key)",
                        text: "~ destination \(edited.key) in \(service): "
                            + Self.differences(changed, from: before, to: edited))
                case .deleteDestination(let key, _):
                    return Change(
                        action: "delete", kind: "destination", service: "\(service)", destination: "\(key)",
                        text: "- destination \(key) in \(service)")
                }
            }
        }

        private static func differences(_ changed: IPVSService.Settings, from old: IPVSService, to new: IPVSService)
            -> String
        {
            var parts: [String] = []
            if changed.contains(.scheduler) { parts.append("scheduler \(old.scheduler) -> \(new.scheduler)") }
            if changed.contains(.flags) { parts.append("flags \(old.flags.configured) -> \(new.flags.configured)") }
            if changed.contains(.persistenceTimeout) {
                parts.append("persistence \(old.persistenceTimeout)s -> \(new.persistenceTimeout)s")
            }
            if changed.contains(.netmask) { parts.append("netmask \(old.netmask) -> \(new.netmask)") }
            return parts.joined(separator: ", ")
        }

        private static func differences(
            _ changed: IPVSDestination.Settings, from old: IPVSDestination, to new: IPVSDestination
        ) -> String {
            var parts: [String] = []
            if changed.contains(.forwarding) { parts.append("forwarding \(old.forwarding) -> \(new.forwarding)") }
            if changed.contains(.weight) { parts.append("weight \(old.weight) -> \(new.weight)") }
            if changed.contains(.upperThreshold) {
                parts.append("upper threshold \(old.upperThreshold) -> \(new.upperThreshold)")
            }
            if changed.contains(.lowerThreshold) {
                parts.append("lower threshold \(old.lowerThreshold) -> \(new.lowerThreshold)")
            }
            return parts.joined(separator: ", ")
        }
    }

    /// Wall-clock phases of one command on the monotonic clock, for `--timing`.
    struct PhaseTimer {
        private let clock = ContinuousClock()
        private let start: ContinuousClock.Instant
        private var last: ContinuousClock.Instant
        private var phases: [String] = []

        init() {
            start = clock.now
            last = start
        }

        mutating func end(_ phase: String, detail: String? = nil) {
            let now = clock.now
            phases.append("\(phase) \(Self.milliseconds(now - last))" + (detail.map { " (\($0))" } ?? ""))
            last = now
        }

        /// `timing: config 12.3 ms, connect 0.4 ms, read 80.1 ms (1000 services, ...), ..., total 95.0 ms`.
        var summary: String {
            "timing: " + (phases + ["total \(Self.milliseconds(last - start))"]).joined(separator: ", ")
        }

        private static func milliseconds(_ duration: Duration) -> String {
            let (seconds, attoseconds) = duration.components
            return String(format: "%.1f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
        }
    }
}
