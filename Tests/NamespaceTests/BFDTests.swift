import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier (BFD and OSPF need no IPVS, so the fastest tier that
/// proves them is this one: real FRR 8.4 zebra, ospfd and bfdd in network
/// namespaces on the host kernel). A router and two directors (BFDLab);
/// d1 fails three ways, and the router's kernel route is read each time:
///
/// - d1's eth0 goes down inside d1 (the router's bridge, its switch, stays up);
/// - every process in d1's namespace is frozen with SIGSTOP, links untouched;
/// - d1's ospfd is killed (SIGKILL), zebra and bfdd left running.
///
/// With BFD (ecmpd's defaults, 300 ms × 3) the labs run OSPF with a dead
/// interval of 8 s and give the route 6 s to lose d1: only BFD can do
/// that, since OSPF alone waits at least 7 s (dead interval minus one
/// hello). That is the one bound these tests set, far above BFD's 0.9 s;
/// the measured times are printed and docs/benchmarks.md has the
/// distribution (`make bench-bfd`). Without BFD (hello 1, dead 4, the
/// templates' defaults) the route keeps d1 until the dead interval ends.
/// In every case d1 comes back into the route.
final class BFDTests: XCTestCase {
    var fleet: BFDLab?

    override func setUpWithError() throws {
        if let missing = BFDLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
    }

    override func tearDown() {
        fleet?.tearDown()
    }

    static let withBFDDead = 8
    static let withBFDBound = Duration.seconds(6)

    func testWithBFDTheRouterDropsALostDirectorBeforeOSPFCouldAndTakesItBack() throws {
        let fleet = try BFDLab(routerBFD: true, directorBFD: true, deadInterval: Self.withBFDDead)
        self.fleet = fleet
        let d2: Set = [fleet.addresses[1]]
        print("converged in \(try fleet.waitForBoth())")
        try fleet.waitForSessionsUp()
        try assertVerifyShowsASessionUpBehindEachNexthop(fleet)

        try fleet.linkDown()
        let linkDown = try fleet.waitForRoute(d2, timeout: Self.withBFDBound, "BFD to drop d1 after its link went down")
        try fleet.linkUp()
        let linkBack = try fleet.waitForBoth()
        // OSPF brings d1 back first; ospfd then asks bfdd for a new session,
        // which starts slow (1 s): the next fault waits for it to be up.
        try fleet.waitForSessionsUp()

        try fleet.freeze()
        let frozen = try fleet.waitForRoute(d2, timeout: Self.withBFDBound, "BFD to drop d1 while it is frozen")
        fleet.thaw()
        let thawed = try fleet.waitForBoth()
        try fleet.waitForSessionsUp()

        try fleet.killOSPFD()
        let ospfdKilled = try fleet.waitForRoute(
            d2, timeout: Self.withBFDBound, "the router to drop d1 after d1's ospfd was killed")
        try fleet.restartOSPFD()
        let ospfdBack = try fleet.waitForBoth()
        try assertNewTimersAreInstalledAndReloadedIntoBfdd(fleet)
        print(
            "BFD 300ms x 3: link down dropped in \(linkDown), back in \(linkBack); frozen dropped in \(frozen), back in \(thawed); ospfd killed dropped in \(ospfdKilled), back in \(ospfdBack)"
        )
    }

    func testWithoutBFDTheRouterKeepsALostDirectorForTheDeadInterval() throws {
        let fleet = try BFDLab(routerBFD: false, directorBFD: false, deadInterval: 4)
        self.fleet = fleet
        let d2: Set = [fleet.addresses[1]]
        print("converged in \(try fleet.waitForBoth())")
        var lines: [String] = []
        let faults: [(String, () throws -> Void, () throws -> Void)] = [
            ("link down", fleet.linkDown, fleet.linkUp),
            ("frozen", fleet.freeze, { fleet.thaw() }),
            ("ospfd killed", fleet.killOSPFD, fleet.restartOSPFD),
        ]
        for (name, fail, recover) in faults {
            try fail()
            // The last hello reached the router at most 1 s before the
            // fault, so OSPF keeps d1 for at least dead - hello = 3 s.
            Thread.sleep(forTimeInterval: 1.5)
            XCTAssertEqual(try fleet.nexthops(), fleet.both, "\(name): without BFD, d1 is still in the route at 1.5 s")
            let dropped = try fleet.waitForRoute(d2, timeout: .seconds(30), "the dead interval to drop d1 (\(name))")
            try recover()
            let back = try fleet.waitForBoth()
            lines.append("\(name) dropped in \(dropped + .milliseconds(1500)), back in \(back)")
        }
        print("without BFD (hello 1, dead 4): " + lines.joined(separator: "; "))
    }

    /// The router without BFD, the directors with it: the adjacency forms
    /// and the route has both; `check --role router`, `verify` and d1's
    /// `ecmpd status` and `/metrics` each report the mismatch, and `check`
    /// on a host with BFD on but no bfdd names the daemons-file step.
    func testARouterWithoutBFDFacingDirectorsWithBFDIsReportedEverywhere() throws {
        // Validating bfdd.conf (`bfdd -C`, as root) must not touch the
        // host's bfdd control socket; the lab's bfdd keep theirs in their
        // pathspaces.
        let hostSocket = "/var/run/frr/bfdd.sock"
        let before = try? FileManager.default.attributesOfItem(atPath: hostSocket)[.systemFileNumber] as? Int
        let fleet = try BFDLab(routerBFD: false, directorBFD: true, deadInterval: 4)
        self.fleet = fleet
        let lab = fleet.lab
        try fleet.waitForBoth()
        XCTAssertTrue(
            try lab.vtysh(fleet.routerSpace, "show ip ospf neighbor").contains("Full"), "the adjacency still forms")

        let check = try lab.exec(
            fleet.router, [Command.ecmpd, "check", "--role", "router", "--config", fleet.configPath("rtr")],
            allowFailure: true)
        XCTAssertTrue(check.output.contains("warning: ospf.bfd: BFD is off on this router, but "), check.output)
        for address in fleet.addresses { XCTAssertTrue(check.output.contains(address), check.output) }

        let verify = try lab.exec(
            fleet.router,
            [Command.ecmpd, "verify", "--vip", fleet.vip, "--expect", "2", "--pathspace", fleet.routerSpace, "--json"],
            allowFailure: true)
        XCTAssertEqual(verify.status, 1, verify.output)
        let report = try json(verify.output)
        let bfd = report["bfd"] as? [String: Any]
        XCTAssertEqual(bfd?["bfddRunning"] as? Bool, false, verify.output)
        XCTAssertEqual(Set(bfd?["sendersHeard"] as? [String] ?? []), fleet.both, verify.output)
        XCTAssertEqual(report["matchesExpectation"] as? Bool, true, "the route itself is as expected")
        let problems = report["problems"] as? [String] ?? []
        XCTAssertTrue(
            problems.contains { $0.contains("send BFD, but this router runs no bfdd") }, "\(problems)")

        // d1's ecmpd run reads bfdd's sessions: the router's is down.
        let d1 = fleet.directors[0]
        _ = try lab.spawn(
            d1, [Command.ecmpd, "run", "--config", fleet.configPath("d0")], log: lab.path("ecmpd-d0.log"))
        var session: [String: Any] = [:]
        try NetnsLab.waitFor("d1's status to show its BFD session with the router", timeout: .seconds(60)) {
            let result = try lab.exec(
                d1, [Command.ecmpd, "status", "--json", "--address", "127.0.0.1:9477", "--timeout", "2"],
                allowFailure: true)
            guard let document = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            else { return false }
            let sessions = (document["bfd"] as? [String: Any])?["sessions"] as? [[String: Any]] ?? []
            session = sessions.first { $0["peer"] as? String == "198.18.0.1" } ?? [:]
            return !session.isEmpty
        }
        XCTAssertEqual(session["state"] as? String, "down", "\(session)")
        XCTAssertTrue((session["problem"] as? String)?.contains("the peer runs no BFD") == true, "\(session)")
        let table = try lab.exec(
            d1, [Command.ecmpd, "status", "--address", "127.0.0.1:9477", "--timeout", "2"], allowFailure: true
        ).output
        XCTAssertTrue(table.contains("bfd 198.18.0.1: PROBLEM: not up while OSPF keeps"), table)
        let metrics = try lab.exec(d1, ["curl", "-s", "--max-time", "2", "http://127.0.0.1:9477/metrics"]).output
        XCTAssertTrue(metrics.contains("ecmpd_bfd_session_up{peer=\"198.18.0.1\"} 0"), metrics)
        XCTAssertTrue(metrics.contains("ecmpd_bfd_session_up{peer=\"198.18.0.3\"} 1"), "d1 and d2 both run BFD")

        // A router config with BFD on, on a host where no bfdd runs.
        let bfdOn = try lab.write(
            "rtr-bfd.yaml",
            """
            node: { hostname: router }
            ospf: { interfaces: [br0], bfd: { enabled: true } }
            routing: { pathspace: \(fleet.routerSpace) }
            vips: [{ address: \(fleet.vip) }]
            """)
        let missing = try lab.exec(
            fleet.router, [Command.ecmpd, "check", "--role", "router", "--config", bfdOn], allowFailure: true)
        XCTAssertTrue(missing.output.contains("warning: ospf.bfd: BFD is on, but bfdd is not running"), missing.output)
        XCTAssertTrue(missing.output.contains("bfdd=yes in /etc/frr/daemons"), missing.output)
        let after = try? FileManager.default.attributesOfItem(atPath: hostSocket)[.systemFileNumber] as? Int
        XCTAssertEqual(after, before, "\(hostSocket) left as it was")
    }

    /// On the router with BFD: `verify` names the session behind each
    /// nexthop, and passes.
    func assertVerifyShowsASessionUpBehindEachNexthop(
        _ fleet: BFDLab, file: StaticString = #filePath, line: UInt = #line
    )
        throws
    {
        let verify = try fleet.lab.exec(
            fleet.router,
            [Command.ecmpd, "verify", "--vip", fleet.vip, "--expect", "2", "--pathspace", fleet.routerSpace, "--json"],
            allowFailure: true)
        XCTAssertEqual(verify.status, 0, verify.output, file: file, line: line)
        let bfd = try json(verify.output)["bfd"] as? [String: Any]
        let rows = bfd?["nexthops"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(rows.compactMap { $0["gateway"] as? String }), fleet.both, file: file, line: line)
        for row in rows {
            let session = row["session"] as? [String: Any]
            XCTAssertEqual(session?["state"] as? String, "up", "\(row)", file: file, line: line)
            XCTAssertEqual(session?["detectMultiplier"] as? Int, 3, file: file, line: line)
            XCTAssertEqual(session?["transmitIntervalMilliseconds"] as? Int, 300, file: file, line: line)
        }
        let text = try fleet.lab.exec(
            fleet.router, [Command.ecmpd, "verify", "--vip", fleet.vip, "--pathspace", fleet.routerSpace],
            allowFailure: true
        ).output
        XCTAssertTrue(text.contains("bfd: 198.18.0.2: up for"), text, file: file, line: line)
    }

    /// `render --write --reload` with other timers on the router: bfdd.conf
    /// is validated, installed and reloaded with frr-reload.py (`--daemon
    /// bfdd`, the lab's pathspace), and the running sessions take them.
    func assertNewTimersAreInstalledAndReloadedIntoBfdd(_ fleet: BFDLab) throws {
        let lab = fleet.lab
        let config = try lab.write(
            "rtr-200.yaml",
            """
            node: { hostname: router }
            ospf: { interfaces: [br0], dead_interval: \(fleet.deadInterval), bfd: { receive_interval: 200ms, transmit_interval: 200ms } }
            routing: { pathspace: \(fleet.routerSpace) }
            vips: [{ address: \(fleet.vip) }]
            """)
        let result = try lab.exec(
            fleet.router,
            [Command.ecmpd, "render", "--role", "router", "--config", config, "--write", fleet.etc("rtr"), "--reload"],
            allowFailure: true)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("bfdd.conf: installed"), result.output)
        XCTAssertTrue(result.output.contains("bfdd: reloaded"), result.output)
        try NetnsLab.waitFor("the router's sessions to run at 200 ms", timeout: .seconds(20)) {
            let output = try lab.vtysh(fleet.routerSpace, "show bfd peers json")
            return output.components(separatedBy: "\"transmit-interval\":200").count - 1 == 2
        }
    }

    func json(_ output: String) throws -> [String: Any] {
        let start = output.firstIndex(of: "{") ?? output.startIndex
        return try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(output[start...].utf8)) as? [String: Any], output)
    }
}
