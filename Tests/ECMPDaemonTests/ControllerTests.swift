@testable import ECMPDaemon
import ECMPCore
import Foundation
import Logging
import XCTest

/// The controller's decisions, cycle by cycle, with fake edges and a
/// manual clock: no root, no kernel, no sleeps. What needs the kernel or FRR
/// (rtnetlink, IPVS over generic netlink, ospfd) is proven in the
/// namespace and kernel tiers.
final class ControllerTests: XCTestCase {
    let vip = IPAddress.v4(IPv4Address(198, 18, 0, 100))
    var identity: IPVSServiceIdentity { .tcp(vip, port: 80) }

    /// One director's world, kept across a controller restart.
    struct Director {
        let loopback = FakeLoopback()
        let ipvs = FakeIPVS()
        let owned = MemoryRecord<LoopbackRecord>()
        let drains = MemoryRecord<DrainRecord>()
        let routing = RecordedRoutingRequests()
        let events = RecordedEvents()
        let clock = ManualClock()
        let announcers = FakeAnnouncers()
        let checker = FakeChecker()
        static let quiet = Logger(label: "ecmpd.tests", factory: { _ in SwiftLogNoOpLogHandler() })

        /// A controller on these edges, started.
        func start(_ config: Config) async throws -> (Controller, ControllerStatus) {
            let status = ControllerStatus()
            let edges = ControllerEdges(
                loopback: loopback, ipvs: ipvs, ownedRecord: owned, drainRecord: drains, routing: routing,
                events: events, announcers: config.controller.guardLastAnnouncer ? announcers : nil,
                checker: config.mode == .managed ? checker : nil, clock: clock)
            let loaded = LoadedConfig(config: config, file: "/etc/ecmpd/ecmpd.yaml")
            let controller = Controller(
                loaded: loaded, edges: edges, status: status, metrics: ControllerMetrics(),
                logger: Self.quiet)
            try await controller.start()
            return (controller, status)
        }
    }

    func health(
        minimum: BackendThreshold = .count(1), rise: Int = 1, fall: Int = 1,
        holdDown: Duration = .zero
    ) -> HealthPolicy {
        HealthPolicy(minimumHealthy: minimum, rise: rise, fall: fall, holdDown: holdDown)
    }

    func observeConfig(_ health: HealthPolicy, guardLastAnnouncer: Bool = false) -> Config {
        let service = VirtualService(listener: .port(.tcp, 80))
        var config = Config(vips: [VIPConfig(address: vip, health: health, services: [service])])
        config.controller.guardLastAnnouncer = guardLastAnnouncer
        return config
    }

    /// keepalived's table for the VIP: one destination per weight.
    func table(_ weights: [Int32]) -> IPVSTable {
        IPVSTable([
            IPVSTable.Entry(
                IPVSService(identity),
                destinations: weights.enumerated().map { index, weight in
                    IPVSDestination(IPAddress("198.18.1.\(index + 1)")!, port: 80, weight: weight)
                })
        ])
    }

    /// `count` cycles, each `interval` after the previous one.
    func cycles(
        _ controller: Controller, _ count: Int, clock: ManualClock,
        every interval: Duration = .seconds(1)
    ) async {
        for _ in 0..<count {
            clock.advance(interval)
            await controller.cycle()
        }
    }

    func state(_ status: ControllerStatus) async -> VIPStatus.State? {
        await status.snapshot().vips.first?.state
    }

    // MARK: fall, rise, hold-down

    func testAnnouncesAfterRiseGoodCyclesAndWithdrawsAfterFallBadOnes() async throws {
        let director = Director()
        director.ipvs.set(table([1, 1]))
        let (controller, _) = try await director.start(observeConfig(health(rise: 3, fall: 2)))
        await cycles(controller, 2, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip), "two of three good cycles")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        XCTAssertEqual(director.owned.record?.addresses, [vip], "owned before it was added")

        director.ipvs.set(table([0, 0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "one of two bad cycles")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        XCTAssertEqual(
            director.events.of(.withdraw).map(\.reason),
            ["0 of 2 backends usable, below minimum 1, for 2 observations"])
    }

    func testHoldDownKeepsAWithdrawnVIPOffUntilItEnds() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        let (controller, _) = try await director.start(observeConfig(health(holdDown: .seconds(30))))
        director.ipvs.set(table([0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))

        director.ipvs.set(table([1]))
        await cycles(controller, 29, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip), "29 s of a 30 s hold-down")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        XCTAssertEqual(
            director.events.of(.announce).last?.reason,
            "1 of 1 backend usable, at least minimum 1, for 30 observations; hold-down of 30s over")
    }

    // MARK: min_healthy

    func testMinimumHealthyAsACount() async throws {
        let director = Director()
        director.ipvs.set(table([1, 1, 1]))
        let (controller, status) = try await director.start(observeConfig(health(minimum: .count(2))))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        director.ipvs.set(table([1, 1, 0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "2 of 3 meets a minimum of 2")
        director.ipvs.set(table([1, 0, 0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        let shown = await status.snapshot().vips.first
        XCTAssertEqual(shown?.reason, "1 of 3 backends usable, below minimum 2, for 1 observation")
        XCTAssertEqual(shown.map { [$0.usable, $0.total] }, [1, 3])
    }

    func testMinimumHealthyAsAPercentageRoundsUp() async throws {
        let director = Director()
        director.ipvs.set(table([1, 1, 1, 1, 1]))
        let (controller, _) = try await director.start(observeConfig(health(minimum: .percent(50))))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        director.ipvs.set(table([1, 1, 1, 0, 0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "50% of 5 is 3")
        director.ipvs.set(table([1, 1, 0, 0, 0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        XCTAssertEqual(
            director.events.of(.withdraw).last?.reason,
            "2 of 5 backends usable, below minimum 3, for 1 observation")
    }

    // MARK: drains

    func testADirectorDrainRaisesTheCostFirstAndRemovesTheVIPsAfterTheWait() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        var config = observeConfig(health())
        config.controller.drainWait = .seconds(10)
        let (controller, status) = try await director.start(config)
        try director.drains.write(DrainRecord(director: true))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(director.routing.all.last?.loopbackCost, config.controller.drainCost)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "the cost goes first")
        await cycles(controller, 9, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "9 s of a 10 s wait")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        let shown = await state(status)
        XCTAssertEqual(shown, .draining)

        try director.drains.write(DrainRecord())
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(director.routing.all.last?.loopbackCost, nil, "lo's cost back")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        XCTAssertEqual(director.events.of(.drain).count, 1)
        XCTAssertEqual(director.events.of(.undrain).count, 1)
    }

    func testADrainHoldsAcrossARestartAndARestartDuringTheWaitWaitsAgain() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        var config = observeConfig(health())
        config.controller.drainWait = .seconds(10)
        let (first, _) = try await director.start(config)
        try director.drains.write(DrainRecord(director: true))
        await cycles(first, 5, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))

        // ecmpd restarts half-way through the wait: it waits again in full.
        let (second, _) = try await director.start(config)
        XCTAssertEqual(director.routing.all.count, 1, "start-up asks for no render; the daemon does")
        await cycles(second, 9, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        await cycles(second, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))

        // And a drained director restarted stays drained, healthy as it is.
        let (third, status) = try await director.start(config)
        await cycles(third, 3, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        let shown = await state(status)
        XCTAssertEqual(shown, .draining)
        let inputs = await third.routingInputs
        XCTAssertEqual(inputs.loopbackCost, config.controller.drainCost)
    }

    func testASingleVIPDrainWithdrawsAtOnceAndAnUndrainReturnsItWhenHealthy() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        let (controller, _) = try await director.start(observeConfig(health()))
        try director.drains.write(DrainRecord(vips: [vip.description]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        XCTAssertTrue(director.routing.all.isEmpty, "a single VIP's drain leaves lo's cost alone")
        try director.drains.write(DrainRecord())
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        XCTAssertEqual(director.events.of(.announce).last?.reason.hasPrefix("undrained; "), true)
    }

    // MARK: last-announcer guard

    func testTheLastAnnouncerGuardHoldsAWithdrawalWhileNoOtherDirectorAnnounces() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        let (controller, status) = try await director.start(observeConfig(health(fall: 2), guardLastAnnouncer: true))
        director.announcers.answer(false)
        director.ipvs.set(table([0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.announcers.asked.isEmpty, "asked only when the observation would withdraw")
        await cycles(controller, 2, clock: director.clock)
        XCTAssertEqual(director.announcers.asked, [[vip], [vip]])
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        var shown = await state(status)
        XCTAssertEqual(shown, .held)

        director.announcers.answer(true)
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        XCTAssertEqual(
            director.events.of(.withdraw).last?.reason.hasSuffix("; another director announces it again"),
            true)
        shown = await state(status)
        XCTAssertEqual(shown, .withdrawn)
    }

    func testAnUnknownAnswerNeverHoldsAWithdrawal() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        let (controller, _) = try await director.start(observeConfig(health(), guardLastAnnouncer: true))
        director.announcers.answer(nil)
        director.ipvs.set(table([0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
    }

    // MARK: managed mode

    func managedConfig() -> Config {
        let check = HealthCheck(kind: .tcp)
        let service = VirtualService(
            listener: .port(.tcp, 80), scheduler: "wrr",
            realServers: (1...4).map { RealServer(address: IPAddress("198.18.1.\($0)")!, port: 80, check: check) },
            quorum: 3, hysteresis: 1, sorryServer: RealServerAddress(address: IPAddress("198.18.2.1")!, port: 80))
        return Config(mode: .managed, vips: [VIPConfig(address: vip, health: health(), services: [service])])
    }

    /// Servers 1...4: the first `up` are up, the rest down.
    func verdicts(up: Int) -> [RealServerKey: CheckTracker.Verdict] {
        Dictionary(
            uniqueKeysWithValues: (1...4).map { server in
                let destination = IPVSDestinationKey(IPAddress("198.18.1.\(server)")!, port: 80)
                let verdict: CheckTracker.Verdict = server <= up ? .up : .down
                return (RealServerKey(service: identity, destination: destination), verdict)
            })
    }

    func destinations(_ ipvs: FakeIPVS) -> [String] {
        (ipvs.current[identity]?.destinations ?? []).map { "\($0.address)" }.sorted()
    }

    func testManagedQuorumWithHysteresisAndTheSorryServer() async throws {
        let director = Director()
        director.checker.set(verdicts(up: 4))
        let (controller, _) = try await director.start(managedConfig())
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(destinations(director.ipvs), ["198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4"])
        XCTAssertTrue(director.loopback.hosts.contains(vip))

        director.checker.set(verdicts(up: 2))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(destinations(director.ipvs), ["198.18.1.1", "198.18.1.2"], "2 >= quorum 3 - hysteresis 1")
        XCTAssertTrue(director.events.of(.quorum).isEmpty)

        director.checker.set(verdicts(up: 1))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(destinations(director.ipvs), ["198.18.2.1"], "quorum lost: the sorry server alone")
        XCTAssertFalse(director.loopback.hosts.contains(vip), "a VIP without quorum is withdrawn")
        XCTAssertEqual(
            director.events.of(.quorum).map(\.reason),
            ["TCP 198.18.0.100:80: quorum lost, live weight 1 < 2; sorry server 198.18.2.1:80 added"])

        director.checker.set(verdicts(up: 3))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(destinations(director.ipvs), ["198.18.2.1"], "3 < quorum 3 + hysteresis 1")
        XCTAssertFalse(director.loopback.hosts.contains(vip))

        director.checker.set(verdicts(up: 4))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(destinations(director.ipvs), ["198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4"])
        XCTAssertTrue(director.loopback.hosts.contains(vip))
        XCTAssertEqual(director.events.of(.quorum).count, 2)
    }

    func testManagedCyclesReadTheWholeTableOnlyWhenSomethingChanged() async throws {
        let director = Director()
        director.checker.set(verdicts(up: 4))
        let (controller, _) = try await director.start(managedConfig())
        await cycles(controller, 3, clock: director.clock)
        XCTAssertEqual(director.ipvs.tableReads, 1, "the plan is reused while verdicts and services stay")
        director.checker.set(verdicts(up: 3))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(director.ipvs.tableReads, 2)
        await cycles(controller, 1, clock: director.clock, every: ManagedPlanCache.auditInterval)
        XCTAssertEqual(director.ipvs.tableReads, 3, "the audit interval is over")
        let writes = director.ipvs.applied.count
        director.ipvs.set(IPVSTable())
        await cycles(controller, 1, clock: director.clock)
        XCTAssertEqual(director.ipvs.tableReads, 4, "a flushed table is noticed")
        XCTAssertEqual(destinations(director.ipvs), ["198.18.1.1", "198.18.1.2", "198.18.1.3"])
        XCTAssertGreaterThan(director.ipvs.applied.count, writes)
    }

    // MARK: adoption, failures, clocks

    func testAVIPAlreadyOnLoAtStartStaysWithoutAFlap() async throws {
        let director = Director()
        director.ipvs.set(table([1, 1]))
        director.loopback.place(vip)
        let (controller, status) = try await director.start(observeConfig(health(rise: 3, fall: 2)))
        XCTAssertEqual(director.owned.record?.addresses, [vip], "adopted: ecmpd's from now on")
        director.ipvs.set(table([0, 0]))
        await cycles(controller, 1, clock: director.clock)
        director.ipvs.set(table([1, 1]))
        await cycles(controller, 5, clock: director.clock)
        XCTAssertTrue(director.loopback.changes.added.isEmpty)
        XCTAssertTrue(director.loopback.changes.removed.isEmpty)
        XCTAssertTrue(director.events.of(.announce).isEmpty && director.events.of(.withdraw).isEmpty)
        let shown = await state(status)
        XCTAssertEqual(shown, .announced)
    }

    func testAnAddressOnLoWithAnotherPrefixIsNeitherAdoptedNorTouched() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip, prefixLength: 24)
        let (controller, _) = try await director.start(observeConfig(health()))
        await cycles(controller, 3, clock: director.clock)
        XCTAssertTrue(director.loopback.changes.added.isEmpty && director.loopback.changes.removed.isEmpty)
    }

    func testAFailedIPVSDumpCountsNoBackendsAndFallStillApplies() async throws {
        let director = Director()
        director.ipvs.set(table([1, 1]))
        director.loopback.place(vip)
        let (controller, _) = try await director.start(observeConfig(health(rise: 2, fall: 2)))
        director.ipvs.setFailing(true)
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "one failed read is one bad observation")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))
        XCTAssertEqual(director.events.of(.backendCount).last?.reason, "TCP 198.18.0.100:80: missing or empty")

        director.ipvs.setFailing(false)
        await cycles(controller, 2, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip))
    }

    func testWallClockStepsChangeNoDecisionAndOnlyDateTheRecords() async throws {
        let director = Director()
        director.ipvs.set(table([1]))
        director.loopback.place(vip)
        let (controller, status) = try await director.start(observeConfig(health(holdDown: .seconds(60))))
        director.ipvs.set(table([0]))
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip))

        director.ipvs.set(table([1]))
        director.clock.stepWallClock(by: 86_400)
        await cycles(controller, 1, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip), "a day forward on the wall clock ends no hold-down")
        director.clock.stepWallClock(by: -2 * 86_400)
        await cycles(controller, 58, clock: director.clock)
        XCTAssertFalse(director.loopback.hosts.contains(vip), "a step back does not extend it either")
        await cycles(controller, 1, clock: director.clock)
        XCTAssertTrue(director.loopback.hosts.contains(vip), "60 s on the monotonic clock")
        let shown = await status.snapshot().vips.first
        XCTAssertEqual(shown?.lastChange, director.clock.wallTime, "the record carries the wall time of the change")
    }
}
