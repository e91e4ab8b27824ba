import ECMPCore
import ECMPStore
import Foundation
import GRDB
import XCTest

final class EventStoreTests: XCTestCase {
    private var directory: StoreTestDirectory!

    override func setUpWithError() throws { directory = try StoreTestDirectory() }
    override func tearDown() { directory.remove() }

    private func event(
        _ kind: ControllerEventKind = .announce, vip: String? = "198.18.0.10",
        at timestamp: Date = Date(), reason: String = "test"
    ) -> ControllerEvent {
        ControllerEvent(timestamp: timestamp, kind: kind, vip: vip, reason: reason)
    }

    func testMigratesAnEmptyFileToTheEventSchemaInWALMode() async throws {
        let path = directory.file("history.sqlite")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = EventStore(path: path)
        await store.record(event())
        let health = await store.health
        XCTAssertTrue(health.writable, health.lastError ?? "")

        let check = try DatabaseQueue(path: path)
        let (migrations, journal, columns) = try await check.read { db in
            (
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try db.columns(in: "event").map(\.name)
            )
        }
        XCTAssertEqual(migrations, ["v1-events"])
        XCTAssertEqual(journal, "wal")
        XCTAssertEqual(
            columns,
            [
                "id", "timestamp_ms", "kind", "vip", "reason", "backends_usable",
                "backends_total", "outcome", "outcome_message",
            ])
    }

    func testReopeningAMigratedFileKeepsItsEvents() async throws {
        let path = directory.file("history.sqlite")
        let first = EventStore(path: path)
        await first.record(event(reason: "first run"))
        await first.close()
        let second = EventStore(path: path)
        await second.record(event(reason: "second run"))
        let reasons = try await second.events().map(\.reason)
        XCTAssertEqual(reasons, ["first run", "second run"])
    }

    func testRoundTripsEveryField() async throws {
        let store = EventStore(path: directory.file("history.sqlite"))
        let timestamp = Date(timeIntervalSince1970: 1_795_000_000.123)
        let recorded = [
            ControllerEvent(
                timestamp: timestamp, kind: .backendCount, vip: "198.18.0.10", reason: "check failed",
                backends: BackendCount(usable: 1, total: 3)),
            ControllerEvent(
                timestamp: timestamp, kind: .routingReload, reason: "interfaces changed",
                outcome: .failed(message: "% Unknown command")),
            ControllerEvent(timestamp: timestamp, kind: .configReload, reason: "SIGHUP", outcome: .ok),
        ]
        for event in recorded { await store.record(event) }
        let read = try await store.events()
        XCTAssertEqual(read, recorded)
    }

    func testFiltersByVIPAndSinceAndKeepsTheMostRecentWithinTheLimit() async throws {
        let store = EventStore(path: directory.file("history.sqlite"))
        let now = Date()
        await store.record(event(vip: "198.18.0.10", at: now.addingTimeInterval(-7200), reason: "old a"))
        await store.record(event(vip: "198.18.0.11", at: now.addingTimeInterval(-60), reason: "recent b"))
        await store.record(event(vip: "198.18.0.10", at: now.addingTimeInterval(-30), reason: "recent a"))
        await store.record(event(.routingReload, vip: nil, at: now.addingTimeInterval(-10), reason: "reload"))

        let forA = try await store.events(EventQuery(vip: "198.18.0.10")).map(\.reason)
        XCTAssertEqual(forA, ["old a", "recent a"])
        let lastHour = try await store.events(EventQuery(lookback: .seconds(3600), now: now)).map(\.reason)
        XCTAssertEqual(lastHour, ["recent b", "recent a", "reload"])
        let both = try await store.events(EventQuery(vip: "198.18.0.10", since: now.addingTimeInterval(-3600)))
        XCTAssertEqual(both.map(\.reason), ["recent a"])
        let lastTwo = try await store.events(EventQuery(limit: 2)).map(\.reason)
        XCTAssertEqual(lastTwo, ["recent a", "reload"])
    }

    func testRetentionKeepsAtMostMaxRowsNewestEvents() async throws {
        let store = EventStore(
            path: directory.file("history.sqlite"),
            retention: EventRetention(maxRows: 5, maxAge: .seconds(86_400)), pruneInterval: 3)
        for index in 0..<20 { await store.record(event(reason: "event \(index)")) }
        let reasons = try await store.events().map(\.reason)
        // Pruned every 3 writes: never more than maxRows + pruneInterval - 1 rows.
        XCTAssertLessThanOrEqual(reasons.count, 5 + 2)
        XCTAssertEqual(reasons.last, "event 19")
        XCTAssertEqual(Array(reasons.suffix(5)), (15..<20).map { "event \($0)" })
    }

    func testRetentionDeletesEventsOlderThanMaxAge() async throws {
        let path = directory.file("history.sqlite")
        let now = Date()
        let store = EventStore(
            path: path, retention: EventRetention(maxRows: 1000, maxAge: .seconds(3600)),
            pruneInterval: 1, now: { now })
        await store.record(event(at: now.addingTimeInterval(-7200), reason: "too old"))
        await store.record(event(at: now.addingTimeInterval(-60), reason: "recent"))
        let reasons = try await store.events().map(\.reason)
        XCTAssertEqual(reasons, ["recent"])
    }

    func testHistoryReaderReadsWithoutWriting() async throws {
        let path = directory.file("history.sqlite")
        let store = EventStore(path: path)
        await store.record(event(.withdraw, reason: "0/2 backends usable"))
        let reader = try EventHistoryReader(path: path)
        XCTAssertEqual(try reader.events().map(\.kind), [.withdraw])
        // The daemon keeps writing while history reads.
        await store.record(event(.announce, reason: "2/2 backends usable"))
        XCTAssertEqual(try reader.events().map(\.kind), [.withdraw, .announce])
    }

    func testHistoryReaderRefusesAMissingFileWithoutCreatingIt() throws {
        let path = directory.file("missing.sqlite")
        XCTAssertThrowsError(try EventHistoryReader(path: path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testHistoryReaderRefusesADatabaseWithoutEvents() throws {
        let path = directory.file("other.sqlite")
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        try other.close()
        XCTAssertThrowsError(try EventHistoryReader(path: path)) { error in
            XCTAssertTrue("\(error)".contains("no event table"), "\(error)")
        }
    }

    func testParsesLookbackWindows() {
        XCTAssertEqual(EventQuery.lookback(parsing: "90s"), .seconds(90))
        XCTAssertEqual(EventQuery.lookback(parsing: "30m"), .seconds(1800))
        XCTAssertEqual(EventQuery.lookback(parsing: "1h"), .seconds(3600))
        XCTAssertEqual(EventQuery.lookback(parsing: "2d"), .seconds(172_800))
        XCTAssertEqual(EventQuery.lookback(parsing: "1w"), .seconds(604_800))
        for bad in ["", "h", "1", "1.5h", "-1h", "1x", "١h", "99999999999999d"] {
            XCTAssertNil(EventQuery.lookback(parsing: bad), bad)
        }
    }
}
