import Foundation

/// The BFD part of `/status`: nil with `ospf.bfd` off.
public struct BFDStatus: Sendable, Equatable, Codable {
    public var sessions: [BFDSessionStatus]
    /// Why the sessions could not be read (bfdd not running, vtysh failed).
    public var error: String?

    public init(sessions: [BFDSessionStatus], error: String? = nil) {
        self.sessions = sessions
        self.error = error
    }
}
