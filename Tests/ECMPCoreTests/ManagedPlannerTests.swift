@testable import ECMPCore
import XCTest

/// Managed mode's table from check verdicts: removal or weight 0, servers
/// not yet checked, quorum with hysteresis, the sorry server, and the VIP
/// counts that feed its policy.
final class ManagedPlannerTests: XCTestCase {
    let vip = IPv4Address(198, 18, 0, 100)
    let check = HealthCheck(kind: .tcp)

    func ip(_ last: Int) -> IPAddress { IPAddress("198.18.1.\(last)")! }

    func service(
        weights: [Int] = [1, 1, 1], inhibit: Bool = false, quorum: Int? = nil, hysteresis: Int = 0,
        sorry: RealServerAddress? = nil, checked: Bool = true
    ) -> VirtualService {
        VirtualService(
            listener: .port(.tcp, 80), scheduler: "wrr",
            realServers: weights.enumerated().map {
                RealServer(address: ip($0 + 1), port: 80, weight: $1, check: checked ? check : nil)
            },
            quorum: quorum, hysteresis: hysteresis, sorryServer: sorry, inhibitOnFailure: inhibit)
    }

    func config(_ services: [VirtualService], fleetConsistent: Bool = false) -> Config {
        Config(mode: .managed, vips: [VIPConfig(address: vip, services: services, fleetConsistent: fleetConsistent)])
    }

    var identity: IPVSServiceIdentity { .tcp(.v4(vip), port: 80) }

    func key(_ last: Int) -> RealServerKey {
        RealServerKey(service: identity, destination: IPVSDestinationKey(ip(last), port: 80))
    }

    func verdicts(_ list: [CheckTracker.Verdict]) -> [RealServerKey: CheckTracker.Verdict] {
        Dictionary(uniqueKeysWithValues: list.enumerated().map { (key($0 + 1), $1) })
    }

    /// Address last octet → weight, for the planned service.
    func weights(_ plan: ManagedPlanner.Plan) -> [Int: Int32] {
        let entry = plan.desired.table.entries.first { $0.service.identity == identity }!
        return Dictionary(
            uniqueKeysWithValues: entry.destinations.map { destination -> (Int, Int32) in
                guard case .v4(let address) = destination.address else { return (0, destination.weight) }
                return (Int(address.octets.3), destination.weight)
            })
    }

    func plan(
        _ config: Config, _ verdicts: [RealServerKey: CheckTracker.Verdict], actual: IPVSTable = IPVSTable(),
        quorum: [IPVSServiceIdentity: Bool] = [:]
    ) -> ManagedPlanner.Plan {
        ManagedPlanner.plan(config, verdicts: verdicts, actual: actual, quorum: quorum)
    }

    func testEveryServerUpIsTheConfiguredTable() {
        let config = config([service(weights: [1, 2, 3])])
        let result = plan(config, verdicts([.up, .up, .up]))
        XCTAssertEqual(result.desired.table, IPVSDesiredTable(config).table)
        XCTAssertEqual(result.counts[.v4(vip)]?.usable, 3)
        XCTAssertEqual(result.counts[.v4(vip)]?.total, 3)
    }

    func testAFailedServerIsRemovedOrInhibited() {
        XCTAssertEqual(weights(plan(config([service()]), verdicts([.up, .down, .up]))), [1: 1, 3: 1])
        XCTAssertEqual(
            weights(plan(config([service(inhibit: true)]), verdicts([.up, .down, .up]))), [1: 1, 2: 0, 3: 1])
        XCTAssertEqual(
            weights(plan(config([service()], fleetConsistent: true), verdicts([.up, .down, .up]))), [1: 1, 2: 0, 3: 1],
            "fleet-consistent VIPs keep a failed server's place")
        XCTAssertEqual(plan(config([service(inhibit: true)]), verdicts([.up, .down, .up])).counts[.v4(vip)]?.usable, 2)
    }

    func testAServerNotYetCheckedIsLeftAsTheKernelHasIt() {
        let config = config([service()])
        var kernel = IPVSDesiredTable(config).table
        kernel.entries[0].destinations[1].weight = 0
        let result = plan(config, [:], actual: kernel)
        XCTAssertEqual(weights(result), [1: 1, 2: 0, 3: 1])
        XCTAssertEqual(result.counts[.v4(vip)]?.usable, 2)
        XCTAssertTrue(
            IPVSReconcilePlan(desired: result.desired.table, actual: kernel, ownership: result.desired.ownership)
                .isEmpty,
            "a restart writes nothing before the checks have spoken")
        XCTAssertTrue(result.quorum.isEmpty, "no quorum decision while verdicts are pending")
    }

    func testAServerNotYetCheckedIsNotAddedUnlessInhibitKeepsItsPlace() {
        XCTAssertEqual(weights(plan(config([service()]), [:])), [:])
        XCTAssertEqual(weights(plan(config([service(inhibit: true)]), [:])), [1: 0, 2: 0, 3: 0])
        XCTAssertEqual(plan(config([service()]), [:]).counts[.v4(vip)]?.usable, 0)
    }

    func testServersWithoutACheckAreAlwaysUp() {
        let result = plan(config([service(checked: false)]), [:])
        XCTAssertEqual(weights(result), [1: 1, 2: 1, 3: 1])
        XCTAssertEqual(result.quorum[identity], true)
    }

    func testQuorumIsLostBelowQuorumMinusHysteresisAndRegainedAtQuorumPlusHysteresis() {
        // Weights 2 each, quorum 4, hysteresis 1: lost below 3, regained at 5.
        let config = config([service(weights: [2, 2, 2], quorum: 4, hysteresis: 1)])
        var held: [IPVSServiceIdentity: Bool] = [:]
        let steps: [([CheckTracker.Verdict], Bool)] = [
            ([.up, .up, .up], true),  // 6
            ([.up, .up, .down], true),  // 4: still ≥ 3
            ([.up, .down, .down], false),  // 2 < 3: lost
            ([.up, .up, .down], false),  // 4 < 5: not yet regained
            ([.up, .up, .up], true),  // 6 ≥ 5
        ]
        for (index, (list, expected)) in steps.enumerated() {
            let result = plan(config, verdicts(list), quorum: held)
            XCTAssertEqual(result.quorum[identity], expected, "step \(index)")
            XCTAssertEqual(
                result.counts[.v4(vip)]?.usable, expected ? list.filter { $0 == .up }.count : 0, "step \(index)")
            if held[identity] != nil && held[identity] != expected {
                XCTAssertEqual(result.quorumChanges.map(\.held), [expected], "step \(index)")
            } else {
                XCTAssertEqual(result.quorumChanges, [], "step \(index)")
            }
            held = result.quorum
        }
    }

    func testLiveWeightZeroAlwaysLosesQuorum() {
        let result = plan(config([service(weights: [0, 0])]), verdicts([.up, .up]), quorum: [identity: true])
        XCTAssertEqual(result.quorum[identity], false)
    }

    func testTheSorryServerReplacesTheLiveServersWhileQuorumIsLost() {
        let sorry = RealServerAddress(address: IPAddress("198.18.2.1")!, port: 8080)
        let config = config([service(weights: [1, 1, 1], quorum: 2, sorry: sorry)])
        let lost = plan(config, verdicts([.up, .down, .down]), quorum: [identity: true])
        let destinations = lost.desired.table.entries[0].destinations
        XCTAssertEqual(
            destinations.map(\.key.description), ["198.18.2.1:8080"], "the live server leaves too, as in keepalived")
        XCTAssertEqual(destinations.first?.weight, 1)
        XCTAssertEqual(lost.counts[.v4(vip)]?.usable, 0, "a sorry page is no reason to announce the VIP")
        XCTAssertEqual(lost.quorumChanges.first?.sorryServer, sorry)

        let regained = plan(config, verdicts([.up, .up, .down]), quorum: lost.quorum)
        XCTAssertEqual(weights(regained), [1: 1, 2: 1])

        let inhibited = plan(
            self.config([service(weights: [1, 1, 1], inhibit: true, quorum: 2, sorry: sorry)]),
            verdicts([.up, .down, .down]), quorum: [identity: true])
        XCTAssertEqual(inhibited.desired.table.entries[0].destinations.map(\.weight), [0, 0, 0, 1])
    }

    func testAPlanAgainstItsOwnResultWritesNothing() {
        let config = config([service(inhibit: true, quorum: 1)])
        let first = plan(config, verdicts([.up, .down, .up]))
        let second = plan(config, verdicts([.up, .down, .up]), actual: first.desired.table, quorum: first.quorum)
        XCTAssertTrue(
            IPVSReconcilePlan(
                desired: second.desired.table, actual: first.desired.table, ownership: second.desired.ownership
            ).isEmpty)
    }

    func testTheWorstServiceDecidesTheVIP() {
        var https = service()
        https.listener = .port(.tcp, 443)
        https.realServers = https.realServers.map {
            var server = $0; server.port = 443; return server
        }
        let config = config([service(), https])
        let tls: IPVSServiceIdentity = .tcp(.v4(vip), port: 443)
        var list = verdicts([.up, .up, .up])
        for last in 1...3 {
            list[RealServerKey(service: tls, destination: IPVSDestinationKey(ip(last), port: 443))] = .down
        }
        XCTAssertEqual(plan(config, list).counts[.v4(vip)]?.usable, 0)
    }

    func testCheckTargetsUseTheConnectPort() {
        var checked = HealthCheck(kind: .tcp)
        checked.connectPort = 8080
        var config = config([service()])
        config.vips[0].services[0].realServers[0].check = checked
        let targets = ManagedPlanner.checkTargets(config)
        XCTAssertEqual(targets.count, 3)
        XCTAssertEqual(targets[0].port, 8080)
        XCTAssertEqual(targets[0].key, key(1), "keyed by the IPVS destination, not the check port")
        XCTAssertEqual(targets[1].port, 80)
    }
}
