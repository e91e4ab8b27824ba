import ECMPCore
import ECMPTestSupport
import Foundation
import XCTest

/// Issue "The controller", kernel tier: the whole loop on a real kernel
/// with IPVS and real FRR. IPVS weights on a director decide whether the
/// router's kernel forwards the VIP to it.
final class ControllerScenarioTests: XCTestCase {
    var fleet: ControllerFleet!

    override func setUpWithError() throws {
        try KernelTier.requireVM()
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
    }

    override func tearDown() {
        if let fleet, (testRun?.totalFailureCount ?? 0) > 0 {
            for index in fleet.directors.indices {
                print("--- ecmpd log of \(fleet.directors[index].name):\n\(fleet.log(index))")
            }
        }
        fleet?.tearDown()
    }

    func testIPVSWeightsDecideWhichDirectorsTheRouterForwardsTheVIPTo() throws {
        fleet = try ControllerFleet()
        let fleet = try XCTUnwrap(fleet)
        try fleet.start()
        let both = fleet.bothDirectors
        let d1 = fleet.directors[0].address, d2 = fleet.directors[1].address
        let converged = try NetnsLab.waitFor(
            "the router's VIP route over both directors", timeout: .seconds(120), interval: .milliseconds(100)
        ) {
            try fleet.routerNexthops() == both
        }
        print("router forwards the VIP over both directors \(converged) after the daemons started")

        // Every destination on d1 to weight 0: d1 leaves the ECMP set.
        let zeroedAt = ContinuousClock.now
        try fleet.setWeights(0, to: 0)
        let withdrawn = try NetnsLab.waitFor(
            "d1's nexthop to leave the router's route", timeout: .seconds(30), interval: .milliseconds(20)
        ) {
            try fleet.routerNexthops() == [d2]
        }
        print("weights 0 on d1 -> router dropped d1 after \(withdrawn)")
        XCTAssertFalse(try fleet.onLoopback(0), "the VIP left d1's lo")
        XCTAssertTrue(try fleet.onLoopback(1), "d2 keeps the VIP")

        // Weights back: d1 returns after rise good observations and the
        // hold-down since its withdrawal.
        try fleet.setWeights(0, to: 1)
        let restored = try NetnsLab.waitFor(
            "d1's nexthop to return", timeout: .seconds(60), interval: .milliseconds(20)
        ) {
            try fleet.routerNexthops() == both
        }
        print("weights restored on d1 -> router has both directors again after \(restored)")
        // The withdrawal came after the weights went to 0, and the announce
        // at least 2 s (hold_down) after the withdrawal.
        XCTAssertGreaterThanOrEqual(
            ContinuousClock.now - zeroedAt, .seconds(2), "re-announced before the 2 s hold-down was over")

        // kill -9 and restart: the route never loses d1 meanwhile.
        kill(fleet.directors[0].pid, SIGKILL)
        XCTAssertNotNil(fleet.lab.waitExit(fleet.directors[0].pid, timeout: .seconds(10)))
        var samples = 0
        let clock = ContinuousClock()
        let killedAt = clock.now
        while clock.now - killedAt < .seconds(2) {
            XCTAssertEqual(try fleet.routerNexthops(), both, "route flapped while ecmpd was dead")
            samples += 1
        }
        XCTAssertTrue(try fleet.onLoopback(0), "a killed ecmpd leaves the VIP on lo")
        try fleet.startEcmpd(0)
        let restartedAt = clock.now
        while clock.now - restartedAt < .seconds(5) {
            XCTAssertEqual(try fleet.routerNexthops(), both, "route flapped while ecmpd restarted")
            samples += 1
        }
        print("kill -9 and restart of d1's ecmpd: router kept both directors in \(samples) samples over 7 s")
        XCTAssertTrue(fleet.lab.isRunning(fleet.directors[0].pid))
        // The restarted ecmpd adopted the VIP: no announce or withdraw since.
        let history = try fleet.history(0)
        let start = try XCTUnwrap(history.lastIndex { ($0["reason"] as? String)?.contains("started with") == true })
        let moves = history[start...].filter { ["announce", "withdraw"].contains($0["kind"] as? String) }
        XCTAssertEqual(moves.count, 0, "the restart moved the VIP: \(moves)")

        // SIGHUP with a broken config: logged, old behaviour kept.
        let director = fleet.directors[0]
        let good = try String(contentsOfFile: director.config, encoding: .utf8)
        try (good + "  - address: [this is not\n").write(toFile: director.config, atomically: true, encoding: .utf8)
        kill(director.pid, SIGHUP)
        try NetnsLab.waitFor(
            "a failed config-reload in d1's history", timeout: .seconds(20), interval: .milliseconds(100)
        ) {
            try fleet.history(0).contains {
                $0["kind"] as? String == "config-reload" && $0["result"] as? String == "failed"
            }
        }
        let failure = try fleet.history(0).last {
            $0["kind"] as? String == "config-reload" && $0["result"] as? String == "failed"
        }
        XCTAssertTrue((failure?["message"] as? String ?? "").contains(director.config), "\(failure ?? [:])")
        XCTAssertTrue(fleet.lab.isRunning(director.pid), "a broken config on SIGHUP must not stop ecmpd")
        try fleet.setWeights(0, to: 0)
        let withdrawnAgain = try NetnsLab.waitFor(
            "d1 withdrawn under the old config", timeout: .seconds(30), interval: .milliseconds(20)
        ) {
            try fleet.routerNexthops() == [d2]
        }
        print("after a rejected SIGHUP, weights 0 still withdrew d1 in \(withdrawnAgain)")
        try good.write(toFile: director.config, atomically: true, encoding: .utf8)

        // Every transition is in history and in /metrics.
        let events = try fleet.history(0).filter { $0["vip"] as? String == ControllerFleet.vip.description }
        let kinds = events.compactMap { $0["kind"] as? String }
        XCTAssertGreaterThanOrEqual(kinds.filter { $0 == "withdraw" }.count, 2, "\(kinds)")
        XCTAssertGreaterThanOrEqual(kinds.filter { $0 == "announce" }.count, 1, "\(kinds)")
        XCTAssertTrue(kinds.contains("backend-count"), "\(kinds)")
        XCTAssertTrue(
            events.contains {
                $0["kind"] as? String == "withdraw"
                    && ($0["reason"] as? String ?? "").contains("0 of 2 backends usable")
            },
            "\(events)")
        let metrics = try fleet.metrics(0)
        // The restarted process counts its own transitions: one withdraw so far.
        XCTAssertTrue(
            metrics.contains("ecmpd_vip_transitions_total{vip=\"\(ControllerFleet.vip)\",direction=\"withdraw\"} 1")
                || metrics.contains(
                    "ecmpd_vip_transitions_total{direction=\"withdraw\",vip=\"\(ControllerFleet.vip)\"} 1"),
            metrics)
        XCTAssertTrue(metrics.contains("ecmpd_vip_announced{vip=\"\(ControllerFleet.vip)\"} 0"), metrics)
        XCTAssertTrue(metrics.contains("ecmpd_backends_usable{vip=\"\(ControllerFleet.vip)\"} 0"), metrics)
        XCTAssertTrue(metrics.contains("ecmpd_reconcile_duration_seconds_bucket"), metrics)
        XCTAssertEqual(try fleet.routerNexthops(), [d2])
    }

    /// `controller.guard_last_announcer`: d1 keeps a VIP whose backends
    /// failed while ospfd's database shows no other director announcing
    /// it, and withdraws once d2 announces again.
    func testTheLastAnnouncerGuardHoldsTheVIPUntilAnotherDirectorAnnouncesIt() throws {
        fleet = try ControllerFleet(holdDown: "0s", guardLastAnnouncer: true)
        let fleet = try XCTUnwrap(fleet)
        try fleet.start()
        let both = fleet.bothDirectors
        let d1 = fleet.directors[0].address, d2 = fleet.directors[1].address
        try NetnsLab.waitFor(
            "both directors in the router's route", timeout: .seconds(120), interval: .milliseconds(100)
        ) {
            try fleet.routerNexthops() == both
        }
        // d2 fails first: d1 still announces, so d2 is not the last one.
        try fleet.setWeights(1, to: 0)
        try NetnsLab.waitFor("d2 to leave the route", timeout: .seconds(30), interval: .milliseconds(20)) {
            try fleet.routerNexthops() == [d1]
        }
        // Now d1 fails too: it is the last announcer, so it holds.
        try fleet.setWeights(0, to: 0)
        try NetnsLab.waitFor("d1 to report the hold", timeout: .seconds(30), interval: .milliseconds(100)) {
            try fleet.status(0)["state"] as? String == "held"
        }
        let clock = ContinuousClock()
        let heldSince = clock.now
        while clock.now - heldSince < .seconds(2) {
            XCTAssertEqual(try fleet.routerNexthops(), [d1], "the last announcer withdrew")
        }
        XCTAssertTrue(try fleet.onLoopback(0))
        // d2 recovers and announces: d1's held withdrawal goes through.
        try fleet.setWeights(1, to: 1)
        let released = try NetnsLab.waitFor(
            "d2 announcing and d1 withdrawn", timeout: .seconds(60), interval: .milliseconds(20)
        ) {
            try fleet.routerNexthops() == [d2]
        }
        print("guard released \(released) after d2's backends came back")
        let withdraw = try fleet.history(0).last { $0["kind"] as? String == "withdraw" }
        XCTAssertTrue(
            (withdraw?["reason"] as? String ?? "").contains("another director announces it again"), "\(withdraw ?? [:])"
        )
    }
}
