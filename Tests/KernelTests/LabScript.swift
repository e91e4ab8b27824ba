import ECMPTestSupport
import Foundation
import XCTest

/// deploy/lab/lab.sh driven from a test, with its own prefix and directory
/// and extra environment (ECMPD_LAB_MODE, ECMPD_LAB_IPV6, ...). `down` in
/// `tearDown`.
final class LabScript {
    static let vip = "198.18.0.100"
    /// The dual-stack lab's IPv6 VIP (port 80, the same real servers).
    static let vip6 = "2001:db8:18:ff::100"
    let prefix: String
    let directory: String
    let environment: [String]
    private var background: [Process] = []

    init(tag: String, environment extra: [String] = []) {
        prefix = "\(tag)\(getpid() % 100_000)"
        directory = NSTemporaryDirectory() + "ecmpd-lab-\(prefix)"
        environment = ["ECMPD_LAB_DIR=\(directory)", "ECMPD_LAB_PREFIX=\(prefix)", "ECMPD=\(Command.ecmpd)"] + extra
    }

    var script: String { FixtureRepository.url("deploy/lab/lab.sh").path }

    @discardableResult
    func run(_ arguments: [String], allowFailure: Bool = false) throws -> String {
        try Command.run(
            ["/usr/bin/env"] + environment + [script] + arguments, allowFailure: allowFailure, timeout: .seconds(300)
        ).output
    }

    func exec(_ node: String, _ argv: [String], allowFailure: Bool = false) throws -> (status: Int32, output: String) {
        try Command.run(
            ["/usr/bin/env"] + environment + [script, "exec", node] + argv, allowFailure: allowFailure,
            timeout: .seconds(120))
    }

    /// Starts `argv` in `node` without waiting; ended by `down()` if still running.
    func spawn(_ node: String, _ argv: [String], log: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = environment + [script, "exec", node] + argv
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        background.append(process)
    }

    /// The router's kernel route to `vip` (the IPv4 VIP unless given) has
    /// `count` nexthops (0: no route).
    func routerHas(_ count: Int, vip: String = LabScript.vip) throws -> Bool {
        try exec("router", [Command.ecmpd, "verify", "--vip", vip, "--expect", "\(count)"], allowFailure: true)
            .status == 0
    }

    /// `count` new connections from the client to `vip`:80 through the
    /// router, one after the other from one process (a process per request
    /// costs about a second under TCG): how many each real server answered
    /// (by the name its page holds), and "FAILED" for those that failed.
    func requests(_ count: Int, vip: String = LabScript.vip) throws -> [String: Int] {
        let url = vip.contains(":") ? "http://[\(vip)]/" : "http://\(vip)/"
        let script = """
            import urllib.request
            for _ in range(\(count)):
                try:
                    print(urllib.request.urlopen("\(url)", timeout=3).read().decode().strip())
                except Exception:
                    print("FAILED")
            """
        var answers: [String: Int] = [:]
        for line in try exec("client", ["python3", "-c", script]).output.split(separator: "\n") {
            answers[String(line), default: 0] += 1
        }
        return answers
    }

    /// `ipvsadm -Ln -t VIP:port` (`-u` for udp) on a director: destination
    /// address:port (`[address]:port` for IPv6) → weight; empty when the
    /// service is not there.
    func weights(_ director: Int, port: Int, udp: Bool = false, vip: String = LabScript.vip) throws -> [String: Int] {
        let service = vip.contains(":") ? "[\(vip)]:\(port)" : "\(vip):\(port)"
        let output = try exec(
            "d\(director)", ["ipvsadm", "-Ln", udp ? "-u" : "-t", service], allowFailure: udp
        ).output
        var result: [String: Int] = [:]
        for line in output.split(separator: "\n") where line.contains("->") && !line.contains("RemoteAddress") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if fields.count >= 4, let weight = Int(fields[3]) { result[fields[1]] = weight }
        }
        return result
    }

    func log(_ node: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(node)/ecmpd.log", encoding: .utf8)) ?? "(none)"
    }

    func down() {
        for process in background where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        background.removeAll()
        _ = try? run(["down"], allowFailure: true)
    }
}
