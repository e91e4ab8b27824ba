import ECMPCore
import ECMPNetlink
import XCTest

/// Every path by which ecmpd sets a real server to weight 0 under `mh`,
/// against the real kernel: the table ManagedPlanner makes for it is
/// applied, then SYNs from many source ports show where IPVS sends new
/// connections (ip_vs_mh.c: a weight-0 server keeps its slots; without
/// mh-fallback a new connection that hashes to one is not scheduled).
/// Three real servers, so the fallback has more than one server to choose.
final class IPVSMaglevFallbackTests: IPVSKernelTestCase {
    let servers = ["198.18.1.1", "198.18.1.2", "198.18.1.3"]
    let sorry = "198.18.1.9"
    let attempts = 60

    /// A managed config with one mh service on port 80 of the lab's VIP.
    func config(flags: String, fleet: Bool = false, extra: String = "", weights: [Int] = [1, 1, 1]) throws -> Config {
        let servers = zip(self.servers, weights).map { "{ address: \($0), weight: \($1), check: { type: tcp } }" }
        return try ConfigParser.parse(
            """
            mode: managed
            vips:
              - address: 198.18.0.1
                fleet_consistent: \(fleet)
                services:
                  - { port: 80, scheduler: mh, scheduler_flags: [\(flags)], forwarding: dr\(extra),
                      real_servers: [\(servers.joined(separator: ", "))] }
            """, file: "fallback.yaml"
        ).config
    }

    /// Programs what the planner makes of `config` with these servers down.
    func apply(_ config: Config, down: Set<String>, quorum: [IPVSServiceIdentity: Bool] = [:]) throws
        -> ManagedPlanner.Plan
    {
        let identity = IPVSServiceIdentity.tcp(IPAddress("198.18.0.1")!, port: 80)
        var verdicts: [RealServerKey: CheckTracker.Verdict] = [:]
        for server in servers {
            let key = RealServerKey(service: identity, destination: IPVSDestinationKey(IPAddress(server)!, port: 80))
            verdicts[key] = down.contains(server) ? .down : .up
        }
        let plan = ManagedPlanner.plan(config, verdicts: verdicts, actual: try client.table(), quorum: quorum)
        try client.apply(
            IPVSReconcilePlan(
                desired: plan.desired.table, actual: try client.table(), ownership: plan.desired.ownership))
        return plan
    }

    /// New connection attempts and where IPVS put them: the entries from
    /// their source ports, by real server.
    func newConnections(_ lab: TrafficLab) throws -> (entries: [String: Int], ports: Range<Int>) {
        let ports = try lab.sendSYNs(to: 80, count: attempts)
        return (try lab.connectionEntries(port: 80, from: ports), ports)
    }

    func total(_ entries: [String: Int]) -> Int { entries.values.reduce(0, +) }

    func testAFailedCheckUnderFleetConsistencyLosesNoNewConnection() throws {
        let lab = try TrafficLab()
        defer { lab.tearDown() }
        let fleet = try config(flags: "mh-port, mh-fallback", fleet: true)
        XCTAssertEqual(fleet.vips[0].services[0].schedulerFlags, ["mh-port", "mh-fallback"])
        _ = try apply(fleet, down: [])
        _ = try apply(fleet, down: ["198.18.1.1"])
        let weights = Dictionary(
            uniqueKeysWithValues: try client.destinations(of: .tcp(lab.vip, port: 80)).map { ("\($0.key)", $0.weight) })
        XCTAssertEqual(
            weights, ["198.18.1.1:80": 0, "198.18.1.2:80": 1, "198.18.1.3:80": 1], "the failed server kept at weight 0")
        let spread = try newConnections(lab).entries
        print("BENCH mh-fallback failed check: \(attempts) attempts -> \(spread)")
        XCTAssertEqual(total(spread), attempts, "every new connection scheduled: \(spread)")
        XCTAssertNil(spread["198.18.1.1:80"], "none to the failed server: \(spread)")
        XCTAssertGreaterThan(spread["198.18.1.2:80"] ?? 0, 0, "\(spread)")
        XCTAssertGreaterThan(spread["198.18.1.3:80"] ?? 0, 0, "\(spread)")

        // The contrast, the same table without the flag: what shipped before.
        _ = try apply(try config(flags: "mh-port", fleet: true), down: ["198.18.1.1"])
        let dropped = try newConnections(lab).entries
        print("BENCH mh without fallback, failed check: \(attempts) attempts -> \(dropped)")
        XCTAssertLessThan(
            total(dropped), attempts, "without mh-fallback the failed server's slots drop new connections")
        XCTAssertNil(dropped["198.18.1.1:80"])
    }

    /// An operator drains a server by configuring weight 0: its existing
    /// connections stay with it, new ones go to the others.
    func testADrainedServerKeepsItsConnectionsAndTakesNoNewOnes() throws {
        let lab = try TrafficLab()
        defer { lab.tearDown() }
        _ = try apply(try config(flags: "mh-port, mh-fallback", fleet: true), down: [])
        let (existing, existingPorts) = try newConnections(lab)
        let onDrained = existing["198.18.1.1:80"] ?? 0
        XCTAssertGreaterThan(onDrained, 0, "the server to drain had connections: \(existing)")

        _ = try apply(try config(flags: "mh-port, mh-fallback", fleet: true, weights: [0, 1, 1]), down: [])
        let after = try lab.connectionEntries(port: 80, from: existingPorts)
        XCTAssertEqual(after["198.18.1.1:80"], onDrained, "its connection entries survived the drain")
        let fresh = try newConnections(lab).entries
        print("BENCH mh-fallback drained server: \(attempts) attempts -> \(fresh)")
        XCTAssertEqual(total(fresh), attempts, "\(fresh)")
        XCTAssertNil(fresh["198.18.1.1:80"], "a drained server takes no new connection: \(fresh)")
    }

    /// Quorum lost with a sorry server and inhibit: the live servers go to
    /// weight 0 and the sorry server joins; with mh-fallback every new
    /// connection reaches it, without it only those that hash to its slots.
    func testQuorumLostSendsEveryNewConnectionToTheSorryServerOnlyWithFallback() throws {
        let lab = try TrafficLab()
        defer { lab.tearDown() }
        let extra = ", quorum: 3, inhibit_on_failure: true, sorry_server: { address: \(sorry) }"
        let first = try apply(try config(flags: "mh-port, mh-fallback", extra: extra), down: [])
        let lost = try apply(
            try config(flags: "mh-port, mh-fallback", extra: extra), down: ["198.18.1.1"], quorum: first.quorum)
        XCTAssertEqual(lost.quorum.values.first, false, "quorum 3 of weight 2 is lost")
        let spread = try newConnections(lab).entries
        print("BENCH mh-fallback quorum lost, sorry server: \(attempts) attempts -> \(spread)")
        XCTAssertEqual(spread, ["\(sorry):80": attempts], "every new connection to the sorry server")

        _ = try apply(try config(flags: "mh-port", extra: extra), down: ["198.18.1.1"], quorum: lost.quorum)
        let without = try newConnections(lab).entries
        print("BENCH mh without fallback, quorum lost, sorry server: \(attempts) attempts -> \(without)")
        XCTAssertLessThan(total(without), attempts, "without fallback the sorry server gets only its own slots")
    }
}
