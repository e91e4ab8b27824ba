import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier, managed mode's checks against real servers: four real
/// server namespaces behind point-to-point links from a director
/// namespace running `ecmpd run` in managed mode. Three run a real HTTP
/// server (Tests/tools/health-target.py), one a plain TCP listener. One
/// HTTP server is killed, one made to answer 500, one made to hang, and the
/// TCP listener is killed; each must show as down in `ecmpd status` with
/// the matching reason within interval × fall + timeout of the fault.
///
/// The same set-up with real servers on IPv6 addresses (2001:db8::/32) behind
/// an IPv6 VIP: TCP, HTTP, HTTPS, exec and ICMPv6 echo checks each go up,
/// then down when their server is killed or its address removed.
///
/// This kernel has no IPVS: the checks run and are reported, the IPVS side
/// is the kernel tier's (ManagedModeTests).
final class ManagedChecksTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    let listen = "127.0.0.1:9477"
    let interval = 1.0, timeout = 1.0, fall = 2

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        director = try lab.namespace("d")
        try FileManager.default.createDirectory(atPath: lab.path("etc-frr"), withIntermediateDirectories: true)
        // The director needs a default route for its routing configs.
        try lab.exec(director, ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"])
        for device in ["eth0", "eth1"] { try lab.exec(director, ["ip", "link", "set", device, "up"]) }
        try lab.exec(director, ["ip", "addr", "add", "198.18.0.2/24", "dev", "eth0"])
        try lab.exec(director, ["ip", "route", "add", "default", "via", "198.18.0.1"])
    }

    override func tearDown() { lab?.tearDown() }

    /// Real server `n` at 198.18.1.(4n+2), the director at 4n+1; with
    /// `ipv6`, at 2001:db8:1:n::2/64 with the director at ::1, both added
    /// `nodad` so they are usable at once.
    func realServer(_ n: Int, ipv6: Bool = false) throws -> (namespace: String, address: String) {
        let namespace = try lab.namespace("rs\(n)")
        try lab.link(director, "rs\(n)", namespace, "eth0")
        if ipv6 {
            try lab.exec(director, ["ip", "addr", "add", "2001:db8:1:\(n)::1/64", "dev", "rs\(n)", "nodad"])
            try lab.exec(namespace, ["ip", "addr", "add", "2001:db8:1:\(n)::2/64", "dev", "eth0", "nodad"])
            return (namespace, "2001:db8:1:\(n)::2")
        }
        try lab.exec(director, ["ip", "addr", "add", "198.18.1.\(4 * n + 1)/30", "dev", "rs\(n)"])
        try lab.exec(namespace, ["ip", "addr", "add", "198.18.1.\(4 * n + 2)/30", "dev", "eth0"])
        return (namespace, "198.18.1.\(4 * n + 2)")
    }

    var script: String { FixtureRepository.url("Tests/tools/health-target.py").path }

    func status() throws -> [String: [String: Any]] {
        let output = try lab.exec(director, [Command.ecmpd, "status", "--json", "--address", listen, "--timeout", "2"])
            .output
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        var byServer: [String: [String: Any]] = [:]
        for entry in json["realServers"] as? [[String: Any]] ?? [] {
            byServer[entry["server"] as? String ?? ""] = entry
        }
        return byServer
    }

    struct DaemonExited: Error, CustomStringConvertible {
        var log: String
        var description: String { "ecmpd run exited early:\n\(log)" }
    }

    func log() -> String { (try? String(contentsOfFile: lab.path("ecmpd.log"), encoding: .utf8)) ?? "(no log)" }

    /// Starts `ecmpd run` on `config` and waits until every one of `names` is up.
    func runUntilUp(_ config: String, _ names: [String]) throws -> pid_t {
        let daemon = try lab.spawn(director, [Command.ecmpd, "run", "--config", config], log: lab.path("ecmpd.log"))
        try NetnsLab.waitFor("all real servers up", timeout: .seconds(60), interval: .milliseconds(100)) {
            guard lab.isRunning(daemon) else { throw DaemonExited(log: log()) }
            let now = try? status()
            return names.allSatisfy { now?[$0]?["state"] as? String == "up" }
        }
        return daemon
    }

    func testIPv6RealServersAreCheckedOverTCPHTTPHTTPSExecAndICMPv6() throws {
        try lab.exec(director, ["ip", "addr", "add", "2001:db8::2/64", "dev", "eth0", "nodad"])
        var servers: [(namespace: String, address: String)] = []
        for n in 1...5 { servers.append(try realServer(n, ipv6: true)) }
        let pem = lab.path("tls.pem")
        try lab.exec(
            director,
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=rs3",
                "-keyout", pem, "-out", lab.path("cert.pem"),
            ])
        try FileHandle(forWritingAtPath: pem).map { handle in
            handle.seekToEndOfFile()
            handle.write(try Data(contentsOf: URL(fileURLWithPath: lab.path("cert.pem"))))
            handle.closeFile()
        }
        let serve: [[String]] = [
            ["--port", "80"], ["--port", "80"], ["--port", "443", "--tls", pem], ["--port", "8080", "--tcp"],
        ]
        var pids: [pid_t] = []
        for (index, arguments) in serve.enumerated() {
            pids.append(
                try lab.spawn(
                    servers[index].namespace,
                    ["/usr/bin/python3", script, "--bind", "::"] + arguments, log: lab.path("rs\(index + 1).log")))
        }
        let timing = "interval: \(Int(interval))s, timeout: \(Int(timeout))s, fall: \(fall), rise: 1"
        // The exec check fetches from the address and port it is given,
        // and fails unless it is told the family is inet6.
        let probe =
            "test \"$ECMPD_FAMILY\" = inet6 || { echo \"family $ECMPD_FAMILY\"; exit 2; }; "
            + "exec /usr/bin/curl -gsf -m 1 -o /dev/null \"http://[$ECMPD_REAL_SERVER]:$ECMPD_REAL_SERVER_PORT/\""
        let config = try lab.write(
            "ecmpd.yaml",
            """
            mode: managed
            node: { hostname: director-1, state_dir: \(lab.path("state")) }
            routing: { config_dir: \(lab.path("etc-frr")), reload: none }
            ospf6: { interfaces: [eth0] }
            status: { listen: "\(listen)" }
            controller: { poll_interval: 100ms }
            vips:
              - address: 2001:db8::100
                health: { fall: 2, rise: 1, hold_down: 0s }
                services:
                  - port: 80
                    real_servers:
                      - { address: \(servers[0].address), check: { type: http, \(timing) } }
                      - address: \(servers[1].address)
                        check:
                          type: exec
                          command: [/bin/sh, -c, '\(probe)']
                          interval: \(Int(interval))s
                          timeout: \(Int(timeout))s
                          fall: \(fall)
                          rise: 1
                  - port: 443
                    real_servers:
                      - { address: \(servers[2].address), check: { type: https, verify_certificate: false, \(timing) } }
                  - port: 8080
                    real_servers:
                      - { address: \(servers[3].address), check: { type: tcp, \(timing) } }
                  - port: 9000
                    real_servers:
                      - { address: \(servers[4].address), check: { type: icmp, \(timing) } }
            """)
        let names = zip(servers, [80, 80, 443, 8080, 9000]).map { "[\($0.address)]:\($1)" }
        do { _ = try runUntilUp(config, names) } catch { XCTFail("\(error)\n\(log())"); return }

        // Every server fails at once: the four listeners killed, rs5's address removed.
        let faultAt = ContinuousClock.now
        for pid in pids {
            kill(pid, SIGKILL)
            _ = lab.waitExit(pid, timeout: .seconds(5))
        }
        try lab.exec(servers[4].namespace, ["ip", "addr", "del", "\(servers[4].address)/64", "dev", "eth0"])
        let expected = [
            names[0]: "connection refused", names[1]: "exit status 7", names[2]: "connection refused",
            names[3]: "connection refused", names[4]: "no reply within 1s",
        ]
        var downs: [String: String] = [:]
        _ = try? NetnsLab.waitFor("all five down", timeout: .seconds(15), interval: .milliseconds(100)) {
            let now = (try? status()) ?? [:]
            for name in names where now[name]?["state"] as? String == "down" && downs[name] == nil {
                downs[name] = now[name]?["lastError"] as? String ?? ""
            }
            return downs.count == names.count
        }
        print("MANAGED-CHECKS-IPV6 all down after \(ContinuousClock.now - faultAt)")
        for name in names {
            guard let reason = downs[name] else { XCTFail("\(name) never reported down\n\(log())"); continue }
            XCTAssertTrue(reason.hasPrefix(expected[name]!), "\(name): \(reason)")
        }

        // rs1 comes back (rise 1).
        _ = try lab.spawn(
            servers[0].namespace, ["/usr/bin/python3", script, "--bind", "::", "--port", "80"],
            log: lab.path("rs1-again.log"))
        _ = try NetnsLab.waitFor("\(names[0]) up again", timeout: .seconds(10)) {
            (try? status())?[names[0]]?["state"] as? String == "up"
        }
    }

    func testKilledFailingAndHangingServersAreEachDetectedWithTheirReasonInTime() throws {
        var servers: [(namespace: String, address: String)] = []
        for n in 1...4 { servers.append(try realServer(n)) }
        var pids: [pid_t] = []
        for (index, server) in servers.enumerated() {
            let argv =
                index == 3
                ? ["/usr/bin/python3", script, "--port", "8080", "--tcp"]
                : [
                    "/usr/bin/python3", script, "--port", "80", "--mode-file", lab.path("mode-\(index + 1)"), "--name",
                    "rs\(index + 1)",
                ]
            pids.append(try lab.spawn(server.namespace, argv, log: lab.path("rs\(index + 1).log")))
        }
        let check =
            "{ type: http, path: /health, interval: \(Int(interval))s, timeout: \(Int(timeout))s, fall: \(fall), rise: 1 }"
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
                  - port: 80
                    scheduler: wrr
                    real_servers:
                      - { address: \(servers[0].address), check: \(check) }
                      - { address: \(servers[1].address), check: \(check) }
                      - { address: \(servers[2].address), check: \(check) }
                  - port: 8080
                    real_servers:
                      - { address: \(servers[3].address), check: { type: tcp, interval: \(Int(interval))s, timeout: \(Int(timeout))s, fall: \(fall) } }
            """)
        let names = servers.enumerated().map { "\($1.address):\($0 == 3 ? 8080 : 80)" }
        do { _ = try runUntilUp(config, names) } catch { XCTFail("\(error)\n\(log())"); return }

        // The four faults at once.
        let faultAt = ContinuousClock.now
        kill(pids[0], SIGKILL)
        _ = lab.waitExit(pids[0], timeout: .seconds(5))
        _ = try lab.write("mode-2", "500\n")
        _ = try lab.write("mode-3", "hang\n")
        kill(pids[3], SIGKILL)
        _ = lab.waitExit(pids[3], timeout: .seconds(5))

        let expected = [
            names[0]: "connection refused",
            names[1]: "HTTP status 500, expected 200",
            names[2]: "no response within 1s",
            names[3]: "connection refused",
        ]
        var detected: [String: Duration] = [:]
        let bound = Duration.seconds(interval * Double(fall) + timeout)
        // Status is polled every 100 ms and the check's own timer has
        // scheduling jitter: half a second of slack on top of the bound.
        let deadline = faultAt + bound + .milliseconds(500)
        while detected.count < expected.count && ContinuousClock.now < deadline + .seconds(5) {
            let now = (try? status()) ?? [:]
            for (server, reason) in expected where detected[server] == nil {
                if now[server]?["state"] as? String == "down" {
                    detected[server] = ContinuousClock.now - faultAt
                    XCTAssertEqual(now[server]?["lastError"] as? String, reason, server)
                }
            }
            usleep(100_000)
        }
        for server in names {
            guard let after = detected[server] else { XCTFail("\(server) never reported down\n\(log())"); continue }
            print("MANAGED-CHECKS \(server) down after \(after) (bound \(bound))")
            XCTAssertLessThanOrEqual(after, bound + .milliseconds(500), server)
        }

        // Recovery: the 500 server answers 200 again (rise 1).
        _ = try lab.write("mode-2", "ok\n")
        try NetnsLab.waitFor("\(names[1]) up again", timeout: .seconds(10)) {
            (try? status())?[names[1]]?["state"] as? String == "up"
        }
        XCTAssertEqual(try status()[names[1]]?["flaps"] as? Int, 2)

        // History has the transitions; the metrics the gauges.
        let history = try lab.exec(
            director, [Command.ecmpd, "history", "--db", lab.path("state/history.sqlite"), "--json"]
        ).output
        XCTAssertTrue(history.contains("realserver-down"), history)
        XCTAssertTrue(history.contains("realserver-up"), history)
        let metrics = try lab.exec(director, ["curl", "-s", "http://\(listen)/metrics"]).output
        XCTAssertTrue(
            metrics.contains("ecmpd_realserver_up{service=\"TCP 198.18.0.100:80\",server=\"\(names[0])\"} 0"), metrics)
        XCTAssertTrue(
            metrics.contains("ecmpd_realserver_up{service=\"TCP 198.18.0.100:80\",server=\"\(names[1])\"} 1"), metrics)
    }
}
