import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: `ecmpd realserver up|down|status` in a namespace that
/// stands for a real server. /proc/sys/net/ipv4/conf/* is per network
/// namespace, so the host's ARP settings are never touched. Needs root and
/// iproute2.
final class RealServerTests: XCTestCase {
    var lab: NetnsLab!
    var server = ""
    let vip = "198.18.0.100"
    let second = "198.18.0.101"
    var stateFile: String { lab.path("state/realserver.json") }

    override func setUpWithError() throws {
        if let missing = NetnsLab.addressPrerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        server = try lab.namespace("rs")
        // Non-default starting values, so a restore is told apart from a reset.
        try setSysctls(ignore: 0, announce: 1)
    }

    override func tearDown() {
        lab?.tearDown()
    }

    func setSysctls(ignore: Int, announce: Int) throws {
        for interface in ["all", "lo"] {
            try lab.exec(
                server,
                [
                    "sysctl", "-q", "-w", "net.ipv4.conf.\(interface).arp_ignore=\(ignore)",
                    "net.ipv4.conf.\(interface).arp_announce=\(announce)",
                ])
        }
    }

    func sysctls() throws -> [String] {
        try ["all", "lo"].flatMap { interface in
            try ["arp_ignore", "arp_announce"].map { name in
                try lab.exec(server, ["sysctl", "-n", "net.ipv4.conf.\(interface).\(name)"]).output
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
    }

    func onLoopback(_ address: String) throws -> Bool {
        try lab.exec(server, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]).output.contains(" \(address)/32 ")
    }

    @discardableResult
    func realserver(_ verb: String, _ vips: [String], json: Bool = false, allowFailure: Bool = false) throws -> (
        status: Int32, output: String
    ) {
        try lab.exec(
            server,
            [Command.ecmpd, "realserver", verb, "--state-file", stateFile] + vips.flatMap { ["--vip", $0] }
                + (json ? ["--json"] : []), allowFailure: allowFailure)
    }

    func testUpStatusDownRoundTripRestoresThePreviousValues() throws {
        XCTAssertEqual(try realserver("status", [vip], allowFailure: true).status, 1)
        let up = try realserver("up", [vip]).output
        XCTAssertTrue(up.contains("net.ipv4.conf.all.arp_ignore: 0 -> 1"), up)
        XCTAssertEqual(try sysctls(), ["1", "2", "1", "2"])
        XCTAssertTrue(try onLoopback(vip))
        var info = stat()
        XCTAssertEqual(stat(stateFile, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)

        let status = try realserver("status", [vip], json: true)
        XCTAssertEqual(status.status, 0, status.output)
        let report = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
        XCTAssertEqual(report?["complete"] as? Bool, true)
        XCTAssertEqual((report?["pieces"] as? [Any])?.count, 5)

        let down = try realserver("down", [vip]).output
        XCTAssertTrue(down.contains("\(vip)/32 on lo: removed"), down)
        XCTAssertEqual(try sysctls(), ["0", "1", "0", "1"])
        XCTAssertFalse(try onLoopback(vip))
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateFile), "nothing left to undo, so no record")
        XCTAssertEqual(try realserver("status", [vip], allowFailure: true).status, 1)
    }

    func testUpTwiceIsIdempotentAndDownStillRestoresTheOriginalValues() throws {
        try realserver("up", [vip])
        let record = try String(contentsOfFile: stateFile, encoding: .utf8)
        let again = try realserver("up", [vip]).output
        XCTAssertTrue(again.contains("nothing to change"), again)
        XCTAssertTrue(again.contains("\(vip)/32 on lo: present (added by ecmpd)"), again)
        XCTAssertEqual(
            try String(contentsOfFile: stateFile, encoding: .utf8), record,
            "the second up keeps the first up's previous values")
        try realserver("down", [vip])
        XCTAssertEqual(try sysctls(), ["0", "1", "0", "1"])
        XCTAssertFalse(try onLoopback(vip))
    }

    func testDownNeverRemovesAVIPThatWasOnLoopbackBeforeUp() throws {
        try lab.exec(server, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        let up = try realserver("up", [vip, second]).output
        XCTAssertTrue(up.contains("\(vip)/32 on lo: present (not added by ecmpd; down leaves it)"), up)
        XCTAssertTrue(up.contains("\(second)/32 on lo: added"), up)
        let down = try realserver("down", [vip, second]).output
        XCTAssertTrue(down.contains("\(vip)/32 on lo: left (not added by ecmpd)"), down)
        XCTAssertTrue(try onLoopback(vip))
        XCTAssertFalse(try onLoopback(second))
        XCTAssertEqual(try sysctls(), ["0", "1", "0", "1"])
    }

    func testStatusExitsOneAndNamesTheMissingPiece() throws {
        try realserver("up", [vip])
        try lab.exec(server, ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        let missingAddress = try realserver("status", [vip], allowFailure: true)
        XCTAssertEqual(missingAddress.status, 1)
        XCTAssertTrue(
            missingAddress.output.contains("\(vip)/32 on lo: missing, expected present"), missingAddress.output)

        try realserver("up", [vip])
        try lab.exec(server, ["sysctl", "-q", "-w", "net.ipv4.conf.lo.arp_announce=0"])
        let missingSysctl = try realserver("status", [vip], json: true, allowFailure: true)
        XCTAssertEqual(missingSysctl.status, 1)
        let report = try JSONSerialization.jsonObject(with: Data(missingSysctl.output.utf8)) as? [String: Any]
        let pieces = report?["pieces"] as? [[String: Any]] ?? []
        XCTAssertEqual(
            pieces.filter { $0["ok"] as? Bool == false }.map { $0["name"] as? String },
            ["net.ipv4.conf.lo.arp_announce"])
    }

    func testDownLeavesASysctlChangedSinceUp() throws {
        try realserver("up", [vip])
        try lab.exec(server, ["sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=2"])
        let down = try realserver("down", [vip]).output
        XCTAssertTrue(down.contains("net.ipv4.conf.all.arp_ignore: left at 2"), down)
        XCTAssertEqual(try sysctls(), ["2", "1", "0", "1"])
    }

    func testABadVIPIsAUsageError() throws {
        let result = try realserver("up", ["10.1"], allowFailure: true)
        XCTAssertEqual(result.status, 2, result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateFile))
    }
}
