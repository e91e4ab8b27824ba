import Foundation

/// The body of `GET /status`: every VIP the controller manages, in address
/// order, plus collaborators' health once the daemon reports it.
public struct StatusSnapshot: Sendable, Equatable, Codable {
    public var vips: [VIPStatus]
    /// The routing daemon (zebra/ospfd); nil until the controller reports it.
    public var routingDaemon: ComponentHealth?
    /// Each routing daemon ecmpd reloads, as the routing-daemon watch last
    /// saw it; nil with `routing.reload: none` (no daemon is ecmpd's to
    /// reload, so none is watched).
    public var routingDaemons: [RoutingDaemonStatus]?
    /// The decision store; nil until the controller reports it.
    public var store: ComponentHealth?
    /// Managed mode's real servers, in service then address order; nil in
    /// observe mode (keepalived owns the checks there).
    public var realServers: [ManagedServerStatus]?
    /// bfdd's sessions as the routing-daemon watch last read them; nil
    /// with `ospf.bfd` off.
    public var bfd: BFDStatus?

    public init(
        vips: [VIPStatus], routingDaemon: ComponentHealth? = nil, routingDaemons: [RoutingDaemonStatus]? = nil,
        store: ComponentHealth? = nil, realServers: [ManagedServerStatus]? = nil, bfd: BFDStatus? = nil
    ) {
        self.bfd = bfd
        self.vips = vips
        self.routingDaemon = routingDaemon
        self.routingDaemons = routingDaemons
        self.store = store
        self.realServers = realServers
    }

    /// The wire format: ISO 8601 dates and sorted keys, so output is stable
    /// for diffs and scripts.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
