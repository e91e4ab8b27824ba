import ECMPCore
import Foundation
import XCTest

/// IPVS over generic netlink as deploy/systemd/ecmpd.service runs ecmpd:
/// a user that is not root (`nobody` here) with CAP_NET_ADMIN as its only
/// capability programs and dumps the table; without it the kernel's EPERM
/// comes back naming the capability.
final class IPVSLeastPrivilegeTests: IPVSKernelTestCase {
    private var config = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        config =
            FileManager.default.temporaryDirectory.appendingPathComponent("ecmpd-lp-\(UUID().uuidString).yaml").path
        try """
        vips:
          - address: 198.18.0.1
            services:
              - { port: 80, scheduler: mh, scheduler_flags: [mh-port], real_servers: [{ address: 198.18.1.1 }, { address: 198.18.1.2, weight: 2 }] }

        """.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: config)
        try super.tearDownWithError()
    }

    /// `ecmpd ARGS` through setpriv as nobody, with CAP_NET_ADMIN only or nothing.
    private func asNobody(_ arguments: [String], netAdmin: Bool) throws -> String {
        guard let nobody = getpwnam("nobody")?.pointee else { throw XCTSkip("no user nobody") }
        let caps = netAdmin ? "-all,+net_admin" : "-all"
        return try Tool.run(
            "setpriv",
            [
                "--reuid=\(nobody.pw_uid)", "--regid=\(nobody.pw_gid)", "--clear-groups",
                "--inh-caps=\(caps)", "--ambient-caps=\(caps)", "--bounding-set=\(caps)", "--no-new-privs", "--",
                ecmpdBinary,
            ] + arguments)
    }

    private var ecmpdBinary: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("ecmpd").path
    }

    func testWithOnlyNetAdminANonRootUserProgramsAndDumpsIPVS() throws {
        let applied = try asNobody(["ipvs", "apply", "--config", config], netAdmin: true)
        XCTAssertEqual(applied.split(separator: "\n").count, 3, applied)
        let listing = try Ipvsadm.listing()
        XCTAssertEqual(listing.configuration.services.count, 1)
        XCTAssertEqual(listing.configuration.entries.first?.destinations.count, 2)
        let listed = try asNobody(["ipvs", "list", "--json"], netAdmin: true)
        XCTAssertTrue(listed.contains("198.18.1.2"), listed)
        XCTAssertEqual(try asNobody(["ipvs", "apply", "--config", config], netAdmin: true), "no changes\n")
    }

    func testWithoutNetAdminIPVSRequestsFailNamingTheCapability() throws {
        for arguments in [["ipvs", "list"], ["ipvs", "apply", "--config", config]] {
            XCTAssertThrowsError(try asNobody(arguments, netAdmin: false)) { error in
                guard let failure = error as? Tool.Failure else { return XCTFail("\(error)") }
                XCTAssertEqual(failure.status, 1, "\(arguments)")
                XCTAssertTrue(
                    failure.output.contains("permission denied (needs CAP_NET_ADMIN)"),
                    "\(arguments): \(failure.output)")
            }
        }
        XCTAssertEqual(try Ipvsadm.listing().configuration.services.count, 0, "nothing programmed")
    }
}
