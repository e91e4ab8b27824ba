import ECMPCore

/// Reads ospfd's router-LSAs through vtysh (argv, no shell), with FRR's
/// pathspace when one is configured, bounded in time and output.
public struct OSPFDatabaseReader: Sendable {
    public var vtysh: String
    public var pathspace: String?
    public var timeout: Duration

    /// 5 s: vtysh is a process start plus a JSON dump, milliseconds on a
    /// director but seconds on a loaded (or emulated) one, and a reader
    /// that gives up too soon lets the last announcer withdraw.
    public init(vtysh: String = "/usr/bin/vtysh", pathspace: String? = nil, timeout: Duration = .seconds(5)) {
        self.vtysh = vtysh
        self.pathspace = pathspace
        self.timeout = timeout
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public var argv: [String] {
        [vtysh] + (pathspace.map { ["-N", $0] } ?? []) + ["-c", "show ip ospf database router json"]
    }

    public func read() throws(Failure) -> OSPFStubAnnouncements {
        let command = argv.dropFirst().joined(separator: " ")
        let result: ProcessRunner.Result
        do {
            result = try ProcessRunner.run(argv, timeout: timeout, outputLimit: 4 << 20)
        } catch {
            throw Failure(description: "vtysh \(command): \(error)")
        }
        if result.timedOut { throw Failure(description: "vtysh \(command): no answer within \(timeout)") }
        guard result.status == 0 else {
            let last = result.output.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
            throw Failure(description: "vtysh \(command): \(last)")
        }
        do {
            return try OSPFStubAnnouncements(vtyshOutput: result.output)
        } catch {
            throw Failure(description: "vtysh \(command): \(error)")
        }
    }
}
