/// What the kernel says about its IPVS: version and the size of the
/// connection hash table (`ip_vs conn_tab_bits`).
public struct IPVSInfo: Hashable, Sendable, CustomStringConvertible {
    /// `1.2.1`, as `ipvsadm` prints it.
    public var version: String
    public var connectionTableSize: UInt32

    public init(version: String, connectionTableSize: UInt32) {
        self.version = version
        self.connectionTableSize = connectionTableSize
    }

    public var description: String { "IP Virtual Server version \(version) (size=\(connectionTableSize))" }
}
