import ECMPTestSupport
import Foundation
import XCTest

/// Issue 25, kernel tier: a UDP service (Debian's dnsmasq on each real
/// server, behind an IPVS UDP service VIP:53 with direct routing on both
/// directors) checked by `ecmpd run` in managed mode with `type: dns`
/// (deploy/lab/lab.sh with ECMPD_LAB_DNS=1). A client's query through the
/// router is answered; rs1's dnsmasq stopped is detected (the closed port's
/// ICMP port unreachable is the reason) and rs1 leaves the UDP service on
/// both directors, while the client's queries are still answered by rs2;
/// then rs2's address deleted (its dnsmasq still running) takes rs2 out too
/// (keepalived #1637, #1679, where checks kept passing).
final class DNSCheckLabTests: XCTestCase {
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

    /// `ipvsadm -Ln -u VIP:53` on a director: destination → weight.
    func udpWeights(_ lab: LabScript, _ director: Int) throws -> [String: Int] {
        let output = try lab.exec("d\(director)", ["ipvsadm", "-Ln", "-u", "\(LabScript.vip):53"], allowFailure: true)
            .output
        var result: [String: Int] = [:]
        for line in output.split(separator: "\n") where line.contains("->") && !line.contains("RemoteAddress") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if fields.count >= 4, let weight = Int(fields[3]) { result[fields[1]] = weight }
        }
        return result
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

    func testADNSServiceBehindIPVSIsCheckedWithTypeDNSAndAStoppedServerLeavesIt() throws {
        let lab = LabScript(
            tag: "dn", environment: ["ECMPD_LAB_MODE=managed", "ECMPD_LAB_FLEET=0", "ECMPD_LAB_DNS=1"])
        self.lab = lab
        try lab.run(["up"])
        let rs1 = "198.18.0.4:53", rs2 = "198.18.0.5:53"
        try NetnsLab.waitFor(
            "both real servers in VIP:53 on both directors", timeout: .seconds(120), interval: .milliseconds(200)
        ) {
            try udpWeights(lab, 1) == [rs1: 1, rs2: 1] && udpWeights(lab, 2) == [rs1: 1, rs2: 1]
        }
        try NetnsLab.waitFor("the router's route over both directors", timeout: .seconds(120)) {
            try lab.routerHas(2)
        }
        var answers: Set<String> = []
        for _ in 0..<3 { if let answer = try ask(lab) { answers.insert(answer) } }
        XCTAssertFalse(answers.isEmpty, "the client's queries through the VIP are answered")
        XCTAssertTrue(answers.isSubset(of: ["198.18.0.51", "198.18.0.52"]), "\(answers)")

        // rs1's DNS server stopped: its port is closed.
        let stoppedAt = ContinuousClock.now
        try lab.run(["fail-dns", "1"])
        let gone = try NetnsLab.waitFor(
            "rs1 out of VIP:53 on both directors", timeout: .seconds(30), interval: .milliseconds(100)
        ) {
            try udpWeights(lab, 1) == [rs2: 1] && udpWeights(lab, 2) == [rs2: 1]
        }
        print(
            "DNS-LAB rs1's dnsmasq stopped -> out of IPVS on both directors after \(ContinuousClock.now - stoppedAt) (interval 1s x fall 2; \(gone))"
        )
        let status = try lab.exec("d1", [Command.ecmpd, "status", "--json"]).output
        XCTAssertTrue(status.contains("ICMP port unreachable (connection refused)"), status)
        for _ in 0..<2 { XCTAssertEqual(try ask(lab), "198.18.0.52", "rs2 answers every query now") }

        // rs1 back; then rs2's address deleted while its dnsmasq keeps
        // running (keepalived #1637, #1679: checks that kept passing).
        try lab.run(["restore-dns", "1"])
        try NetnsLab.waitFor("rs1 back in VIP:53", timeout: .seconds(30), interval: .milliseconds(100)) {
            try udpWeights(lab, 1) == [rs1: 1, rs2: 1] && udpWeights(lab, 2) == [rs1: 1, rs2: 1]
        }
        let deletedAt = ContinuousClock.now
        try lab.exec("rs2", ["ip", "addr", "del", "198.18.0.5/24", "dev", "eth0"])
        try NetnsLab.waitFor("rs2 out of VIP:53 on both directors", timeout: .seconds(30), interval: .milliseconds(100))
        {
            try udpWeights(lab, 1) == [rs1: 1] && udpWeights(lab, 2) == [rs1: 1]
        }
        let after = try lab.exec("d1", [Command.ecmpd, "status", "--json"]).output
        let json = try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [String: Any] ?? [:]
        let rs2Entry = (json["realServers"] as? [[String: Any]] ?? []).first {
            $0["server"] as? String == rs2 && ($0["service"] as? String ?? "").hasPrefix("UDP")
        }
        let reason = rs2Entry?["lastError"] as? String ?? ""
        XCTAssertTrue(reason.hasPrefix("no reply within") || reason.contains("unreachable"), reason)
        print(
            "DNS-LAB rs2's address deleted -> out of IPVS on both directors after \(ContinuousClock.now - deletedAt): \(reason)"
        )
        XCTAssertEqual(try ask(lab), "198.18.0.51", "rs1 answers")
    }
}
