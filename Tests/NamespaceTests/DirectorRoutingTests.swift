import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: a namespace shaped like a director (a /24 with a kernel
/// secondary address, a /26 under a label, a default route, the VIP on lo)
/// and a router namespace, running real zebra and ospfd from Debian's FRR
/// with configs ecmpd rendered from what it detected.
final class DirectorRoutingTests: XCTestCase {
    var lab: NetnsLab!
    var router = "", director = "", client = ""

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        lab = try NetnsLab()
        router = try lab.namespace("rtr")
        director = try lab.namespace("dir")
        client = try lab.namespace("cli")
        try lab.link(router, "lan", director, "eth0")
        try lab.link(router, "up0", client, "eth0")
        try lab.exec(router, ["ip", "addr", "add", "198.18.0.1/24", "dev", "lan"])
        try lab.exec(router, ["ip", "addr", "add", "198.19.1.1/24", "dev", "up0"])
        try lab.exec(client, ["ip", "addr", "add", "198.19.1.2/24", "dev", "eth0"])
        try lab.exec(director, ["ip", "addr", "add", "198.18.0.2/24", "dev", "eth0"])
        try lab.exec(director, ["ip", "addr", "add", "198.18.0.3/24", "dev", "eth0"])
        try lab.exec(director, ["ip", "addr", "add", "198.18.1.66/26", "dev", "eth0", "label", "eth0:1"])
        try lab.exec(director, ["ip", "route", "add", "default", "via", "198.18.0.1"])
        try lab.exec(director, ["ip", "addr", "add", "198.18.0.100/32", "dev", "lo"])
    }

    override func tearDown() {
        lab?.tearDown()
    }

    func directorConfig(cost: Int = 10, templates: String? = nil) throws -> String {
        try lab.write(
            "director.yaml",
            """
            node: { hostname: director-1 }
            ospf: { lo_cost: \(cost) }
            routing: { config_dir: \(lab.path("etc-dir")), pathspace: \(lab.prefix)d, reload: frr-reload\(templates.map { ", templates_dir: \($0)" } ?? "") }
            vips:
              - address: 198.18.0.100
                services:
                  - { port: 80, real_servers: [{ address: 198.18.0.4 }] }
            """)
    }

    func routerConfig() throws -> String {
        try lab.write(
            "router.yaml",
            """
            node: { hostname: router }
            ospf: { interfaces: [lan, up0] }
            vips: [{ address: 198.18.0.100 }]
            """)
    }

    func sections(_ output: String) -> (zebra: String, ospfd: String) {
        let parts = output.components(separatedBy: "==> ospfd.conf <==\n")
        return (parts[0].replacingOccurrences(of: "==> zebra.conf <==\n", with: ""), parts.count > 1 ? parts[1] : "")
    }

    func testRenderInADirectorNamespaceUsesDetectedPrefixesAndFRRAcceptsIt() throws {
        let output = try lab.exec(director, [Command.ecmpd, "render", "--config", try directorConfig()]).output
        let files = sections(output)
        XCTAssertTrue(files.ospfd.contains(" ospf router-id 198.18.0.2\n"), files.ospfd)
        XCTAssertTrue(
            files.ospfd.contains(
                " network 198.18.0.0/24 area 0.0.0.0\n network 198.18.1.64/26 area 0.0.0.0\n network 198.18.0.100/32 area 0.0.0.0\n"
            ), files.ospfd)
        XCTAssertTrue(files.ospfd.contains("interface eth0\n"))
        for (name, text) in [("zebra.conf", files.zebra), ("ospfd.conf", files.ospfd)] {
            let path = try lab.write("check/\(name)", text)
            let check = try Command.run(["vtysh", "-C", "-f", path], allowFailure: true)
            XCTAssertEqual(check.status, 0, "vtysh -C rejected \(name): \(check.output)")
        }
    }

    func testRenderedConfigsFormAnAdjacencyAndTheRouterLearnsTheVIP() throws {
        try FileManager.default.createDirectory(atPath: lab.path("etc-dir"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lab.path("etc-rtr"), withIntermediateDirectories: true)
        try lab.exec(
            director, [Command.ecmpd, "render", "--config", try directorConfig(), "--write", lab.path("etc-dir")])
        try lab.exec(
            router,
            [
                Command.ecmpd, "render", "--role", "router", "--config", try routerConfig(), "--write",
                lab.path("etc-rtr"),
            ])
        for (namespace, pathspace, etc) in [
            (router, "\(lab.prefix)r", "etc-rtr"), (director, "\(lab.prefix)d", "etc-dir"),
        ] {
            try lab.startFRR("zebra", in: namespace, pathspace: pathspace, config: lab.path("\(etc)/zebra.conf"))
            try lab.startFRR("ospfd", in: namespace, pathspace: pathspace, config: lab.path("\(etc)/ospfd.conf"))
        }
        let learned = try NetnsLab.waitFor(
            "router's kernel route to 198.18.0.100 via the director", timeout: .seconds(60)
        ) {
            try lab.exec(router, ["ip", "-4", "route", "show", "198.18.0.100/32"]).output.contains(
                "via 198.18.0.2 dev lan proto ospf")
        }
        print("router learned the VIP \(learned) after daemon start")
        // The secondary-labelled /26 is announced too (true prefix, not /24).
        XCTAssertTrue(
            try lab.exec(router, ["ip", "-4", "route", "show", "198.18.1.64/26"]).output.contains("proto ospf"))
        // The director keeps OSPF routes out of its kernel: the router's
        // client network is in OSPF, yet not in the director's table.
        try NetnsLab.waitFor("director's ospfd to know 198.19.1.0/24", timeout: .seconds(30)) {
            try lab.vtysh("\(lab.prefix)d", "show ip ospf route").contains("198.19.1.0/24")
        }
        XCTAssertFalse(try lab.exec(director, ["ip", "-4", "route"]).output.contains("proto ospf"))
    }

    func testInstallIsANoopWhenUnchangedAndKeepsABackupWhenChanged() throws {
        let etc = lab.path("etc-dir")
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        let first = try lab.exec(director, [Command.ecmpd, "render", "--config", try directorConfig(), "--write", etc])
            .output
        XCTAssertTrue(first.contains("ospfd.conf: installed"), first)
        var info = stat()
        stat("\(etc)/ospfd.conf", &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o640)
        XCTAssertEqual(info.st_uid, getpwnam("frr").pointee.pw_uid)
        let second = try lab.exec(
            director, [Command.ecmpd, "render", "--config", try directorConfig(), "--write", etc]
        ).output
        XCTAssertTrue(second.contains("zebra.conf: unchanged") && second.contains("ospfd.conf: unchanged"), second)
        let third = try lab.exec(
            director, [Command.ecmpd, "render", "--config", try directorConfig(cost: 50), "--write", etc]
        ).output
        XCTAssertTrue(third.contains("ospfd.conf: installed (previous kept as"), third)
        XCTAssertTrue(third.contains("zebra.conf: unchanged"), third)
        let backups = try FileManager.default.contentsOfDirectory(atPath: etc).filter { $0.hasPrefix("ospfd.conf.") }
        XCTAssertEqual(backups.count, 1, "\(backups)")
    }

    func testRejectedRenderingLeavesInstalledFilesUntouched() throws {
        let etc = lab.path("etc-dir")
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        try lab.exec(director, [Command.ecmpd, "render", "--config", try directorConfig(), "--write", etc])
        let before = try String(contentsOfFile: "\(etc)/ospfd.conf", encoding: .utf8)
        let templates = lab.path("bad-templates/director")
        try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
        let good = FixtureRepository.url("quagga-templates/director")
        try FileManager.default.copyItem(
            atPath: good.appendingPathComponent("zebra.conf.mustache").path, toPath: "\(templates)/zebra.conf.mustache")
        try
            (String(contentsOf: good.appendingPathComponent("ospfd.conf.mustache"), encoding: .utf8)
            + " ip ospf frobnicate\n")
            .write(toFile: "\(templates)/ospfd.conf.mustache", atomically: true, encoding: .utf8)
        let result = try lab.exec(
            director,
            [
                Command.ecmpd, "render", "--config", try directorConfig(cost: 70, templates: lab.path("bad-templates")),
                "--write", etc, "--reload",
            ], allowFailure: true)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.output.contains("FRR rejected the rendered ospfd.conf (vtysh -C -f); nothing was installed"),
            result.output)
        XCTAssertTrue(result.output.contains("% Unknown command"), result.output)
        XCTAssertEqual(try String(contentsOfFile: "\(etc)/ospfd.conf", encoding: .utf8), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: etc).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "temporary files left behind")
    }

    func testReloadAppliesAChangedFileToTheRunningDaemon() throws {
        let etc = lab.path("etc-dir")
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        try lab.exec(director, [Command.ecmpd, "render", "--config", try directorConfig(), "--write", etc])
        let pathspace = "\(lab.prefix)d"
        try lab.startFRR("zebra", in: director, pathspace: pathspace, config: "\(etc)/zebra.conf")
        try lab.startFRR("ospfd", in: director, pathspace: pathspace, config: "\(etc)/ospfd.conf")
        try NetnsLab.waitFor("ospfd vty", timeout: .seconds(20)) {
            (try? lab.vtysh(pathspace, "show running-config"))?.contains("ip ospf cost 10") == true
        }
        let output = try lab.exec(
            director, [Command.ecmpd, "render", "--config", try directorConfig(cost: 42), "--write", etc, "--reload"]
        ).output
        XCTAssertTrue(output.contains("ospfd: reloaded"), output)
        XCTAssertFalse(output.contains("zebra: reloaded"), "an unchanged file is not reloaded: \(output)")
        XCTAssertTrue(try lab.vtysh(pathspace, "show running-config").contains("ip ospf cost 42"))
    }
}
