import ECMPCore
@testable import ECMPRouting
import Foundation
import XCTest

/// The probe against a scratch run directory and a scratch /proc, so each
/// way a daemon can be gone is shown without starting FRR (the namespace
/// tier kills a real ospfd).
final class RoutingDaemonProbeTests: XCTestCase {
    var root = ""
    var run: String { "\(root)/run" }
    var proc: String { "\(root)/proc" }

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "ecmpd-probe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: proc, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func process(_ pid: Int32, comm: String) throws {
        try FileManager.default.createDirectory(atPath: "\(proc)/\(pid)", withIntermediateDirectories: true)
        try "\(comm)\n".write(toFile: "\(proc)/\(pid)/comm", atomically: true, encoding: .utf8)
    }

    func pidFile(_ daemon: String, _ text: String) throws {
        try text.write(toFile: "\(run)/\(daemon).pid", atomically: true, encoding: .utf8)
    }

    func observation(_ daemon: String) -> RoutingDaemonProbe.Observation {
        RoutingDaemonProbe(runDirectory: run, procDirectory: proc).look(at: daemon)
    }

    func testBfddIsWatchedOnlyWithBFDAndNamesTheDaemonsFileStep() throws {
        XCTAssertEqual(RoutingDaemonProbe.daemons(bfd: false), ["zebra", "ospfd"])
        XCTAssertEqual(RoutingDaemonProbe.daemons(bfd: true), ["zebra", "bfdd", "ospfd"])
        let missing = observation("bfdd")
        XCTAssertFalse(missing.running)
        XCTAssertEqual(
            missing.detail,
            "not running: no \(run)/bfdd.pid; ospf.bfd needs FRR's bfdd: set bfdd=yes in /etc/frr/daemons and restart frr (systemctl restart frr)"
        )
        try pidFile("bfdd", "4243\n")
        try process(4243, comm: "bfdd")
        XCTAssertEqual(observation("bfdd").detail, "running, pid 4243")
        XCTAssertFalse(observation("ospfd").detail.contains("bfdd=yes"), "the hint is bfdd's only")
    }

    func testOspf6dIsWatchedOnlyWithIPv6VIPsAndNamesTheDaemonsFileStep() throws {
        XCTAssertEqual(RoutingDaemonProbe.daemons(bfd: false, ospf6: true), ["zebra", "ospfd", "ospf6d"])
        XCTAssertEqual(RoutingDaemonProbe.daemons(bfd: true, ospf6: true), ["zebra", "bfdd", "ospfd", "ospf6d"])
        XCTAssertTrue(
            observation("ospf6d").detail.hasSuffix(
                "set ospf6d=yes in /etc/frr/daemons and restart frr (systemctl restart frr)"))
        XCTAssertFalse(observation("ospfd").detail.contains("ospf6d=yes"), "the hint is ospf6d's only")
    }

    func testARunningDaemonIsUpWithItsPid() throws {
        try pidFile("ospfd", "4242\n")
        try process(4242, comm: "ospfd")
        XCTAssertEqual(
            observation("ospfd"), .init(daemon: "ospfd", running: true, pid: 4242, detail: "running, pid 4242"))
    }

    func testNoPidFileIsDown() {
        let seen = observation("zebra")
        XCTAssertFalse(seen.running)
        XCTAssertEqual(seen.detail, "not running: no \(run)/zebra.pid")
    }

    func testAPidFileLeftBySIGKILLIsDown() throws {
        try pidFile("ospfd", "4242\n")
        let seen = observation("ospfd")
        XCTAssertFalse(seen.running)
        XCTAssertEqual(seen.detail, "not running: pid 4242 from \(run)/ospfd.pid has exited")
    }

    func testAPidReusedByAnotherProgramIsDown() throws {
        try pidFile("ospfd", "4242\n")
        try process(4242, comm: "sshd")
        XCTAssertEqual(observation("ospfd").detail, "not running: pid 4242 from \(run)/ospfd.pid is now sshd")
    }

    func testAPidFileWithoutAPidIsDown() throws {
        try pidFile("ospfd", "")
        XCTAssertEqual(observation("ospfd").detail, "not running: \(run)/ospfd.pid holds no pid")
    }

    func testRunDirectoryFollowsFlavourAndPathspace() {
        XCTAssertEqual(RoutingDaemonProbe.runDirectory(for: RoutingDaemonSettings()), "/var/run/frr")
        XCTAssertEqual(
            RoutingDaemonProbe.runDirectory(for: RoutingDaemonSettings(pathspace: "lab1")), "/var/run/frr/lab1")
        XCTAssertEqual(RoutingDaemonProbe.runDirectory(for: RoutingDaemonSettings(flavour: .quagga)), "/var/run/quagga")
    }

    func testThisProcessIsFoundThroughTheRealProc() throws {
        let comm = try String(contentsOfFile: "/proc/self/comm", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try pidFile(comm, "\(getpid())\n")
        XCTAssertTrue(RoutingDaemonProbe(runDirectory: run).look(at: comm).running)
    }
}
