import ECMPCore
import XCTest

/// ospfd's router-LSAs as FRR 8.4 prints them (fixtures captured from real
/// daemons, Fixtures/frr/README.md), read for the last-announcer guard.
final class OSPFStubAnnouncementsTests: XCTestCase {
    let vip = IPv4Address("198.18.99.1")!
    let me = IPv4Address("198.18.9.1")!
    let other = IPv4Address("198.18.9.2")!

    func load(_ name: String) throws -> OSPFStubAnnouncements {
        try OSPFStubAnnouncements(vtyshOutput: FixtureFiles.read(FixtureFiles.fixture("frr/\(name)")))
    }

    func testBothRoutersAnnounceTheVIPAndAnotherOneDoes() throws {
        let database = try load("ospf-router-lsas-two-announcers.txt")
        XCTAssertEqual(database.selfRouterID, me)
        XCTAssertEqual(database.announcers(of: vip), [me, other])
        XCTAssertTrue(database.othersAnnounce(vip))
        // The /24 stub is not a /32: not an announcement of anything.
        XCTAssertEqual(database.announcers(of: IPv4Address("198.18.9.0")!), [])
    }

    func testAfterTheOtherWithdrewOnlyThisRouterAnnounces() throws {
        let database = try load("ospf-router-lsas-other-withdrew.txt")
        XCTAssertEqual(database.announcers(of: vip), [me])
        XCTAssertFalse(database.othersAnnounce(vip))
        XCTAssertEqual(database.stubs[other], [], "the other router is known, with no /32 stubs")
    }

    func testAVIPNobodyAnnouncesHasNoAnnouncers() throws {
        let database = try load("ospf-router-lsas-two-announcers.txt")
        XCTAssertFalse(database.othersAnnounce(IPv4Address("198.18.99.2")!))
    }

    func testMaxAgeLSAsAreBeingFlushedAndCountForNothing() throws {
        let text = try FixtureFiles.read(FixtureFiles.fixture("frr/ospf-router-lsas-two-announcers.txt"))
            .replacingOccurrences(of: "\"lsaAge\": 9,", with: "\"lsaAge\": 3600,")
        let database = try OSPFStubAnnouncements(vtyshOutput: text)
        XCTAssertFalse(database.othersAnnounce(vip))
    }

    func testAnOspfdWithoutAreasKnowsNoAnnouncers() throws {
        let database = try OSPFStubAnnouncements(vtyshOutput: "{ \"routerId\": \"198.18.9.1\" }")
        XCTAssertEqual(database.stubs, [:])
        XCTAssertFalse(database.othersAnnounce(vip))
    }

    func testErrorsNameWhatWasWrong() {
        func reason(_ text: String) -> String {
            do { _ = try OSPFStubAnnouncements(vtyshOutput: text); return "parsed" } catch { return error.description }
        }
        XCTAssertTrue(reason("Exiting: failed to connect to any daemons.").contains("no JSON object"))
        XCTAssertTrue(
            reason("{ \"routerLinkStates\": {} }").contains("routerId"), reason("{ \"routerLinkStates\": {} }"))
        XCTAssertTrue(reason("{ \"routerId\": \"nope\" }").contains("routerId: 'nope'"))
        let badRouter =
            "{ \"routerId\": \"198.18.9.1\", \"routerLinkStates\": { \"areas\": { \"0.0.0.0\": [ { \"lsaAge\": 1, \"advertisingRouter\": \"x\" } ] } } }"
        XCTAssertTrue(reason(badRouter).contains("areas.0.0.0.0[0].advertisingRouter: 'x'"), reason(badRouter))
        let badAge =
            "{ \"routerId\": \"198.18.9.1\", \"routerLinkStates\": { \"areas\": { \"0.0.0.0\": [ { \"lsaAge\": \"old\", \"advertisingRouter\": \"198.18.9.2\" } ] } } }"
        XCTAssertTrue(reason(badAge).contains("lsaAge"), reason(badAge))
    }
}
