import ECMPCore
import ECMPStore
import Foundation
import GRDB
import XCTest

/// The store is never on the traffic path: every failure below must leave
/// `record(_:)` returning normally, report itself in `health`, and keep the
/// events until the store can write them.
final class EventStoreFailureTests: XCTestCase {
    private var directory: StoreTestDirectory!

    override func setUpWithError() throws { directory = try StoreTestDirectory() }
    override func tearDown() { directory.remove() }

    private func event(_ reason: String) -> ControllerEvent {
        ControllerEvent(kind: .withdraw, vip: "198.18.0.10", reason: reason)
    }

    /// A parent "directory" that is a regular file fails with ENOTDIR, also for root
    /// (chmod 0500 would not stop root).
    func testUnwritablePathQueuesEventsAndFlushesThemOnceTheBlockerIsRemoved() async throws {
        let blocker = directory.file("blocker")
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data("not a directory".utf8)))
        let path = blocker + "/history.sqlite"
        let store = EventStore(path: path)

        await store.record(event("first"))
        await store.record(event("second"))
        var health = await store.health
        XCTAssertFalse(health.writable)
        XCTAssertEqual(health.queued, 2)
        XCTAssertEqual(health.dropped, 0)
        XCTAssertEqual(health.failedAttempts, 2)
        XCTAssertTrue(health.lastError?.contains(path) ?? false, health.lastError ?? "no error")

        try FileManager.default.removeItem(atPath: blocker)
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        await store.flush()
        health = await store.health
        XCTAssertTrue(health.writable)
        XCTAssertEqual(health.queued, 0)
        XCTAssertEqual(try EventHistoryReader(path: path).events().map(\.reason), ["first", "second"])
    }

    func testTheRetryLoopFlushesQueuedEventsWithoutANewEvent() async throws {
        let blocker = directory.file("blocker")
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let path = blocker + "/history.sqlite"
        let store = EventStore(path: path)
        await store.record(event("queued while blocked"))

        let retries = Task { await store.retryQueued(every: .milliseconds(10)) }
        defer { retries.cancel() }
        try FileManager.default.removeItem(atPath: blocker)
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        let deadline = ContinuousClock.now + .seconds(5)
        while await store.health.queued > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let health = await store.health
        XCTAssertEqual(health.queued, 0, health.lastError ?? "")
        XCTAssertTrue(health.writable)
    }

    func testReadingAnUnopenableDatabaseThrowsButKeepsTheQueue() async throws {
        let blocker = directory.file("blocker")
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let store = EventStore(path: blocker + "/history.sqlite")
        await store.record(event("queued"))
        // The database cannot even be opened, so the read fails loudly...
        do {
            _ = try await store.events()
            XCTFail("reading an unopenable database should throw")
        } catch {}
        // ...but nothing was lost: the event is still queued.
        let queued = await store.health.queued
        XCTAssertEqual(queued, 1)
    }

    func testAFullQueueDropsTheOldestEventsAndCountsThem() async throws {
        let blocker = directory.file("blocker")
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let path = blocker + "/history.sqlite"
        let store = EventStore(path: path, maxQueued: 3)
        for index in 1...5 { await store.record(event("event \(index)")) }
        let health = await store.health
        XCTAssertEqual(health.queued, 3)
        XCTAssertEqual(health.dropped, 2)

        try FileManager.default.removeItem(atPath: blocker)
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        await store.flush()
        XCTAssertEqual(try EventHistoryReader(path: path).events().map(\.reason), ["event 3", "event 4", "event 5"])
    }

    /// Another process (the sqlite3 shell) holds the write lock.
    func testAFileLockedByAnotherProcessQueuesEventsUntilTheLockIsReleased() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else {
            throw XCTSkip("needs the sqlite3 shell (package sqlite3)")
        }
        let path = directory.file("history.sqlite")
        let store = EventStore(path: path, busyTimeout: .milliseconds(50))
        await store.record(event("before the lock"))

        let locker = try SQLiteShell(path: path)
        try locker.run("BEGIN EXCLUSIVE;")
        await store.record(event("during the lock"))
        var health = await store.health
        XCTAssertFalse(health.writable)
        XCTAssertEqual(health.queued, 1)
        XCTAssertTrue(health.lastError?.contains("SQLite code 5") ?? false, health.lastError ?? "no error")

        // WAL lets reads through while the lock is held; the queued event is included.
        let duringLock = try await store.events().map(\.reason)
        XCTAssertEqual(duringLock, ["before the lock", "during the lock"])

        try locker.run("COMMIT;")
        try locker.quit()
        await store.flush()
        health = await store.health
        XCTAssertTrue(health.writable)
        XCTAssertEqual(health.queued, 0)
        let reasons = try await store.events().map(\.reason)
        XCTAssertEqual(reasons, ["before the lock", "during the lock"])
    }

    func testACorruptFileIsMovedAsideAndRebuilt() async throws {
        let path = directory.file("history.sqlite")
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: garbage))
        let store = EventStore(path: path)

        await store.record(event("after corruption"))
        let health = await store.health
        XCTAssertTrue(health.writable, health.lastError ?? "")
        XCTAssertEqual(health.queued, 0)
        XCTAssertEqual(health.movedAside.count, 1)
        let movedAside = try XCTUnwrap(health.movedAside.first)
        XCTAssertTrue(movedAside.hasPrefix(path + ".corrupt-"), movedAside)
        XCTAssertEqual(FileManager.default.contents(atPath: movedAside), garbage)
        XCTAssertTrue(health.lastError?.contains("SQLite code 26") ?? false, health.lastError ?? "no error")
        let reasons = try await store.events().map(\.reason)
        XCTAssertEqual(reasons, ["after corruption"])
    }

    /// Needs root to mount a tiny tmpfs; skipped otherwise.
    func testAFullDiskQueuesEventsAndFlushesThemWhenSpaceReturns() async throws {
        let mountPoint = directory.file("tiny")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard (try? Self.shell("/bin/mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint)) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and mount permission)")
        }
        defer { _ = try? Self.shell("/bin/umount", "-l", mountPoint) }
        let path = mountPoint + "/history.sqlite"
        let store = EventStore(path: path, maxQueued: 1000)
        let bulky = String(repeating: "x", count: 4096)

        var recorded = 0
        while recorded < 500 {
            await store.record(event("\(recorded) \(bulky)"))
            recorded += 1
            if await !store.health.writable { break }
        }
        var health = await store.health
        XCTAssertFalse(health.writable, "256 KiB should fill up before 500 events of 4 KiB")
        XCTAssertGreaterThan(health.queued, 0)
        XCTAssertEqual(health.dropped, 0)
        XCTAssertTrue(health.lastError?.contains("SQLite code 13") ?? false, health.lastError ?? "no error")

        XCTAssertEqual(try Self.shell("/bin/mount", "-o", "remount,size=16m", mountPoint), 0)
        await store.flush()
        health = await store.health
        XCTAssertTrue(health.writable, health.lastError ?? "")
        XCTAssertEqual(health.queued, 0)
        let count = try await store.events().count
        XCTAssertEqual(count, recorded)
        await store.close()
    }

    private static func shell(_ executable: String, _ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
