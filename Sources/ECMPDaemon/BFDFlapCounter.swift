import ECMPCore

/// Counts flaps per peer across reads: a session that was up and is now
/// not, is gone, or came back with another discriminator (ospfd dropped
/// and re-created it between two reads) counts once.
public struct BFDFlapCounter: Sendable {
    private var last: [IPv4Address: BFDSession] = [:]
    private var flaps: [IPv4Address: Int] = [:]

    public init() {}

    public mutating func observe(_ sessions: [BFDSession]) -> [BFDSessionStatus] {
        let current = Dictionary(sessions.map { ($0.peer, $0) }, uniquingKeysWith: { first, _ in first })
        for (peer, before) in last where before.isUp {
            guard let now = current[peer], now.isUp, now.id == before.id else {
                flaps[peer, default: 0] += 1
                continue
            }
        }
        last = current
        return sessions.map { BFDSessionStatus($0, flaps: flaps[$0.peer] ?? 0) }
    }
}
