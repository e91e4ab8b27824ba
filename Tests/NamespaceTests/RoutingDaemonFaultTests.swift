import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: `ecmpd run` with real zebra and ospfd in an FRR
/// pathspace (`routing.reload: frr-reload`), the routing daemon killed,
/// restarted with other config, and its reload failing. The VIPs on lo
/// never follow the routing daemon; `/status`, `/metrics` and the history
/// tell what happened; the files on disk are always whole. Needs root,
/// iproute2 and FRR (frr, frr-pythontools).
final class RoutingDaemonFaultTests: DaemonTestCase {
    var pathspace: String { "\(lab.prefix)d" }
    var emptyConfig: String { lab.path("empty.conf") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        // The daemons start with no config at all; ecmpd installs and reloads.
        _ = try lab.write("empty.conf", "")
        try lab.startFRR("zebra", in: director, pathspace: pathspace, config: emptyConfig)
        try lab.startFRR("ospfd", in: director, pathspace: pathspace, config: emptyConfig)
        try NetnsLab.waitFor("ospfd's vty", timeout: .seconds(20)) { (try? runningConfig()) != nil }
    }

    func runningConfig() throws -> String { try lab.vtysh(pathspace, "show running-config") }

    func daemonRow(_ daemon: String) -> [String: Any]? {
        ((try? statusDocument())?["routingDaemons"] as? [[String: Any]])?.first { $0["daemon"] as? String == daemon }
    }

    func isUp(_ daemon: String) -> Bool? { daemonRow(daemon)?["running"] as? Bool }

    func ospfdPid() throws -> pid_t {
        let text = try String(contentsOfFile: "/var/run/frr/\(pathspace)/ospfd.pid", encoding: .utf8)
        return try XCTUnwrap(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The VIP announced (it never counts backends here: no IPVS) and the
    /// daemons configured by ecmpd's start-up install.
    func startConfigured(routing extra: [String] = []) throws -> pid_t {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(
            fall: 1000, pollInterval: "200ms", routing: ["reload: frr-reload", "pathspace: \(pathspace)"] + extra)
        let pid = try startDaemon()
        try waitFor("ospfd configured by the start-up reload", timeout: .seconds(60)) {
            (try? runningConfig())?.contains(" ospf router-id 198.18.0.2\n") == true
        }
        try waitFor("both daemons reported up") { isUp("zebra") == true && isUp("ospfd") == true }
        return pid
    }

    func testKilledOSPFDIsReportedDownWhileTheVIPStaysAndIsReloadedWhenItReturnsWithOtherConfig() throws {
        try startConfigured()
        XCTAssertEqual(metric("ecmpd_routing_daemon_up{daemon=\"ospfd\"}"), 1)
        XCTAssertEqual(metric("ecmpd_routing_daemon_up{daemon=\"zebra\"}"), 1)

        kill(try ospfdPid(), SIGKILL)
        let down = try waitFor("ospfd reported down", timeout: .seconds(10)) { isUp("ospfd") == false }
        print("ospfd down reported \(down) after SIGKILL")
        XCTAssertEqual(metric("ecmpd_routing_daemon_up{daemon=\"ospfd\"}"), 0)
        XCTAssertEqual(metric("ecmpd_routing_daemon_up{daemon=\"zebra\"}"), 1)
        XCTAssertTrue(
            (daemonRow("ospfd")?["detail"] as? String ?? "").contains("has exited"), "\(daemonRow("ospfd") ?? [:])")
        let text = try lab.exec(director, [Command.ecmpd, "status", "--address", listen]).output
        XCTAssertTrue(text.contains("ospfd: DOWN for "), text)
        try waitFor("a routing-daemon event for the stop") {
            try events("routing-daemon").contains {
                $0["result"] as? String == "failed" && $0["reason"] as? String == "ospfd stopped"
            }
        }
        XCTAssertTrue(try loopback().contains("\(vip)/32"), "the VIP stays on lo while ospfd is gone")
        XCTAssertEqual(state(of: vip), "announced")

        // Back with an empty config: the files on disk are unchanged, so
        // only a forced reload can configure it again.
        let restarted = ContinuousClock().now
        try lab.startFRR("ospfd", in: director, pathspace: pathspace, config: emptyConfig)
        try waitFor("ospfd configured again", timeout: .seconds(30)) {
            (try? runningConfig())?.contains(" ospf router-id 198.18.0.2\n") == true
        }
        print("ospfd reconfigured \(ContinuousClock().now - restarted) after its restart")
        XCTAssertTrue(try runningConfig().contains("router ospf"))
        try waitFor("ospfd reported up") { isUp("ospfd") == true }
        XCTAssertEqual(metric("ecmpd_routing_daemon_up{daemon=\"ospfd\"}"), 1)
        // "ospfd restarted: ..." unless the first try raced ospfd's vty
        // coming up and a retry did it. The event is recorded when the
        // reload command returns, which can be after ospfd shows the config
        // it applied (CI: the last event was still the start-up reload).
        try waitFor("the restart's routing-reload event") {
            (try events("routing-reload").last?["reason"] as? String ?? "").hasSuffix(
                ": files unchanged; reloaded ospfd")
        }
        let reload = try XCTUnwrap(try events("routing-reload").last)
        XCTAssertEqual(reload["result"] as? String, "ok", "\(reload)")
        XCTAssertTrue(
            try events("routing-daemon").contains { ($0["reason"] as? String ?? "").hasPrefix("ospfd running again") })
        XCTAssertTrue(try loopback().contains("\(vip)/32"))
    }

    func testAFailingReloadIsReportedAndRetriedWithBackOffLeavingWholeFilesAndNoTemporaries() throws {
        let pid = try startConfigured()
        XCTAssertEqual(metric("ecmpd_routing_failures_total"), 0)

        // A changed ospfd.conf (lo's cost) and a reload that refuses.
        try writeConfig(
            fall: 1000, pollInterval: "200ms",
            routing: [
                "reload: command", "pathspace: \(pathspace)",
                "reload_command: [/bin/sh, -c, \"echo refusing to reload {daemon} >&2; exit 1\"]",
            ], loCost: 20)
        kill(pid, SIGHUP)
        try waitFor("a failed routing-reload event") {
            try events("routing-reload").contains { $0["result"] as? String == "failed" }
        }
        let clock = ContinuousClock()
        let firstFailure = clock.now
        let failed = try XCTUnwrap(try events("routing-reload").first { $0["result"] as? String == "failed" })
        let message = failed["message"] as? String ?? ""
        XCTAssertTrue(message.hasPrefix("reloading ospfd failed (exit 1) running /bin/sh -c"), message)
        XCTAssertTrue(message.contains("refusing to reload ospfd"), message)
        // A network event arriving meanwhile coalesces into the same render
        // ("network change, config reload; ...").
        let reason = failed["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("config reload") && reason.hasSuffix("; retrying in 2s"), reason)
        let health = try XCTUnwrap(try statusDocument()["routingDaemon"] as? [String: Any])
        XCTAssertEqual(health["healthy"] as? Bool, false)
        XCTAssertTrue((health["detail"] as? String ?? "").contains("refusing to reload ospfd"), "\(health)")
        XCTAssertGreaterThanOrEqual(metric("ecmpd_routing_failures_total") ?? 0, 1)

        // Installed before the reload was tried: whole, valid, nothing left over.
        XCTAssertTrue(installedOSPFConfig().contains("interface lo\n ip ospf cost 20\n"), installedOSPFConfig())
        for file in ["zebra.conf", "ospfd.conf"] {
            let check = try Command.run(["vtysh", "-C", "-f", "\(routingDirectory)/\(file)"], allowFailure: true)
            XCTAssertEqual(check.status, 0, "\(file) does not parse: \(check.output)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: routingDirectory).filter {
            $0.hasPrefix(".")
        }
        XCTAssertEqual(leftovers, [], "temporary files left behind")

        // Retried on its own, but backing off (2 s, 4 s, 8 s ...): retries
        // about 2 s and 6 s after the first failure, the next at 14 s.
        Thread.sleep(forTimeInterval: 13)
        let failures = try events("routing-reload").filter { $0["result"] as? String == "failed" }
        let times = failures.compactMap(Self.date)
        print(
            "failed reloads in \(clock.now - firstFailure): \(failures.count), at \(times.map { $0.timeIntervalSince(times[0]) })"
        )
        XCTAssertGreaterThanOrEqual(failures.count, 3, "retried without any other trigger")
        XCTAssertLessThanOrEqual(failures.count, 5, "backed off, not retried every second")
        if times.count >= 3 {
            XCTAssertGreaterThan(
                times[2].timeIntervalSince(times[1]), times[1].timeIntervalSince(times[0]) * 1.5,
                "the gaps grow: \(times)")
        }
        XCTAssertEqual(metric("ecmpd_routing_failures_total"), Double(failures.count))
        XCTAssertTrue(try loopback().contains("\(vip)/32"), "a failing reload never touches the VIPs")
        XCTAssertEqual(state(of: vip), "announced")
        XCTAssertTrue(lab.isRunning(pid))
    }
}
