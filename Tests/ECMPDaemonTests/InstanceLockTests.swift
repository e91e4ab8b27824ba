import ECMPDaemon
import Foundation
import Logging
import XCTest

/// flock locks belong to an open file description, so a second
/// `InstanceLock` in the same process conflicts as a second process would.
final class InstanceLockTests: XCTestCase {
    private var directory = ""
    private let logger = Logger(label: "test")

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "ecmpd-instance-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func testASecondInstanceIsRefusedNamingTheFirstsPid() throws {
        let first = try InstanceLock(stateDirectory: directory, logger: logger)
        let written = try String(contentsOfFile: "\(directory)/run.lock", encoding: .utf8)
        XCTAssertEqual(written, "\(getpid())\n")
        XCTAssertThrowsError(try InstanceLock(stateDirectory: directory, logger: logger)) { error in
            let expected = "another ecmpd run (pid \(getpid())) holds \(directory)/run.lock"
            XCTAssertTrue("\(error)".contains(expected), "\(error)")
        }
        first.release(logger: logger)
        XCTAssertNoThrow(try InstanceLock(stateDirectory: directory, logger: logger), "released, it can be taken again")
    }

    func testARunLockSymbolicLinkIsRefused() throws {
        let target = "\(directory)/elsewhere"
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/run.lock", withDestinationPath: target)
        XCTAssertThrowsError(try InstanceLock(stateDirectory: directory, logger: logger)) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }
}
