import ECMPTestSupport
import Foundation
import XCTest

/// Issue "Managed mode": an imported keepalived.conf behaves like the file it
/// came from. keepalived's checker runs the file in one namespace, `ecmpd
/// run` runs `ecmpd import-keepalived` of it in another; each namespace has
/// the same real servers (local addresses, the same scripted servers, one
/// mode file shared by both copies). Each fault is applied to both at once,
/// and the two IPVS tables must agree (`ipvsadm -Sn`, order aside) once
/// both have reacted: an HTTP server answering 500, a TCP listener killed,
/// then every TCP listener of a service with quorum, inhibit_on_failure and
/// a sorry server killed.
final class KeepalivedEquivalenceTests: XCTestCase {
    var lab: NetnsLab!

    override func setUpWithError() throws {
        try KernelTier.requireVM()
        lab = try NetnsLab()
    }

    override func tearDown() {
        if (testRun?.totalFailureCount ?? 0) > 0, let lab {
            for file in ["keepalived.log", "ecmpd.log"] {
                print("--- \(file):\n" + ((try? String(contentsOfFile: lab.path(file), encoding: .utf8)) ?? "(none)"))
            }
        }
        lab?.tearDown()
    }

    static let keepalivedConf = """
        global_defs {
            router_id equivalence
        }
        virtual_server 198.18.0.100 80 {
            delay_loop 1
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 198.18.128.1 80 {
                weight 2
                HTTP_GET {
                    url {
                        path /health
                        status_code 200
                    }
                    connect_timeout 1
                    retry 0
                }
            }
            real_server 198.18.128.2 80 {
                weight 3
                HTTP_GET {
                    url {
                        path /health
                        status_code 200
                    }
                    connect_timeout 1
                    retry 0
                }
            }
        }
        virtual_server 198.18.0.100 8080 {
            delay_loop 1
            lb_algo rr
            lb_kind DR
            protocol TCP
            quorum 2
            inhibit_on_failure
            sorry_server 198.18.129.1 8080
            real_server 198.18.128.3 8080 {
                weight 1
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                }
            }
            real_server 198.18.128.4 8080 {
                weight 1
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                }
            }
        }

        """

    var servers: [String: [pid_t]] = [:]

    /// The real servers of the file, started in `namespace`.
    func startRealServers(in namespace: String) throws {
        let script = FixtureRepository.url("Tests/tools/health-target.py").path
        for (index, address) in ["198.18.128.1", "198.18.128.2"].enumerated() {
            servers[address, default: []].append(
                try lab.spawn(
                    namespace,
                    [
                        "/usr/bin/python3", script, "--bind", address, "--port", "80",
                        "--mode-file", lab.path("mode-\(index + 1)"),
                    ], log: lab.path("rs.log")))
        }
        for address in ["198.18.128.3", "198.18.128.4"] {
            servers[address, default: []].append(
                try lab.spawn(
                    namespace, ["/usr/bin/python3", script, "--bind", address, "--port", "8080", "--tcp"],
                    log: lab.path("rs.log")))
        }
    }

    func director(_ name: String) throws -> String {
        let namespace = try lab.namespace(name)
        try lab.exec(namespace, ["ip", "route", "add", "local", "198.18.128.0/17", "dev", "lo"])
        try lab.exec(namespace, ["ip", "link", "add", "dummy0", "type", "dummy"])
        try lab.exec(namespace, ["ip", "link", "set", "dummy0", "up"])
        try lab.exec(namespace, ["ip", "addr", "add", "198.18.250.2/24", "dev", "dummy0"])
        try lab.exec(namespace, ["ip", "route", "add", "default", "via", "198.18.250.1"])
        try startRealServers(in: namespace)
        return namespace
    }

    /// `ipvsadm -Sn` lines, sorted: the table without counters or order.
    func table(_ namespace: String) throws -> [String] {
        try lab.exec(namespace, ["ipvsadm", "-Sn"]).output.split(separator: "\n").map(String.init).sorted()
    }

    func testTheImportedConfigProgramsIPVSAsKeepalivedDoes() throws {
        let keepalived = try director("ka"), ecmpd = try director("ec")
        let conf = try lab.write("keepalived.conf", Self.keepalivedConf)
        // Warnings go to stderr; the YAML to the file.
        try Command.run([Command.ecmpd, "import-keepalived", conf, "--output", lab.path("imported.yaml")])
        let imported = try String(contentsOfFile: lab.path("imported.yaml"), encoding: .utf8)
        try FileManager.default.createDirectory(atPath: lab.path("frr"), withIntermediateDirectories: true)
        let config = try lab.write(
            "ecmpd.yaml",
            imported + """

                node: { hostname: equivalence, state_dir: \(lab.path("state")) }
                routing: { config_dir: \(lab.path("frr")), reload: none }
                controller: { poll_interval: 100ms }

                """)
        _ = try lab.spawn(
            keepalived,
            [
                "keepalived", "--check", "--dont-fork", "--log-console", "--log-detail", "-f", conf,
                "-p", lab.path("ka.pid"), "-c", lab.path("ka-check.pid"),
            ], log: lab.path("keepalived.log"))
        _ = try lab.spawn(ecmpd, [Command.ecmpd, "run", "--config", config], log: lab.path("ecmpd.log"))

        func agree(_ what: String, expecting expected: [String]) throws {
            var last: ([String], [String]) = ([], [])
            do {
                let took = try NetnsLab.waitFor(what, timeout: .seconds(30), interval: .milliseconds(200)) {
                    last = (try table(keepalived), try table(ecmpd))
                    return last.0 == expected && last.1 == expected
                }
                print("equivalence: \(what) after \(took)")
            } catch {
                XCTFail(
                    "\(what): keepalived\n\(last.0.joined(separator: "\n"))\necmpd\n\(last.1.joined(separator: "\n"))")
                throw error
            }
        }
        let http = [
            "-A -t 198.18.0.100:80 -s wrr", "-a -t 198.18.0.100:80 -r 198.18.128.1:80 -g -w 2",
            "-a -t 198.18.0.100:80 -r 198.18.128.2:80 -g -w 3",
        ]
        let tcp = [
            "-A -t 198.18.0.100:8080 -s rr", "-a -t 198.18.0.100:8080 -r 198.18.128.3:8080 -g -w 1",
            "-a -t 198.18.0.100:8080 -r 198.18.128.4:8080 -g -w 1",
        ]
        try agree("every real server up", expecting: (http + tcp).sorted())

        // An HTTP server answers 500: removed (no inhibit on this service).
        _ = try lab.write("mode-1", "500\n")
        try agree("198.18.128.1 answering 500 removed", expecting: ([http[0], http[2]] + tcp).sorted())
        _ = try lab.write("mode-1", "ok\n")
        try agree("198.18.128.1 back", expecting: (http + tcp).sorted())

        // One TCP listener dies: inhibit_on_failure sets it to weight 0; live
        // weight 1 < quorum 2, so the sorry server takes over (keepalived's
        // quorum) and the live server goes to weight 0 as well.
        for pid in servers["198.18.128.3"] ?? [] { kill(pid, SIGKILL) }
        try agree(
            "quorum lost: the sorry server alone has weight",
            expecting: (http + [
                tcp[0], "-a -t 198.18.0.100:8080 -r 198.18.128.3:8080 -g -w 0",
                "-a -t 198.18.0.100:8080 -r 198.18.128.4:8080 -g -w 0",
                "-a -t 198.18.0.100:8080 -r 198.18.129.1:8080 -g -w 1",
            ]).sorted())
    }
}
