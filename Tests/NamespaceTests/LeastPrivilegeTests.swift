import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: the built ecmpd as deploy/systemd/ecmpd.service runs it
/// — a user that is not root, with supplementary groups frr and frrvty
/// and CAP_NET_ADMIN as its only capability (ambient, bounding set
/// cleared, no_new_privs) — set up by `setpriv` in a director namespace
/// with a real zebra and ospfd. It adopts and withdraws a VIP on lo,
/// installs zebra.conf/ospfd.conf as itself with group frr, reloads ospfd
/// through frr-reload.py and the vty sockets, keeps its SQLite history and
/// answers on its status endpoint; without CAP_NET_ADMIN it refuses to
/// start and says which capability is missing.
///
/// The user is `nobody` (in groups nogroup, frr, frrvty for the test), so
/// nothing is added to the host's /etc/passwd; vtysh needs the uid to
/// have a passwd entry, as the unit's `ecmpd` (sysusers.d) has. Needs root, iproute2, setpriv
/// (util-linux) and FRR (zebra, ospfd, vtysh, frr-reload.py).
final class LeastPrivilegeTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    var uid: uid_t = 0
    var gid: gid_t = 0
    var frr: gid_t = 0
    var frrvty: gid_t = 0
    let vip = "198.18.0.100"
    let listen = "127.0.0.1:9478"
    var pathspace: String { "\(lab.prefix)d" }
    var ecmpd: String { lab.path("bin/ecmpd") }
    var stateDirectory: String { lab.path("state") }
    var routingDirectory: String { lab.path("etc-frr") }
    var logFile: String { lab.path("ecmpd.log") }

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        // getgrnam returns static storage: copy each gid before the next call.
        guard let frrGroup = getgrnam("frr")?.pointee.gr_gid, let vtyGroup = getgrnam("frrvty")?.pointee.gr_gid else {
            return XCTFail("FRR's groups frr and frrvty are missing")
        }
        (frr, frrvty) = (frrGroup, vtyGroup)
        // vtysh refuses a uid without a passwd entry ("could not lookup
        // user ID"); `nobody` has one and owns nothing of FRR's.
        guard let nobody = getpwnam("nobody")?.pointee else { return XCTFail("no user nobody") }
        (uid, gid) = (nobody.pw_uid, nobody.pw_gid)
        lab = try NetnsLab()
        director = try lab.directorNamespace("d")
        _ = try lab.write("keepalived.conf", "global_defs {\n}\n")
        // The build tree may not be open to other users: a copy in the lab's 0755 folder is.
        try FileManager.default.createDirectory(atPath: lab.path("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Command.ecmpd, toPath: ecmpd)
        chmod(ecmpd, 0o755)
        // As systemd's StateDirectory= makes it: the service user's, 0700.
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        chown(stateDirectory, uid, gid)
        chmod(stateDirectory, 0o700)
        // As docs/operator-guide.md has operators set /etc/frr: frr:frr 0770
        // (Debian's 0750 plus group write; no setgid bit needed).
        try FileManager.default.createDirectory(atPath: routingDirectory, withIntermediateDirectories: true)
        chown(routingDirectory, getpwnam("frr").pointee.pw_uid, frr)
        chmod(routingDirectory, 0o770)
    }

    override func tearDown() {
        lab?.tearDown()
    }

    /// `setpriv` down to the unit's user: `uid`:`gid`, groups frr and
    /// frrvty, and CAP_NET_ADMIN only (or, with `netAdmin` false, nothing).
    func asServiceUser(_ argv: [String], netAdmin: Bool = true) -> [String] {
        let caps = netAdmin ? "-all,+net_admin" : "-all"
        return [
            "/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--groups=\(frr),\(frrvty)",
            "--inh-caps=\(caps)", "--ambient-caps=\(caps)", "--bounding-set=\(caps)", "--no-new-privs", "--",
        ] + argv
    }

    func writeConfig(cost: Int, reload: String = "frr-reload", keyFile: String? = nil) throws -> String {
        let authentication = keyFile.map { ", authentication: { key_id: 1, key_file: \($0) }" } ?? ""
        return try lab.write(
            "ecmpd.yaml",
            """
            mode: observe
            node: { hostname: director-1, state_dir: \(stateDirectory) }
            ospf: { lo_cost: \(cost)\(authentication) }
            routing: { config_dir: \(routingDirectory), pathspace: \(pathspace), reload: \(reload), templates_dir: \(FixtureRepository.url("quagga-templates").path) }
            status: { listen: "\(listen)" }
            controller: { poll_interval: 50ms, network_debounce: 200ms, keepalived_config: \(lab.path("keepalived.conf")) }
            vips:
              - address: \(vip)
                health: { fall: 1, rise: 1, hold_down: 0s }
            """)
    }

    func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "(no log)" }

    func status() throws -> [String: Any] {
        let output = try lab.exec(director, [ecmpd, "status", "--json", "--address", listen, "--timeout", "2"]).output
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
    }

    func routingDaemon() -> [String: Any]? { (try? status())?["routingDaemon"] as? [String: Any] }

    func onLoopback(_ address: String) throws -> Bool {
        try lab.exec(director, ["ip", "-4", "-o", "addr", "show", "dev", "lo"]).output.contains(" \(address)/32 ")
    }

    func owner(_ path: String) -> (uid: uid_t, gid: gid_t, mode: mode_t)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_uid, info.st_gid, info.st_mode & 0o7777)
    }

    /// A `/proc/PID/status` line's value, e.g. "CapEff".
    func procStatus(_ pid: pid_t, _ field: String) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix("\(field):") }.map {
            $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
        }
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(60), _ condition: () throws -> Bool) throws {
        do {
            let took = try NetnsLab.waitFor(what, timeout: timeout, interval: .milliseconds(100), condition)
            print("\(what): \(took)")
        } catch {
            throw Failed(description: "\(error)\n--- ecmpd log ---\n\(log())")
        }
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: With CAP_NET_ADMIN only

    func testWithOnlyNetAdminRunWithdrawsTheVIPInstallsAsItselfWithGroupFRRAndReloadsOSPFD() throws {
        // Files as a root-run ecmpd (or the package) left them: frr:frr 0640.
        try lab.exec(director, [ecmpd, "render", "--config", try writeConfig(cost: 10), "--write", routingDirectory])
        let frrUID = getpwnam("frr").pointee.pw_uid
        XCTAssertEqual(owner("\(routingDirectory)/ospfd.conf")?.uid, frrUID)
        try lab.startFRR("zebra", in: director, pathspace: pathspace, config: "\(routingDirectory)/zebra.conf")
        try lab.startFRR("ospfd", in: director, pathspace: pathspace, config: "\(routingDirectory)/ospfd.conf")
        try waitFor("ospfd's vty with cost 10") {
            (try? lab.vtysh(pathspace, "show running-config"))?.contains("ip ospf cost 10") == true
        }
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])

        let config = try writeConfig(cost: 42)
        let pid = try lab.spawn(
            director, asServiceUser([ecmpd, "run", "--config", config, "--log-level", "debug"]), log: logFile)
        try waitFor("the unprivileged ecmpd to answer /status") {
            guard lab.isRunning(pid) else { throw Failed(description: "ecmpd run exited early:\n\(log())") }
            return (try? status()) != nil
        }
        XCTAssertEqual(procStatus(pid, "Uid")?.split(separator: "\t").first.map(String.init), "\(uid)")
        XCTAssertEqual(procStatus(pid, "CapEff"), "0000000000001000", "CAP_NET_ADMIN and nothing else")
        XCTAssertEqual(procStatus(pid, "CapBnd"), "0000000000001000")

        // fall: 1 and no IPVS on this kernel: the adopted VIP is withdrawn
        // over rtnetlink, which needs CAP_NET_ADMIN.
        try waitFor("\(vip) to leave lo") { try !onLoopback(vip) }
        try waitFor("ospfd to run with cost 42 after frr-reload.py") {
            (try? lab.vtysh(pathspace, "show running-config"))?.contains("ip ospf cost 42") == true
        }
        try waitFor("the status endpoint to report the reload") {
            (routingDaemon()?["detail"] as? String)?.contains("reloaded ospfd") == true
        }
        XCTAssertEqual(routingDaemon()?["healthy"] as? Bool, true, "\(String(describing: routingDaemon()))")
        let vips = try status()["vips"] as? [[String: Any]] ?? []
        XCTAssertEqual(vips.first?["state"] as? String, "withdrawn", "\(vips)")

        let installed = try XCTUnwrap(owner("\(routingDirectory)/ospfd.conf"))
        XCTAssertEqual(installed.uid, uid, "installed as the service user: no CAP_CHOWN")
        XCTAssertEqual(installed.gid, frr, "group frr, so FRR's daemons read it")
        XCTAssertEqual(installed.mode, 0o640)
        // fs.protected_hardlinks forbids linking frr's file: kept as a copy.
        let backups = try FileManager.default.contentsOfDirectory(atPath: routingDirectory).filter {
            $0.hasPrefix("ospfd.conf.")
        }
        XCTAssertEqual(backups.count, 1, "\(backups)")
        let backup = try XCTUnwrap(backups.first.map { "\(routingDirectory)/\($0)" })
        XCTAssertTrue(try String(contentsOfFile: backup, encoding: .utf8).contains("ip ospf cost 10"))
        XCTAssertEqual(owner(backup)?.gid, frr)
        XCTAssertEqual(owner(backup)?.mode, 0o640)
        XCTAssertEqual(owner("\(routingDirectory)/zebra.conf")?.uid, frrUID, "an unchanged file is not rewritten")
        XCTAssertEqual(owner("\(stateDirectory)/history.sqlite")?.uid, uid)

        kill(pid, SIGTERM)
        XCTAssertEqual(lab.waitExit(pid, timeout: .seconds(30)), 0, log())
        XCTAssertFalse(log().contains("Operation not permitted"), log())
        XCTAssertFalse(log().contains("Permission denied"), log())
    }

    func testWithOnlyNetAdminLoopbackApplyAddsAndRemovesAVIP() throws {
        let owned = "\(stateDirectory)/loopback.json"
        let added = try lab.exec(
            director,
            asServiceUser([ecmpd, "loopback", "apply", "--owned-file", owned, "--configured", vip, "--announce", vip])
        ).output
        XCTAssertTrue(added.contains("added \(vip)/32"), added)
        XCTAssertTrue(try onLoopback(vip))
        try lab.exec(director, asServiceUser([ecmpd, "loopback", "apply", "--owned-file", owned, "--configured", vip]))
        XCTAssertFalse(try onLoopback(vip))
    }

    /// `sudo ecmpd drain` on a director whose daemon runs as the unit's user:
    /// root writes drain.json and its lock in that user's state directory,
    /// and gives both to it (as root's 0600 files the daemon could read
    /// neither, and kept announcing). The service user then reads and
    /// rewrites them itself, as the daemon does on its next cycle.
    func testRootsDrainLeavesFilesTheServiceUserReadsAndRewrites() throws {
        let config = try writeConfig(cost: 10)
        let drain = "\(stateDirectory)/drain.json"
        let output = try lab.exec(director, [ecmpd, "drain", "--config", config, "--vip", vip]).output
        XCTAssertTrue(output.contains("drained \(vip)"), output)
        for file in [drain, "\(drain).lock"] {
            let written = try XCTUnwrap(owner(file), file)
            XCTAssertEqual(written.uid, uid, "\(file) belongs to the state directory's user")
            XCTAssertEqual(written.mode, 0o600, file)
        }
        let undrained = try lab.exec(director, asServiceUser([ecmpd, "undrain", "--config", config, "--vip", vip]))
        XCTAssertTrue(undrained.output.contains(vip), undrained.output)
        // The last VIP undrained: the service user removed root's record.
        XCTAssertFalse(FileManager.default.fileExists(atPath: drain), "drain.json left after the undrain")
    }

    /// Managed mode's exec checks run programs the operator names; the
    /// CAP_NET_ADMIN the unit gives ecmpd (ambient, so a plain execve would
    /// pass it on) must not reach them.
    func testAnExecCheckProgramGetsNoneOfTheDaemonsCapabilities() throws {
        let out = lab.path("check-out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        chown(out, uid, gid)
        chmod(out, 0o700)
        let probe = try lab.write(
            "cap-check.sh",
            """
            #!/bin/sh
            grep '^Cap' /proc/self/status > \(out)/caps.tmp && mv \(out)/caps.tmp \(out)/caps
            """)
        chmod(probe, 0o755)
        let config = try lab.write(
            "ecmpd-managed.yaml",
            """
            mode: managed
            node: { hostname: director-1, state_dir: \(stateDirectory) }
            routing: { config_dir: \(routingDirectory), reload: none }
            status: { listen: "\(listen)" }
            controller: { poll_interval: 100ms }
            vips:
              - address: \(vip)
                services:
                  - port: 80
                    real_servers:
                      - { address: 198.18.1.2, check: { type: exec, command: [\(probe)], interval: 1s, timeout: 5s } }
            """)
        let pid = try lab.spawn(director, asServiceUser([ecmpd, "run", "--config", config]), log: logFile)
        try waitFor("the exec check to run") {
            guard lab.isRunning(pid) else { throw Failed(description: "ecmpd run exited early:\n\(log())") }
            return FileManager.default.fileExists(atPath: "\(out)/caps")
        }
        XCTAssertEqual(procStatus(pid, "CapEff"), "0000000000001000", "ecmpd itself keeps CAP_NET_ADMIN")
        XCTAssertEqual(procStatus(pid, "CapAmb"), "0000000000001000", "the daemon's main thread is as setpriv left it")
        var caps: [String: String] = [:]
        for line in try String(contentsOfFile: "\(out)/caps", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { caps[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        print("exec check program's capabilities: \(caps)")
        for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            XCTAssertEqual(caps[set], "0000000000000000", "\(set) of the check program: \(caps)")
        }
        try waitFor("the real server up on its exec check") {
            let servers = (try? status())?["realServers"] as? [[String: Any]] ?? []
            return servers.first?["state"] as? String == "up"
        }
        kill(pid, SIGTERM)
        XCTAssertEqual(lab.waitExit(pid, timeout: .seconds(30)), 0, log())
    }

    // MARK: Without CAP_NET_ADMIN

    func testWithoutNetAdminRunRefusesToStartNamingTheCapability() throws {
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        let pid = try lab.spawn(
            director,
            asServiceUser([ecmpd, "run", "--config", try writeConfig(cost: 10, reload: "none")], netAdmin: false),
            log: logFile)
        XCTAssertEqual(lab.waitExit(pid, timeout: .seconds(30)), 1, log())
        XCTAssertTrue(
            log().contains(
                "ecmpd run: needs CAP_NET_ADMIN (adding and removing VIPs on lo, reading and programming IPVS)"), log())
        XCTAssertTrue(log().contains("uid \(uid), effective capabilities 0x0"), log())
        XCTAssertTrue(try onLoopback(vip), "nothing touched")
    }

    func testWithoutNetAdminLoopbackApplySaysItNeedsTheCapability() throws {
        let result = try lab.exec(
            director,
            asServiceUser(
                [
                    ecmpd, "loopback", "apply", "--owned-file", "\(stateDirectory)/loopback.json", "--configured", vip,
                    "--announce", vip,
                ], netAdmin: false), allowFailure: true)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("permission denied (needs CAP_NET_ADMIN)"), result.output)
        XCTAssertFalse(try onLoopback(vip))
    }

    // MARK: The OSPF key file

    func testTheServiceUserReadsAGroupReadableKeyAndRenderCheckAndRunRefuseAWorldReadableOneNamingIt() throws {
        let key = "Lp-key.7"
        let keyFile = try lab.write("ospf.key", key + "\n")
        chown(keyFile, 0, gid)
        chmod(keyFile, 0o640)
        let config = try writeConfig(cost: 10, reload: "none", keyFile: keyFile)
        let rendered = try lab.exec(
            director, asServiceUser([ecmpd, "render", "--config", config, "--write", routingDirectory])
        ).output
        XCTAssertTrue(rendered.contains("ospfd.conf: installed"), rendered)
        XCTAssertTrue(
            try String(contentsOfFile: "\(routingDirectory)/ospfd.conf", encoding: .utf8).contains(
                "message-digest-key 1 md5 \(key)"))

        chmod(keyFile, 0o644)
        let refusal = "OSPF key file \(keyFile): others may read or change it (mode 644)"
        for command in [["render", "--config", config, "--write", routingDirectory], ["check", "--config", config]] {
            let result = try lab.exec(director, asServiceUser([ecmpd] + command), allowFailure: true)
            XCTAssertEqual(result.status, 1, "\(command): \(result.output)")
            XCTAssertTrue(result.output.contains(refusal), "\(command): \(result.output)")
            XCTAssertFalse(result.output.contains(key), "\(command) printed the key")
        }
        let pid = try lab.spawn(director, asServiceUser([ecmpd, "run", "--config", config]), log: logFile)
        try waitFor("run to report the refused key file") {
            (routingDaemon()?["detail"] as? String)?.contains(refusal) == true
        }
        XCTAssertEqual(routingDaemon()?["healthy"] as? Bool, false)
        XCTAssertTrue(lab.isRunning(pid), "the daemon keeps running on the configs already installed")
        XCTAssertFalse(log().contains(key), "the log shows the key")
    }
}
