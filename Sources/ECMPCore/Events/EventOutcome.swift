/// The result of an action an event records, such as a routing-daemon reload.
public enum EventOutcome: Sendable, Hashable, CustomStringConvertible {
    case ok
    case failed(message: String)

    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .ok: "ok"
        case .failed(let message): "failed: \(message)"
        }
    }
}
