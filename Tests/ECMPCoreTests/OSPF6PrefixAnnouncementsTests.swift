import ECMPCore
import XCTest

/// ospf6d's router-id and intra-area-prefix LSAs as FRR 8.4 prints them
/// (fixtures captured from real daemons, Fixtures/frr/README.md), read for
/// the last-announcer guard's IPv6 VIPs.
final class OSPF6PrefixAnnouncementsTests: XCTestCase {
    let vip = IPv6Address("2001:db8:ffff::10")!
    let me = IPv4Address("198.18.0.2")!
    let other = IPv4Address("198.18.0.3")!
    let router = IPv4Address("198.18.0.1")!

    func text(_ name: String) throws -> String {
        try FixtureFiles.read(FixtureFiles.fixture("frr/\(name)"))
    }

    func load(_ name: String) throws -> OSPF6PrefixAnnouncements {
        try OSPF6PrefixAnnouncements(vtyshOutput: text(name))
    }

    func testBothDirectorsAnnounceTheVIPAndAnotherOneDoes() throws {
        let database = try load("ospf6-intra-prefix-two-announcers.txt")
        XCTAssertEqual(database.selfRouterID, me)
        XCTAssertEqual(database.announcers(of: vip), [me, other])
        XCTAssertTrue(database.othersAnnounce(vip))
        XCTAssertFalse(database.othersAnnounce(IPv6Address("2001:db8:ffff::11")!), "a /128 nobody announces")
        // The LAN's /64 is listed by the router's network-referenced LSA: not
        // a /128, and not a router-referenced LSA either.
        XCTAssertEqual(database.announcers(of: IPv6Address("2001:db8:1::")!), [])
        XCTAssertNil(
            database.hosts[router], "its router-referenced LSA is flushed, its network-referenced one not read")
    }

    func testAfterTheOtherWithdrewOnlyThisDirectorAnnounces() throws {
        // Its LSA is flushed (age 3600) and still lists the VIP.
        let database = try load("ospf6-intra-prefix-other-withdrew.txt")
        XCTAssertEqual(database.announcers(of: vip), [me])
        XCTAssertFalse(database.othersAnnounce(vip))
        XCTAssertNil(database.hosts[other])
    }

    func testAfterTheOthersOspf6dStoppedOnlyThisDirectorAnnounces() throws {
        let database = try load("ospf6-intra-prefix-other-stopped.txt")
        XCTAssertEqual(database.announcers(of: vip), [me])
        XCTAssertFalse(database.othersAnnounce(vip))
    }

    func testMaxAgeIsWhatMakesAFlushedLSACountForNothing() throws {
        let text = try text("ospf6-intra-prefix-other-withdrew.txt")
            .replacingOccurrences(of: "\"age\":3600,", with: "\"age\":3599,")
        let database = try OSPF6PrefixAnnouncements(vtyshOutput: text)
        XCTAssertEqual(database.announcers(of: vip), [me, other])
        XCTAssertEqual(database.hosts[router], [], "the router's LSA lists a /64, no /128")
    }

    func testAnLSAThatReferencesANetworkLSACountsForNothing() throws {
        // The designated router lists a link's prefixes under its own
        // router-id: were the VIP among them, the router would not own it.
        let text = try text("ospf6-intra-prefix-two-announcers.txt")
            .replacingOccurrences(of: "\"reference\":\"Router\"", with: "\"reference\":\"Network\"")
        XCTAssertNotEqual(text, try self.text("ospf6-intra-prefix-two-announcers.txt"))
        let database = try OSPF6PrefixAnnouncements(vtyshOutput: text)
        XCTAssertEqual(database.hosts, [:])
        XCTAssertFalse(database.othersAnnounce(vip))
    }

    func testAnOspf6dWithoutAreasKnowsNoAnnouncers() throws {
        let database = try OSPF6PrefixAnnouncements(
            vtyshOutput: "{ \"routerId\": \"198.18.0.2\" }\n{ \"areaScopedLinkStateDb\": [] }")
        XCTAssertEqual(database.hosts, [:])
        XCTAssertFalse(database.othersAnnounce(vip))
    }

    func testErrorsNameWhatWasWrong() {
        func reason(_ text: String) -> String {
            do { _ = try OSPF6PrefixAnnouncements(vtyshOutput: text); return "parsed" } catch {
                return error.description
            }
        }
        let summary = "{ \"routerId\": \"198.18.0.2\" }\n"
        func database(_ lsa: String) -> String {
            summary + "{ \"areaScopedLinkStateDb\": [ { \"areaId\": \"0.0.0.0\", \"lsa\": [ \(lsa) ] } ] }"
        }
        let cases = [
            ("Exiting: failed to connect to any daemons.", "found 0"),
            (summary, "found 1"),
            ("{ \"routerId\": \"nope\" }\n{}", "routerId: 'nope'"),
            ("{}\n{}", "routerId: 'missing'"),
            (summary + "{ \"areaScopedLinkStateDb\": {} }", "database intra-prefix detail json: areaScopedLinkStateDb"),
            (
                database(
                    "{ \"age\": 1, \"type\": \"Intra-Prefix\", \"advertisingRouter\": \"x\", \"reference\": \"Router\" }"
                ),
                "areaScopedLinkStateDb[0].lsa[0].advertisingRouter: 'x'"
            ),
            (
                database(
                    "{ \"age\": 1, \"type\": \"Intra-Prefix\", \"advertisingRouter\": \"198.18.0.3\", "
                        + "\"reference\": \"Router\", \"prefix\": [ { \"prefix\": \"2001:db8::10\" } ] }"),
                "lsa[0].prefix[0].prefix: '2001:db8::10' is not an IPv6 prefix"
            ),
            (
                database("{ \"age\": \"old\", \"type\": \"Intra-Prefix\", \"advertisingRouter\": \"198.18.0.3\" }"),
                "age"
            ),
        ]
        for (text, expected) in cases {
            XCTAssertTrue(reason(text).contains(expected), "\(text): \(reason(text))")
            XCTAssertTrue(reason(text).hasPrefix("ospf6d's"), reason(text))
        }
    }
}
