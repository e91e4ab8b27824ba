import ECMPCore
import XCTest

final class AddressOwnershipTests: XCTestCase {
    private let vip = IPv4Address(198, 18, 0, 100)
    private let other = IPv4Address(198, 18, 0, 101)
    private let old = IPv4Address(198, 18, 0, 50)
    private let stranger = IPv4Address(198, 18, 9, 9)
    private let localhost = InterfaceAddress(network: IPv4Network("127.0.0.1/8")!)

    private func host(_ address: IPv4Address) -> InterfaceAddress {
        InterfaceAddress(network: IPv4Network(address: address, prefixLength: 32))
    }

    func testAdoptsAConfiguredVIPAlreadyOnLoopback() {
        let lo = [localhost, host(vip)]
        let ownership = AddressOwnership(configured: [vip], recorded: [], onLoopback: lo)
        XCTAssertEqual(ownership.adopted, [vip])
        XCTAssertEqual(ownership.owned, [vip])
        let plan = LoopbackPlan(ownership: ownership, announced: [vip], onLoopback: lo)
        XCTAssertTrue(plan.isEmpty, "an adopted, announced VIP is neither removed nor re-added")
    }

    func testNeverTouchesForeignAddresses() {
        let lo = [localhost, host(stranger)]
        let ownership = AddressOwnership(configured: [vip], recorded: [], onLoopback: lo)
        XCTAssertEqual(ownership.foreign, [localhost, host(stranger)])
        XCTAssertFalse(ownership.mayRemove(stranger))
        let plan = LoopbackPlan(ownership: ownership, announced: [], onLoopback: lo)
        XCTAssertEqual(plan.removals, [])
    }

    func testRemovesARecordedVIPThatIsNoLongerConfigured() {
        let lo = [localhost, host(old)]
        let ownership = AddressOwnership(configured: [vip], recorded: [old], onLoopback: lo)
        XCTAssertEqual(ownership.stale, [old])
        XCTAssertTrue(ownership.mayRemove(old))
        let plan = LoopbackPlan(ownership: ownership, announced: [vip], onLoopback: lo)
        XCTAssertEqual(plan.additions, [vip])
        XCTAssertEqual(plan.removals, [old])
    }

    func testForgetsRecordedVIPsThatAreGoneAndNoLongerConfigured() {
        let ownership = AddressOwnership(configured: [vip], recorded: [vip, old], onLoopback: [localhost])
        XCTAssertEqual(ownership.forgotten, [old])
        XCTAssertEqual(ownership.owned, [vip], "a configured VIP stays owned while it is off lo")
    }

    func testRecordsConfiguredVIPsBeforeTheyAreAdded() {
        let ownership = AddressOwnership(configured: [vip, other], recorded: [], onLoopback: [localhost])
        XCTAssertEqual(ownership.owned, [vip, other])
        XCTAssertEqual(ownership.adopted, [])
    }

    func testAConfiguredVIPOnLoopbackUnderAnotherPrefixIsAConflictNotOurs() {
        let wide = InterfaceAddress(network: IPv4Network(address: vip, prefixLength: 24))
        let lo = [localhost, wide]
        let ownership = AddressOwnership(configured: [vip], recorded: [vip], onLoopback: lo)
        XCTAssertEqual(ownership.conflicts, [wide])
        XCTAssertFalse(ownership.mayRemove(vip))
        XCTAssertEqual(ownership.forgotten, [vip])
        XCTAssertTrue(LoopbackPlan(ownership: ownership, announced: [vip], onLoopback: lo).isEmpty)
    }

    func testWithdrawsOwnedVIPsThePolicyDoesNotAnnounce() {
        let lo = [localhost, host(vip), host(other)]
        let ownership = AddressOwnership(configured: [vip, other], recorded: [vip, other], onLoopback: lo)
        let plan = LoopbackPlan(ownership: ownership, announced: [other], onLoopback: lo)
        XCTAssertEqual(plan.removals, [vip])
        XCTAssertEqual(plan.additions, [])
    }

    func testAnnouncedButUnownedVIPsAreNeverAdded() {
        let ownership = AddressOwnership(configured: [vip], recorded: [], onLoopback: [localhost])
        XCTAssertEqual(
            LoopbackPlan(ownership: ownership, announced: [vip, stranger], onLoopback: [localhost]).additions, [vip])
    }
}
