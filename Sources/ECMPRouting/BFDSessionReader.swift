import ECMPCore

/// Reads bfdd's sessions through vtysh (argv, no shell): `show bfd peers
/// json` for state and uptime, `show bfd peers counters json` for the down
/// counts, with FRR's pathspace when one is configured, bounded in time.
public struct BFDSessionReader: Sendable {
    public var vtysh: String
    public var pathspace: String?
    public var timeout: Duration

    public init(vtysh: String = "/usr/bin/vtysh", pathspace: String? = nil, timeout: Duration = .seconds(5)) {
        self.vtysh = vtysh
        self.pathspace = pathspace
        self.timeout = timeout
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One vtysh run for both commands (`-c` twice): one process start.
    public var argv: [String] {
        [vtysh] + (pathspace.map { ["-N", $0] } ?? []) + [
            "-c", "show bfd peers json", "-c", "show bfd peers counters json",
        ]
    }

    public func read() throws(Failure) -> [BFDSession] {
        let command = "vtysh -c 'show bfd peers json'"
        let result: ProcessRunner.Result
        do {
            result = try ProcessRunner.run(argv, timeout: timeout, outputLimit: 4 << 20)
        } catch {
            throw Failure(description: "\(command): \(error)")
        }
        if result.timedOut { throw Failure(description: "\(command): no answer within \(timeout)") }
        guard result.status == 0 else {
            let last = result.output.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
            throw Failure(description: "\(command): \(last)")
        }
        // vtysh prints the two arrays one after the other; the second
        // starts on a line of its own with "[".
        let (peers, counters) = Self.split(result.output)
        do {
            return try BFDSession.sessions(peersOutput: peers, countersOutput: counters)
        } catch {
            throw Failure(description: "\(command): \(error)")
        }
    }

    /// The first JSON array and the rest (nil when there is no second).
    static func split(_ output: String) -> (String, String?) {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { $0.first == "[" }) else { return (output, nil) }
        guard let end = lines[first...].firstIndex(where: { $0.first == "]" || $0 == "[]" }) else {
            return (output, nil)
        }
        let rest = lines[(end + 1)...].joined(separator: "\n")
        return (lines[first...end].joined(separator: "\n"), rest.contains("[") ? rest : nil)
    }
}
