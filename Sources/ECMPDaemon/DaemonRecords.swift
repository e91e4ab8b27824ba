import ECMPCore
import Foundation

/// The VIPs ecmpd owns on lo (`AddressOwnership`), kept in
/// `<state_dir>/loopback.json` and written before an address is added.
public struct LoopbackRecord: Codable, Equatable, Sendable {
    public var version = 1
    public var owned: [String]

    public init(owned: [String]) { self.owned = owned }

    public var addresses: Set<IPAddress> { Set(owned.compactMap(IPAddress.init)) }

    public static func path(stateDirectory: String) -> String { "\(stateDirectory)/loopback.json" }
}

/// What an operator drained, in `<state_dir>/drain.json`: written by
/// `ecmpd drain`/`undrain`, read by `ecmpd run` on every cycle, so a drain
/// holds across restarts and needs no connection to the daemon.
public struct DrainRecord: Codable, Equatable, Sendable {
    public var version = 1
    /// The whole director: lo's OSPF cost is raised first, the VIPs leave
    /// lo `controller.drain_wait` later.
    public var director: Bool
    /// Single VIPs, withdrawn at once.
    public var vips: [String]

    public init(director: Bool = false, vips: [String] = []) {
        self.director = director
        self.vips = vips
    }

    public var isEmpty: Bool { !director && vips.isEmpty }
    public var drainedVIPs: Set<IPAddress> { Set(vips.compactMap(IPAddress.init)) }

    public static func path(stateDirectory: String) -> String { "\(stateDirectory)/drain.json" }
}
