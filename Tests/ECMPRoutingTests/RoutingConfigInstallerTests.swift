@testable import ECMPRouting
import Foundation
import XCTest

/// The install path without FRR: validation is a closure here; the
/// namespace tier runs the same code against vtysh.
final class RoutingConfigInstallerTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "ecmpd-install-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func installer(backups: Int = 2, validate: @escaping (String, String) throws -> Void = { _, _ in }) -> RoutingConfigInstaller {
        let me = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let group = String(cString: getgrgid(getegid()).pointee.gr_name)
        return RoutingConfigInstaller(directory: directory, user: me, group: group, backups: backups, validate: validate)
    }

    func files(_ marker: String) -> [RoutingConfigInstaller.File] {
        [.init(daemon: "zebra", content: "hostname z\n"), .init(daemon: "ospfd", content: "hostname o\n! \(marker)\n")]
    }

    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory).sorted() }

    func testInstallsWithMode0640AndNoTemporaryFilesLeft() throws {
        let outcomes = try installer().install(files("one"))
        XCTAssertEqual(outcomes["ospfd.conf"], .installed(backup: nil))
        XCTAssertEqual(try contents(), ["ospfd.conf", "zebra.conf"])
        var info = stat()
        stat("\(directory)/ospfd.conf", &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o640)
    }

    func testUnchangedContentWritesNothingAndValidatesNothing() throws {
        _ = try installer().install(files("one"))
        var validated = 0
        let outcomes = try installer { _, _ in validated += 1 }.install(files("one"))
        XCTAssertEqual(outcomes.values.filter { $0 != .unchanged }.count, 0)
        XCTAssertEqual(validated, 0)
    }

    func testAFailedValidationInstallsNeitherFile() throws {
        _ = try installer().install(files("one"))
        struct Rejected: Error {}
        XCTAssertThrowsError(try installer { _, daemon in if daemon == "ospfd" { throw Rejected() } }
            .install([.init(daemon: "zebra", content: "hostname changed\n"), .init(daemon: "ospfd", content: "bad\n")]))
        XCTAssertEqual(try String(contentsOfFile: "\(directory)/zebra.conf", encoding: .utf8), "hostname z\n", "zebra.conf must not be installed when ospfd.conf is rejected")
        XCTAssertEqual(try contents(), ["ospfd.conf", "zebra.conf"], "no temporary files left")
    }

    func testBackupsAreTimestampedAndBounded() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for round in 0..<5 {
            _ = try installer(backups: 2).install(files("round \(round)"), now: start.addingTimeInterval(Double(round)))
        }
        let backups = try contents().filter { $0.hasPrefix("ospfd.conf.") }
        // Named for when a version was replaced; the newest holds round 3.
        XCTAssertEqual(backups, ["ospfd.conf.20270115T080003", "ospfd.conf.20270115T080004"])
        XCTAssertEqual(try String(contentsOfFile: "\(directory)/ospfd.conf.20270115T080004", encoding: .utf8), "hostname o\n! round 3\n")
    }
}
