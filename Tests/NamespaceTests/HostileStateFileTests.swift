import ECMPTestSupport
import Foundation
import XCTest

/// Files someone else left in the state directory (issue 21, finding 5):
/// each is refused and logged, never obeyed or followed. The state
/// directory itself is made safe (root, 0700) first, as `ecmpd run` would
/// refuse it otherwise; the files are planted as an attacker would have
/// planted them before it was.
final class HostileStateFileTests: DaemonTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(mkdir(stateDirectory, 0o700), 0, String(cString: strerror(errno)))
    }

    func testADrainRecordWrittenByNobodyIsRefusedLoggedAndRecordedNotObeyed() throws {
        let drain = "\(stateDirectory)/drain.json"
        try Data(#"{"version": 1, "director": false, "vips": ["\#(vip)"]}"#.utf8).write(to: URL(fileURLWithPath: drain))
        XCTAssertEqual(chown(drain, 65534, 65534), 0)
        try lab.exec(director, ["ip", "addr", "add", "\(vip)/32", "dev", "lo"])
        let reason = try startAndWaitForRefusal()
        XCTAssertTrue(reason.contains("\(drain): it belongs to uid 65534"), reason)
        XCTAssertEqual(state(of: vip), "announced", "not drained")
        XCTAssertTrue(try loopback().contains("\(vip)/32"))
        XCTAssertEqual(try events("drain").count, 0)
    }

    func testALoopbackRecordSymlinkedToAPlantedListRemovesNoAddressFromLo() throws {
        let list = #"{"version": 1, "owned": ["\#(foreign)"]}"#
        let planted = try lab.write("planted.json", list)
        let record = "\(stateDirectory)/loopback.json"
        try FileManager.default.createSymbolicLink(atPath: record, withDestinationPath: planted)
        try lab.exec(director, ["ip", "addr", "add", "\(foreign)/32", "dev", "lo"])
        let reason = try startAndWaitForRefusal()
        XCTAssertTrue(reason.contains("loopback.json: it is a symbolic link"), reason)
        // Start-up (done once /status answers) is where the planted list
        // removed the address; later cycles only remove what ecmpd owns.
        XCTAssertTrue(try loopback().contains("\(foreign)/32"), "an address named only by the planted list stays on lo")
        XCTAssertEqual(try String(contentsOfFile: planted, encoding: .utf8), list)
    }

    /// Starts the daemon (the VIP announced for 50 s unless drained) and
    /// waits for the refusal in the history and the log; its reason.
    private func startAndWaitForRefusal() throws -> String {
        try writeConfig(fall: 1000, pollInterval: "50ms")
        try startDaemon()
        try waitFor("a state-file event") { try !events("state-file").isEmpty }
        XCTAssertTrue(log().contains("state file refused"), log())
        return try XCTUnwrap(try events("state-file").first?["reason"] as? String)
    }

    func testADrainLockSymlinkMakesRootCreateNothingElsewhere() throws {
        let target = lab.path("created-elsewhere")
        let lock = "\(stateDirectory)/drain.json.lock"
        try FileManager.default.createSymbolicLink(atPath: lock, withDestinationPath: target)
        try writeConfig()
        let drain = [Command.ecmpd, "drain", "--config", configPath, "--vip", vip]
        let result = try lab.exec(director, drain, allowFailure: true)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("\(lock): it is a symbolic link"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "no file created at the link's target")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(stateDirectory)/drain.json"), "nothing drained")
    }

    func testAHistoryDatabaseSymlinkIsRefusedAndItsTargetLeftUntouched() throws {
        let victim = lab.path("root-only")
        XCTAssertTrue(
            FileManager.default.createFile(
                atPath: victim, contents: Data(),
                attributes: [.posixPermissions: 0o600]))
        try FileManager.default.createSymbolicLink(atPath: historyDatabase, withDestinationPath: victim)
        try writeConfig(fall: 1000, pollInterval: "50ms")
        let pid = try startDaemon()

        try waitFor("the event store's refusal in the log") {
            log().contains("event store not writable") && log().contains("symbolic link")
        }
        XCTAssertTrue(lab.isRunning(pid), "the store is never on the traffic path")
        let size = try FileManager.default.attributesOfItem(atPath: victim)[.size] as? Int
        XCTAssertEqual(size, 0, "not made a database")
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim + "-wal"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim + "-shm"))
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: historyDatabase)
        XCTAssertEqual(link, victim, "the link is left for the operator to inspect")
    }
}
