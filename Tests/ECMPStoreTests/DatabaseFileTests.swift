import ECMPCore
import ECMPStore
import Foundation
import XCTest

/// history.sqlite and its companions as a local attacker or a careless
/// umask would leave them: the files are 0600, and a symbolic link or
/// another user's file is refused, never adopted.
final class DatabaseFileTests: XCTestCase {
    private var directory: StoreTestDirectory!

    override func setUpWithError() throws { directory = try StoreTestDirectory() }
    override func tearDown() { directory.remove() }

    private func mode(_ path: String) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func testTheDatabaseAndItsWALAndSharedMemoryFilesAre0600UnderUmask022() async throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let path = directory.file("history.sqlite")
        let store = EventStore(path: path)
        await store.record(ControllerEvent(kind: .announce, vip: "198.18.0.10", reason: "first"))
        let health = await store.health
        XCTAssertTrue(health.writable, health.lastError ?? "")
        // WAL keeps -wal and -shm while the connection is open.
        for file in [path, path + "-wal", path + "-shm"] {
            let found = try mode(file)
            XCTAssertEqual(found, 0o600, "\(file) is \(String(found, radix: 8))")
        }
        await store.close()
    }

    func testAnExistingWorldReadableDatabaseIsNarrowedTo0600() async throws {
        let path = directory.file("history.sqlite")
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: path, contents: Data(),
                attributes: [.posixPermissions: 0o644]))
        let store = EventStore(path: path)
        await store.record(ControllerEvent(kind: .announce, vip: "198.18.0.10", reason: "first"))
        XCTAssertEqual(try mode(path), 0o600)
        await store.close()
    }

    func testASymbolicLinkAtTheDatabasePathIsRefusedAndItsTargetLeftUntouched() async throws {
        let target = directory.file("root-only")
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: target, contents: Data(),
                attributes: [.posixPermissions: 0o600]))
        let path = directory.file("history.sqlite")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        let store = EventStore(path: path)
        await store.record(ControllerEvent(kind: .announce, vip: "198.18.0.10", reason: "first"))

        let health = await store.health
        XCTAssertFalse(health.writable)
        XCTAssertEqual(health.queued, 1, "the event waits in memory")
        XCTAssertTrue(health.lastError?.contains("symbolic link") ?? false, health.lastError ?? "no error")
        let size = try FileManager.default.attributesOfItem(atPath: target)[.size] as? Int
        XCTAssertEqual(size, 0, "not made a database")
        XCTAssertEqual(try directory.contents(), ["history.sqlite", "root-only"], "no -wal or -shm anywhere")
        XCTAssertThrowsError(try EventHistoryReader(path: path)) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
    }

    func testASymbolicLinkAtTheWALPathIsRefused() async throws {
        let path = directory.file("history.sqlite")
        let elsewhere = directory.file("elsewhere")
        try FileManager.default.createSymbolicLink(atPath: path + "-wal", withDestinationPath: elsewhere)
        let store = EventStore(path: path)
        await store.record(ControllerEvent(kind: .announce, vip: "198.18.0.10", reason: "first"))
        let health = await store.health
        XCTAssertFalse(health.writable)
        XCTAssertTrue(health.lastError?.contains("history.sqlite-wal") ?? false, health.lastError ?? "no error")
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere))
    }
}
