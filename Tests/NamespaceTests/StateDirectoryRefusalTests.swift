import ECMPTestSupport
import Foundation
import XCTest

/// A state directory other users can write (issue 21, finding 5): `run`
/// refuses it before touching lo or a routing file, naming path, owner and
/// mode; `check` reports it as an error on `node.state_dir`.
final class StateDirectoryRefusalTests: DaemonTestCase {
    func testRunRefusesAStateDirectoryOthersCanWriteAndCheckReportsIt() throws {
        XCTAssertEqual(mkdir(stateDirectory, 0o700), 0)
        XCTAssertEqual(chmod(stateDirectory, 0o777), 0)
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        try writeConfig(fall: 1, pollInterval: "50ms")

        let pid = try lab.spawn(director, [Command.ecmpd, "run", "--config", configPath], log: logFile)
        let exit = lab.waitExit(pid, timeout: .seconds(30))
        XCTAssertEqual(exit, 1, log())
        XCTAssertTrue(log().contains("node.state_dir \(stateDirectory) is unsafe"), log())
        XCTAssertTrue(log().contains("\(stateDirectory) (owner uid 0 (root), mode 0777)"), log())
        XCTAssertTrue(try loopback().contains("\(vip)/32"), "refused before lo is touched (fall 1 would withdraw it)")
        XCTAssertEqual(installedOSPFConfig(), "", "no routing file installed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: historyDatabase))

        let unsafe = try stateDirectoryProblems()
        XCTAssertEqual(unsafe.map { $0["severity"] as? String }, ["error"], "\(unsafe)")
        let message = unsafe.first?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("mode 0777") && message.contains("owner uid 0 (root)"), message)

        XCTAssertEqual(chmod(stateDirectory, 0o700), 0)
        XCTAssertEqual(try stateDirectoryProblems().count, 0, "0700 is fine")
    }

    /// `ecmpd check --json`'s problems on `node.state_dir`.
    private func stateDirectoryProblems() throws -> [[String: Any]] {
        let check = [Command.ecmpd, "check", "--config", configPath, "--json"]
        let result = try lab.exec(director, check, allowFailure: true)
        let start = result.output.firstIndex(of: "{") ?? result.output.startIndex
        let report = try JSONSerialization.jsonObject(with: Data(result.output[start...].utf8)) as? [String: Any] ?? [:]
        let problems = report["problems"] as? [[String: Any]] ?? []
        return problems.filter { $0["field"] as? String == "node.state_dir" }
    }
}
