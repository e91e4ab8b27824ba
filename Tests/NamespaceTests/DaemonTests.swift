import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: the built `ecmpd run` in a namespace shaped like a
/// director (a veth with a /24 and a default route, VIPs on lo), driven
/// from outside with signals, `ecmpd drain`, `ip`, and read back through
/// `ecmpd status`, `ecmpd history` and the installed routing configs.
///
/// This kernel has no IPVS, so every IPVS dump fails and every VIP counts
/// 0 usable backends: a VIP on lo is withdrawn after `fall` observations,
/// one off lo never comes back. Needs root, iproute2 and FRR's vtysh (the
/// daemon validates what it installs; `routing.reload: none`, so no FRR
/// daemon runs).
final class DaemonTests: DaemonTestCase {
    // MARK: a. Adopt at start, withdraw after `fall`

    func testAVIPAlreadyOnLoopbackIsAdoptedThenWithdrawnAfterFallObservationsLeavingForeignAddressesAlone() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try lab.exec(director, ["ip", "addr", "add", "\(foreign)/32", "dev", "lo"])
        let monitor = try AddressMonitor(lab: lab, namespace: director)
        defer { monitor.stop() }
        try writeConfig(vips: [vip, second], fall: 20, pollInterval: "50ms")
        try startDaemon()

        try waitFor("a withdraw event for \(vip)") { try !events("withdraw", vip: vip).isEmpty }
        let withdraw = try XCTUnwrap(try events("withdraw", vip: vip).first)
        XCTAssertEqual(withdraw["reason"] as? String, "0 of 0 backends usable, below minimum 1, for 20 observations")
        XCTAssertEqual(
            try events("announce").count, 0, "adopted, not announced again; the second VIP never had backends")
        let started = try XCTUnwrap(try events("config-reload").first)
        XCTAssertTrue((started["reason"] as? String ?? "").contains("started with \(configPath)"), "\(started)")
        let held = try XCTUnwrap(Self.date(withdraw)).timeIntervalSince(try XCTUnwrap(Self.date(started)))
        XCTAssertGreaterThanOrEqual(
            held, 0.9, "20 observations 50ms apart keep the adopted VIP on lo for about a second")

        try waitFor("\(vip) to leave lo") { try !loopback().contains("\(vip)/32") }
        let vipEvents = try monitor.eventsSoFar().filter { $0.contains("\(vip)/") }
        XCTAssertEqual(
            vipEvents.count, 1,
            "adopted without delete or re-add, then deleted once:\n\(vipEvents.joined(separator: "\n"))")
        XCTAssertTrue(vipEvents.first?.hasPrefix("Deleted") == true, "\(vipEvents)")

        let lo = try loopback()
        XCTAssertTrue(lo.contains("\(foreign)/32"), "a /32 ecmpd does not configure is never touched: \(lo)")
        XCTAssertTrue(lo.contains("127.0.0.1/8"), "\(lo)")
        XCTAssertFalse(lo.contains("\(second)/32"), "a VIP with no usable backends is never added: \(lo)")
        XCTAssertFalse(try monitor.eventsSoFar().contains { $0.contains("\(foreign)/") || $0.contains("\(second)/") })

        let shown = try status()
        XCTAssertEqual(shown[vip]?["state"] as? String, "withdrawn")
        let reason = shown[vip]?["reason"] as? String ?? ""
        XCTAssertTrue(
            reason.hasPrefix("0 of 0 backends usable, below minimum 1, for "),
            "keeps counting bad observations: \(reason)")
        XCTAssertEqual(shown[second]?["state"] as? String, "withdrawn")
    }

    // MARK: b. SIGTERM and controller.on_stop

    func testSIGTERMWithOnStopWithdrawRemovesAnAnnouncedVIP() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        // 1000 observations 20ms apart: announced for 20 s unless stopped.
        try writeConfig(fall: 1000, pollInterval: "20ms", onStop: "withdraw")
        let pid = try startDaemon()
        XCTAssertEqual(state(of: vip), "announced")
        XCTAssertTrue(try loopback().contains("\(vip)/32"))

        kill(pid, SIGTERM)
        XCTAssertEqual(lab.waitExit(pid, timeout: .seconds(20)), 0, log())
        XCTAssertFalse(try loopback().contains("\(vip)/32"), "on_stop: withdraw takes the VIP off lo before exiting")
        let withdraws = try events("withdraw", vip: vip)
        XCTAssertEqual(
            withdraws.map { $0["reason"] as? String }, ["ecmpd stopping (controller.on_stop: withdraw)"],
            "the stop's withdrawal reaches the history before exit")
    }

    func testSIGTERMWithOnStopLeaveKeepsTheVIPOnLoopback() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(fall: 1000, pollInterval: "20ms", onStop: "leave")
        let pid = try startDaemon()
        XCTAssertEqual(state(of: vip), "announced")

        kill(pid, SIGTERM)
        XCTAssertEqual(lab.waitExit(pid, timeout: .seconds(20)), 0, log())
        XCTAssertTrue(try loopback().contains("\(vip)/32"), "on_stop: leave leaves lo as it is")
        XCTAssertEqual(try events("withdraw").count, 0)
    }

    // MARK: c. SIGHUP

    func testSIGHUPWithABrokenConfigKeepsTheRunningOneAndAValidOneAddsAVIP() throws {
        try writeConfig(vips: [vip])
        let pid = try startDaemon()
        XCTAssertEqual(try status().keys.sorted(), [vip])

        // Line 3 opens a flow sequence that is never closed.
        _ = try lab.write("ecmpd.yaml", "vips:\n  - address: \(vip)\n  - address: [\(second)\n")
        kill(pid, SIGHUP)
        try waitFor("a failed config-reload event") {
            try events("config-reload").contains { $0["result"] as? String == "failed" }
        }
        let failed = try XCTUnwrap(try events("config-reload").first { $0["result"] as? String == "failed" })
        let message = failed["message"] as? String ?? ""
        // Where libyaml notices the missing ']': the end of the file.
        XCTAssertTrue(
            message.hasPrefix("\(configPath):4:1: error: YAML syntax: "), "names the file and the line: \(message)")
        XCTAssertTrue(lab.isRunning(pid), "a bad config never stops the daemon")
        XCTAssertEqual(try status().keys.sorted(), [vip], "the running config stays")

        try writeConfig(vips: [vip, second])
        kill(pid, SIGHUP)
        try waitFor("\(second) in /status") { (try? status())?[second] != nil }
        XCTAssertEqual(try status().keys.sorted(), [vip, second])
        try waitFor("an ok config-reload event naming the added VIP") {
            try events("config-reload").contains {
                ($0["reason"] as? String ?? "").contains("added \(second)") && $0["result"] as? String == "ok"
            }
        }
    }

    // MARK: d. Network changes

    func testAnAddressOnTheOSPFInterfaceReRendersAndAnUnrelatedChangeDoesNot() throws {
        try writeConfig()
        try startDaemon()
        try waitFor("ospfd.conf installed at start") {
            installedOSPFConfig().contains(" network 198.18.0.0/24 area 0.0.0.0\n")
        }
        try waitFor("the start's routing-reload event") { try events("routing-reload").count == 1 }
        XCTAssertEqual(try events("routing-reload").first?["result"] as? String, "ok")

        try lab.exec(director, ["ip", "addr", "add", "198.18.200.1/24", "dev", "eth0"])
        try waitFor("a network line for the new prefix") {
            installedOSPFConfig().contains(" network 198.18.200.0/24 area 0.0.0.0\n")
        }
        try waitFor("a second routing-reload event") { try events("routing-reload").count == 2 }
        let reload = try XCTUnwrap(try events("routing-reload").last)
        XCTAssertEqual(reload["result"] as? String, "ok")
        XCTAssertTrue((reload["reason"] as? String ?? "").hasPrefix("network change"), "\(reload)")

        // Changes that leave the render as it is: a /32 on lo that is no
        // VIP, the MTU of a link OSPF does not use. The coordinator renders
        // (it logs "unchanged" at debug level) and drops the result.
        // Only log lines written after the changes count: the trailing
        // debounce puts any render they cause after the last of them.
        let installed = installedOSPFConfig()
        try lab.exec(director, ["ip", "addr", "add", "198.18.0.250/32", "dev", "lo"])
        try lab.exec(director, ["ip", "link", "set", "eth1", "mtu", "1400"])
        let logged = log().utf8.count
        try waitFor("a render that changes nothing") {
            String(log().utf8.dropFirst(logged))?.contains("routing configs unchanged") == true
        }
        XCTAssertEqual(try events("routing-reload").count, 2, "no reload for a change that does not alter the configs")
        XCTAssertEqual(installedOSPFConfig(), installed)
    }

    // MARK: e. Drains

    func testDrainingOneVIPWithdrawsItAndUndrainRemovesTheRecord() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(vips: [vip, second])
        try startDaemon()
        XCTAssertEqual(state(of: vip), "announced")

        let drain = try lab.exec(director, [Command.ecmpd, "drain", "--vip", vip, "--wait", "-c", configPath]).output
        XCTAssertTrue(drain.contains("drained \(vip)"), drain)
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(stateDirectory)/drain.json"))) as? [String: Any]
        XCTAssertEqual(record?["vips"] as? [String], [vip])
        XCTAssertEqual(record?["director"] as? Bool, false)
        XCTAssertEqual(state(of: vip), "draining", "--wait returns once the daemon reports it")
        XCTAssertEqual(state(of: second), "withdrawn")
        try waitFor("\(vip) to leave lo") { try !loopback().contains("\(vip)/32") }
        try waitFor("a drain event for \(vip)") { try !events("drain", vip: vip).isEmpty }
        XCTAssertEqual(try events("withdraw", vip: vip).first?["reason"] as? String, "drained by an operator")

        let undrain = try lab.exec(director, [Command.ecmpd, "undrain", "--vip", vip, "-c", configPath]).output
        XCTAssertTrue(undrain.contains("undrained \(vip)"), undrain)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "\(stateDirectory)/drain.json"), "an empty record is removed")
        try waitFor("an undrain event for \(vip)") { try !events("undrain", vip: vip).isEmpty }
        try waitFor("\(vip) withdrawn, no longer draining") { state(of: vip) == "withdrawn" }
        XCTAssertFalse(try loopback().contains("\(vip)/32"), "no backends: an undrained VIP stays off lo")
    }

    func testDrainingTheDirectorRaisesLoopbackCostFirstAndWithdrawsAfterTheWait() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(controller: ["drain_cost: 4000", "drain_wait: 3s"])
        try startDaemon()
        try waitFor("ospfd.conf installed at start") {
            installedOSPFConfig().contains("interface lo\n ip ospf cost 10\n")
        }

        let clock = ContinuousClock()
        let drained = clock.now
        let output = try lab.exec(director, [Command.ecmpd, "drain", "-c", configPath]).output
        XCTAssertTrue(output.contains("director drained: lo cost goes to 4000"), output)
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(stateDirectory)/drain.json"))) as? [String: Any]
        XCTAssertEqual(record?["director"] as? Bool, true)

        try waitFor("lo's cost raised in the installed ospfd.conf") {
            installedOSPFConfig().contains("interface lo\n ip ospf cost 4000\n")
        }
        try waitFor("\(vip) to leave lo") { try !loopback().contains("\(vip)/32") }
        XCTAssertGreaterThanOrEqual(
            clock.now - drained, .seconds(3), "the VIPs stay on lo for drain_wait after the cost is raised")
        try waitFor("\(vip) draining") { state(of: vip) == "draining" }
        XCTAssertTrue(
            try events("drain").contains {
                ($0["reason"] as? String ?? "").hasPrefix("director drain: lo cost raised to 4000")
            })

        try lab.exec(director, [Command.ecmpd, "undrain", "-c", configPath])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(stateDirectory)/drain.json"))
        try waitFor("lo's cost restored") { installedOSPFConfig().contains("interface lo\n ip ospf cost 10\n") }
        try waitFor("a director undrain event") {
            try events("undrain").contains {
                ($0["reason"] as? String ?? "").hasPrefix("director undrain: lo cost back to 10")
            }
        }
        try waitFor("\(vip) no longer draining") { state(of: vip) == "withdrawn" }
    }

    // MARK: f. Refusals

    func testKeepalivedWithHASuspendInAVirtualServerIsRefusedNamingFileAndLine() throws {
        let keepalived = try lab.write(
            "keepalived.conf",
            """
            global_defs {
                router_id director-1
            }
            virtual_server \(vip) 80 {
                lb_algo rr
                lb_kind DR
                ha_suspend
                real_server 198.18.0.10 80 {
                    TCP_CHECK {
                    }
                }
            }

            """)
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig()
        let result = try lab.exec(director, [Command.ecmpd, "run", "--config", configPath], allowFailure: true)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("\(keepalived):7: ha_suspend:"), result.output)
        XCTAssertTrue(try loopback().contains("\(vip)/32"), "refused before lo is touched")
    }
}
