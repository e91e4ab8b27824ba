import ECMPTestSupport
import Foundation
import XCTest

/// Issue "Managed mode", kernel tier: the lab (deploy/lab/lab.sh) with both
/// directors in managed mode. ecmpd programs IPVS from its own checks of
/// the real servers' HTTP and echo services; a dead real server changes
/// IPVS as configured (weight 0 for a fleet-consistent VIP, removal
/// otherwise), all dead withdraws the VIP and the router's FIB drops the
/// directors, recovery restores both. Then the fleet-consistency figure:
/// 1,000 long-lived connections from the client while a director drains.
final class ManagedModeTests: XCTestCase {
    var lab: LabScript?

    override func setUpWithError() throws {
        try KernelTier.requireVM()
    }

    override func tearDown() {
        if let lab, (testRun?.totalFailureCount ?? 0) > 0 {
            for node in ["d1", "d2"] { print("--- ecmpd log of \(node):\n" + lab.log(node)) }
        }
        lab?.down()
    }

    func up(fleet: Bool) throws -> LabScript {
        let lab = LabScript(tag: fleet ? "mf" : "mn", environment: ["ECMPD_LAB_MODE=managed", "ECMPD_LAB_FLEET=\(fleet ? 1 : 0)"])
        self.lab = lab
        try lab.run(["up"])
        let converged = try NetnsLab.waitFor("the router's route over both directors", timeout: .seconds(120), interval: .milliseconds(200)) {
            try lab.routerHas(2)
        }
        print("managed lab (fleet \(fleet)): router has both directors \(converged) after lab.sh up")
        return lab
    }

    let rs1 = "198.18.0.4:80", rs2 = "198.18.0.5:80"

    /// Sum of `ecmpd_ipvs_writes_total` on a director.
    func ipvsWrites(_ lab: LabScript, _ director: Int) throws -> Double {
        let metrics = try lab.exec("d\(director)", ["curl", "-sS", "--max-time", "5", "http://127.0.0.1:9477/metrics"]).output
        return metrics.split(separator: "\n").filter { $0.hasPrefix("ecmpd_ipvs_writes_total{") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    /// Holds 1,000 connections to VIP:9000 from the client, drains d1, and
    /// returns (connections through d1 before, survived, broken).
    func connectionsAcrossADrain(_ lab: LabScript) throws -> (viaD1: Int, open: Int, broken: Int) {
        let state = "\(lab.directory)/hold"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try lab.spawn("client", ["python3", FixtureRepository.url("deploy/lab/hold-connections.py").path, "--host", LabScript.vip,
                                 "--port", "9000", "--count", "1000", "--state-dir", state], log: "\(state)/client.log")
        try NetnsLab.waitFor("1,000 connections open", timeout: .seconds(120), interval: .milliseconds(200)) {
            FileManager.default.fileExists(atPath: "\(state)/ready")
        }
        let ready = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/ready"))) as? [String: Any] ?? [:]
        print("hold-connections ready: \(ready)")
        // Connections d1 carries: its IPVS connection entries to the echo service.
        let entries = try lab.exec("d1", ["ipvsadm", "-Lnc"]).output.split(separator: "\n")
            .filter { $0.contains("ESTABLISHED") && $0.contains("\(LabScript.vip):9000") }.count

        try lab.run(["drain-director", "1"])
        try NetnsLab.waitFor("the router's route down to d2", timeout: .seconds(30), interval: .milliseconds(100)) { try lab.routerHas(1) }
        // The VIP leaves d1's lo after drain_wait (2 s); let that happen too.
        Thread.sleep(forTimeInterval: 3)
        FileManager.default.createFile(atPath: "\(state)/go", contents: nil)
        try NetnsLab.waitFor("the second exchange on every connection", timeout: .seconds(120), interval: .milliseconds(200)) {
            FileManager.default.fileExists(atPath: "\(state)/result.json")
        }
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(state)/result.json"))) as? [String: Any] ?? [:]
        print("hold-connections result: \(result); d1 carried \(entries)")
        try lab.run(["undrain-director", "1"])
        return (entries, result["open"] as? Int ?? 0, result["broken"] as? Int ?? -1)
    }

    /// d1 back in the router's ECMP route after `undrain-director 1`: the
    /// VIP is back on lo at once, but the route needs lo's normal cost in
    /// ospfd again, which is a second frr-reload.py. In one CI run, under
    /// TCG with 1,000 connections open, the drain's own reload took 43 s and
    /// ended after the undrain, so d1 announced at the drained cost until
    /// the next reload, past the 60 s this waited; in a later one the undrain
    /// took 98 s of 120. Up to 180 s now (two reloads queued behind each other
    /// under a loaded TCG guest), and on timeout d1's status, its lo and the
    /// router's route in the failure.
    func waitForUndrain(_ lab: LabScript) throws {
        do {
            let took = try NetnsLab.waitFor("d1 back after undrain", timeout: .seconds(180), interval: .milliseconds(200)) { try lab.routerHas(2) }
            print("managed: undrain-director 1 -> router has both directors after \(took)")
        } catch {
            let status = (try? lab.exec("d1", [Command.ecmpd, "status"], allowFailure: true).output) ?? "(no status)"
            let route = (try? lab.exec("router", ["ip", "route", "show", "\(LabScript.vip)"], allowFailure: true).output) ?? "(no route)"
            let loopback = (try? lab.exec("d1", ["ip", "-4", "-o", "addr", "show", "dev", "lo"], allowFailure: true).output) ?? ""
            XCTFail("\(error)\n--- d1 ecmpd status:\n\(status)\n--- d1 lo:\n\(loopback)\n--- router route to the VIP:\n\(route)")
            throw error
        }
    }

    func testFleetConsistentDirectorsFollowTheirChecksAndKeepFlowsWhenOneLeaves() throws {
        let lab = try up(fleet: true)
        for director in [1, 2] {
            XCTAssertEqual(try lab.weights(director, port: 80), [rs1: 1, rs2: 1], "d\(director)")
            let listing = try lab.exec("d\(director)", ["ipvsadm", "-Ln", "-t", "\(LabScript.vip):80"]).output
            XCTAssertTrue(listing.contains(" mh"), "fleet-consistent services use mh:\n\(listing)")
        }

        // A quiet fleet writes nothing to IPVS.
        let writes = try ipvsWrites(lab, 1)
        Thread.sleep(forTimeInterval: 3)
        XCTAssertEqual(try ipvsWrites(lab, 1), writes, "cycles with nothing new wrote to IPVS")

        // Another program flushes d1's table (`ipvsadm -C`): the next cycle
        // re-applies it, the checks' verdicts keep the VIP announced meanwhile,
        // and the re-application is in history.
        try lab.exec("d1", ["ipvsadm", "-C"])
        let reapplied = try NetnsLab.waitFor("d1's flushed table re-applied", timeout: .seconds(10), interval: .milliseconds(20)) {
            try lab.weights(1, port: 80) == [rs1: 1, rs2: 1] && lab.weights(1, port: 9000).count == 2
        }
        print("managed: ipvsadm -C on d1 -> both services and 4 destinations back after \(reapplied) (poll 100ms)")
        XCTAssertTrue(try lab.routerHas(2), "a flushed table withdrew d1")
        XCTAssertEqual(try ipvsWrites(lab, 1), writes + 6, "2 services and 4 destinations re-added, nothing else")
        let history = try lab.exec("d1", [Command.ecmpd, "history", "--db", "\(lab.directory)/d1/state/history.sqlite", "--json"]).output
        let entries = try JSONSerialization.jsonObject(with: Data(history.utf8)) as? [[String: Any]] ?? []
        let reapply = entries.last { $0["kind"] as? String == "ipvs" }
        XCTAssertTrue((reapply?["reason"] as? String ?? "").contains("add"), "no re-application in history: \(reapply ?? [:])")

        // Another program changes one destination's weight: the services
        // still match the plan, so the change is found by the whole-table
        // read at least every managedAuditInterval (10 s) and put back with
        // one write.
        // (Not read back here: an audit can fall between the edit and the
        // read, as it did in one CI run. The write count below proves the
        // edit was seen and undone.)
        try lab.exec("d1", ["ipvsadm", "-e", "-t", "\(LabScript.vip):80", "-r", rs1, "-g", "-w", "5"])
        let restored = try NetnsLab.waitFor("d1's edited weight put back", timeout: .seconds(20), interval: .milliseconds(50)) {
            try lab.weights(1, port: 80) == [rs1: 1, rs2: 1]
        }
        print("managed: ipvsadm -e (weight 5) on d1 -> weight 1 again after \(restored) (audit every 10 s)")
        XCTAssertLessThan(restored, .seconds(12), "not put back within the audit interval and a cycle")
        XCTAssertEqual(try ipvsWrites(lab, 1), writes + 7, "the edited destination alone written back")

        // 1,000 long-lived connections while d1 leaves the ECMP set.
        let flows = try connectionsAcrossADrain(lab)
        print("BENCH fleet-consistency mh: \(flows.broken) of \(flows.open) connections broken; \(flows.viaD1) were via d1")
        XCTAssertGreaterThanOrEqual(flows.open, 990)
        XCTAssertGreaterThan(flows.viaD1, 100, "d1 carried too few flows for the drain to prove anything")
        XCTAssertLessThanOrEqual(Double(flows.broken), Double(flows.open) * 0.001, "more than 0.1% of flows broke")
        try waitForUndrain(lab)

        // rs1's HTTP server dies: weight 0 (its place kept) on both directors.
        var clock = ContinuousClock.now
        try lab.run(["fail-rs", "1"])
        let detected = try NetnsLab.waitFor("rs1 at weight 0 on both directors", timeout: .seconds(15), interval: .milliseconds(100)) {
            try lab.weights(1, port: 80) == [rs1: 0, rs2: 1] && lab.weights(2, port: 80) == [rs1: 0, rs2: 1]
        }
        print("managed: rs1 dead -> weight 0 on both directors after \(detected) (interval 1s x fall 2 + timeout 1s)")
        XCTAssertEqual(try lab.weights(1, port: 9000), ["198.18.0.4:9000": 1, "198.18.0.5:9000": 1], "the echo service's checks still pass")
        XCTAssertTrue(try lab.routerHas(2), "one live real server keeps the VIP announced")

        // rs2 too: the HTTP service has no live server, the VIP is withdrawn everywhere.
        clock = .now
        try lab.run(["fail-rs", "2"])
        try NetnsLab.waitFor("the router's route to the VIP gone", timeout: .seconds(20), interval: .milliseconds(100)) { try lab.routerHas(0) }
        print("managed: both real servers dead -> route gone after \(ContinuousClock.now - clock)")
        XCTAssertEqual(try lab.weights(1, port: 80), [rs1: 0, rs2: 0])

        // Recovery restores IPVS and the route. restore-rs returns once the
        // HTTP server listens (python can take 30 s to start under TCG); one
        // live server is enough to announce, so the route can be back before
        // rs2's rise (2 checks) is over: wait for the weights, not only the route.
        try lab.run(["restore-rs", "1"])
        try lab.run(["restore-rs", "2"])
        clock = .now
        try NetnsLab.waitFor("both real servers at weight 1 on both directors", timeout: .seconds(30), interval: .milliseconds(100)) {
            try lab.weights(1, port: 80) == [rs1: 1, rs2: 1] && lab.weights(2, port: 80) == [rs1: 1, rs2: 1]
        }
        print("managed: both real servers listening -> weight 1 on both directors after \(ContinuousClock.now - clock) (rise 2 x interval 1s)")
        try NetnsLab.waitFor("both directors back", timeout: .seconds(60), interval: .milliseconds(200)) { try lab.routerHas(2) }

        let status = try lab.exec("d1", [Command.ecmpd, "status"]).output
        XCTAssertTrue(status.contains("LAST ERROR") && status.contains("connection refused"), status)
    }

    func testWithoutFleetConsistencyAFailedServerIsRemovedAndMovedFlowsBreak() throws {
        let lab = try up(fleet: false)
        XCTAssertEqual(try lab.weights(1, port: 80), [rs1: 1, rs2: 1])

        let flows = try connectionsAcrossADrain(lab)
        print("BENCH fleet-consistency wrr: \(flows.broken) of \(flows.open) connections broken; \(flows.viaD1) were via d1")
        XCTAssertGreaterThan(flows.viaD1, 100)
        XCTAssertGreaterThan(flows.broken, 0, "without mh a moved flow can land on another real server")
        try waitForUndrain(lab)

        try lab.run(["fail-rs", "1"])
        try NetnsLab.waitFor("rs1 removed on both directors", timeout: .seconds(15), interval: .milliseconds(100)) {
            try lab.weights(1, port: 80) == [rs2: 1] && lab.weights(2, port: 80) == [rs2: 1]
        }
        try lab.run(["restore-rs", "1"])
        // restore-rs returns once the HTTP server listens; then rise (2) checks.
        try NetnsLab.waitFor("rs1 back on both directors", timeout: .seconds(30), interval: .milliseconds(100)) {
            try lab.weights(1, port: 80) == [rs1: 1, rs2: 1] && lab.weights(2, port: 80) == [rs1: 1, rs2: 1]
        }
        XCTAssertTrue(try lab.routerHas(2))
    }
}
