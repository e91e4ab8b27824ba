import ECMPTestSupport
import Foundation
import XCTest

/// Issue 25, kernel tier: the managed checks of one lab (deploy/lab/lab.sh in
/// managed mode, wrr, three real servers, ECMPD_LAB_DNS=1 and
/// ECMPD_LAB_VIA_VIP=1), brought up once for both scenarios because a lab
/// takes minutes to come up under TCG.
///
/// DNS: a UDP service (Debian's dnsmasq on each real server, behind an IPVS
/// UDP service VIP:53 with direct routing on both directors) checked with
/// `type: dns`. A client's query through the router is answered; rs1's
/// dnsmasq stopped is detected (the closed port's ICMP port unreachable is
/// the reason) and rs1 leaves the UDP service on both directors while the
/// client's queries are still answered.
///
/// via_vip: port 80 is checked through the VIP path (an http check with
/// `via_vip: true`), port 9000 with a plain tcp check to each server's
/// address. A real server that loses the VIP from lo (rs1) drops every
/// client packet while its own address still answers: the via_vip check
/// fails and IPVS drops it from port 80, the plain check stays green (both
/// shown), and clients through the router see no failed request on port 80
/// once the change is applied, while port 9000 still sends some of them to
/// rs1. A real server whose address is deleted (rs3) fails its http, tcp
/// and dns checks, its dnsmasq still running (keepalived #1637, #1679, where
/// checks kept passing).
///
/// IPv6 (issue 24): the lab is dual-stack, with an IPv6 VIP whose port 80
/// is checked over IPv6. rs2's HTTP server stopped (it serves both
/// families) takes rs2 out of the IPv6 service on both directors while
/// IPv6 clients through the router are still served; started again, rs2
/// returns.
final class ManagedChecksLabTests: XCTestCase {
    var lab: LabScript?

    override func setUpWithError() throws {
        try KernelTier.requireVM()
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") else {
            XCTFail("/usr/sbin/dnsmasq is missing: run scripts/install-deps.sh (Debian package dnsmasq-base)")
            throw XCTSkip("dnsmasq")
        }
    }

    override func tearDown() {
        if let lab, (testRun?.totalFailureCount ?? 0) > 0 {
            for node in ["d1", "d2"] { print("--- ecmpd log of \(node):\n" + lab.log(node)) }
        }
        lab?.down()
    }

    let rs1 = "198.18.0.4", rs2 = "198.18.0.5", rs3 = "198.18.0.6"

    /// d`director`'s managed real servers from `ecmpd status --json`, by
    /// "service -> server".
    func servers(_ lab: LabScript, _ director: Int) throws -> [String: [String: Any]] {
        let output = try lab.exec("d\(director)", [Command.ecmpd, "status", "--json"]).output
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        var result: [String: [String: Any]] = [:]
        for server in object["realServers"] as? [[String: Any]] ?? [] {
            result["\(server["service"] ?? "") -> \(server["server"] ?? "")"] = server
        }
        return result
    }

    func state(_ servers: [String: [String: Any]], port: Int, _ address: String) -> String? {
        servers["TCP \(LabScript.vip):\(port) -> \(address):\(port)"]?["state"] as? String
    }

    /// `count` new connections from the client to `vip`:80 through the
    /// router, one after the other from one process (a process per request
    /// costs about a second under TCG); the number that failed.
    func failedRequests(_ lab: LabScript, count: Int, vip: String = LabScript.vip) throws -> Int {
        count - (try lab.requests(count, vip: vip)).filter { $0.key != "FAILED" }.values.reduce(0, +)
    }

    /// One query for svc.example A from the client through the router; the
    /// address in the answer (198.18.0.5N names rsN), or nil.
    func ask(_ lab: LabScript) throws -> String? {
        let script = """
            import socket, struct, sys
            q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\\x03svc\\x07example\\x00" + struct.pack(">HH", 1, 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.sendto(q, ("\(LabScript.vip)", 53))
            try:
                r = s.recv(512)
            except OSError:
                sys.exit(1)
            print(".".join(str(b) for b in r[-4:]))
            """
        let result = try lab.exec("client", ["python3", "-c", script], allowFailure: true)
        guard result.status == 0 else { return nil }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// VIP:53 on both directors holds exactly `servers` (weight 1 each).
    func dnsServiceHolds(_ lab: LabScript, _ servers: [String]) throws -> Bool {
        let expected = Dictionary(uniqueKeysWithValues: servers.map { ("\($0):53", 1) })
        return try lab.weights(1, port: 53, udp: true) == expected && lab.weights(2, port: 53, udp: true) == expected
    }

    func testDNSAndViaVIPChecksTakeFailedServersOutOnBothDirectors() throws {
        let started = ContinuousClock.now
        let lab = LabScript(
            tag: "mc",
            environment: [
                "ECMPD_LAB_MODE=managed", "ECMPD_LAB_FLEET=0", "ECMPD_LAB_REAL_SERVERS=3", "ECMPD_LAB_VIA_VIP=1",
                "ECMPD_LAB_DNS=1",
            ])
        self.lab = lab
        try lab.run(["up"])
        try NetnsLab.waitFor(
            "every server up on ports 80, 9000 and 53 and on the IPv6 VIP's port 80, on both directors",
            timeout: .seconds(180), interval: .milliseconds(250)
        ) {
            try [1, 2].allSatisfy { director in
                try lab.weights(director, port: 80).count == 3 && lab.weights(director, port: 9000).count == 3
                    && lab.weights(director, port: 80, vip: LabScript.vip6).count == 3
            } && dnsServiceHolds(lab, [rs1, rs2, rs3]) && lab.routerHas(2) && lab.routerHas(2, vip: LabScript.vip6)
        }
        // The probe services: one fwmark service per real server, direct
        // routing to that server alone.
        let table = try lab.exec("d1", ["ipvsadm", "-Ln"]).output
        print("d1's IPVS table with via_vip checks:\n\(table)")
        for server in [rs1, rs2, rs3] {
            XCTAssertTrue(table.contains("-> \(server):0"), "a probe service for \(server)")
        }
        let ready = ContinuousClock.now
        print("lab up and every check green \(ready - started) after the start")

        // IPv6: rs2 killed and revived.
        let rs2v6 = "[2001:db8:18::5]:80"
        try lab.run(["fail-rs", "2"])
        let killed = ContinuousClock.now
        try NetnsLab.waitFor(
            "rs2 out of the IPv6 VIP's port 80 on both directors", timeout: .seconds(30), interval: .milliseconds(100)
        ) {
            try [1, 2].allSatisfy { director in
                let weights = try lab.weights(director, port: 80, vip: LabScript.vip6)
                return weights.count == 2 && weights[rs2v6] == nil
            }
        }
        print(
            "IPv6: rs2's HTTP server stopped -> out of [\(LabScript.vip6)]:80 on both directors after "
                + "\(ContinuousClock.now - killed)")
        XCTAssertEqual(try failedRequests(lab, count: 30, vip: LabScript.vip6), 0, "IPv6 clients served by rs1 and rs3")
        XCTAssertTrue(try lab.routerHas(2, vip: LabScript.vip6), "both directors still announce the IPv6 VIP")
        try lab.run(["restore-rs", "2"])
        try NetnsLab.waitFor(
            "rs2 back in the IPv6 VIP's port 80 and in VIP:80 on both directors", timeout: .seconds(60),
            interval: .milliseconds(100)
        ) {
            try [1, 2].allSatisfy { director in
                try lab.weights(director, port: 80, vip: LabScript.vip6)[rs2v6] == 1
                    && lab.weights(director, port: 80)["\(rs2):80"] == 1
            }
        }

        // DNS: queries through the VIP are answered; rs1's dnsmasq stopped
        // (its port closed) takes rs1 out of VIP:53.
        var answers: Set<String> = []
        for _ in 0..<3 { if let answer = try ask(lab) { answers.insert(answer) } }
        XCTAssertFalse(answers.isEmpty, "the client's queries through the VIP are answered")
        XCTAssertTrue(answers.isSubset(of: ["198.18.0.51", "198.18.0.52", "198.18.0.53"]), "\(answers)")
        let stoppedAt = ContinuousClock.now
        try lab.run(["fail-dns", "1"])
        try NetnsLab.waitFor("rs1 out of VIP:53 on both directors", timeout: .seconds(30), interval: .milliseconds(100))
        {
            try dnsServiceHolds(lab, [rs2, rs3])
        }
        print(
            "DNS-LAB rs1's dnsmasq stopped -> out of IPVS on both directors after \(ContinuousClock.now - stoppedAt) "
                + "(interval 1s x fall 2)")
        let status = try lab.exec("d1", [Command.ecmpd, "status", "--json"]).output
        XCTAssertTrue(status.contains("ICMP port unreachable (connection refused)"), status)
        for _ in 0..<2 {
            let answer = try ask(lab)
            XCTAssertTrue(
                ["198.18.0.52", "198.18.0.53"].contains(answer ?? "none"), "rs2 or rs3 answers: \(answer ?? "none")")
        }
        try lab.run(["restore-dns", "1"])
        try NetnsLab.waitFor("rs1 back in VIP:53", timeout: .seconds(30), interval: .milliseconds(100)) {
            try dnsServiceHolds(lab, [rs1, rs2, rs3])
        }

        // At once: rs1 loses the VIP from lo (its own address still
        // answers), and rs3's address is deleted (its servers still run).
        let changed = ContinuousClock.now
        try lab.exec("rs1", ["ip", "addr", "del", "\(LabScript.vip)/32", "dev", "lo"])
        try lab.exec("rs3", ["ip", "addr", "del", "\(rs3)/24", "dev", "eth0"])
        try NetnsLab.waitFor(
            "rs1 out of port 80 and rs3 out of every service, on both directors", timeout: .seconds(60),
            interval: .milliseconds(250)
        ) {
            try [1, 2].allSatisfy { director in
                let found = try servers(lab, director)
                return try lab.weights(director, port: 80)["\(rs1):80"] == nil
                    && state(found, port: 80, rs3) == "down" && state(found, port: 9000, rs3) == "down"
            } && dnsServiceHolds(lab, [rs1, rs2])
        }
        print(
            "rs1 out of VIP:80 and rs3 out of every service on both directors \(ContinuousClock.now - changed) after the changes"
        )
        for director in [1, 2] {
            let found = try servers(lab, director)
            let viaVIP = found["TCP \(LabScript.vip):80 -> \(rs1):80"] ?? [:]
            let plain = found["TCP \(LabScript.vip):9000 -> \(rs1):9000"] ?? [:]
            print("d\(director): rs1 via_vip http check: \(viaVIP)\nd\(director): rs1 plain tcp check: \(plain)")
            XCTAssertEqual(viaVIP["state"] as? String, "down")
            XCTAssertTrue(
                (viaVIP["lastError"] as? String ?? "").contains("the real server may lack the VIP on lo"),
                "\(viaVIP)")
            XCTAssertEqual(plain["state"] as? String, "up", "the plain check to rs1's address stays green")
            XCTAssertEqual(try lab.weights(director, port: 9000)["\(rs1):9000"], 1)
            XCTAssertEqual(try lab.weights(director, port: 80).keys.sorted(), ["\(rs2):80"])
            let dns = found["UDP \(LabScript.vip):53 -> \(rs3):53"]?["lastError"] as? String ?? ""
            XCTAssertTrue(dns.hasPrefix("no reply within") || dns.contains("unreachable"), "rs3's dns check: \(dns)")
            print(
                "d\(director): rs3 without its address: via_vip "
                    + "\(found["TCP \(LabScript.vip):80 -> \(rs3):80"]?["lastError"] ?? "-"); plain "
                    + "\(found["TCP \(LabScript.vip):9000 -> \(rs3):9000"]?["lastError"] ?? "-"); dns \(dns)")
        }
        XCTAssertEqual(try failedRequests(lab, count: 60), 0, "no failed request once rs1 and rs3 are out of port 80")
        // The blackhole the plain check misses: port 9000 still sends
        // clients to rs1, whose lo has no VIP.
        let connects = """
            import socket
            failed = 0
            for _ in range(10):
                try:
                    socket.create_connection(("\(LabScript.vip)", 9000), timeout=1).close()
                except OSError:
                    failed += 1
            print(failed)
            """
        let blackholed = try lab.exec("client", ["python3", "-c", connects]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        print("port 9000 (plain tcp checks, rs1 still in): \(blackholed) of 10 new connections failed")
        XCTAssertGreaterThan(Int(blackholed) ?? 0, 0, "the plain check keeps a server that drops client packets")
        // A reload without via_vip: d1's probe services go (every fwmark
        // service in ecmpd's range is its own), the VIP's stay.
        let config = "\(lab.directory)/d1/ecmpd.yaml"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: ", via_vip: true", with: "").write(
            toFile: config, atomically: true, encoding: .utf8)
        try lab.run(["reload-director", "1"])
        try NetnsLab.waitFor("d1's probe services gone", timeout: .seconds(30), interval: .milliseconds(250)) {
            try !lab.exec("d1", ["ipvsadm", "-Ln"]).output.contains("FWM")
        }
        XCTAssertEqual(try lab.weights(1, port: 9000).count, 2, "the VIP's services stay")
        print("ManagedChecksLabTests took \(ContinuousClock.now - started)")
    }
}
