import Foundation

/// Runs a program from an argv, never through a shell, with a time limit,
/// and returns its exit status and output.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var timedOut: Bool
    }

    public static func run(_ argv: [String], timeout: Duration = .seconds(60), environment: [String: String]? = nil) throws -> Result {
        precondition(!argv.isEmpty, "an argv needs a program")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout.milliseconds))
        let timer = DispatchSource.makeTimerSource()
        let timedOut = TimeoutFlag()
        timer.schedule(deadline: deadline)
        timer.setEventHandler {
            timedOut.set()
            process.terminate()
        }
        timer.resume()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self), timedOut: timedOut.value)
    }
}

private final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}
