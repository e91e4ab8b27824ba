/// What a `ControllerEvent` records. The raw values are stored in the event
/// database and printed by `ecmpd history`: never rename one.
public enum ControllerEventKind: String, Sendable, Hashable, Codable, CaseIterable {
    case backendCount = "backend-count"
    case announce
    case withdraw
    case drain
    case undrain
    case configReload = "config-reload"
    case routingReload = "routing-reload"
}
