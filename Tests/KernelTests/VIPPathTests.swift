import ECMPTestSupport
import Foundation
import XCTest

/// Issue 25, `via_vip`, kernel tier: the lab in managed mode (wrr, three real
/// servers) with port 80 checked through the VIP path (an http check with
/// `via_vip: true`) and port 9000 with a plain tcp check to each server's
/// address. A real server that loses the VIP from lo drops every client
/// packet while its own address still answers: the via_vip check fails and
/// IPVS drops it from port 80, the plain check stays green (both shown), and
/// clients through the router see no failed request on port 80 once the
/// change is applied, while port 9000 still sends some of them to rs1. A
/// real server whose address is deleted (rs3) fails both checks.
final class VIPPathTests: XCTestCase {
    var lab: LabScript?

    override func setUpWithError() throws {
        try KernelTier.requireVM()
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

    /// `count` new connections from the client to VIP:80 through the router,
    /// one after the other from one process (a process per request costs
    /// about a second under TCG); the number that failed.
    func failedRequests(_ lab: LabScript, count: Int) throws -> Int {
        let script = """
            import urllib.request
            failed = 0
            for _ in range(\(count)):
                try:
                    urllib.request.urlopen("http://\(LabScript.vip)/", timeout=3).read()
                except Exception:
                    failed += 1
            print(failed)
            """
        let output = try lab.exec("client", ["python3", "-c", script]).output
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? "") ?? -1
    }

    func testViaVIPCatchesAServerWithoutTheVIPThatAPlainCheckMisses() throws {
        let started = ContinuousClock.now
        let lab = LabScript(
            tag: "vv",
            environment: [
                "ECMPD_LAB_MODE=managed", "ECMPD_LAB_FLEET=0", "ECMPD_LAB_REAL_SERVERS=3", "ECMPD_LAB_VIA_VIP=1",
            ])
        self.lab = lab
        try lab.run(["up"])
        try NetnsLab.waitFor(
            "every server up on both ports on both directors", timeout: .seconds(120), interval: .milliseconds(250)
        ) {
            try [1, 2].allSatisfy { director in
                try lab.weights(director, port: 80).count == 3 && lab.weights(director, port: 9000).count == 3
            } && lab.routerHas(2)
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

        // At once: rs1 loses the VIP from lo (its own address still
        // answers), and rs3's address is deleted.
        try lab.exec("rs1", ["ip", "addr", "del", "\(LabScript.vip)/32", "dev", "lo"])
        try lab.exec("rs3", ["ip", "addr", "del", "\(rs3)/24", "dev", "eth0"])
        try NetnsLab.waitFor(
            "rs1 out of port 80 and rs3 down on both ports, on both directors", timeout: .seconds(60),
            interval: .milliseconds(250)
        ) {
            try [1, 2].allSatisfy { director in
                let found = try servers(lab, director)
                return try lab.weights(director, port: 80)["\(rs1):80"] == nil
                    && state(found, port: 80, rs3) == "down" && state(found, port: 9000, rs3) == "down"
            }
        }
        print("rs1 out of VIP:80 and rs3 down on both directors \(ContinuousClock.now - ready) after the changes")
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
            print(
                "d\(director): rs3 without its address: via_vip "
                    + "\(found["TCP \(LabScript.vip):80 -> \(rs3):80"]?["lastError"] ?? "-"); plain "
                    + "\(found["TCP \(LabScript.vip):9000 -> \(rs3):9000"]?["lastError"] ?? "-")")
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
        print("VIPPathTests took \(ContinuousClock.now - started)")
    }
}
