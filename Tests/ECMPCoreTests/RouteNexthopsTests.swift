import ECMPCore
import Foundation
import XCTest

/// The router-side check: nexthop sets, expectations, FRR's JSON (real
/// output of FRR 8.4.4 captured in the namespace lab, Fixtures/frr/) and
/// the kernel-versus-FRR verdict.
final class RouteNexthopsTests: XCTestCase {
    let vip = IPv4Network("198.18.0.100/32")!

    func hop(_ gateway: String?, _ interface: String = "lan") -> RouteNexthops.Nexthop {
        RouteNexthops.Nexthop(gateway: gateway.map { IPv4Address($0)! }, interface: interface)
    }

    func frr(_ name: String, prefix: String = "198.18.0.100/32") throws -> [FRRRoute] {
        let text = try FixtureFiles.read(FixtureFiles.fixture("frr/\(name)"))
        return try FRRRoute.entries(inVtyshOutput: text, prefix: IPv4Network(prefix)!)
    }

    // MARK: The set

    func testNexthopsAreASortedSetWhateverOrderTheyWereRead() {
        let read = RouteNexthops([hop("198.18.0.3"), hop("198.18.0.2"), hop("198.18.0.3"), hop(nil, "lo")])
        XCTAssertEqual(read.nexthops, [hop(nil, "lo"), hop("198.18.0.2"), hop("198.18.0.3")])
        XCTAssertEqual(read, RouteNexthops([hop("198.18.0.2"), hop(nil, "lo"), hop("198.18.0.3")]))
        XCTAssertEqual(read.description, "dev lo, via 198.18.0.2 dev lan, via 198.18.0.3 dev lan")
    }

    func testDifferenceNamesWhatEachSideLacks() {
        let kernel = RouteNexthops([hop("198.18.0.2"), hop("198.18.0.9")])
        let frr = RouteNexthops([hop("198.18.0.2"), hop("198.18.0.3")])
        let difference = kernel.difference(from: frr)
        XCTAssertEqual(difference.missing, [hop("198.18.0.3")])
        XCTAssertEqual(difference.extra, [hop("198.18.0.9")])
    }

    func testSameGatewayOnAnotherInterfaceIsAnotherNexthop() {
        XCTAssertEqual(RouteNexthops([hop("198.18.0.2", "lan"), hop("198.18.0.2", "lan2")]).count, 2)
    }

    // MARK: Expectations

    func testCountExpectationMatchesExactly() {
        let two = RouteNexthops([hop("198.18.0.2"), hop("198.18.0.3")])
        XCTAssertNil(NexthopExpectation.count(2).mismatch(in: two))
        XCTAssertEqual(
            NexthopExpectation.count(3).mismatch(in: two),
            "expected 3 nexthops, found 2: via 198.18.0.2 dev lan, via 198.18.0.3 dev lan")
        XCTAssertEqual(NexthopExpectation.count(1).mismatch(in: .empty), "expected 1 nexthop, found none")
    }

    func testGatewayExpectationNamesMissingAndUnexpectedGateways() throws {
        let expectation = try NexthopExpectation.gateways(parsing: "198.18.0.2, 198.18.0.4")
        XCTAssertNil(expectation.mismatch(in: RouteNexthops([hop("198.18.0.4"), hop("198.18.0.2")])))
        let message = expectation.mismatch(in: RouteNexthops([hop("198.18.0.2"), hop("198.18.0.9")]))
        XCTAssertEqual(
            message,
            "expected nexthops via 198.18.0.2, 198.18.0.4, found via 198.18.0.2 dev lan, via 198.18.0.9 dev lan; "
                + "missing 198.18.0.4; unexpected 198.18.0.9")
    }

    func testGatewayExpectationRejectsAnExtraPathToAnExpectedGateway() throws {
        let expectation = try NexthopExpectation.gateways(parsing: "198.18.0.2")
        XCTAssertNotNil(expectation.mismatch(in: RouteNexthops([hop("198.18.0.2", "lan"), hop("198.18.0.2", "lan2")])))
        XCTAssertNotNil(expectation.mismatch(in: RouteNexthops([hop("198.18.0.2"), hop(nil, "lan2")])))
    }

    func testGatewayListParsingNamesTheBadItem() {
        XCTAssertThrowsError(try NexthopExpectation.gateways(parsing: "198.18.0.2,198.18.0")) { error in
            XCTAssertEqual((error as? NexthopExpectation.InvalidGateway)?.item, "198.18.0")
        }
        XCTAssertThrowsError(try NexthopExpectation.gateways(parsing: "198.18.0.2,"))
    }

    func testPresentExpectationWantsAtLeastOneNexthop() {
        XCTAssertNil(NexthopExpectation.present.mismatch(in: RouteNexthops([hop("198.18.0.2")])))
        XCTAssertNotNil(NexthopExpectation.present.mismatch(in: .empty))
    }

    // MARK: FRR's JSON

    func testReadsBothOSPFNexthopsFromFRR() throws {
        let entries = try frr("ospf-two-nexthops.json")
        XCTAssertEqual(entries.count, 1)
        let installed = try XCTUnwrap(FRRRoute.installed(in: entries))
        XCTAssertEqual(installed.protocolName, "ospf")
        XCTAssertTrue(installed.isSelected)
        XCTAssertEqual(installed.fibNexthops, RouteNexthops([hop("198.18.0.2", "br0"), hop("198.18.0.3", "br0")]))
        XCTAssertEqual(installed.activeNexthops, installed.fibNexthops)
    }

    func testReadsASingleOSPFNexthop() throws {
        let installed = try XCTUnwrap(FRRRoute.installed(in: try frr("ospf-one-nexthop.json")))
        XCTAssertEqual(installed.fibNexthops, RouteNexthops([hop("198.18.0.2", "br0")]))
    }

    func testNoRouteIsNoEntries() throws {
        XCTAssertEqual(try frr("missing.json"), [])
    }

    func testInstalledEntryIsChosenAmongProtocols() throws {
        let entries = try frr("connected-and-ospf.json", prefix: "198.18.0.0/24")
        XCTAssertEqual(entries.map(\.protocolName).sorted(), ["connected", "ospf"])
        let installed = try XCTUnwrap(FRRRoute.installed(in: entries))
        XCTAssertEqual(installed.protocolName, "connected")
        XCTAssertEqual(installed.fibNexthops, RouteNexthops([hop(nil, "br0")]))
    }

    /// FRR 8.4 keeps `fib: true` on the nexthops of an ospf entry that lost
    /// to a kernel route and was removed from the FIB.
    func testStaleFibFlagsOfAnUninstalledEntryDoNotCount() throws {
        let entries = try frr("kernel-route-preferred.json")
        let ospf = try XCTUnwrap(entries.first { $0.protocolName == "ospf" })
        XCTAssertFalse(ospf.isInstalled)
        XCTAssertEqual(ospf.fibNexthops.count, 2)
        let verification = RouteVerification(
            prefix: vip, kernel: RouteNexthops([hop("198.18.0.3", "br0")]), frr: .entries(entries),
            expectation: .count(1)
        )
        XCTAssertEqual(verification.frrInstalled?.protocolName, "kernel")
        XCTAssertEqual(verification.agreement, .agree)
        XCTAssertTrue(verification.isOK, "\(verification.problems)")
    }

    func testVtyshWarningsBeforeTheJSONAreSkipped() throws {
        let entries = try frr("pathspace-warning-then-json.txt")
        XCTAssertEqual(FRRRoute.installed(in: entries)?.fibNexthops.count, 2)
    }

    func testOtherPrefixesInTheOutputAreIgnored() throws {
        XCTAssertEqual(try frr("ospf-two-nexthops.json", prefix: "198.18.0.101/32"), [])
    }

    func testTextThatIsNotFRRsJSONIsAnError() {
        XCTAssertThrowsError(try FRRRoute.entries(inVtyshOutput: "% Unknown command: show ip rout\n", prefix: vip))
        XCTAssertThrowsError(try FRRRoute.entries(inVtyshOutput: "{\"198.18.0.100/32\": 3}", prefix: vip))
    }

    // MARK: Verdict

    func testKernelAndFRRAgreeingWithTheExpectationIsOK() throws {
        let verification = RouteVerification(
            prefix: vip, kernel: RouteNexthops([hop("198.18.0.3", "br0"), hop("198.18.0.2", "br0")]),
            frr: .entries(try frr("ospf-two-nexthops.json")), expectation: .count(2)
        )
        XCTAssertEqual(verification.agreement, .agree)
        XCTAssertEqual(verification.problems, [])
    }

    func testDisagreementNamesBothSides() throws {
        let verification = RouteVerification(
            prefix: vip, kernel: RouteNexthops([hop("198.18.0.2", "br0"), hop("198.18.0.9", "br0")]),
            frr: .entries(try frr("ospf-two-nexthops.json")), expectation: .count(2)
        )
        XCTAssertEqual(
            verification.agreement,
            .disagree(kernelOnly: [hop("198.18.0.9", "br0")], frrOnly: [hop("198.18.0.3", "br0")]))
        XCTAssertEqual(
            verification.problems,
            [
                "kernel and FRR disagree: FRR installed via 198.18.0.3 dev br0 but the kernel lacks it; "
                    + "the kernel has via 198.18.0.9 dev br0, which FRR's installed ospf route does not list"
            ])
    }

    func testFRRBeingUnavailableIsNotAProblem() {
        let verification = RouteVerification(
            prefix: vip, kernel: RouteNexthops([hop("198.18.0.2")]),
            frr: .unavailable(reason: "vtysh is not installed"), expectation: .present
        )
        XCTAssertEqual(verification.agreement, .notChecked(reason: "vtysh is not installed"))
        XCTAssertTrue(verification.isOK)
    }

    func testAMissingRouteIsOneProblemUnlessNoneIsExpected() throws {
        let missing = RouteVerification(
            prefix: vip, kernel: nil, frr: .entries(try frr("missing.json")), expectation: .count(2))
        XCTAssertEqual(missing.problems, ["the kernel has no route to 198.18.0.100/32; expected 2 nexthops"])
        let withdrawn = RouteVerification(prefix: vip, kernel: nil, frr: .entries([]), expectation: .count(0))
        XCTAssertTrue(withdrawn.isOK, "\(withdrawn.problems)")
    }

    func testARouteFRRDidNotInstallIsADisagreement() throws {
        let verification = RouteVerification(
            prefix: vip, kernel: RouteNexthops([hop("198.18.0.2", "br0")]), frr: .entries(try frr("missing.json")),
            expectation: .present
        )
        XCTAssertEqual(
            verification.problems,
            ["kernel and FRR disagree: the kernel has via 198.18.0.2 dev br0, but FRR installed no route"])
    }

    // MARK: IPv6 (OSPFv3: link-local gateways with their interface)

    let vip6 = PrefixedAddress("2001:db8:ffff::10/128")!
    let director1 = "fe80::f075:5aff:fe8b:f0a5"
    let director2 = "fe80::d0bb:e7ff:fefd:4ef1"

    func hop6(_ gateway: String, _ interface: String) -> RouteNexthops.Nexthop {
        RouteNexthops.Nexthop(gateway: IPAddress(gateway)!, interface: interface)
    }

    func frr6(_ name: String) throws -> [FRRRoute] {
        try FRRRoute.entries(inVtyshOutput: FixtureFiles.read(FixtureFiles.fixture("frr/\(name)")), prefix: vip6)
    }

    func testTheIPv6CommandIsShowIPv6Route() {
        XCTAssertEqual(FRRRoute.vtyshCommand(for: vip6), "show ipv6 route 2001:db8:ffff::10/128 json")
        XCTAssertEqual(FRRRoute.vtyshCommand(for: PrefixedAddress(vip)), "show ip route 198.18.0.100/32 json")
    }

    func testFRRsOSPF6EntryGivesLinkLocalGatewaysWithTheirInterfaces() throws {
        let entries = try frr6("ipv6-ospf6-two-nexthops.txt")
        XCTAssertEqual(entries.count, 1)
        let installed = try XCTUnwrap(FRRRoute.installed(in: entries))
        XCTAssertEqual(installed.protocolName, "ospf6")
        XCTAssertEqual(installed.prefix, vip6)
        let both = RouteNexthops([hop6(director1, "lan1"), hop6(director2, "lan2")])
        XCTAssertEqual(installed.fibNexthops, both)
        XCTAssertEqual(installed.activeNexthops, both)
        XCTAssertEqual(
            both.description, "via \(director2) dev lan2, via \(director1) dev lan1", "sorted by gateway")
    }

    func testIPv6KernelAndFRRAgreeThroughOneWithdrawal() throws {
        let two = RouteVerification(
            prefix: vip6, kernel: RouteNexthops([hop6(director2, "lan2"), hop6(director1, "lan1")]),
            frr: .entries(try frr6("ipv6-ospf6-two-nexthops.txt")), expectation: .count(2))
        XCTAssertTrue(two.isOK, "\(two.problems)")
        let one = RouteVerification(
            prefix: vip6, kernel: RouteNexthops([hop6(director1, "lan1")]),
            frr: .entries(try frr6("ipv6-ospf6-one-nexthop.txt")),
            expectation: try NexthopExpectation.gateways(parsing: director1, ipv6: true))
        XCTAssertTrue(one.isOK, "\(one.problems)")
        let none = RouteVerification(
            prefix: vip6, kernel: nil, frr: .entries(try frr6("ipv6-missing-pathspace-warning.txt")),
            expectation: .count(1))
        XCTAssertEqual(none.frrNexthops, .empty)
        XCTAssertEqual(
            none.problems, ["the kernel has no route to 2001:db8:ffff::10/128; expected 1 nexthop"])
    }

    /// A link-local address names a path only with its interface: the same
    /// fe80:: address on another link is another nexthop, and a disagreement.
    func testTheSameLinkLocalGatewayOnAnotherInterfaceIsADisagreement() throws {
        let verification = RouteVerification(
            prefix: vip6, kernel: RouteNexthops([hop6(director1, "lan2")]),
            frr: .entries(try frr6("ipv6-ospf6-one-nexthop.txt")), expectation: .count(1))
        XCTAssertEqual(
            verification.problems,
            [
                "kernel and FRR disagree: FRR installed via \(director1) dev lan1 but the kernel lacks it; "
                    + "the kernel has via \(director1) dev lan2, which FRR's installed ospf6 route does not list"
            ])
    }

    func testIPv6ExpectedGatewaysMustBeIPv6() {
        XCTAssertThrowsError(try NexthopExpectation.gateways(parsing: "\(director1),198.18.0.2", ipv6: true)) {
            XCTAssertEqual(
                "\($0)",
                "'198.18.0.2' is not an IPv6 address (an IPv6 VIP's nexthops are IPv6, such as fe80::1); "
                    + "list gateways as A,B,...")
        }
        XCTAssertThrowsError(try NexthopExpectation.gateways(parsing: director1)) {
            XCTAssertTrue("\($0)".contains("is not an IPv4 address"), "\($0)")
        }
        let expected = try? NexthopExpectation.gateways(parsing: "\(director1), \(director2)", ipv6: true)
        XCTAssertNil(expected?.mismatch(in: RouteNexthops([hop6(director1, "lan1"), hop6(director2, "lan2")])))
        XCTAssertEqual(
            expected?.mismatch(in: RouteNexthops([hop6(director1, "lan1")])),
            "expected nexthops via \(director2), \(director1), found via \(director1) dev lan1; missing \(director2)")
    }

    func testAnIPv4GatewayInAnIPv6EntryIsAnError() {
        let json = #"{"2001:db8:ffff::10/128":[{"protocol":"ospf6","nexthops":[{"ip":"198.18.0.2","fib":true}]}]}"#
        XCTAssertThrowsError(try FRRRoute.entries(inVtyshOutput: json, prefix: vip6)) {
            XCTAssertTrue(
                "\($0)".contains("nexthop '198.18.0.2' of 2001:db8:ffff::10/128 (ospf6) is not an IPv6 address"),
                "\($0)")
        }
    }

    func testIPv4AndIPv6NexthopsSortIPv4First() {
        let mixed = RouteNexthops([hop6(director1, "lan1"), hop("198.18.0.2"), hop(nil, "lo")])
        XCTAssertEqual(mixed.nexthops, [hop(nil, "lo"), hop("198.18.0.2"), hop6(director1, "lan1")])
    }
}
