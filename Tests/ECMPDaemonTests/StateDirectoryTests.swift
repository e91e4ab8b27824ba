import ECMPCore
import ECMPDaemon
import Foundation
import XCTest

final class StateDirectoryTests: XCTestCase {
    private var parent = ""

    override func setUpWithError() throws {
        parent = NSTemporaryDirectory() + "ecmpd-statedir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        XCTAssertEqual(chmod(parent, 0o755), 0)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: parent) }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        return info.st_mode & 0o7777
    }

    func testAMissingStateDirectoryIsCreated0700WhateverTheUmask() throws {
        let previous = umask(0)
        defer { umask(previous) }
        let path = "\(parent)/state"
        try StateDirectory(path).prepare()
        XCTAssertEqual(mode(path), 0o700)
    }

    func testAStateDirectoryOthersCanWriteIsRefusedNamingPathOwnerAndMode() throws {
        let path = "\(parent)/state"
        XCTAssertEqual(mkdir(path, 0o700), 0)
        XCTAssertEqual(chmod(path, 0o777), 0)
        XCTAssertThrowsError(try StateDirectory(path).prepare()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("\(path) (owner uid \(geteuid())"), text)
            XCTAssertTrue(text.contains("mode 0777"), text)
            XCTAssertTrue(text.contains("can be written by users other than"), text)
        }
    }

    func testAParentOthersCanWriteWithoutTheStickyBitIsRefused() throws {
        XCTAssertEqual(chmod(parent, 0o777), 0)
        XCTAssertThrowsError(try StateDirectory("\(parent)/state").prepare()) { error in
            XCTAssertTrue("\(error)".contains(", above the state directory,"), "\(error)")
            XCTAssertTrue("\(error)".contains("\(parent) ("), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(parent)/state"), "refused before creating anything")
    }

    /// The link is in a directory others can write: they could point it elsewhere.
    func testASymbolicLinkToASafeDirectoryInADirectoryOthersCanWriteIsRefused() throws {
        let real = "\(parent)/real", open = "\(parent)/open"
        XCTAssertEqual(mkdir(real, 0o700), 0)
        XCTAssertEqual(mkdir(open, 0o777), 0)
        XCTAssertEqual(chmod(open, 0o777), 0)
        try FileManager.default.createSymbolicLink(atPath: "\(open)/state", withDestinationPath: real)
        XCTAssertNoThrow(try StateDirectory(real).inspect())
        XCTAssertThrowsError(try StateDirectory("\(open)/state").inspect()) { error in
            XCTAssertTrue("\(error)".contains("\(open) (owner"), "\(error)")
        }
    }

    func testAStateDirectoryOwnedByAnotherUserIsRefused() throws {
        let path = "\(parent)/state"
        XCTAssertEqual(mkdir(path, 0o700), 0)
        let other: UInt32 = geteuid() == 0 ? 65534 : geteuid() + 1
        if geteuid() == 0 { XCTAssertEqual(chown(path, 65534, 65534), 0) }
        let trust = FileTrust(effectiveUser: geteuid() == 0 ? 0 : other)
        if geteuid() != 0 {
            // Our own directory seen by a trust for another user: the same refusal.
            XCTAssertThrowsError(try StateDirectory(path, trust: trust).inspect())
            return
        }
        XCTAssertThrowsError(try StateDirectory(path, trust: trust).inspect()) { error in
            XCTAssertTrue("\(error)".contains("owner uid 65534"), "\(error)")
        }
    }
}
