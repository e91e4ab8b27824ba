import ECMPCore

/// Reads ospfd's router-LSAs through vtysh (`VtyshQuery`).
public struct OSPFDatabaseReader: Sendable {
    public var query: VtyshQuery

    /// 5 s: vtysh is a process start plus a JSON dump, milliseconds on a
    /// director but seconds on a loaded (or emulated) one, and a reader
    /// that gives up too soon lets the last announcer withdraw.
    public init(vtysh: String = "/usr/bin/vtysh", pathspace: String? = nil, timeout: Duration = .seconds(5)) {
        query = VtyshQuery(
            vtysh: vtysh, pathspace: pathspace, timeout: timeout, commands: ["show ip ospf database router json"])
    }

    public typealias Failure = VtyshQuery.Failure

    public var argv: [String] { query.argv }

    public func read() throws(Failure) -> OSPFStubAnnouncements {
        try query.read { try OSPFStubAnnouncements(vtyshOutput: $0) }
    }
}
