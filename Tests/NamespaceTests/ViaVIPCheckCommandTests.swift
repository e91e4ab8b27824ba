import ECMPTestSupport
import Foundation
import XCTest

/// `ecmpd check` and `via_vip` (issue 25), in a fresh network namespace
/// (its own net.ipv4.conf sysctls, accept_local 0): a managed
/// direct-routing service checked at the real servers' addresses only gets
/// the suggestion; with via_vip the suggestion goes and the director's
/// sysctls are judged instead, until accept_local is 1 and rp_filter loose.
final class ViaVIPCheckCommandTests: XCTestCase {
    var lab: NetnsLab?

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing) }
    }

    override func tearDown() {
        lab?.tearDown()
    }

    func config(_ lab: NetnsLab, viaVIP: Bool) throws -> String {
        try lab.write(
            "ecmpd-\(viaVIP).yaml",
            """
            mode: managed
            node: { hostname: vv, state_dir: \(lab.path("state")) }
            routing: { config_dir: \(lab.path("frr")) }
            vips:
              - address: 198.18.0.100
                services:
                  - protocol: tcp
                    port: 80
                    forwarding: dr
                    real_servers:
                      - { address: 198.18.0.4, check: { type: http, via_vip: \(viaVIP) } }

            """)
    }

    /// The messages of `ecmpd check --json`'s problems that mention `word`.
    func messages(_ lab: NetnsLab, _ namespace: String, _ config: String, mentioning word: String) throws -> [String] {
        let result = try lab.exec(
            namespace, [Command.ecmpd, "check", "--config", config, "--json"], allowFailure: true)
        let start = result.output.firstIndex(of: "{") ?? result.output.startIndex
        let report = try JSONSerialization.jsonObject(with: Data(result.output[start...].utf8)) as? [String: Any] ?? [:]
        return (report["problems"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            .filter { $0.contains(word) }
    }

    func testCheckSuggestsViaVIPAndThenJudgesTheSysctlsItNeeds() throws {
        let lab = try NetnsLab()
        self.lab = lab
        let director = try lab.directorNamespace("d")

        let plain = try config(lab, viaVIP: false)
        XCTAssertEqual(
            try messages(lab, director, plain, mentioning: "via_vip").count, 1,
            "one suggestion for the direct-routing service")

        let viaVIP = try config(lab, viaVIP: true)
        let before = try messages(lab, director, viaVIP, mentioning: "via_vip")
        XCTAssertEqual(before.count, 1, "\(before)")
        XCTAssertTrue(before.first?.contains("net.ipv4.conf.all.accept_local=1 (it is 0)") == true, "\(before)")

        try lab.exec(director, ["sysctl", "-q", "-w", "net.ipv4.conf.all.accept_local=1"])
        try lab.exec(director, ["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1"])
        let strict = try messages(lab, director, viaVIP, mentioning: "via_vip")
        XCTAssertEqual(strict.count, 1, "\(strict)")
        XCTAssertTrue(strict.first?.contains("rp_filter") == true, "\(strict)")

        try lab.exec(director, ["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=2"])
        XCTAssertEqual(try messages(lab, director, viaVIP, mentioning: "via_vip"), [])
    }
}
