import ECMPRouting
import Foundation

/// Runs test commands from an argv (no shell) and fails loudly with the
/// command's output when it must succeed.
public enum Command {
    public struct Failure: Error, CustomStringConvertible {
        public var argv: [String]
        public var status: Int32
        public var output: String
        public var description: String { "`\(argv.joined(separator: " "))` exited \(status):\n\(output)" }
    }

    /// Runs `argv` (through ecmpd's own `ProcessRunner`: no shell, output
    /// in a file so daemonizing programs cannot hang it) and fails with
    /// its output unless it succeeds or `allowFailure` is set.
    @discardableResult
    public static func run(_ argv: [String], allowFailure: Bool = false, timeout: Duration = .seconds(120)) throws -> (
        status: Int32, output: String
    ) {
        let resolved = [try resolve(argv[0])] + argv.dropFirst()
        let result = try ProcessRunner.run(resolved, timeout: timeout, outputLimit: 4 << 20)
        if result.timedOut {
            throw Failure(argv: argv, status: -1, output: "timed out after \(timeout)\n\(result.output)")
        }
        if !allowFailure, result.status != 0 {
            throw Failure(argv: argv, status: result.status, output: result.output)
        }
        return (result.status, result.output)
    }

    /// Finds a program on PATH (argv[0] without a slash), as a shell would.
    public static func resolve(_ program: String) throws -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":").map(String.init) + [
            "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin",
        ] {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure(argv: [program], status: 127, output: "\(program): not found on PATH")
    }

    /// The ecmpd binary the tests run: ECMPD_BINARY when set (`make test`
    /// sets the release binary the package ships, .build-release/release/ecmpd),
    /// else the one built beside the test bundle. A set path that is not an
    /// executable stops the test run: it must never fall back silently.
    public static var ecmpd: String {
        if let shipped = ProcessInfo.processInfo.environment["ECMPD_BINARY"], !shipped.isEmpty {
            precondition(
                shipped.hasPrefix("/") && FileManager.default.isExecutableFile(atPath: shipped),
                "ECMPD_BINARY=\(shipped) is not an executable given by its absolute path")
            return shipped
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("ecmpd").path
    }
}
