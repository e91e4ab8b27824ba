import ECMPCore
import ECMPDaemon
import Foundation
import XCTest

/// What a hostile user could leave in the state directory: a symbolic link
/// or a file of their own is refused, never read, and a link planted as a
/// lock file never makes ecmpd create a file elsewhere.
final class StateFileTrustTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "ecmpd-statefile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    private func writeDrain(_ path: String) throws {
        try Data(#"{"version": 1, "director": true, "vips": []}"#.utf8).write(to: URL(fileURLWithPath: path))
    }

    func testASymbolicLinkIsRefusedNotFollowed() throws {
        let target = "\(directory)/elsewhere.json"
        try writeDrain(target)
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/drain.json", withDestinationPath: target)
        XCTAssertThrowsError(try StateFile<DrainRecord>(path: "\(directory)/drain.json").read()) { error in
            let failure = error as? StateFileError
            XCTAssertEqual(failure?.isRefusal, true, "\(error)")
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
    }

    /// Another user's file: as root, a file chowned to nobody; otherwise
    /// our own file read by a trust that names another user.
    func testAFileOfAnotherUserIsRefusedNamingItsOwner() throws {
        let path = "\(directory)/drain.json"
        try writeDrain(path)
        let trust: FileTrust
        if geteuid() == 0 {
            XCTAssertEqual(chown(path, 65534, 65534), 0, String(cString: strerror(errno)))
            trust = FileTrust(effectiveUser: 0)
        } else {
            trust = FileTrust(effectiveUser: geteuid() + 1)
        }
        XCTAssertThrowsError(try StateFile<DrainRecord>(path: path, trust: trust).read()) { error in
            XCTAssertEqual((error as? StateFileError)?.isRefusal, true, "\(error)")
            XCTAssertTrue("\(error)".contains("it belongs to uid "), "\(error)")
        }
    }

    func testAFIFOIsRefusedWithoutBlocking() throws {
        let path = "\(directory)/drain.json"
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertThrowsError(try StateFile<DrainRecord>(path: path).read()) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testAMissingFileReadsAsNoRecordAndOurOwnFileIsRead() throws {
        let path = "\(directory)/drain.json"
        XCTAssertNil(try StateFile<DrainRecord>(path: path).read())
        try writeDrain(path)
        XCTAssertEqual(try StateFile<DrainRecord>(path: path).read(), DrainRecord(director: true))
    }

    func testALockFileSymbolicLinkIsRefusedAndNothingIsCreatedAtItsTarget() throws {
        let target = "\(directory)/created-by-root"
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/drain.json.lock", withDestinationPath: target)
        XCTAssertThrowsError(try LockFile(path: "\(directory)/drain.json.lock")) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }
}
