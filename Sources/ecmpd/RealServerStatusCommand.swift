import ArgumentParser
import ECMPCore
import ECMPNetlink

/// `ecmpd realserver status --vip A`: each piece, and exit 1 when one is missing.
struct RealServerStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Report each VIP on lo and each ARP sysctl; exit 1 when any is missing or wrong."
    )

    @OptionGroup var options: RealServerOptions

    struct Report: Encodable {
        var complete: Bool
        var pieces: [Piece]
        struct Piece: Encodable {
            var name: String
            var expected: String
            var actual: String
            var ok: Bool
        }
    }

    func validate() throws {
        if options.vips.isEmpty { throw ValidationError("name at least one --vip") }
    }

    func run() throws {
        let onLoopback = try RealServerCommand.edge { try LoopbackAddresses().addresses() }
        let status = RealServerStatus(vips: options.vips, onLoopback: onLoopback, sysctls: ProcSysctl.readAll())
        if options.json {
            try Output.json(
                Report(
                    complete: status.isComplete,
                    pieces: status.pieces.map {
                        Report.Piece(name: $0.name, expected: $0.expected, actual: $0.actual, ok: $0.isInPlace)
                    }))
        } else {
            for piece in status.pieces { print(piece.description) }
            print(status.isComplete ? "real server ready" : "real server not ready: \(status.missing.count) missing")
        }
        if !status.isComplete { throw ExitCode(1) }
    }
}
