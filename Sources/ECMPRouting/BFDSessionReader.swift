import ECMPCore

/// Reads bfdd's sessions through vtysh (`VtyshQuery`): `show bfd peers
/// json` for state and uptime, `show bfd peers counters json` for the down
/// counts.
public struct BFDSessionReader: Sendable {
    /// One vtysh run for both commands (`-c` twice): one process start.
    public var query: VtyshQuery

    public init(vtysh: String = "/usr/bin/vtysh", pathspace: String? = nil, timeout: Duration = .seconds(5)) {
        query = VtyshQuery(
            vtysh: vtysh, pathspace: pathspace, timeout: timeout,
            commands: ["show bfd peers json", "show bfd peers counters json"])
    }

    public typealias Failure = VtyshQuery.Failure

    public var argv: [String] { query.argv }

    public func read() throws(Failure) -> [BFDSession] {
        // vtysh prints the two arrays one after the other; the second
        // starts on a line of its own with "[".
        try query.read { output in
            let (peers, counters) = Self.split(output)
            return try BFDSession.sessions(peersOutput: peers, countersOutput: counters)
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
