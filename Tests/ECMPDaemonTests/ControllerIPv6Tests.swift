@testable import ECMPDaemon
import ECMPCore
import Foundation
import XCTest

/// An IPv6 VIP beside an IPv4 one, through whole cycles with the fakes:
/// the same fall, rise, ledger, drain and status rules, keyed by the
/// address of either family, with the VIP on lo as a /128.
final class ControllerIPv6Tests: XCTestCase {
    typealias Director = ControllerTests.Director
    let vip4 = IPAddress("198.18.0.100")!
    let vip6 = IPAddress("2001:db8::10")!

    func config() -> Config {
        let health = HealthPolicy(rise: 1, fall: 1, holdDown: .zero)
        let service = VirtualService(listener: .port(.tcp, 80))
        return Config(
            ospf6: OSPFSettings(),
            vips: [vip4, vip6].map { VIPConfig(address: $0, health: health, services: [service]) })
    }

    /// keepalived's table: each VIP's port 80 with one real server of its family.
    func table(ipv4Weight: Int32, ipv6Weight: Int32) -> IPVSTable {
        IPVSTable([
            IPVSTable.Entry(
                IPVSService(.tcp(vip4, port: 80)),
                destinations: [IPVSDestination(IPAddress("198.18.1.1")!, port: 80, weight: ipv4Weight)]),
            IPVSTable.Entry(
                IPVSService(.tcp(vip6, port: 80)),
                destinations: [IPVSDestination(IPAddress("2001:db8:1::1")!, port: 80, weight: ipv6Weight)]),
        ])
    }

    func cycle(_ controller: Controller, _ director: Director) async {
        director.clock.advance(.seconds(1))
        await controller.cycle()
    }

    func testAnIPv6VIPIsAnnouncedAndWithdrawnAsA128BesideAnUntouchedIPv4One() async throws {
        let director = Director()
        director.ipvs.set(table(ipv4Weight: 1, ipv6Weight: 1))
        let (controller, status) = try await director.start(config())
        await cycle(controller, director)
        XCTAssertEqual(director.loopback.hosts, [vip4, vip6])
        XCTAssertTrue(try director.loopback.addresses().contains(PrefixedAddress(address: vip6, prefixLength: 128)))
        XCTAssertEqual(director.owned.record?.owned, ["198.18.0.100", "2001:db8::10"])

        director.ipvs.set(table(ipv4Weight: 1, ipv6Weight: 0))
        await cycle(controller, director)
        XCTAssertEqual(director.loopback.hosts, [vip4], "only the IPv6 VIP leaves lo")
        XCTAssertEqual(director.loopback.changes.removed, [vip6])
        let shown = await status.snapshot().vips.map { "\($0.vip) \($0.state.rawValue)" }
        XCTAssertEqual(shown, ["198.18.0.100 announced", "2001:db8::10 withdrawn"])
        XCTAssertTrue(director.events.of(.withdraw).contains { $0.vip == "2001:db8::10" })
    }

    func testTheLastAnnouncerGuardAsksAboutTheIPv6VIPAloneAndHoldsIt() async throws {
        let director = Director()
        director.ipvs.set(table(ipv4Weight: 1, ipv6Weight: 1))
        var config = config()
        config.controller.guardLastAnnouncer = true
        let (controller, status) = try await director.start(config)
        await cycle(controller, director)
        director.announcers.answer(false)
        director.ipvs.set(table(ipv4Weight: 1, ipv6Weight: 0))
        await cycle(controller, director)
        XCTAssertEqual(director.announcers.asked, [[vip6]], "only the VIP about to be withdrawn is asked about")
        XCTAssertEqual(director.loopback.hosts, [vip4, vip6], "held: nobody else announces it")
        var shown = await status.snapshot().vips.map { "\($0.vip) \($0.state.rawValue)" }
        XCTAssertEqual(shown, ["198.18.0.100 announced", "2001:db8::10 held"])

        director.announcers.answer(true)
        await cycle(controller, director)
        XCTAssertEqual(director.loopback.hosts, [vip4])
        shown = await status.snapshot().vips.map { "\($0.vip) \($0.state.rawValue)" }
        XCTAssertEqual(shown, ["198.18.0.100 announced", "2001:db8::10 withdrawn"])
    }

    func testAnIPv6VIPAlreadyOnLoopbackIsAdoptedAndDrainedByItsAddress() async throws {
        let director = Director()
        director.loopback.place(vip6)
        director.ipvs.set(table(ipv4Weight: 1, ipv6Weight: 1))
        let (controller, _) = try await director.start(config())
        XCTAssertEqual(director.loopback.changes.added, [], "adopted, not re-added")
        await cycle(controller, director)

        try director.drains.write(DrainRecord(vips: ["2001:db8::10"]))
        await cycle(controller, director)
        XCTAssertEqual(director.loopback.hosts, [vip4])
    }
}
