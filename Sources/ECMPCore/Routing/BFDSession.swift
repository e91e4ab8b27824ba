#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One of bfdd's sessions, as FRR 8.4 prints it in `show bfd peers json`,
/// with the up and down counts of `show bfd peers counters json`.
///
/// Sessions that ospfd asked for (`ip ospf bfd`) live as long as the OSPF
/// neighbour: when one goes down, ospfd drops the neighbour and bfdd
/// deletes the session, and a new one (new `id`, counters at zero) starts
/// when the neighbour returns (measured with FRR 8.4.4). So bfdd's own
/// counters rarely show a flap; `ecmpd run` counts the ones it sees.
public struct BFDSession: Sendable, Equatable {
    public enum State: String, Sendable {
        case up, down, initializing = "init", adminDown = "shutdown", unknown
    }

    public var peer: IPv4Address
    public var interface: String?
    /// bfdd's local discriminator: a new value means a new session.
    public var id: UInt32
    public var state: State
    /// Seconds the session has been up (nil while it is not).
    public var uptimeSeconds: Int?
    /// Seconds since the session went down (nil while it is up).
    public var downtimeSeconds: Int?
    /// Why this end last left Up (`ok`, `control-expired`, `neighbor-down`, ...).
    public var diagnostic: String
    public var remoteDiagnostic: String
    public var receiveIntervalMilliseconds: Int
    public var transmitIntervalMilliseconds: Int
    public var detectMultiplier: Int
    /// Times this session went down, from bfdd's counters (nil when they were not read).
    public var downEvents: Int?

    public var isUp: Bool { state == .up }

    public init(
        peer: IPv4Address, interface: String?, id: UInt32, state: State, uptimeSeconds: Int? = nil,
        downtimeSeconds: Int? = nil, diagnostic: String = "ok", remoteDiagnostic: String = "ok",
        receiveIntervalMilliseconds: Int = 300, transmitIntervalMilliseconds: Int = 300, detectMultiplier: Int = 3,
        downEvents: Int? = nil
    ) {
        self.peer = peer
        self.interface = interface
        self.id = id
        self.state = state
        self.uptimeSeconds = uptimeSeconds
        self.downtimeSeconds = downtimeSeconds
        self.diagnostic = diagnostic
        self.remoteDiagnostic = remoteDiagnostic
        self.receiveIntervalMilliseconds = receiveIntervalMilliseconds
        self.transmitIntervalMilliseconds = transmitIntervalMilliseconds
        self.detectMultiplier = detectMultiplier
        self.downEvents = downEvents
    }

    /// bfdd's output that is not the JSON array these commands print.
    public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { "bfdd's session JSON could not be read: \(reason)" }
    }

    /// The single-hop IPv4 sessions in vtysh's output of `show bfd peers
    /// json`, with `downEvents` from `show bfd peers counters json` when
    /// given. vtysh's warnings before the JSON (a pathspace's missing
    /// vtysh.conf) are skipped; IPv6 and multihop sessions are left out.
    public static func sessions(peersOutput: String, countersOutput: String? = nil) throws(JSONError) -> [BFDSession] {
        let peers: [Peer] = try decode(peersOutput)
        let counters: [Counters] = try countersOutput.map { output throws(JSONError) in try decode(output) } ?? []
        var result: [BFDSession] = []
        for entry in peers where entry.multihop != true {
            guard let peer = IPv4Address(entry.peer) else { continue }
            let count = counters.first { $0.peer == entry.peer && $0.interface == entry.interface }
            result.append(
                BFDSession(
                    peer: peer, interface: entry.interface, id: entry.id ?? 0,
                    state: State(rawValue: entry.status ?? "") ?? .unknown, uptimeSeconds: entry.uptime,
                    downtimeSeconds: entry.downtime, diagnostic: entry.diagnostic ?? "",
                    remoteDiagnostic: entry.remoteDiagnostic ?? "",
                    receiveIntervalMilliseconds: entry.receiveInterval ?? 0,
                    transmitIntervalMilliseconds: entry.transmitInterval ?? 0,
                    detectMultiplier: entry.detectMultiplier ?? 0, downEvents: count?.sessionDown))
        }
        return result.sorted { $0.peer < $1.peer }
    }

    static func decode<T: Decodable>(_ output: String) throws(JSONError) -> [T] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.first == "[" }) else {
            throw JSONError(reason: "no JSON array in: \(output.prefix(200))")
        }
        do {
            return try JSONDecoder().decode([T].self, from: Data(lines[start...].joined(separator: "\n").utf8))
        } catch {
            throw JSONError(reason: "\(error)")
        }
    }

    private struct Peer: Decodable {
        var multihop: Bool?
        var peer: String
        var interface: String?
        var id: UInt32?
        var status: String?
        var uptime: Int?
        var downtime: Int?
        var diagnostic: String?
        var remoteDiagnostic: String?
        var receiveInterval: Int?
        var transmitInterval: Int?
        var detectMultiplier: Int?

        enum CodingKeys: String, CodingKey {
            case multihop, peer, interface, id, status, uptime, downtime, diagnostic
            case remoteDiagnostic = "remote-diagnostic", receiveInterval = "receive-interval"
            case transmitInterval = "transmit-interval", detectMultiplier = "detect-multiplier"
        }
    }

    private struct Counters: Decodable {
        var peer: String
        var interface: String?
        var sessionDown: Int?

        enum CodingKeys: String, CodingKey {
            case peer, interface
            case sessionDown = "session-down"
        }
    }
}
