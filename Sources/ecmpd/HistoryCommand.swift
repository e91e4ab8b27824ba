import ArgumentParser
import ECMPCore
import ECMPStore
import Foundation

/// `ecmpd history`: the controller's recorded decisions, read from the event
/// database without writing to it, so it runs safely beside the daemon.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show recorded events: backend counts, VIP announce/withdraw, drains, reloads."
    )

    @Option(
        name: .shortAndLong,
        help: "Read node.state_dir from this config file (default: \(ConfigFile.defaultPath) if it exists).")
    var config: String?

    @Option(help: "The event database itself, instead of <state_dir>/history.sqlite.")
    var db: String?

    @Option(help: "Only events for this VIP.")
    var vip: String?

    @Option(help: "Only events this recent: 90s, 30m, 1h, 2d, 1w.")
    var since: String?

    @Option(help: "At most this many of the most recent events.")
    var limit = 200

    @Flag(help: "Print the events as JSON.")
    var json = false

    func validate() throws {
        if let since, EventQuery.lookback(parsing: since) == nil {
            throw ValidationError("--since \(since): expected a whole number and a unit s, m, h, d or w (e.g. 30m, 2d)")
        }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        if db != nil, config != nil { throw ValidationError("--db and --config name the database twice; give one") }
    }

    /// `--db`, else the database in `--config`'s state_dir (the default
    /// config when it exists), else the default state_dir's.
    func databasePath() -> String {
        if let db { return db }
        let file =
            config ?? (FileManager.default.fileExists(atPath: ConfigFile.defaultPath) ? ConfigFile.defaultPath : nil)
        let stateDirectory =
            file.map { ConfigFile.loadOrExit($0).config.node.stateDirectory } ?? NodeSettings().stateDirectory
        return "\(stateDirectory)/history.sqlite"
    }

    func run() throws {
        let query = EventQuery(vip: vip, lookback: since.flatMap(EventQuery.lookback(parsing:)), limit: limit)
        let events: [ControllerEvent]
        do {
            events = try EventHistoryReader(path: databasePath()).events(query)
        } catch {
            Output.error("ecmpd history: \(error)")
            throw ExitCode(1)
        }
        if json {
            try Output.json(events.map(Entry.init))
        } else {
            print(Self.table(events), terminator: "")
        }
    }

    /// One event in the JSON output.
    struct Entry: Encodable {
        var timestamp: String
        var kind: String
        var vip: String?
        var reason: String
        var backendsUsable: Int?
        var backendsTotal: Int?
        /// `ok` or `failed`, for events that record an action's result.
        var result: String?
        var message: String?

        init(_ event: ControllerEvent) {
            timestamp = HistoryCommand.timestamp(event.timestamp)
            kind = event.kind.rawValue
            vip = event.vip
            reason = event.reason
            backendsUsable = event.backends?.usable
            backendsTotal = event.backends?.total
            switch event.outcome {
            case .ok: result = "ok"
            case .failed(let text): (result, message) = ("failed", text)
            case nil: break
            }
        }
    }

    /// Columns padded to their widest cell; the reason is last so it may run long.
    static func table(_ events: [ControllerEvent]) -> String {
        let header = ["TIME", "KIND", "VIP", "DETAIL", "REASON"]
        let rows = events.map { event in
            let detail = [event.backends.map { "backends \($0)" }, event.outcome.map(\.description)]
                .compactMap { $0 }.joined(separator: ", ")
            return [
                timestamp(event.timestamp), event.kind.rawValue, event.vip ?? "-", detail.isEmpty ? "-" : detail,
                event.reason,
            ]
        }
        let all = [header] + rows
        let widths = (0..<header.count - 1).map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            zip(row.dropLast(), widths).map { cell, width in cell.padding(toLength: width, withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ") + "  " + row[row.count - 1] + "\n"
        }.joined()
    }

    /// ISO 8601 in UTC with milliseconds: `2026-11-23T21:45:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
