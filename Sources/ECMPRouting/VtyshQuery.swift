import ECMPCore

/// One vtysh run of one or more `-c` commands (argv, no shell), with FRR's
/// pathspace when one is configured, bounded in time and output. The
/// readers of ospfd's and ospf6d's databases and bfdd's sessions are this plus a parser.
public struct VtyshQuery: Sendable {
    public var vtysh: String
    public var pathspace: String?
    public var timeout: Duration
    public var commands: [String]

    public init(vtysh: String, pathspace: String?, timeout: Duration, commands: [String]) {
        self.vtysh = vtysh
        self.pathspace = pathspace
        self.timeout = timeout
        self.commands = commands
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public var argv: [String] {
        [vtysh] + (pathspace.map { ["-N", $0] } ?? []) + commands.flatMap { ["-c", $0] }
    }

    /// How failures name the run: "vtysh -c 'show ...'" (the first command).
    var name: String { "vtysh -c '\(commands.first ?? "")'" }

    /// vtysh's output, or a failure naming the command: a spawn error, no
    /// answer within the timeout, or a non-zero exit with vtysh's last line.
    public func run() throws(Failure) -> String {
        let result: ProcessRunner.Result
        do {
            result = try ProcessRunner.run(argv, timeout: timeout, outputLimit: 4 << 20)
        } catch {
            throw Failure(description: "\(name): \(error)")
        }
        if result.timedOut { throw Failure(description: "\(name): no answer within \(timeout)") }
        guard result.status == 0 else {
            let last = result.output.split(separator: "\n").last.map(String.init) ?? "exit status \(result.status)"
            throw Failure(description: "\(name): \(last)")
        }
        return result.output
    }

    /// `run()` and `parse` of its output; a parse error names the command too.
    public func read<T>(_ parse: (String) throws -> T) throws(Failure) -> T {
        let output = try run()
        do {
            return try parse(output)
        } catch {
            throw Failure(description: "\(name): \(error)")
        }
    }
}
