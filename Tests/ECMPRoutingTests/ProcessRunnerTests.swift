@testable import ECMPRouting
import XCTest

final class ProcessRunnerTests: XCTestCase {
    func testReportsExitStatusAndOutputWithoutAShell() throws {
        let result = try ProcessRunner.run(["/bin/echo", "a;b", "$HOME"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output, "a;b $HOME\n", "arguments reach the program verbatim: no shell expands them")
        XCTAssertEqual(try ProcessRunner.run(["/bin/sh", "-c", "exit 3"]).status, 3)
    }

    func testTimeoutKillsTheProgram() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try ProcessRunner.run(["/bin/sleep", "30"], timeout: .milliseconds(200))
        XCTAssertTrue(result.timedOut)
        XCTAssertEqual(result.status, 128 + SIGKILL)
        XCTAssertLessThan(clock.now - start, .seconds(10))
    }

    func testOutputIsBounded() throws {
        let result = try ProcessRunner.run(["/usr/bin/head", "-c", "100000", "/dev/zero"], outputLimit: 1000)
        XCTAssertTrue(result.output.hasSuffix("[output truncated at 1000 bytes]"))
        XCTAssertLessThan(result.output.utf8.count, 1100)
    }

    func testAMissingProgramIsALaunchError() {
        XCTAssertThrowsError(try ProcessRunner.run(["/nonexistent/program"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot run /nonexistent/program"), "\(error)")
        }
    }

    func testADaemonizingChildDoesNotHangTheRunner() throws {
        // The child keeps stdout open in the background, as `zebra -d` does.
        let result = try ProcessRunner.run(["/bin/sh", "-c", "sleep 5 & echo started"], timeout: .seconds(3))
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(result.output, "started\n")
    }

    func testAPassedDescriptorIsTheProgramsDescriptor3() throws {
        let path = NSTemporaryDirectory() + "ecmpd-passed-\(UUID().uuidString)"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("passed\n".utf8)))
        defer { unlink(path) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        unlink(path)
        let result = try ProcessRunner.run(["/bin/cat", "/proc/self/fd/3"], passing: descriptor)
        XCTAssertEqual(result.output, "passed\n", "the file is reached by its descriptor after its name is gone")
    }
}
