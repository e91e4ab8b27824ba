import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier, managed mode's `type: dns`, `type: udp` and `type: icmp`
/// checks against a real DNS server (Debian's dnsmasq) in real server
/// namespaces, run by `ecmpd run` in a director namespace:
///
/// - every server answers: all up;
/// - rs1's dnsmasq is killed: its port is closed, the kernel answers with
///   ICMP port unreachable and the check fails with that reason (so before
///   any timeout), within interval × fall;
/// - rs2's dnsmasq is stopped (SIGSTOP): no reply, a timeout, within
///   interval × fall + timeout;
/// - rs3's address is deleted (keepalived #1637, #1679, where checks kept
///   passing): its DNS, UDP and ICMP checks all fail.
///
/// This kernel has no IPVS: the checks run and are reported; the IPVS side
/// is the kernel tier's (ManagedChecksLabTests).
final class DatagramChecksTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    let listen = "127.0.0.1:9478"
    let interval = 1.0, timeout = 1.0, fall = 2

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") else {
            XCTFail("/usr/sbin/dnsmasq is missing: run scripts/install-deps.sh (Debian package dnsmasq-base)")
            throw XCTSkip("dnsmasq")
        }
        lab = try NetnsLab()
        director = try lab.directorNamespace("d")
        try FileManager.default.createDirectory(atPath: lab.path("etc-frr"), withIntermediateDirectories: true)
    }

    override func tearDown() { lab?.tearDown() }

    /// Real server `n` at 198.18.1.(4n+2), the director at 4n+1.
    func realServer(_ n: Int) throws -> (namespace: String, address: String) {
        let namespace = try lab.namespace("rs\(n)")
        try lab.link(director, "rs\(n)", namespace, "eth0")
        try lab.exec(director, ["ip", "addr", "add", "198.18.1.\(4 * n + 1)/30", "dev", "rs\(n)"])
        try lab.exec(namespace, ["ip", "addr", "add", "198.18.1.\(4 * n + 2)/30", "dev", "eth0"])
        return (namespace, "198.18.1.\(4 * n + 2)")
    }

    /// dnsmasq answering svc.example A with 198.18.0.53, bound to `address`
    /// only, in the foreground (so the pid is dnsmasq's).
    func startDNS(_ server: (namespace: String, address: String), name: String) throws -> pid_t {
        try lab.spawn(
            server.namespace,
            [
                "/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--bind-interfaces", "--listen-address=\(server.address)", "--port=53",
                "--address=/svc.example/198.18.0.53", "--user=root", "--group=root", "--pid-file=",
            ], log: lab.path("\(name).log"))
    }

    func status() throws -> [String: [String: Any]] {
        let output = try lab.exec(director, [Command.ecmpd, "status", "--json", "--address", listen, "--timeout", "2"])
            .output
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        var byServer: [String: [String: Any]] = [:]
        for entry in json["realServers"] as? [[String: Any]] ?? [] {
            byServer["\(entry["service"] as? String ?? "") \(entry["server"] as? String ?? "")"] = entry
        }
        return byServer
    }

    func log() -> String { (try? String(contentsOfFile: lab.path("ecmpd.log"), encoding: .utf8)) ?? "(no log)" }

    /// Waits until each of `expected`'s servers is down; the time each took
    /// from `since`, and its last error.
    func waitDown(_ expected: [String], since: ContinuousClock.Instant, within: Duration) -> [String: (
        Duration, String
    )] {
        var detected: [String: (Duration, String)] = [:]
        while detected.count < expected.count && ContinuousClock.now < since + within {
            let now = (try? status()) ?? [:]
            for server in expected where detected[server] == nil {
                if now[server]?["state"] as? String == "down" {
                    detected[server] = (ContinuousClock.now - since, now[server]?["lastError"] as? String ?? "")
                }
            }
            usleep(50_000)
        }
        return detected
    }

    func testDNSUDPAndICMPChecksAgainstARealDNSServer() throws {
        let servers = try (1...3).map { try realServer($0) }
        var dns = try servers.enumerated().map { try startDNS($1, name: "dns\($0 + 1)") }
        let timing = "interval: \(Int(interval))s, timeout: \(Int(timeout))s, fall: \(fall), rise: 1"
        let dnsCheck =
            "{ type: dns, query_name: svc.example, query_type: A, require_answer: true, \(timing) }"
        // A DNS query as a UDP check's payload: dnsmasq's reply starts with the same ID (12 34).
        let query = "1234 0100 0001 0000 0000 0000 0373766307 6578616d706c65 00 0001 0001"
        let udpCheck = "{ type: udp, payload: \"\(query)\", expect: \"1234\", connect_port: 53, \(timing) }"
        let config = try lab.write(
            "ecmpd.yaml",
            """
            mode: managed
            node: { hostname: director-1, state_dir: \(lab.path("state")) }
            routing: { config_dir: \(lab.path("etc-frr")), reload: none }
            status: { listen: "\(listen)" }
            controller: { poll_interval: 100ms }
            vips:
              - address: 198.18.0.100
                health: { fall: 2, rise: 1, hold_down: 0s }
                services:
                  - protocol: udp
                    port: 53
                    real_servers:
                      - { address: \(servers[0].address), check: \(dnsCheck) }
                      - { address: \(servers[1].address), check: \(dnsCheck) }
                      - { address: \(servers[2].address), check: \(dnsCheck) }
                  - protocol: udp
                    port: 5353
                    real_servers:
                      - { address: \(servers[2].address), check: \(udpCheck) }
                  - port: 7
                    real_servers:
                      - { address: \(servers[2].address), check: { type: icmp, \(timing) } }
            """)
        XCTAssertEqual(try lab.exec(director, [Command.ecmpd, "check", "--no-network", "--config", config]).status, 0)
        let daemon = try lab.spawn(director, [Command.ecmpd, "run", "--config", config], log: lab.path("ecmpd.log"))
        let rs = servers.map { "\($0.address):53" }
        let dnsNames = rs.map { "UDP 198.18.0.100:53 \($0)" }
        let udpName = "UDP 198.18.0.100:5353 \(servers[2].address):5353"
        let icmpName = "TCP 198.18.0.100:7 \(servers[2].address):7"
        let all = dnsNames + [udpName, icmpName]
        do {
            try NetnsLab.waitFor("every check up", timeout: .seconds(60), interval: .milliseconds(100)) {
                guard lab.isRunning(daemon) else { throw Failure(text: "ecmpd run exited:\n\(log())") }
                let now = try? status()
                return all.allSatisfy { now?[$0]?["state"] as? String == "up" }
            }
        } catch { XCTFail("\(error)\n\((try? status()).map { "\($0)" } ?? "")\n\(log())"); return }

        // rs1: the DNS server killed, its port closed.
        var faultAt = ContinuousClock.now
        kill(dns[0], SIGKILL)
        _ = lab.waitExit(dns[0], timeout: .seconds(5))
        let bound = Duration.seconds(interval * Double(fall))
        var found = waitDown([dnsNames[0]], since: faultAt, within: bound + .seconds(timeout) + .seconds(3))
        guard let (closedAfter, closedReason) = found[dnsNames[0]] else {
            return XCTFail("\(dnsNames[0]) never reported down\n\(log())")
        }
        XCTAssertEqual(closedReason, "ICMP port unreachable (connection refused)", "the ICMP error, not a timeout")
        print("DATAGRAM-CHECKS port closed: down after \(closedAfter) (bound interval x fall = \(bound))")

        // rs2: the DNS server stopped, silent.
        faultAt = ContinuousClock.now
        kill(dns[1], SIGSTOP)
        found = waitDown([dnsNames[1]], since: faultAt, within: bound + .seconds(timeout) + .seconds(3))
        guard let (silentAfter, silentReason) = found[dnsNames[1]] else {
            return XCTFail("\(dnsNames[1]) never reported down\n\(log())")
        }
        XCTAssertEqual(silentReason, "no reply within 1s")
        print(
            "DATAGRAM-CHECKS server stopped: down after \(silentAfter) (bound interval x fall + timeout = \(bound + .seconds(timeout)))"
        )
        kill(dns[1], SIGCONT)
        try NetnsLab.waitFor("\(dnsNames[1]) up again", timeout: .seconds(10)) {
            (try? status())?[dnsNames[1]]?["state"] as? String == "up"
        }

        // rs3: its address deleted; the DNS server keeps running.
        faultAt = ContinuousClock.now
        try lab.exec(servers[2].namespace, ["ip", "addr", "del", "\(servers[2].address)/30", "dev", "eth0"])
        found = waitDown([dnsNames[2], udpName, icmpName], since: faultAt, within: .seconds(15))
        for name in [dnsNames[2], udpName, icmpName] {
            guard let (after, reason) = found[name] else {
                XCTFail("\(name) never reported down after its address was deleted\n\(log())")
                continue
            }
            XCTAssertTrue(
                reason.hasPrefix("no reply within") || reason.contains("unreachable"), "\(name): \(reason)")
            print("DATAGRAM-CHECKS address deleted: \(name) down after \(after): \(reason)")
        }
        XCTAssertEqual((try? status())?[dnsNames[1]]?["state"] as? String, "up", "rs2 is unaffected")
        dns.removeAll()
    }

    struct Failure: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }
}
