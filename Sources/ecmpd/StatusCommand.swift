import ArgumentParser
import ECMPCore
import ECMPDaemon
import Foundation

/// `ecmpd status`: asks the running daemon's status endpoint what it decided
/// about each VIP and prints a table (or the JSON). Exit 1 when the daemon
/// cannot be reached or answers with an error.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each VIP's state, usable backends and last change, from the running daemon."
    )

    @Option(help: "The daemon's status endpoint (default: status.listen of --config, else 127.0.0.1:9477).")
    var address: String?

    @Option(name: .shortAndLong, help: "Read status.listen from this config file.")
    var config: String?

    @Option(help: "Seconds to wait for the daemon before giving up.")
    var timeout = 5.0

    @Flag(help: "Print the status as JSON.")
    var json = false

    func validate() throws {
        if let address, StatusListenAddress.split(address) == nil {
            throw ValidationError("--address '\(address)' is not ADDRESS:PORT such as 127.0.0.1:9477")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
    }

    func run() throws {
        let address =
            self.address ?? config.map { ConfigFile.loadOrExit($0).config.status.listen } ?? StatusServer.defaultListen
        guard let (host, port) = StatusListenAddress.split(address) else {
            Output.error("ecmpd status: '\(address)' is not ADDRESS:PORT")
            throw ExitCode(1)
        }
        let client = StatusClient(host: host, port: port, timeout: .milliseconds(Int(timeout * 1000)))
        let snapshot: StatusSnapshot
        do {
            let response = try client.get("/status")
            guard response.status == 200 else {
                Output.error("ecmpd status: the daemon at \(address) answered HTTP \(response.status)")
                throw ExitCode(1)
            }
            snapshot = try StatusSnapshot.makeDecoder().decode(StatusSnapshot.self, from: Data(response.body))
        } catch let failure as StatusClient.Failure {
            Output.error("ecmpd status: \(failure); is the daemon running (systemctl status ecmpd)?")
            throw ExitCode(1)
        } catch is DecodingError {
            Output.error("ecmpd status: the daemon at \(address) sent a status document this version cannot read")
            throw ExitCode(1)
        }
        if json {
            let encoder = StatusSnapshot.makeEncoder()
            encoder.outputFormatting.insert(.prettyPrinted)
            print(String(decoding: try encoder.encode(snapshot), as: UTF8.self))
        } else {
            print(Self.table(snapshot, now: Date()), terminator: "")
        }
    }

    /// VIP | NAME | STATE | USABLE | SINCE | REASON, columns padded to fit,
    /// then a line per collaborator the daemon reports on.
    static func table(_ snapshot: StatusSnapshot, now: Date) -> String {
        var rows = [["VIP", "NAME", "STATE", "USABLE", "SINCE", "REASON"]]
        for vip in snapshot.vips {
            rows.append([
                vip.vip, vip.name.isEmpty ? "-" : vip.name, vip.state.rawValue, "\(vip.usable)/\(vip.total)",
                age(from: vip.lastChange, to: now), vip.reason ?? "-",
            ])
        }
        var text = columns(rows)
        if snapshot.vips.isEmpty { text += "(no VIPs configured)\n" }
        if let servers = snapshot.realServers, !servers.isEmpty { text += "\n" + realServerTable(servers) }
        for (label, health) in [("routing daemon", snapshot.routingDaemon), ("store", snapshot.store)] {
            guard let health else { continue }
            text += "\(label): \(health.healthy ? "ok" : "PROBLEM"): \(health.detail)\n"
        }
        for daemon in snapshot.routingDaemons ?? [] {
            text +=
                "\(daemon.daemon): \(daemon.running ? "up" : "DOWN") for \(age(from: daemon.since, to: now)): \(daemon.detail)\n"
        }
        if let bfd = snapshot.bfd { text += "\n" + bfdTable(bfd) }
        return text
    }

    /// PEER | INTERFACE | STATE | FOR | FLAPS | DIAGNOSTIC, then each
    /// session's problem.
    static func bfdTable(_ bfd: BFDStatus) -> String {
        var rows = [["BFD PEER", "INTERFACE", "STATE", "FOR", "FLAPS", "DIAGNOSTIC"]]
        for session in bfd.sessions {
            let seconds = session.uptimeSeconds ?? session.downtimeSeconds
            rows.append([
                session.peer, session.interface ?? "-", session.state,
                seconds.map(span) ?? "-", "\(session.flaps)", session.diagnostic,
            ])
        }
        var text = columns(rows)
        if bfd.sessions.isEmpty { text += "(no BFD sessions)\n" }
        if let error = bfd.error { text += "bfd: PROBLEM: \(error)\n" }
        for session in bfd.sessions {
            if let problem = session.problem { text += "bfd \(session.peer): PROBLEM: \(problem)\n" }
        }
        return text
    }

    /// SERVICE | SERVER | CHECK | STATE | WEIGHT | LATENCY | FLAPS | LAST ERROR.
    static func realServerTable(_ servers: [ManagedServerStatus]) -> String {
        var rows = [["SERVICE", "SERVER", "CHECK", "STATE", "WEIGHT", "LATENCY", "FLAPS", "LAST ERROR"]]
        for server in servers {
            rows.append([
                server.service, server.server, server.check, server.state, server.weight.map(String.init) ?? "-",
                server.latencyMilliseconds.map { String(format: "%.1fms", $0) } ?? "-", "\(server.flaps)",
                server.lastError ?? "-",
            ])
        }
        return columns(rows)
    }

    static func columns(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }

    /// "42s", "5m12s", "3h04m", "2d03h": how long ago, at a glance.
    static func age(from then: Date, to now: Date) -> String {
        span(Int(now.timeIntervalSince(then)))
    }

    static func span(_ seconds: Int) -> String {
        let seconds = max(0, seconds)
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s"
        case ..<86400: return "\(seconds / 3600)h\(String(format: "%02d", seconds % 3600 / 60))m"
        default: return "\(seconds / 86400)d\(String(format: "%02d", seconds % 86400 / 3600))h"
        }
    }
}
