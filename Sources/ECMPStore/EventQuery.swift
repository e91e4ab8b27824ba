import ECMPCore
import struct Foundation.Date

/// Which events to read back: optionally one VIP, optionally only those at
/// or after `since`, and at most the `limit` most recent.
public struct EventQuery: Sendable, Hashable {
    public var vip: String?
    public var since: Date?
    public var limit: Int?

    public init(vip: String? = nil, since: Date? = nil, limit: Int? = nil) {
        self.vip = vip
        self.since = since
        self.limit = limit
    }

    /// Events of the last `lookback` before `now` (all of them if nil).
    public init(vip: String? = nil, lookback: Duration?, now: Date = Date(), limit: Int? = nil) {
        self.init(vip: vip, since: lookback.map { now.addingTimeInterval(-$0.timeInterval) }, limit: limit)
    }

    /// Parses a look-back window for `--since`: a whole number followed by
    /// `s`, `m`, `h`, `d` or `w` (`90s`, `30m`, `1h`, `2d`, `1w`).
    public static func lookback(parsing text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let scale = units[unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            let value = Int64(digits), value <= 100 * 365 * 86_400 / scale
        else { return nil }
        return .seconds(value * scale)
    }

    func matches(_ event: ControllerEvent) -> Bool {
        if let vip, event.vip != vip { return false }
        if let since, event.timestamp < since { return false }
        return true
    }
}
