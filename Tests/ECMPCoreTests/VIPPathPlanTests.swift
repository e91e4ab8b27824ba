@testable import ECMPCore
import XCTest

/// `via_vip`: which (VIP, real server) pairs get a mark, the probe services
/// they become, what managed mode programs and deletes, what checks carry,
/// and what `ecmpd check` suggests.
final class VIPPathPlanTests: XCTestCase {
    let vipA = IPv4Address(198, 18, 0, 100)
    let vipB = IPv4Address(198, 18, 0, 101)

    func server(_ last: UInt8, port: Int = 80, viaVIP: Bool = true, kind: HealthCheck.Kind = .tcp) -> RealServer {
        RealServer(
            address: .v4(IPv4Address(198, 18, 1, last)), port: port, check: HealthCheck(kind: kind, viaVIP: viaVIP))
    }

    func service(
        port: Int = 80, forwarding: ForwardingMethod = .directRoute, _ servers: [RealServer]
    ) -> VirtualService {
        VirtualService(listener: .port(.tcp, port), forwarding: forwarding, realServers: servers)
    }

    func config(_ vips: [(IPv4Address, [VirtualService])]) -> Config {
        Config(mode: .managed, vips: vips.map { VIPConfig(address: $0.0, services: $0.1) })
    }

    func testPairsTakeConsecutiveMarksInSortedOrder() {
        let plan = VIPPathPlan(config([(vipB, [service([server(2)])]), (vipA, [service([server(3), server(2)])])]))
        let base = VIPPathPlan.defaultMarks.lowerBound
        XCTAssertEqual(plan.mark(vip: .v4(vipA), realServer: .v4(IPv4Address(198, 18, 1, 2))), base)
        XCTAssertEqual(plan.mark(vip: .v4(vipA), realServer: .v4(IPv4Address(198, 18, 1, 3))), base + 1)
        XCTAssertEqual(plan.mark(vip: .v4(vipB), realServer: .v4(IPv4Address(198, 18, 1, 2))), base + 2)
        XCTAssertTrue(plan.unallocated.isEmpty)
    }

    func testTwoPortsOfOnePairShareOneMark() {
        let plan = VIPPathPlan(
            config([(vipA, [service(port: 80, [server(2)]), service(port: 9000, [server(2, port: 9000)])])]))
        XCTAssertEqual(plan.markOfPair.count, 1, "one fwmark service reaches the server on every port")
    }

    func testOnlyViaVIPChecksOfDirectRoutingServicesGetAPath() {
        let plan = VIPPathPlan(
            config([
                (
                    vipA,
                    [
                        service(port: 80, [server(2, viaVIP: false)]),
                        service(port: 81, forwarding: .nat, [server(3)]),
                        service(port: 82, [server(4)]),
                    ]
                )
            ]))
        XCTAssertEqual(
            Array(plan.markOfPair.keys), [VIPPathPlan.Pair(vip: vipA, realServer: IPv4Address(198, 18, 1, 4))])
    }

    func testPairsPastTheRangeGetNoMark() {
        let plan = VIPPathPlan(config([(vipA, [service([server(2), server(3), server(4)])])]), marks: 10...11)
        XCTAssertEqual(plan.markOfPair.values.sorted(), [10, 11])
        XCTAssertEqual(plan.unallocated, [VIPPathPlan.Pair(vip: vipA, realServer: IPv4Address(198, 18, 1, 4))])
    }

    func testProbeServiceIsAFwmarkServiceWithItsRealServerAlone() {
        let plan = VIPPathPlan(config([(vipA, [service([server(2)])])]), marks: 10...11)
        XCTAssertEqual(
            plan.services,
            [
                IPVSTable.Entry(
                    IPVSService(.fwmark(10, family: .ipv4), scheduler: "rr"),
                    destinations: [
                        IPVSDestination(.v4(IPv4Address(198, 18, 1, 2)), port: 0, forwarding: .directRoute, weight: 1)
                    ])
            ])
        XCTAssertTrue(plan.owns(.fwmark(11, family: .ipv4)), "every mark in the range is ecmpd's")
        XCTAssertFalse(plan.owns(.fwmark(12, family: .ipv4)))
        XCTAssertFalse(plan.owns(.tcp(.v4(vipA), port: 80)))
    }

    func testManagedPlanProgramsProbeServicesAndDeletesStaleOnes() {
        let config = config([(vipA, [service([server(2)])])])
        let base = VIPPathPlan.defaultMarks.lowerBound
        let stale = IPVSTable([IPVSTable.Entry(IPVSService(.fwmark(base + 7, family: .ipv4), scheduler: "rr"))])
        let plan = ManagedPlanner.plan(config, verdicts: [:], actual: stale, quorum: [:])
        XCTAssertTrue(plan.desired.table.entries.contains { $0.service.identity == .fwmark(base, family: .ipv4) })
        let changes = IPVSReconcilePlan(desired: plan.desired.table, actual: stale, ownership: plan.desired.ownership)
        XCTAssertTrue(
            changes.changes.contains { change in
                if case .deleteService(let identity) = change { return identity == .fwmark(base + 7, family: .ipv4) }
                return false
            }, "a probe service an earlier run left is deleted: \(changes.changes)")
        XCTAssertEqual(plan.counts[.v4(vipA)]?.total, 1, "a probe service is no backend of the VIP")
    }

    func testCheckTargetsOfViaVIPChecksCarryTheVIPAndMark() {
        let targets = ManagedPlanner.checkTargets(
            config([(vipA, [service(port: 80, [server(2), server(3, viaVIP: false)])])]))
        XCTAssertEqual(targets.map(\.vip), [vipA, nil])
        XCTAssertEqual(targets.map(\.mark), [VIPPathPlan.defaultMarks.lowerBound, nil])
        XCTAssertEqual(targets[0].address, .v4(IPv4Address(198, 18, 1, 2)), "the real server's, for the source lookup")
    }

    func testSuggestsViaVIPForManagedDirectRoutingServicesLackingIt() {
        let config = config([
            (
                vipA,
                [
                    service(port: 80, [server(2, viaVIP: false)]),
                    service(port: 81, [server(2)]),
                    service(port: 82, forwarding: .nat, [server(2, viaVIP: false)]),
                    service(port: 83, [server(2, viaVIP: false, kind: .exec(argv: ["/bin/true"]))]),
                ]
            )
        ])
        XCTAssertEqual(VIPPathPlan.servicesLackingVIPPath(config), ["vips[0].services[0]"])
        var observe = config
        observe.mode = .observe
        XCTAssertEqual(VIPPathPlan.servicesLackingVIPPath(observe), [], "observe mode runs no checks")
    }

    func testFailureSaysTheServerMayLackTheVIP() {
        let timeout = CheckFailure.viaVIP(.connectTimeout(.seconds(1)), vip: "198.18.0.100:80")
        XCTAssertEqual(
            timeout.description,
            "via VIP path 198.18.0.100:80: connect timed out after 1s — the real server may lack the VIP on lo "
                + "(or this director drops its answers from the VIP: accept_local)")
        XCTAssertEqual(timeout.label, "via_vip_connect_timeout")
        XCTAssertTrue(
            CheckFailure.viaVIP(.connectionRefused, vip: "198.18.0.100:80").description.contains(
                "nothing listens on the VIP there"))
    }
}
