import ECMPRouting
import ECMPTestSupport
import Foundation
import XCTest

/// Namespace tier: a local attacker against the routing config install
/// (docs/reliability.md, "Local attacker"). The config folder is
/// root:frr 0770, as deploy/tmpfiles.d makes /etc/frr writable for group
/// frr, and the attacker is `nobody` with supplementary group frr (set up
/// by `setpriv`): it may rename, replace and plant any name there while
/// ecmpd installs as root. Also: folders and templates others can write
/// are refused, naming them. Needs root, iproute2, setpriv, python3 and FRR.
final class LocalAttackerInstallTests: XCTestCase {
    var lab: NetnsLab!
    var director = ""
    var nobody: (uid: uid_t, gid: gid_t) = (0, 0)
    var frr: (uid: uid_t, gid: gid_t) = (0, 0)
    var routingDirectory: String { lab.path("etc-frr") }
    var victim: String { lab.path("victim") }

    override func setUpWithError() throws {
        if let missing = NetnsLab.prerequisites() { XCTFail(missing); throw XCTSkip(missing) }
        // getpwnam returns static storage: copy each before the next call.
        guard let account = getpwnam("nobody")?.pointee else { return XCTFail("no user nobody") }
        nobody = (account.pw_uid, account.pw_gid)
        guard let routing = getpwnam("frr")?.pointee, let group = getgrnam("frr")?.pointee.gr_gid else {
            return XCTFail("FRR's user and group frr are missing")
        }
        frr = (routing.pw_uid, group)
        lab = try NetnsLab()
        director = try lab.directorNamespace("d")
        try FileManager.default.createDirectory(atPath: routingDirectory, withIntermediateDirectories: true)
        XCTAssertEqual(chown(routingDirectory, 0, frr.gid), 0)
        XCTAssertEqual(chmod(routingDirectory, 0o770), 0)
        // A file only root may read or change: what the attacker wants.
        XCTAssertTrue(FileManager.default.createFile(atPath: victim, contents: Data("root only\n".utf8)))
        XCTAssertEqual(chmod(victim, 0o600), 0)
    }

    override func tearDown() {
        // Ends the attacker by its pid, also after a failed assertion.
        lab?.tearDown()
    }

    func config(
        hostname: String = "director-1", templates: String? = FixtureRepository.url("quagga-templates").path,
        directory: String? = nil
    ) throws -> String {
        let templatesEntry = templates.map { ", templates_dir: \($0)" } ?? ""
        return try lab.write(
            "ecmpd-\(hostname).yaml",
            """
            node: { hostname: \(hostname) }
            routing: { config_dir: \(directory ?? routingDirectory)\(templatesEntry) }
            vips: [{ address: 198.18.0.100 }]
            """)
    }

    func render(_ arguments: [String], environment: [String] = []) throws -> (status: Int32, output: String) {
        let argv = ["/usr/bin/env"] + environment + [Command.ecmpd, "render"] + arguments
        return try lab.exec(director, argv, allowFailure: true)
    }

    /// The victim's owner, group and mode, and whether zebra.conf is a
    /// regular file (not a symbolic link to it): what a won race changes.
    func compromise() -> String? {
        var info = stat()
        guard lstat(victim, &info) == 0 else { return "the victim is gone" }
        if info.st_uid != 0 || info.st_gid != 0 || info.st_mode & 0o7777 != 0o600 {
            return "the victim became \(info.st_uid):\(info.st_gid) \(String(info.st_mode & 0o7777, radix: 8))"
        }
        guard lstat("\(routingDirectory)/zebra.conf", &info) == 0 else { return nil }
        return info.st_mode & S_IFMT == S_IFREG ? nil : "zebra.conf is not a regular file"
    }

    /// Tests/tools/swap-for-symlinks.py as `nobody` in group frr, with no
    /// capability, once it has started.
    func startAttacker(log: String) throws -> pid_t {
        let script = lab.path("swap-for-symlinks.py")
        let source = FixtureRepository.url("Tests/tools/swap-for-symlinks.py").path
        try FileManager.default.copyItem(atPath: source, toPath: script)
        XCTAssertEqual(chmod(script, 0o644), 0)
        let argv = [
            "/usr/bin/setpriv", "--reuid=\(nobody.uid)", "--regid=\(nobody.gid)", "--groups=\(frr.gid)",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            "/usr/bin/python3", script, routingDirectory, victim,
        ]
        let pid = try lab.spawn(director, argv, log: log)
        try NetnsLab.waitFor("the attacker to start", timeout: .seconds(10)) {
            guard lab.isRunning(pid) else { throw AttackerExited(log: text(log)) }
            return text(log).contains("ready")
        }
        return pid
    }

    /// Stops the attacker; how many names it replaced.
    func stopAttacker(_ pid: pid_t, log: String) -> Int {
        kill(pid, SIGTERM)
        XCTAssertNotNil(lab.waitExit(pid, timeout: .seconds(10)), "the attacker did not stop")
        let line = text(log).split(separator: "\n").first { $0.hasPrefix("swaps ") }
        return line.flatMap { Int($0.dropFirst("swaps ".count)) } ?? -1
    }

    struct AttackerExited: Error, CustomStringConvertible {
        var log: String
        var description: String { "the attacker exited early:\n\(log)" }
    }

    func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func testAGroupFRRMemberSwappingTemporariesForSymlinksWinsNoneOf200Installs() throws {
        let log = lab.path("attacker.log")
        let attacker = try startAttacker(log: log)
        var wins: [String] = [], failures: [String] = []
        let clock = ContinuousClock()
        let start = clock.now
        for round in 0..<200 {
            // Validation as long as FRR's parser takes on a small file: the window the attacker needs.
            let installer = RoutingConfigInstaller(directory: routingDirectory, user: "frr", group: "frr", backups: 2) {
                _, _ in usleep(10_000)
            }
            let files = [
                RoutingConfigInstaller.File(daemon: "zebra", content: "hostname z\(round)\n"),
                RoutingConfigInstaller.File(daemon: "ospfd", content: "hostname o\(round)\n"),
            ]
            do { _ = try installer.install(files) } catch { failures.append("round \(round): \(error)") }
            if let compromise = compromise() {
                wins.append("round \(round): \(compromise)")
                // Back to root's, so each later round is a race of its own.
                chown(victim, 0, 0)
                chmod(victim, 0o600)
                unlink("\(routingDirectory)/zebra.conf")
            } else if text("\(routingDirectory)/zebra.conf") != "hostname z\(round)\n" {
                failures.append("round \(round): zebra.conf holds \(text("\(routingDirectory)/zebra.conf"))")
            }
        }
        let swaps = stopAttacker(attacker, log: log)
        print("\(wins.count) of 200 races won; the attacker replaced \(swaps) names in \(clock.now - start)")
        XCTAssertEqual(wins, [], "the attacker won")
        XCTAssertEqual(failures, [], "every install completes despite the attacker")
        XCTAssertGreaterThan(swaps, 0, "the attacker never found a name to replace: \(text(log))")
    }

    func testRenderWriteUnderTheSameAttackIsNeverWonWithFRRValidating() throws {
        let log = lab.path("attacker.log")
        let attacker = try startAttacker(log: log)
        var wins: [String] = []
        for round in 0..<10 {
            let config = try config(hostname: "director-\(round)")
            let result = try render(["--config", config, "--write", routingDirectory])
            XCTAssertEqual(result.status, 0, result.output)
            XCTAssertFalse(result.output.contains("root only"), "FRR was made to read the victim: \(result.output)")
            if let compromise = compromise() { wins.append("round \(round): \(compromise)") }
            XCTAssertTrue(text("\(routingDirectory)/zebra.conf").contains("hostname director-\(round)\n"))
            XCTAssertTrue(text("\(routingDirectory)/ospfd.conf").contains("hostname director-\(round)\n"))
        }
        let swaps = stopAttacker(attacker, log: log)
        print("\(wins.count) of 10 races against render --write won; the attacker replaced \(swaps) names")
        XCTAssertEqual(wins, [])
    }

    func testPlantedBackupNamesNeitherBlockTheInstallNorSplitThePair() throws {
        XCTAssertEqual(try render(["--config", try config(hostname: "before"), "--write", routingDirectory]).status, 0)
        // Dangling symbolic links at every name the next minute's backups could take, as group frr can plant them.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        let now = Date()
        var planted = 0
        for second in -5...60 {
            let stamp = formatter.string(from: now.addingTimeInterval(Double(second)))
            for name in ["zebra.conf", "ospfd.conf"] {
                for suffix in ["", "-1", "-2", "-3"] {
                    let path = "\(routingDirectory)/\(name).\(stamp)\(suffix)"
                    if symlink(lab.path("nowhere-\(planted)"), path) == 0 { planted += 1 }
                    XCTAssertEqual(lchown(path, nobody.uid, frr.gid), 0)
                }
            }
        }
        let result = try render(["--config", try config(hostname: "after"), "--write", routingDirectory])
        XCTAssertEqual(result.status, 0, result.output)
        for name in ["zebra.conf", "ospfd.conf"] {
            XCTAssertTrue(text("\(routingDirectory)/\(name)").contains("hostname after\n"), "\(name) is the new one")
            let installed = "\(routingDirectory)/\(name): installed (previous kept as "
            let line = result.output.split(separator: "\n").first { $0.hasPrefix(installed) }
            let backup = try XCTUnwrap(line?.dropFirst(installed.count).dropLast(), result.output)
            XCTAssertTrue(text(String(backup)).contains("hostname before\n"), "\(backup) holds the previous \(name)")
            var info = stat()
            XCTAssertEqual(lstat(String(backup), &info), 0)
            XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "\(backup) is a file, not a planted link")
        }
        print("\(planted) names planted; install: \(result.output)")
    }

    func testAConfigFolderOthersCanWriteIsRefusedNamingItAndWhy() throws {
        let cases: [(name: String, owner: uid_t, group: gid_t, mode: mode_t, reason: String)] = [
            ("every-user", 0, 0, 0o777, "it is writable by every user (mode 0777)"),
            ("other-group", 0, nobody.gid, 0o775, "it is writable by group nogroup (gid \(nobody.gid)) (mode 0775)"),
            ("other-owner", nobody.uid, frr.gid, 0o750, "it is owned by user nobody (uid \(nobody.uid))"),
        ]
        for entry in cases {
            let directory = lab.path("etc-\(entry.name)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            XCTAssertEqual(chown(directory, entry.owner, entry.group), 0)
            XCTAssertEqual(chmod(directory, entry.mode), 0)
            let result = try render(["--config", try config(directory: directory), "--write", directory])
            XCTAssertEqual(result.status, 1, result.output)
            let refusal = "refusing to install routing configs into \(directory): \(entry.reason)"
            XCTAssertTrue(result.output.contains(refusal), result.output)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "nothing written")
        }
        let missing = lab.path("etc-missing")
        let result = try render(["--config", try config(directory: missing), "--write", missing])
        XCTAssertEqual(result.status, 1, result.output)
        // `render` names it before the installer would ("--write DIR: no such
        // directory"); the installer's own refusal, for `run`, is unit-tested.
        XCTAssertTrue(result.output.contains("\(missing): no such directory"), result.output)
    }

    func testAsRootTemplatesOthersCanWriteAreRefusedNamingThePath() throws {
        let templates = lab.path("templates")
        try FileManager.default.copyItem(atPath: FixtureRepository.url("quagga-templates").path, toPath: templates)
        let ospfd = "\(templates)/director/ospfd.conf.mustache"
        XCTAssertEqual(try render(["--config", try config(templates: templates)]).status, 0, "root's own copy is used")

        XCTAssertEqual(chmod("\(templates)/director", 0o777), 0)
        var result = try render(["--config", try config(templates: templates)])
        XCTAssertEqual(result.status, 1, result.output)
        let writable = "refusing templates \(templates)/director: users other than root can write it (mode 0777)"
        XCTAssertTrue(result.output.contains(writable), result.output)
        XCTAssertEqual(chmod("\(templates)/director", 0o755), 0)

        XCTAssertEqual(chown(ospfd, nobody.uid, nobody.gid), 0)
        result = try render(["--config", try config(templates: templates)])
        XCTAssertEqual(result.status, 1, result.output)
        let notRoot = "it is owned by nobody (uid \(nobody.uid)), not root"
        XCTAssertTrue(result.output.contains("refusing templates \(ospfd): \(notRoot)"), result.output)

        // $ECMPD_TEMPLATES, which the search path tries first, is held to the same rule.
        XCTAssertEqual(chown(ospfd, 0, 0), 0)
        XCTAssertEqual(chown(templates, nobody.uid, nobody.gid), 0)
        result = try render(["--config", try config(templates: nil)], environment: ["ECMPD_TEMPLATES=\(templates)"])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("refusing templates \(templates): \(notRoot)"), result.output)
    }
}
