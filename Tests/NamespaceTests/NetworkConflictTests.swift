import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: a config `ecmpd check` refuses against the live network
/// (a VIP that is also an interface address) is refused by `ecmpd run` as
/// well, at start and on SIGHUP, before anything is applied. Needs root,
/// iproute2 and FRR's vtysh; no FRR daemon runs (`routing.reload: none`).
final class NetworkConflictTests: DaemonTestCase {
    /// eth0's own address (DaemonTestCase's director).
    let interfaceAddress = "198.18.0.2"

    func testRunRefusesAVIPThatIsAnInterfaceAddressBeforeTouchingLoOrRoutingFiles() throws {
        try writeConfig(vips: [vip, interfaceAddress])
        let result = try lab.exec(director, [Command.ecmpd, "run", "--config", configPath], allowFailure: true)
        XCTAssertEqual(result.status, 1, result.output)
        // The line writeConfig put the second VIP's address on.
        let line =
            try XCTUnwrap(
                try String(contentsOfFile: configPath, encoding: .utf8)
                    .split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
                        $0.contains("address: \(interfaceAddress)")
                    }) + 1
        XCTAssertTrue(result.output.contains("\(configPath):\(line):"), "names the file and line: \(result.output)")
        XCTAssertTrue(
            result.output.contains("vips[1].address: \"\(interfaceAddress)\": is an address of interface eth0"),
            result.output)
        XCTAssertFalse(try loopback().contains("\(vip)/32"), "no VIP added to lo")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: routingDirectory), [], "no routing file written")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: historyDatabase), "nothing recorded: the daemon never started")
    }

    func testSIGHUPWithAVIPThatIsAnInterfaceAddressIsRejectedAndTheRunningConfigKept() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(vips: [vip])
        let pid = try startDaemon()
        try waitFor("ospfd.conf installed at start") {
            installedOSPFConfig().contains(" network 198.18.0.0/24 area 0.0.0.0\n")
        }
        let installed = installedOSPFConfig()

        try writeConfig(vips: [vip, interfaceAddress])
        kill(pid, SIGHUP)
        try waitFor("a failed config-reload event") {
            try events("config-reload").contains { $0["result"] as? String == "failed" }
        }
        let failed = try XCTUnwrap(try events("config-reload").first { $0["result"] as? String == "failed" })
        let message = failed["message"] as? String ?? ""
        XCTAssertTrue(message.hasPrefix("\(configPath):"), "names the file: \(message)")
        XCTAssertTrue(
            message.contains("vips[1].address: \"\(interfaceAddress)\": is an address of interface eth0"), message)
        XCTAssertEqual(failed["reason"] as? String, "\(configPath) rejected; running config kept")
        XCTAssertTrue(lab.isRunning(pid), log())
        XCTAssertEqual(try status().keys.sorted(), [vip], "the running config stays")
        XCTAssertFalse(try loopback().contains("\(interfaceAddress)/32"), "the refused VIP never reaches lo")
        XCTAssertTrue(try loopback().contains("\(vip)/32"))
        XCTAssertEqual(installedOSPFConfig(), installed, "the routing configs are not re-rendered for a refused config")
    }
}
