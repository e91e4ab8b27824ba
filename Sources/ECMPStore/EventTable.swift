import ECMPCore
import Foundation
import GRDB

/// The `event` table: its migrations and the few statements the store runs.
/// Shared by the writer (`EventStore`) and the read-only `EventHistoryReader`.
enum EventTable {
    /// Migrations are append-only: a shipped migration is never edited, a
    /// change of schema is a new registered migration.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.create(table: "event") { table in
                table.autoIncrementedPrimaryKey("id")
                // Milliseconds since 1970 UTC: sorts and compares as an integer.
                table.column("timestamp_ms", .integer).notNull()
                table.column("kind", .text).notNull()
                table.column("vip", .text)
                table.column("reason", .text).notNull()
                table.column("backends_usable", .integer)
                table.column("backends_total", .integer)
                table.column("outcome", .text)
                table.column("outcome_message", .text)
            }
            try db.create(index: "event_by_time", on: "event", columns: ["timestamp_ms"])
            try db.create(index: "event_by_vip_time", on: "event", columns: ["vip", "timestamp_ms"])
        }
        return migrator
    }

    static func insert(_ event: ControllerEvent, into db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO event (timestamp_ms, kind, vip, reason, backends_usable, backends_total, outcome, outcome_message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        var outcome: String?
        var outcomeMessage: String?
        switch event.outcome {
        case .ok: outcome = "ok"
        case .failed(let message): (outcome, outcomeMessage) = ("failed", message)
        case nil: break
        }
        try statement.execute(arguments: [
            milliseconds(since1970: event.timestamp), event.kind.rawValue, event.vip, event.reason,
            event.backends?.usable, event.backends?.total, outcome, outcomeMessage,
        ])
    }

    /// The most recent `query.limit` matching events, oldest first.
    static func fetch(_ query: EventQuery, from db: Database) throws -> [ControllerEvent] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let vip = query.vip {
            conditions.append("vip = ?")
            arguments += [vip]
        }
        if let since = query.since {
            conditions.append("timestamp_ms >= ?")
            arguments += [milliseconds(since1970: since)]
        }
        var sql = "SELECT * FROM event"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY timestamp_ms DESC, id DESC"
        if let limit = query.limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        return try rows.reversed().map(event(from:))
    }

    /// Deletes what the retention no longer allows; returns how many rows went.
    @discardableResult
    static func prune(_ db: Database, retention: EventRetention, now: Date) throws -> Int {
        let cutoff = now.addingTimeInterval(-retention.maxAge.timeInterval)
        try db.execute(sql: "DELETE FROM event WHERE timestamp_ms < ?", arguments: [milliseconds(since1970: cutoff)])
        var deleted = db.changesCount
        // Rows are inserted in time order, so the highest ids are the newest.
        try db.execute(
            sql: "DELETE FROM event WHERE id <= (SELECT id FROM event ORDER BY id DESC LIMIT 1 OFFSET ?)",
            arguments: [retention.maxRows])
        deleted += db.changesCount
        return deleted
    }

    static func milliseconds(since1970 date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    private static func event(from row: Row) throws -> ControllerEvent {
        let kindName: String = row["kind"]
        guard let kind = ControllerEventKind(rawValue: kindName) else {
            throw EventStoreError(
                operation: .read, path: "", message: "unknown event kind \"\(kindName)\" (written by a newer ecmpd?)")
        }
        let milliseconds: Int64 = row["timestamp_ms"]
        var backends: BackendCount?
        if let usable: Int = row["backends_usable"], let total: Int = row["backends_total"] {
            backends = BackendCount(usable: usable, total: total)
        }
        var outcome: EventOutcome?
        switch row["outcome"] as String? {
        case "ok": outcome = .ok
        case "failed": outcome = .failed(message: row["outcome_message"] ?? "")
        default: outcome = nil
        }
        return ControllerEvent(
            timestamp: Date(timeIntervalSince1970: Double(milliseconds) / 1000),
            kind: kind, vip: row["vip"], reason: row["reason"], backends: backends, outcome: outcome)
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`, for arithmetic with wall-clock `Date`s.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
