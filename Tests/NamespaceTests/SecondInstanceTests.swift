import ECMPTestSupport
import Foundation
import XCTest

/// One `ecmpd run` per state directory (issue 21, finding 4): a second one
/// with the same config stops at once, naming the first's pid, before it
/// touches lo, IPVS or the routing files; the first goes on as it was.
final class SecondInstanceTests: DaemonTestCase {
    func testASecondRunWithTheSameStateDirectoryExitsNamingTheFirstsPidAndLeavesItAlone() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(fall: 1000, pollInterval: "50ms")
        let first = try startDaemon()
        try waitFor("ospfd.conf installed at start") { !installedOSPFConfig().isEmpty }
        try waitFor("the start's config-reload event") { try events("config-reload").count == 1 }
        let installed = try FileManager.default.attributesOfItem(atPath: ospfdConf)
        XCTAssertEqual(state(of: vip), "announced")

        let secondLog = lab.path("second.log")
        let clock = ContinuousClock(), started = clock.now
        let second = try lab.spawn(director, [Command.ecmpd, "run", "--config", configPath], log: secondLog)
        let exit = lab.waitExit(second, timeout: .seconds(30))
        let took = clock.now - started
        let output = (try? String(contentsOfFile: secondLog, encoding: .utf8)) ?? ""
        XCTAssertEqual(exit, 1, "the second instance must stop at once:\n\(output)")
        XCTAssertTrue(output.contains("another ecmpd run (pid \(first)) holds \(stateDirectory)/run.lock"), output)
        print("second instance refused in \(took)")

        XCTAssertTrue(lab.isRunning(first), "the first instance runs on")
        XCTAssertEqual(state(of: vip), "announced", "and still answers /status with its VIP announced")
        XCTAssertTrue(try loopback().contains("\(vip)/32"))
        let after = try FileManager.default.attributesOfItem(atPath: ospfdConf)
        let inode = after[.systemFileNumber] as? Int
        XCTAssertEqual(inode, installed[.systemFileNumber] as? Int, "ospfd.conf not reinstalled")
        XCTAssertEqual(after[.modificationDate] as? Date, installed[.modificationDate] as? Date)
        XCTAssertEqual(try events("config-reload").count, 1, "only the first instance's start is recorded")
    }
}
