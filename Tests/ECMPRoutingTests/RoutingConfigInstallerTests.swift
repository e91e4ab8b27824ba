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

    func installer(
        backups: Int = 2, validate: @escaping (Int32, String) throws -> Void = { _, _ in }
    ) -> RoutingConfigInstaller {
        let me = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let group = String(cString: getgrgid(getegid()).pointee.gr_name)
        return RoutingConfigInstaller(
            directory: directory, user: me, group: group, backups: backups, validate: validate)
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
        XCTAssertThrowsError(
            try installer { _, daemon in if daemon == "ospfd" { throw Rejected() } }
                .install([
                    .init(daemon: "zebra", content: "hostname changed\n"), .init(daemon: "ospfd", content: "bad\n"),
                ]))
        XCTAssertEqual(
            try String(contentsOfFile: "\(directory)/zebra.conf", encoding: .utf8), "hostname z\n",
            "zebra.conf must not be installed when ospfd.conf is rejected")
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
        XCTAssertEqual(
            try String(contentsOfFile: "\(directory)/ospfd.conf.20270115T080004", encoding: .utf8),
            "hostname o\n! round 3\n")
    }

    func testASecondRenameThatFailsPutsTheFirstFileBack() throws {
        _ = try installer().install(files("one"))
        // A non-empty directory at ospfd.conf: rename(2) over it fails (EISDIR) after zebra.conf was renamed.
        try FileManager.default.removeItem(atPath: "\(directory)/ospfd.conf")
        try FileManager.default.createDirectory(
            atPath: "\(directory)/ospfd.conf/inside",
            withIntermediateDirectories: true)
        let new: [RoutingConfigInstaller.File] = [
            .init(daemon: "zebra", content: "hostname changed\n"),
            .init(daemon: "ospfd", content: "hostname o2\n"),
        ]
        XCTAssertThrowsError(try installer(backups: 0).install(new)) { error in
            XCTAssertTrue("\(error)".contains("\(directory)/ospfd.conf"), "\(error)")
        }
        XCTAssertEqual(
            try String(contentsOfFile: "\(directory)/zebra.conf", encoding: .utf8), "hostname z\n",
            "zebra.conf is put back when ospfd.conf cannot be installed")
        XCTAssertEqual(try contents(), ["ospfd.conf", "zebra.conf"], "no staging directory left")
    }

    /// With BFD on, bfdd.conf joins the set (installed between zebra.conf
    /// and ospfd.conf): its rejection keeps the other two, changed or not.
    func testARejectedBfddConfInstallsNoneOfTheThree() throws {
        let three: (String) -> [RoutingConfigInstaller.File] = { marker in
            [
                .init(daemon: "zebra", content: "hostname z \(marker)\n"),
                .init(daemon: "bfdd", content: "hostname b \(marker)\n"),
                .init(daemon: "ospfd", content: "hostname o \(marker)\n"),
            ]
        }
        _ = try installer().install(three("one"))
        struct Rejected: Error {}
        XCTAssertThrowsError(
            try installer { _, daemon in if daemon == "bfdd" { throw Rejected() } }.install(three("two")))
        for daemon in ["zebra", "bfdd", "ospfd"] {
            XCTAssertEqual(
                try String(contentsOfFile: "\(directory)/\(daemon).conf", encoding: .utf8),
                "hostname \(daemon.prefix(1)) one\n", "\(daemon).conf must stay when bfdd.conf is rejected")
        }
        XCTAssertEqual(try contents().filter { !$0.contains(".conf.") }, ["bfdd.conf", "ospfd.conf", "zebra.conf"])
    }

    func testAThirdRenameThatFailsPutsTheFirstTwoBack() throws {
        let first: [RoutingConfigInstaller.File] = [
            .init(daemon: "zebra", content: "hostname z\n"), .init(daemon: "bfdd", content: "hostname b\n"),
            .init(daemon: "ospfd", content: "hostname o\n"),
        ]
        _ = try installer().install(first)
        try FileManager.default.removeItem(atPath: "\(directory)/ospfd.conf")
        try FileManager.default.createDirectory(
            atPath: "\(directory)/ospfd.conf/inside", withIntermediateDirectories: true)
        let new = first.map { RoutingConfigInstaller.File(daemon: $0.daemon, content: $0.content + "! two\n") }
        XCTAssertThrowsError(try installer(backups: 0).install(new))
        for daemon in ["zebra", "bfdd"] {
            XCTAssertEqual(
                try String(contentsOfFile: "\(directory)/\(daemon).conf", encoding: .utf8),
                "hostname \(daemon.prefix(1))\n", "\(daemon).conf is put back when ospfd.conf cannot be installed")
        }
        XCTAssertEqual(try contents(), ["bfdd.conf", "ospfd.conf", "zebra.conf"], "no staging directory left")
    }

    func testPlantedBackupNamesNeitherBlockTheInstallNorFollowALink() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try installer().install(files("one"), now: start)
        let victim = "\(directory)/victim"
        XCTAssertTrue(FileManager.default.createFile(atPath: victim, contents: Data("untouched\n".utf8)))
        for name in ["zebra.conf", "ospfd.conf"] {
            for second in 0..<3 {
                for suffix in ["", "-1", "-2"] {
                    let planted = "\(directory)/\(name).20270115T08000\(second)\(suffix)"
                    XCTAssertEqual(symlink(second == 1 ? victim : "\(directory)/nowhere", planted), 0)
                }
            }
        }
        let outcomes = try installer().install(
            [.init(daemon: "zebra", content: "hostname z2\n"), .init(daemon: "ospfd", content: "hostname o2\n")],
            now: start.addingTimeInterval(1))
        XCTAssertEqual(try String(contentsOfFile: "\(directory)/zebra.conf", encoding: .utf8), "hostname z2\n")
        XCTAssertEqual(try String(contentsOfFile: "\(directory)/ospfd.conf", encoding: .utf8), "hostname o2\n")
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "untouched\n")
        guard case .installed(let backup?) = outcomes["ospfd.conf"] else { return XCTFail("\(outcomes)") }
        XCTAssertTrue(backup.hasPrefix("\(directory)/ospfd.conf.20270115T080001-"), backup)
        XCTAssertEqual(try String(contentsOfFile: backup, encoding: .utf8), "hostname o\n! one\n")
    }

    func testAFolderOthersCanWriteIsRefusedNamingItAndItsMode() throws {
        chmod(directory, 0o777)
        XCTAssertThrowsError(try installer().install(files("one"))) { error in
            let refusal =
                "refusing to install routing configs into \(directory): "
                + "it is writable by every user (mode 0777)"
            XCTAssertEqual("\(error)".components(separatedBy: ". ").first, refusal)
        }
        XCTAssertEqual(try contents(), [])
    }

    func testAMissingFolderIsNamed() throws {
        let missing = "\(directory)/missing"
        let installer = RoutingConfigInstaller(directory: missing, user: "root", group: "root", backups: 0) { _, _ in }
        XCTAssertThrowsError(try installer.install(files("one"))) { error in
            let expected = "cannot open the routing config directory \(missing): No such file or directory (errno 2)"
            XCTAssertEqual("\(error)", expected)
        }
    }

    func testWhoMayWriteTheFolder() {
        let routing: gid_t = 106
        func reason(owner: uid_t = 0, group: gid_t = 106, _ mode: mode_t) -> String? {
            RoutingConfigInstaller.unsafeReason(
                owner: owner, group: group, mode: S_IFDIR | mode,
                trustedOwners: [0, 102], routingGroup: routing)
        }
        XCTAssertNil(reason(0o770), "root:frr 0770, as deploy/tmpfiles.d makes it")
        XCTAssertNil(reason(owner: 102, 0o770), "frr:frr 0770")
        XCTAssertNil(reason(group: 0, 0o755))
        XCTAssertEqual(reason(0o1777), "it is writable by every user (mode 1777)")
        XCTAssertTrue(reason(group: 0, 0o775)?.hasPrefix("it is writable by group root (gid 0) (mode 0775)") == true)
        let stranger = reason(owner: 4242, 0o750)
        XCTAssertTrue(
            stranger?.hasPrefix("it is owned by user uid 4242, who is neither root") == true,
            stranger ?? "nil")
    }

    func testTheValidatorReadsTheStagedFileThroughItsDescriptor() throws {
        var seen: [String] = []
        _ = try installer { descriptor, _ in
            let file = "/proc/self/fd/\(ProcessRunner.passedDescriptor)"
            let result = try ProcessRunner.run(["/bin/cat", file], passing: descriptor)
            seen.append(result.output)
        }.install(files("one"))
        XCTAssertEqual(seen, ["hostname z\n", "hostname o\n! one\n"])
    }
}
