import ECMPCore
import Foundation

/// One BFD session as `/status` shows it: bfdd's view (`show bfd peers
/// json`) plus the flaps ecmpd counted, and what a session that is not up
/// means for this director.
public struct BFDSessionStatus: Sendable, Equatable, Codable {
    public var peer: String
    public var interface: String?
    /// `up`, `down`, `init`, `shutdown`.
    public var state: String
    public var uptimeSeconds: Int?
    public var downtimeSeconds: Int?
    public var diagnostic: String
    /// Times ecmpd saw this peer's session leave Up (or be replaced by a
    /// new one) since it started.
    public var flaps: Int
    /// Set while the session is not up, as an operator reads it.
    public var problem: String?

    public init(_ session: BFDSession, flaps: Int) {
        peer = session.peer.description
        interface = session.interface
        state = session.state.rawValue
        uptimeSeconds = session.uptimeSeconds
        downtimeSeconds = session.downtimeSeconds
        diagnostic = session.diagnostic
        self.flaps = flaps
        // ospfd drops a neighbour whose session goes down, and bfdd then
        // deletes the session: one that stays listed but down belongs to a
        // neighbour OSPF still has, whose side answers no BFD.
        problem =
            session.isUp
            ? nil
            : "not up while OSPF keeps \(session.peer) as a neighbour: the peer runs no BFD (bfdd and ospf.bfd), so its failure is found only after the dead interval"
    }
}
