@testable import ECMPCore
import XCTest

/// How observe mode counts a VIP's usable backends in an IPVS table.
final class BackendCounterTests: XCTestCase {
    let vip = IPv4Address(198, 18, 0, 100)

    func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    func http(_ port: Int = 80) -> VirtualService { VirtualService(listener: .port(.tcp, port)) }

    func vipConfig(_ services: [VirtualService], minimum: BackendThreshold = .count(1)) -> VIPConfig {
        VIPConfig(address: vip, health: HealthPolicy(minimumHealthy: minimum), services: services)
    }

    /// A service on `address` with one destination per weight.
    func entry(_ identity: IPVSServiceIdentity, weights: [Int32]) -> IPVSTable.Entry {
        let port = identity.endpoint?.port ?? 0
        return IPVSTable.Entry(
            IPVSService(identity),
            destinations: weights.enumerated().map { index, weight in
                IPVSDestination(ip("198.18.1.\(index + 1)"), port: port, weight: weight)
            })
    }

    func tcp(_ port: UInt16, on address: IPv4Address? = nil) -> IPVSServiceIdentity {
        .tcp(.v4(address ?? vip), port: port)
    }

    func testADestinationIsUsableOnlyWithWeightAboveZero() {
        let table = IPVSTable([entry(tcp(80), weights: [1, 0, 5, 0])])
        let count = BackendCounter.count(vipConfig([http()]), in: table)
        XCTAssertEqual(count.usable, 2)
        XCTAssertEqual(count.total, 4)
    }

    func testAConfiguredServiceMissingFromTheTableCountsNoneUsableAndNonePresent() {
        let count = BackendCounter.count(vipConfig([http()]), in: IPVSTable())
        XCTAssertEqual(count, BackendCounter.Count(usable: 0, total: 0, services: [(tcp(80), 0, 0)]))
    }

    func testAVIPIsOnlyAsGoodAsItsWorstService() {
        let table = IPVSTable([entry(tcp(80), weights: [1, 1, 1]), entry(tcp(443), weights: [0, 0])])
        let count = BackendCounter.count(vipConfig([http(80), http(443)]), in: table)
        XCTAssertEqual(count.usable, 0, "the failing service's count is reported, not the sum")
        XCTAssertEqual(count.total, 2)
        XCTAssertEqual(count.services.map(\.identity), [tcp(80), tcp(443)], "in configuration order")
        XCTAssertEqual(count.services.map(\.usable), [3, 0])
    }

    func testTheFirstFailingServiceInConfigurationOrderIsReported() {
        let table = IPVSTable([
            entry(tcp(80), weights: [1]), entry(tcp(443), weights: [0, 0, 0]), entry(tcp(8443), weights: [0]),
        ])
        let count = BackendCounter.count(vipConfig([http(80), http(8443), http(443)]), in: table)
        XCTAssertEqual(count.usable, 0)
        XCTAssertEqual(count.total, 1, "8443 is configured before 443")
    }

    func testServicesThatAllMeetTheMinimumReportTheSum() {
        let table = IPVSTable([entry(tcp(80), weights: [1, 1, 0]), entry(tcp(443), weights: [2])])
        let count = BackendCounter.count(vipConfig([http(80), http(443)]), in: table)
        XCTAssertEqual(count.usable, 3)
        XCTAssertEqual(count.total, 4)
    }

    func testAServiceMissingAmongPresentOnesWithdrawsTheVIP() {
        let table = IPVSTable([entry(tcp(80), weights: [1, 1])])
        let count = BackendCounter.count(vipConfig([http(80), http(443)]), in: table)
        XCTAssertEqual(count.usable, 0)
        XCTAssertEqual(count.total, 0)
    }

    func testACountMinimumAppliesToEachService() {
        let table = IPVSTable([entry(tcp(80), weights: [1, 1, 1]), entry(tcp(443), weights: [1, 0])])
        let count = BackendCounter.count(vipConfig([http(80), http(443)], minimum: .count(2)), in: table)
        XCTAssertEqual(count.usable, 1)
        XCTAssertEqual(count.total, 2)
    }

    func testAPercentMinimumIsRoundedUpPerService() {
        let services = [http(80), http(443)]
        // 50% of 3 is 2 (rounded up); 50% of 1 is 1.
        let failing = IPVSTable([entry(tcp(80), weights: [1, 0, 0]), entry(tcp(443), weights: [1])])
        XCTAssertEqual(BackendCounter.count(vipConfig(services, minimum: .percent(50)), in: failing).usable, 1)
        XCTAssertEqual(BackendCounter.count(vipConfig(services, minimum: .percent(50)), in: failing).total, 3)
        let passing = IPVSTable([entry(tcp(80), weights: [1, 1, 0]), entry(tcp(443), weights: [1])])
        XCTAssertEqual(BackendCounter.count(vipConfig(services, minimum: .percent(50)), in: passing).usable, 3)
    }

    func testAPercentMinimumNeverFallsBelowOneUsable() {
        let table = IPVSTable([entry(tcp(80), weights: [0, 0, 0, 0])])
        let count = BackendCounter.count(vipConfig([http()], minimum: .percent(1)), in: table)
        XCTAssertEqual(count.usable, 0)
        XCTAssertEqual(count.total, 4)
        XCTAssertEqual(count.services.map(\.usable), [0])
    }

    func testAConfiguredFwmarkServiceIsFoundByItsMark() {
        let table = IPVSTable([entry(.fwmark(7, family: .ipv4), weights: [1, 1])])
        let count = BackendCounter.count(vipConfig([VirtualService(listener: .fwmark(7))]), in: table)
        XCTAssertEqual(count.usable, 2)
        XCTAssertEqual(count.services.map(\.identity), [.fwmark(7, family: .ipv4)])
    }

    func testWithoutConfiguredServicesEveryServiceOnTheVIPAddressCounts() {
        let other = IPv4Address(198, 18, 0, 101)
        let table = IPVSTable([
            entry(.udp(.v4(vip), port: 53), weights: [1]),
            entry(tcp(80, on: other), weights: [1, 1, 1]),
            entry(.fwmark(7, family: .ipv4), weights: [1]),
            entry(tcp(80), weights: [1, 0]),
        ])
        let count = BackendCounter.count(vipConfig([]), in: table)
        XCTAssertEqual(
            count.services.map(\.identity), [tcp(80), .udp(.v4(vip), port: 53)],
            "the VIP's own services in canonical order; another address and a mark service are not the VIP's")
        XCTAssertEqual(count.usable, 2)
        XCTAssertEqual(count.total, 3)
    }

    func testWithoutConfiguredServicesADiscoveredDeadServiceWithdrawsTheVIP() {
        let table = IPVSTable([entry(tcp(80), weights: [1]), entry(tcp(443), weights: [0])])
        let count = BackendCounter.count(vipConfig([]), in: table)
        XCTAssertEqual(count.usable, 0)
        XCTAssertEqual(count.total, 1)
    }

    func testWithoutConfiguredServicesAndNoneOnTheAddressNothingCounts() {
        let table = IPVSTable([entry(tcp(80, on: IPv4Address(198, 18, 0, 101)), weights: [1])])
        XCTAssertEqual(
            BackendCounter.count(vipConfig([]), in: table), BackendCounter.Count(usable: 0, total: 0, services: []))
    }
}
